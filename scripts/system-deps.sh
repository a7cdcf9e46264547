#!/usr/bin/env bash
# Checks the Debian packages the portal needs and installs what is missing when it can.
#   scripts/system-deps.sh run   # WeasyPrint's libraries (PDF records)
#   scripts/system-deps.sh test  # the same plus Chromium for the browser tests
set -euo pipefail
mode=${1:-run}
needed=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)
[ "$mode" = test ] && needed+=(chromium)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for pkg in "${needed[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$pkg")
  done
else
  # Not Debian: look for the shared libraries themselves.
  for lib in libpango-1.0.so.0 libpangoft2-1.0.so.0 libharfbuzz-subset.so.0; do
    ldconfig -p 2>/dev/null | grep -q "$lib" || missing+=("$lib")
  done
  if [ "$mode" = test ] && ! command -v chromium >/dev/null 2>&1; then missing+=(chromium); fi
fi

[ ${#missing[@]} -eq 0 ] && exit 0

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi

echo "Missing system packages: ${missing[*]}" >&2
if command -v apt-get >/dev/null 2>&1; then
  echo "Install them with:  sudo apt-get install -y ${missing[*]}" >&2
else
  echo "Install Pango (with pangoft2) and HarfBuzz's subset library with your package manager;" >&2
  echo "the browser tests also need Chromium at /usr/bin/chromium." >&2
fi
exit 1
