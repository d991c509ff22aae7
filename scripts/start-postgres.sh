#!/usr/bin/env bash
# Start a throw-away PostgreSQL+PostGIS server on loopback for the tests and print the
# `export YZMAP_TEST_POSTGRES_URL=...` line to eval. Reuses a server already running on the port.
set -euo pipefail
PORT="${YZMAP_TEST_PG_PORT:-55432}"
DIR="${YZMAP_TEST_PG_DIR:-/tmp/yzmap-test-pg}"
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
RUN=()
if [ "$(id -u)" -eq 0 ]; then RUN=(runuser -u postgres --); fi
if ! "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
  if [ ! -f "$DIR/PG_VERSION" ]; then
    mkdir -p "$DIR"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$DIR"
    "${RUN[@]}" "$BIN/initdb" -D "$DIR" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >&2
  fi
  "${RUN[@]}" "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k /tmp -c fsync=off" start >&2
fi
"$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='yzmap_test'" \
  | grep -q 1 || "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres yzmap_test
"$BIN/psql" -q -h 127.0.0.1 -p "$PORT" -U postgres -d yzmap_test -c "CREATE EXTENSION IF NOT EXISTS postgis" >&2
echo "export YZMAP_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:$PORT/yzmap_test"
