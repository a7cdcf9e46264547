#!/usr/bin/env bash
# Refreshes static/vendor/ from the npm registry: Bootstrap 5.3.x and Bootstrap Icons.
# The portal serves these files itself (no CDN). Needs npm; run it by hand, then commit.
#   scripts/vendor-assets.sh                  # latest bootstrap@5.3 and bootstrap-icons@1
#   BOOTSTRAP=5.3.9 ICONS=1.13.2 scripts/vendor-assets.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bootstrap_spec="bootstrap@${BOOTSTRAP:-5.3}"
icons_spec="bootstrap-icons@${ICONS:-1}"
command -v npm >/dev/null || { echo "vendor-assets: npm is needed to fetch the packages." >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unpack() { # spec -> directory holding the unpacked package
  local tarball
  tarball=$(cd "$work" && npm pack --silent "$1" 2>/dev/null | tail -n1)
  mkdir -p "$work/${tarball%.tgz}"
  tar -xzf "$work/$tarball" -C "$work/${tarball%.tgz}"
  echo "$work/${tarball%.tgz}/package"
}

bs=$(unpack "$bootstrap_spec")
dest=static/vendor/bootstrap
rm -rf "$dest" && mkdir -p "$dest"
cp "$bs"/dist/css/bootstrap.min.css "$bs"/dist/css/bootstrap.min.css.map "$dest"/
# The .map files are kept because the minified files name them (sourceMappingURL) and
# the production static storage refuses to collect a file whose references are missing.
cp "$bs"/dist/js/bootstrap.bundle.min.js "$bs"/dist/js/bootstrap.bundle.min.js.map "$dest"/
cp "$bs"/LICENSE "$dest"/LICENSE

bi=$(unpack "$icons_spec")
dest=static/vendor/bootstrap-icons
rm -rf "$dest" && mkdir -p "$dest/fonts"
# The stylesheet loads its fonts from fonts/ beside itself.
cp "$bi"/font/bootstrap-icons.min.css "$dest"/
cp "$bi"/font/fonts/*.woff2 "$bi"/font/fonts/*.woff "$dest"/fonts/
cp "$bi"/LICENSE "$dest"/LICENSE

version() { sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$1/package.json" | head -n1; }
echo "static/vendor: Bootstrap $(version "$bs"), Bootstrap Icons $(version "$bi")"
