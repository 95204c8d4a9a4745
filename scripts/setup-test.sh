#!/usr/bin/env bash
# Installs everything `make test` needs on a fresh Debian 12 machine (as root). Idempotent: it
# installs only what is missing, so `make test` can call it every time.
#   C: compiler, clang + its sanitizer/fuzzer runtime; WASM: emscripten; page tests: chromium
#   (driven by playwright-core, never a downloaded browser); Python: scripts/setup-train.sh;
#   npm dev dependencies (npm ci) when node_modules is missing or older than package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
pkgs=(build-essential clang libclang-rt-14-dev make git emscripten chromium fonts-dejavu-core)
command -v node >/dev/null || pkgs+=(nodejs)
command -v npm >/dev/null || pkgs+=(npm)
need=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup-test: missing Debian packages: ${need[*]} (run as root, or apt-get install them)" >&2
    exit 1
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
bash scripts/setup-train.sh >/dev/null
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
echo "setup-test: ok"
