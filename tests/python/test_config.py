"""The reference's config check refuses what the C loader refuses (models/FORMAT.md "Config"):
residual_from 1 or above the layer count, gnmt placement without attention; and accepts the
golden configs (residual from layer 2, gnmt with residual from layer 3)."""
import unittest
import tests.python.common  # noqa: F401 (puts scripts/ on the path)
from golden import tiny_configs
from model import check_config, merge_config


class ConfigCheck(unittest.TestCase):
    def test_refused(self):
        bad = {
            "encoder residual_from 1": {"encoder": {"layers": 2, "residual_from": 1}},
            "decoder residual_from 1": {"decoder": {"layers": 2, "residual_from": 1}},
            "encoder residual_from above layers": {"encoder": {"layers": 2, "residual_from": 3}},
            "decoder residual_from above layers": {"decoder": {"layers": 1, "residual_from": 2}},
            "gnmt without attention": {"attention": {"score": "none", "dim": 8},
                                       "decoder": {"style": "bahdanau", "placement": "gnmt"}},
        }
        for what, over in bad.items():
            with self.subTest(what), self.assertRaises(ValueError):
                check_config(merge_config(over))

    def test_golden_configs_accepted(self):
        for name, cfg in sorted(tiny_configs(39).items()):
            with self.subTest(name):
                check_config(cfg)


if __name__ == "__main__":
    unittest.main()
