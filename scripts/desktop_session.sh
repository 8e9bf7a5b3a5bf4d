#!/usr/bin/env bash
# The real QGIS desktop as a new user meets it, under Xvfb: a fresh profile, the plugin installed
# from its ZIP (scripts/build_plugin_zip.sh) and enabled, then scripts/desktop_session.py runs
# `cloudmask` on an MDGM inside the running desktop and writes OUT/result.json and OUT/desktop.png.
#
#   bash scripts/desktop_session.sh OUT [MDGM] [MODEL]
#   cp OUT/desktop.png docs/screenshot.png        # the screenshot of docs/qgis.md
#
# QGIS's Python gets no TensorFlow: set MARS_CLOUDMASK_RUNTIME to a runtime (default: this checkout's
# .venv), as after "Install the network runtime", and the network runs in its worker process.
# MARS_CLOUDMASK_DESKTOP_TIMEOUT (seconds, default 240) bounds the session; QGIS is ended after it
# wrote result.json (it would ask about temporary layers on exit). Exit status 0 when result.json exists.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
mdgm=$(realpath "${2:-$repo/sample/P01_day10_zequat.jpg}")
model=${3:+$(realpath "$3")}
reference=${MARS_CLOUDMASK_DESKTOP_REFERENCE:+$(realpath "$MARS_CLOUDMASK_DESKTOP_REFERENCE")}   # QGIS runs elsewhere
timeout_s=${MARS_CLOUDMASK_DESKTOP_TIMEOUT:-240}
profiles="$out/qgis"            # --profiles-path: QGIS keeps its profiles in $profiles/profiles
rm -rf "$profiles" "$out/result.json" "$out/desktop.png"
plugins="$profiles/profiles/default/python/plugins"
mkdir -p "$plugins" "$profiles/profiles/default/QGIS"

zip="$out/mars_cloudmask.zip"
bash "$repo/scripts/build_plugin_zip.sh" "$zip" >&2
(cd "$plugins" && unzip -q "$zip")
folder=$(unzip -Z1 "$zip" | sed -n '1s|/.*||p')     # sed reads it all: no SIGPIPE under pipefail
cat > "$profiles/profiles/default/QGIS/QGIS3.ini" <<EOF
[PythonPlugins]
$folder=true

[qgis]
checkVersion=false
showTips322=false
EOF

display=""
for n in $(seq 91 140); do
  if [ ! -e "/tmp/.X$n-lock" ] && [ ! -e "/tmp/.X11-unix/X$n" ]; then display=$n; break; fi
done
[ -n "$display" ] || { echo "desktop_session: no free X display between :91 and :140" >&2; exit 1; }
Xvfb ":$display" -screen 0 1600x1000x24 -nolisten tcp >"$out/xvfb.log" 2>&1 &
xvfb=$!
qgis_pid=""
cleanup() {
  [ -n "$qgis_pid" ] && kill "$qgis_pid" 2>/dev/null || true
  kill "$xvfb" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$display" ] && break; sleep 0.1; done

env -u PYTHONPATH -u QT_QPA_PLATFORM DISPLAY=":$display" PROJ_DATA=/usr/share/proj \
    MARS_CLOUDMASK_RUNTIME="${MARS_CLOUDMASK_RUNTIME:-$repo/.venv}" \
    MARS_CLOUDMASK_DESKTOP_OUT="$out" MARS_CLOUDMASK_DESKTOP_MDGM="$mdgm" MARS_CLOUDMASK_DESKTOP_MODEL="$model" \
    MARS_CLOUDMASK_DESKTOP_REFERENCE="$reference" \
    qgis --profiles-path "$profiles" --nologo --noversioncheck --code "$repo/scripts/desktop_session.py" \
    >"$out/qgis.log" 2>&1 &
qgis_pid=$!
for _ in $(seq $((timeout_s * 2))); do
  [ -e "$out/result.json" ] && break
  kill -0 "$qgis_pid" 2>/dev/null || { echo "desktop_session: QGIS exited early, see $out/qgis.log" >&2; exit 1; }
  sleep 0.5
done
[ -e "$out/result.json" ] || { echo "desktop_session: no result after ${timeout_s} s, see $out/qgis.log" >&2; exit 1; }
echo "$out/result.json"
