#!/usr/bin/python3
"""A second test set for the `dates` model, built from forms scripts/data/dates.py never writes:
it measures how the model generalises to new combinations of the pieces it knows (a day word
where it only saw a numeral, a comma dropped or added, a weekday in a new place), not whether it
remembers its training forms. Same conventions as dates.py (see its docstring); every character
used also occurs in the training forms, so nothing reaches the model as an unknown piece.

Forms (d = 5 March 2021, a Friday), then a case variant as in dates.py:
  English: "5th of March 2021", "March 5 2021", "Friday 5th March 2021", "Fri, Mar 5, 2021",
    "Mar. 5th, 2021", "5 March, 2021", "the fifth of March 2021", "Friday, the fifth of March, 2021"
  French: "le vendredi 5 mars 2021", "cinq mars 2021", "vendredi 5 mars 21"
  Russian: "пятого марта 2021 г.", "пятница, пятое марта 2021 года", "5 мар. 2021"
  Numeric: "2021-3-5", "2021.3.5", "5.03.2021"
tests/python/test_data.py checks that none of them is ever a dates.py form of the same date.

Dates: the test split's dates of dates.py (disjoint from train and dev), one form each, fixed seed.
Output: OUT/unseen.{src,tgt}.
"""
import argparse, os, random, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dates  # noqa: E402
from dates import (EN_DAYS, EN_ORD, FR_DAYS, FR_CARD, RU_DAYS, RU_ORD_NOM, RU_ORD_GEN,  # noqa: E402
                   RU_ABBR, ordinal, en_abbr_dot, fr_day, yy)


def templates(d):
    m, day, y, wd, en_m, en_a, fr_m, ru_m = dates.parts(d)
    return [
        f"{ordinal(day)} of {en_m} {y}",
        f"{en_m} {day} {y}",
        f"{EN_DAYS[wd]} {ordinal(day)} {en_m} {y}",
        f"{EN_DAYS[wd][:3]}, {en_a} {day}, {y}",
        f"{en_abbr_dot(m)} {ordinal(day)}, {y}",
        f"{day} {en_m}, {y}",
        f"the {EN_ORD[day - 1]} of {en_m} {y}",
        f"{EN_DAYS[wd]}, the {EN_ORD[day - 1]} of {en_m}, {y}",
        f"le {FR_DAYS[wd]} {fr_day(day)} {fr_m} {y}",
        f"{FR_CARD[day - 1]} {fr_m} {y}",
        f"{FR_DAYS[wd]} {day} {fr_m} {yy(d)}",
        f"{RU_ORD_GEN[day - 1]} {ru_m} {y} г.",
        f"{RU_DAYS[wd]}, {RU_ORD_NOM[day - 1]} {ru_m} {y} года",
        f"{day} {RU_ABBR[m]} {y}",
        f"{y}-{d.month}-{day}",
        f"{y}.{d.month}.{day}",
        f"{day}.{d.month:02d}.{y}",
    ]


def render(d, rng):
    """One random unseen form of d. Some templates coincide with a dates.py form for some dates
    ("2021-10-15" unpadded is the padded form; "May" takes no dot; "мая" is its own
    abbreviation): those draws are redrawn, so the output is never a string dates.py writes."""
    seen = dates.all_forms(d)
    while True:
        s = dates.with_case(rng.choice(templates(d)), rng)
        if s not in seen:
            return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=20210305)
    ap.add_argument("--test", type=int, default=2000, help="as dates.py --test (the same dates)")
    ap.add_argument("--dates-seed", type=int, default=20190305, help="as dates.py --seed")
    args = ap.parse_args()
    test_days = dates.split_days(random.Random(args.dates_seed), args.test, 0)[0]
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "unseen.src"), "w", encoding="utf-8") as fs, \
         open(os.path.join(args.out, "unseen.tgt"), "w", encoding="utf-8") as ft:
        for d in test_days:
            fs.write(render(d, rng) + "\n")
            ft.write(d.isoformat() + "\n")
    print({"unseen": len(test_days)})


if __name__ == "__main__":
    main()
