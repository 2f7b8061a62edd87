#!/usr/bin/env bash
# Runs every test: lint, then pytest against SQLite and a private PostgreSQL cluster.
# PostgreSQL is installed from Debian packages when missing and started on port 55432 for this
# run only (see ../shared/design/SERVICES.md); it is stopped again on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv

$VENV/bin/ruff check .

# Services the tests need, installed by the project's own files.
scripts/services.sh ensure

PGDIR=$(mktemp -d /tmp/safecities-pg.XXXXXX)
chmod 711 "$PGDIR"
cleanup() { scripts/services.sh pg-stop "$PGDIR" || true; rm -rf "$PGDIR"; }
trap cleanup EXIT
if PGURL=$(scripts/services.sh pg-start "$PGDIR"); then
  export SAFECITIES_TEST_POSTGRES_URL="$PGURL"
else
  echo "PostgreSQL could not be started: PostgreSQL tests will FAIL" >&2
  export SAFECITIES_TEST_POSTGRES_URL="unavailable"
fi

mkdir -p test-artifacts
$VENV/bin/pytest -q "$@"
