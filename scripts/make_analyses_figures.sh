#!/usr/bin/env bash
# Regenerate the figures of docs/analyses.md with the project's own commands, from the published
# model's masks of the season sample (../shared/data/year: 8 sols per subphase, MY 28 Ls 143 to
# MY 29 Ls 120). The masks are another model's output: these figures show the analyses, not our
# model's accuracy. Writes docs/analyses_*.png (plots, no pixels of the data).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
year=${1:-$repo/../shared/data/year}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cli="$repo/.venv/bin/mars-cloudmask"
"$cli" zonal --root "$year" --out "$out/zonal.nc" --figure "$repo/docs/analyses_latitude_ls.png"
"$cli" frequency --root "$year" --subphase P02 --subphase P03 --out "$out/frequency.tif" --group-by subphase --figures
cp "$out/frequency_P02.png" "$repo/docs/analyses_frequency_P02.png"
"$cli" series --root "$year" --no-bands --box=-135,-90,-10,30 --out "$out/tharsis.csv" \
    --figure "$repo/docs/analyses_series_tharsis.png"
echo "wrote $repo/docs/analyses_latitude_ls.png, analyses_frequency_P02.png, analyses_series_tharsis.png"
