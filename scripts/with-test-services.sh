#!/usr/bin/env bash
# Start the real servers the tests need on 127.0.0.1 (PostgreSQL from Debian's packages),
# run the given command with their URLs exported, then stop them.
set -euo pipefail

PG_PORT=${AUTOCLIP_TEST_PG_PORT:-55432}
RUN_DIR=${AUTOCLIP_TEST_RUN_DIR:-/tmp/autoclip-test-services-$PG_PORT}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

if [ -z "$(pg_bin)" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing PostgreSQL (apt-get)…"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "PostgreSQL is not installed and we are not root: database tests on PostgreSQL will be skipped" >&2
  fi
fi

cleanup() {
  if [ -n "${PG_STARTED:-}" ]; then
    $AS_PG "$PG/pg_ctl" -D "$RUN_DIR/pgdata" -m fast -w stop >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

PG=$(pg_bin)
if [ -n "$PG" ]; then
  AS_PG=""
  if [ "$(id -u)" = 0 ]; then AS_PG="runuser -u postgres --"; fi
  mkdir -p "$RUN_DIR"
  if [ "$(id -u)" = 0 ]; then chown postgres "$RUN_DIR"; fi
  if [ ! -f "$RUN_DIR/pgdata/PG_VERSION" ]; then
    $AS_PG "$PG/initdb" -D "$RUN_DIR/pgdata" -U postgres --auth-local=trust --auth-host=trust >/dev/null
  fi
  $AS_PG "$PG/pg_ctl" -D "$RUN_DIR/pgdata" -m fast -w stop >/dev/null 2>&1 || true
  $AS_PG "$PG/pg_ctl" -D "$RUN_DIR/pgdata" -l "$RUN_DIR/pg.log" -w \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$RUN_DIR -c fsync=off" start >/dev/null
  PG_STARTED=1
  "$PG/psql" -h "$RUN_DIR" -p "$PG_PORT" -U postgres -qtAc \
    "SELECT 1 FROM pg_database WHERE datname='autoclip_test'" | grep -q 1 \
    || "$PG/psql" -h "$RUN_DIR" -p "$PG_PORT" -U postgres -qc "CREATE DATABASE autoclip_test"
  export AUTOCLIP_TEST_POSTGRES_URL="postgresql+psycopg2://postgres@/autoclip_test?host=$RUN_DIR&port=$PG_PORT"
  echo "PostgreSQL on 127.0.0.1:$PG_PORT (socket $RUN_DIR)"
fi

set +e
"$@"
status=$?
set -e
# pytest exits 5 when it collected nothing: that is a failure here, not a pass.
exit $status
