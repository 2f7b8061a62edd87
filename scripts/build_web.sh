#!/usr/bin/env bash
# Build the web front-end: copy the npm-pinned JavaScript libraries (package-lock.json) into the
# package (safecities/web/static/vendor) and compile the NL/FR/EN catalogues. No CDN at runtime.
# The vendor files are committed too, so a machine without npm or network still works: when npm
# cannot install, the committed copies are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
VENDOR=safecities/web/static/vendor
PY=${PY:-.venv/bin/python}

if command -v npm >/dev/null 2>&1 && { [ -d node_modules/leaflet ] || timeout 180 npm ci --no-audit --no-fund --silent; }; then
  mkdir -p "$VENDOR/leaflet"
  cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css "$VENDOR/leaflet/"
  cp -r node_modules/leaflet/dist/images "$VENDOR/leaflet/"
  cp node_modules/leaflet/LICENSE "$VENDOR/leaflet/LICENSE"
else
  echo "build_web: npm unavailable; using the committed vendor files in $VENDOR" >&2
fi
[ -f "$VENDOR/leaflet/leaflet.js" ] || { echo "build_web: $VENDOR/leaflet/leaflet.js missing" >&2; exit 1; }
if [ -x "$PY" ]; then
  "$PY" -c "from safecities.web.i18n import compile_catalogues; compile_catalogues()"
fi
