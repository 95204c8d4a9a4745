#!/usr/bin/env bash
# Installs what training, export and the Python tests need (Debian 12, as root). Idempotent.
# dataset-fashion-mnist: the images of the scenes corpus (scripts/data/scenes.py); setup-test.sh
# runs this script, so the tests get it too.
set -euo pipefail
pkgs=(python3-torch python3-numpy python3-sentencepiece python3-tqdm python3-onnx libopenblas0-pthread
      dataset-fashion-mnist)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
/usr/bin/python3 -c 'import torch, numpy, sentencepiece, tqdm; print("train setup ok: torch", torch.__version__)'
