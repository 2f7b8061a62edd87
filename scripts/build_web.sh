#!/usr/bin/env bash
# Build the web front-end: copy the npm-pinned JavaScript libraries (package-lock.json) into the
# package (safecities/web/static/vendor) and compile the NL/FR/EN catalogues. No CDN at runtime.
# The vendor files are committed too, so a machine without npm or network still works: when npm
# cannot install, the committed copies are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
VENDOR=safecities/web/static/vendor
PY=${PY:-.venv/bin/python}

if command -v npm >/dev/null 2>&1 && { { [ -d node_modules/leaflet ] && [ -d node_modules/swagger-ui-dist ]; } || timeout 180 npm ci --no-audit --no-fund --silent; }; then
  mkdir -p "$VENDOR/leaflet"
  cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css "$VENDOR/leaflet/"
  cp -r node_modules/leaflet/dist/images "$VENDOR/leaflet/"
  cp node_modules/leaflet/LICENSE "$VENDOR/leaflet/LICENSE"
  # Swagger UI for /docs (FastAPI would otherwise load it from a CDN)
  mkdir -p "$VENDOR/swagger-ui"
  for f in swagger-ui-bundle.js swagger-ui.css favicon-32x32.png LICENSE; do
    cp "node_modules/swagger-ui-dist/$f" "$VENDOR/swagger-ui/"
  done
else
  echo "build_web: npm unavailable; using the committed vendor files in $VENDOR" >&2
fi
for f in leaflet/leaflet.js swagger-ui/swagger-ui-bundle.js; do
  [ -f "$VENDOR/$f" ] || { echo "build_web: $VENDOR/$f missing" >&2; exit 1; }
done
if [ -x "$PY" ]; then
  "$PY" -c "from safecities.web.i18n import compile_catalogues; compile_catalogues()"
fi
