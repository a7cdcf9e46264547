#!/usr/bin/env bash
# Checks the system packages the portal needs and installs what is missing when it can.
#   scripts/system-deps.sh run   # Python 3.11+ with venv, WeasyPrint's libraries and a font
#   scripts/system-deps.sh test  # the same, plus Chromium for the browser tests
# Installs with apt-get when run as root (or with password-less sudo) on Debian/Ubuntu;
# otherwise prints the missing packages and the command that installs them.
# Exit status: 0 when everything needed is there; 1 when something required is missing.
# Chromium is required only in CI (CI=true or CLAIMS_REQUIRE_SERVICES=1); elsewhere a
# missing Chromium is a warning and the browser tests skip.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-run}
case "$mode" in
  run | test) ;;
  *) echo "usage: $0 run|test" >&2; exit 2 ;;
esac
python=${PYTHON:-python3}
ci=false
if [ "${CI:-}" = true ] || [ "${CLAIMS_REQUIRE_SERVICES:-}" = 1 ]; then ci=true; fi

say() { echo "system-deps: $*" >&2; }

# --- Python ------------------------------------------------------------------------------
if ! command -v "$python" >/dev/null 2>&1; then
  say "$python was not found; install Python 3.11 or newer (Debian: apt-get install python3)."
  exit 1
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  say "$python is $("$python" -V 2>&1); the portal needs Python 3.11 or newer."
  say "Point the Makefile at one with: make PYTHON=python3.12 ..."
  exit 1
fi
pyver=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')

# --- What is needed: Debian package, and a test for presence that does not need dpkg ------
has_pkg() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }
# Read once; `ldconfig -p | grep -q` would die of SIGPIPE under pipefail and look like a miss.
libs=$( { ldconfig -p || /sbin/ldconfig -p; } 2>/dev/null || true)
has_lib() { case "$libs" in *"$1"*) return 0 ;; *) return 1 ;; esac; }

required=()  # Debian packages that are missing and needed
optional=()  # missing, wanted, but not fatal here

# Debian's python3 ships without ensurepip; `python3 -m venv` needs python3.X-venv.
# Only checked while there is no .venv yet: once it exists, it is no longer needed.
if [ ! -x .venv/bin/python ] && ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
  required+=("python${pyver}-venv")
fi
# WeasyPrint (PDF records) loads these through ctypes at import time.
has_pkg libpango-1.0-0 || has_lib 'libpango-1.0.so.0' || required+=(libpango-1.0-0)
has_pkg libpangoft2-1.0-0 || has_lib 'libpangoft2-1.0.so.0' || required+=(libpangoft2-1.0-0)
has_pkg libharfbuzz-subset0 || has_lib 'libharfbuzz-subset.so.0' || required+=(libharfbuzz-subset0)
# Without any font the PDFs render blank boxes.
has_pkg fonts-dejavu-core || [ -d /usr/share/fonts/truetype/dejavu ] || required+=(fonts-dejavu-core)

if [ "$mode" = test ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$ci" = true ]; then required+=(chromium); else optional+=(chromium); fi
fi

# ${a[@]+"${a[@]}"}: empty arrays under `set -u` on older bash.
missing=(${required[@]+"${required[@]}"} ${optional[@]+"${optional[@]}"})
[ ${#missing[@]} -eq 0 ] && exit 0

# --- Install when we may ------------------------------------------------------------------
sudo=()
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
fi
if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = 0 ] || [ ${#sudo[@]} -gt 0 ]; }; then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ${sudo[@]+"${sudo[@]}"} apt-get update -qq &&
    ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends "${missing[@]}" >/dev/null; then
    exit 0
  fi
  say "apt-get could not install ${missing[*]}"
fi

# --- Could not: say exactly what is missing and how to get it --------------------------------
if [ ${#required[@]} -gt 0 ]; then
  say "missing system packages: ${required[*]}"
fi
if [ ${#optional[@]} -gt 0 ]; then
  say "warning: Chromium is not installed (/usr/bin/chromium); the browser tests will skip."
fi
if command -v apt-get >/dev/null 2>&1; then
  say "install them with:  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}"
else
  say "install with your package manager: Pango with pangoft2, HarfBuzz's subset library and a"
  say "TrueType font (WeasyPrint), the venv module for $python, and for the tests Chromium at"
  say "/usr/bin/chromium."
fi
[ ${#required[@]} -eq 0 ]
