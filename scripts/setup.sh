#!/usr/bin/env bash
# One idempotent set-up for a fresh Debian 12 machine: QGIS 3.22 LTR and the Debian Python stack
# from apt, then .venv (system site packages, so QGIS/rasterio/netCDF4 stay Debian's) with
# TensorFlow (the CUDA build where an NVIDIA GPU answers, else the CPU build) and the engine installed as `mars-cloudmask`. A second run changes nothing.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

apt_packages=(qgis python3-qgis qgis-providers gdal-bin python3-rasterio python3-netcdf4
              python3-pyproj python3-scipy python3-matplotlib python3-gdal python3-venv xvfb xauth)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: apt-installing ${missing[*]}"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  /usr/bin/python3 -m venv --system-site-packages .venv
fi

# Reinstall only when the requirements or the packaging changed.
stamp=.venv/.mars-cloudmask-setup
tensorflow=$(bash scripts/tensorflow_requirement.sh)
want=$( (cat requirements.txt pyproject.toml; echo "$tensorflow") | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || [ ! -x .venv/bin/mars-cloudmask ]; then
  echo "setup: installing Python requirements and $tensorflow into .venv"
  # The CPU and CUDA builds both provide the `tensorflow` module: drop the other one first.
  case "$tensorflow" in tensorflow-cpu*) other=tensorflow ;; *) other=tensorflow-cpu ;; esac
  .venv/bin/python -m pip uninstall -q -y "$other" >/dev/null 2>&1 || true
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt "$tensorflow"
  # Editable install: the engine package alone is mapped (no repo root on sys.path, so QGIS's
  # own `processing` package is never shadowed by ours).
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
  echo "$want" > "$stamp"
fi
echo "setup: ready ($(.venv/bin/python -c 'import tensorflow as tf, qgis.core as q; print("TensorFlow", tf.__version__, "/ QGIS", q.Qgis.version())' 2>/dev/null | tail -1))"
