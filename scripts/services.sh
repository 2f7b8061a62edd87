#!/usr/bin/env bash
# Install and run the services the tests need (PostgreSQL 15 from Debian; later Chromium).
set -euo pipefail
PGBIN=/usr/lib/postgresql/15/bin
# A free port unless one is given: a second cluster (another run, a developer's) must not collide.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=${SAFECITIES_PG_PORT:-$(free_port)}

apt_install() {
  local sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq >/dev/null
  $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

case "${1:-}" in
  ensure)
    need=()
    [ -x "$PGBIN/initdb" ] || need+=(postgresql)
    [ -x /usr/bin/chromium ] || need+=(chromium)  # browser tests (Playwright, system executable)
    # WeasyPrint (patrol briefings as PDF) needs Pango, HarfBuzz subsetting and a font
    for pkg in libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core; do
      dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
    done
    if [ ${#need[@]} -gt 0 ]; then
      echo "installing ${need[*]} from Debian packages" >&2
      apt_install "${need[@]}"
    fi
    ;;
  pg-start)
    dir=$2
    if [ "$(id -u)" = 0 ]; then run=(runuser -u postgres --); chown postgres "$dir"; else run=(); fi
    "${run[@]}" "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust >/dev/null
    "${run[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/log" \
      -o "-p $PORT -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" -w start >/dev/null
    "${run[@]}" "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres safecities_test
    echo "postgresql://postgres@127.0.0.1:$PORT/safecities_test"
    ;;
  pg-stop)
    dir=$2
    [ -d "$dir/data" ] || exit 0
    if [ "$(id -u)" = 0 ]; then run=(runuser -u postgres --); else run=(); fi
    "${run[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  *) echo "usage: $0 ensure | pg-start DIR | pg-stop DIR" >&2; exit 2 ;;
esac
