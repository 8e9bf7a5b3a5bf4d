#!/usr/bin/env bash
# qgis_process with Mars Cloudmask ready to use, e.g. on a server:
#   bash scripts/qgis_process.sh run marscloudmask:cloudmask -- INPUT=sample/P01_day10_zequat.jpg OUTPUT=mask.tif
# It calls /usr/bin/qgis_process.bin (Debian's /usr/bin/qgis_process passes --noversioncheck, which
# QGIS 3.22 rejects) with:
#   QT_QPA_PLATFORM=offscreen            no display needed
#   PYTHONPATH=<repo>/.venv/.../site-packages   TensorFlow for QGIS's Python (from scripts/setup.sh)
#   PROJ_DATA=/usr/share/proj            pyproj inside the venv finds Debian's PROJ database
#   QGIS_PLUGINPATH=<dir with a link mars_cloudmask -> repo>   where qgis_process finds the plugin
#   QGIS_CUSTOM_CONFIG_PATH=<private settings folder>  whose profile enables the plugin
#     ([PythonPlugins] mars_cloudmask=true), so your own QGIS profile is left alone.
# Set MARS_CLOUDMASK_QGIS_HOME to choose where the link and the settings live (default
# ${XDG_CACHE_HOME:-~/.cache}/mars-cloudmask/qgis). With MARS_CLOUDMASK_RUNTIME set (a virtual
# environment with TensorFlow, e.g. this checkout's .venv, or one made by installruntime) the venv is
# NOT put on PYTHONPATH: QGIS's Python stays as it is and the network runs in a worker process of
# that runtime, as in a desktop without TensorFlow.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
home=${MARS_CLOUDMASK_QGIS_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/mars-cloudmask/qgis}
mkdir -p "$home/plugins" "$home/config/profiles/default/QGIS"
ln -sfn "$repo" "$home/plugins/mars_cloudmask"
ini="$home/config/profiles/default/QGIS/QGIS3.ini"
if ! grep -q '^mars_cloudmask=true' "$ini" 2>/dev/null; then
  printf '[PythonPlugins]\nmars_cloudmask=true\n' >> "$ini"
fi
site=""
if [ -z "${MARS_CLOUDMASK_RUNTIME:-}" ]; then
  site=$(ls -d "$repo"/.venv/lib/python3*/site-packages 2>/dev/null | head -1 || true)
fi
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
export PROJ_DATA=${PROJ_DATA:-/usr/share/proj}
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
if [ -n "$site" ]; then export PYTHONPATH="${site}${PYTHONPATH:+:$PYTHONPATH}"; fi
export QGIS_PLUGINPATH="$home/plugins${QGIS_PLUGINPATH:+:$QGIS_PLUGINPATH}"
export QGIS_CUSTOM_CONFIG_PATH="$home/config"
exec /usr/bin/qgis_process.bin "$@"
