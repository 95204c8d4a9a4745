#!/usr/bin/env bash
# Installs everything `make test` needs on a fresh Debian 12 machine (as root). Idempotent: it
# installs only what is missing, so `make test` calls it every time.
#   C: compiler, clang + its sanitizer/fuzzer runtime; WASM, Node and the page tests (chromium,
#   driven by playwright-core, never a downloaded browser): scripts/setup-web.sh; Python:
#   scripts/setup-train.sh (which also installs dataset-fashion-mnist, the scenes corpus'
#   images); npm dev dependencies again when package-lock.json is newer.
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRA_DEBIAN_PACKAGES="build-essential clang libclang-rt-14-dev git" bash scripts/setup-web.sh e2e
bash scripts/setup-train.sh >/dev/null
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
echo "setup-test: ok"
