#!/usr/bin/env bash
# Installs what the page needs on Debian 12 (as root; idempotent; installs only what is missing).
#   bash scripts/setup-web.sh demo   # emscripten (make wasm) and Node.js with npm
#   bash scripts/setup-web.sh e2e    # the same plus Debian's chromium and the npm dev dependencies
# Never downloads a browser of its own (no `playwright install`): the e2e test drives
# /usr/bin/chromium through playwright-core.
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-demo}"
export DEBIAN_FRONTEND=noninteractive
# EXTRA_DEBIAN_PACKAGES: more packages to install in the same pass (scripts/setup-test.sh uses it).
pkgs=(make emscripten ${EXTRA_DEBIAN_PACKAGES:-})
command -v node >/dev/null || pkgs+=(nodejs)
command -v npm >/dev/null || pkgs+=(npm)
[ "$what" = e2e ] && pkgs+=(chromium fonts-dejavu-core)
need=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup-web: missing Debian packages: ${need[*]} (run as root, or apt-get install them)" >&2
    exit 1
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
if [ "$what" = e2e ] && [ ! -f node_modules/playwright-core/package.json ]; then
  npm ci --no-audit --no-fund
fi
