# Shared set-up for scripts/start and scripts/test (sourced, not run).
# Creates .venv, installs the Python and npm dependencies and builds the static assets.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3.11}
if ! command -v mdb-export >/dev/null 2>&1; then
  echo "warning: mdbtools is not installed; Access (.mdb/.accdb) files cannot be read." >&2
  echo "         On Debian/Ubuntu: sudo apt-get install -y mdbtools" >&2
fi
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[dev]"
if [ ! -f static/vendor/nhsuk/VERSION ] || [ package-lock.json -nt static/vendor/nhsuk/VERSION ]; then
  npm ci --no-audit --no-fund --loglevel=error
  npm run --silent build
fi
