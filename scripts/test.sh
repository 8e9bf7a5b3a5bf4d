#!/usr/bin/env bash
# The whole test suite, headless. Extra arguments go to pytest (e.g. -k polar, -x).
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
export QT_QPA_PLATFORM=offscreen PROJ_DATA=/usr/share/proj TF_CPP_MIN_LOG_LEVEL=2
# .venv/bin/pytest, not `python -m pytest`: -m would put the repository root on sys.path, and our
# processing/ folder would then shadow QGIS's own `processing` package.
.venv/bin/pytest "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "test.sh: pytest collected no tests: failing on purpose" >&2
  exit 1
fi
exit "$rc"
