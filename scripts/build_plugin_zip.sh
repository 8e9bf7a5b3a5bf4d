#!/usr/bin/env bash
# Build the installable QGIS plugin ZIP: dist/mars_cloudmask-<version>.zip holding one folder
# `mars_cloudmask/` (QGIS names the installed plugin after it). In QGIS: Plugins > Manage and
# Install Plugins > Install from ZIP.
#
# Inside: the plugin (metadata.txt, __init__.py, plugin.py, icon.svg, processing/, styles/,
# modeler/), the core engine (mars_cloudmask_plugin/), the default models (single-map and
# reference-aware) and their card (models/),
# requirements.txt (for the TensorFlow set-up), README.md, docs/ and LICENSE if present.
# Left out: the lab (mars_cloudmask_lab/: training, evaluation, benchmark, recipes), models kept
# only for comparisons, tests, data (sample/, ../shared), .venv, runs, scripts, caches.
#
# Usage: bash scripts/build_plugin_zip.sh [OUT.zip]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
version=$(sed -n 's/^version=//p' metadata.txt)
out=${1:-dist/mars_cloudmask-$version.zip}
case "$out" in /*) ;; *) out="$repo/$out" ;; esac

if [ ! -f models/mars_cloudmask_unet.keras ]; then
  echo "build_plugin_zip: warning: models/mars_cloudmask_unet.keras is missing; the ZIP has no shipped model" >&2
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/mars_cloudmask"
# Files git knows (so local junk never ships) plus the model weights, whatever their git status.
{
  git ls-files -- metadata.txt __init__.py plugin.py icon.svg requirements.txt README.md LICENSE \
                  processing styles modeler mars_cloudmask_plugin docs models/README.md
  ls models/mars_cloudmask_unet.keras models/mars_cloudmask_unet_clearsky.keras models/mars_cloudmask_unet_clearsky_w8.keras 2>/dev/null || true
} | grep -v -E '(^|/)(__pycache__|\.pytest_cache)/|\.pyc$|^docs/.*\.py$' | sort -u > "$stage/files"
while read -r f; do
  [ -f "$f" ] || continue
  mkdir -p "$stage/mars_cloudmask/$(dirname "$f")"
  cp -p "$f" "$stage/mars_cloudmask/$f"
done < "$stage/files"

mkdir -p "$(dirname "$out")"
rm -f "$out"
(cd "$stage" && zip -q -r -X "$out" mars_cloudmask)
echo "$out ($(du -h "$out" | cut -f1), $(unzip -Z1 "$out" | grep -vc '/$') files)"
