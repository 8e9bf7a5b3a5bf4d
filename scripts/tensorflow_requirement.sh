#!/usr/bin/env bash
# Prints the TensorFlow requirement that scripts/setup.sh installs on this machine:
#   the CUDA build (TensorFlow's own pip-installed CUDA and cuDNN) when an NVIDIA GPU answers
#   `nvidia-smi -L`, so the same commands then run the network on the GPU; else the CPU build,
#   about a third of the download. MARS_CLOUDMASK_TF=cpu|cuda overrides the detection.
# Both builds are 2.17.1: newer TensorFlow needs numpy 2, which breaks Debian's rasterio and netCDF4.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version=$(sed -n 's/^# tensorflow==//p' "$repo/requirements.txt")
[ -n "$version" ] || { echo "tensorflow_requirement.sh: no '# tensorflow==X' line in requirements.txt" >&2; exit 2; }
choice=${MARS_CLOUDMASK_TF:-auto}
if [ "$choice" = auto ]; then
  if nvidia-smi -L >/dev/null 2>&1; then choice=cuda; else choice=cpu; fi
fi
case "$choice" in
  cpu)  echo "tensorflow-cpu==$version" ;;
  cuda) echo "tensorflow[and-cuda]==$version" ;;
  *)    echo "tensorflow_requirement.sh: MARS_CLOUDMASK_TF must be cpu, cuda or auto, not '$choice'" >&2; exit 2 ;;
esac
