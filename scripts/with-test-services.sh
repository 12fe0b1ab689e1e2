#!/usr/bin/env bash
# Start the real servers the tests need on 127.0.0.1 (PostgreSQL and Redis from Debian's
# packages), run the given command with their URLs exported, then stop them.
set -euo pipefail

PG_PORT=${AUTOCLIP_TEST_PG_PORT:-55432}
REDIS_PORT=${AUTOCLIP_TEST_REDIS_PORT:-56379}
RUN_DIR=${AUTOCLIP_TEST_RUN_DIR:-/tmp/autoclip-test-services-$PG_PORT}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

missing=()
[ -n "$(pg_bin)" ] || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing ${missing[*]} (apt-get)…"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "not root and missing ${missing[*]}: tests needing them are skipped" >&2
  fi
fi

cleanup() {
  if [ -n "${REDIS_STARTED:-}" ]; then
    redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  fi
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

if command -v redis-server >/dev/null; then
  mkdir -p "$RUN_DIR/redis"
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$RUN_DIR/redis" --daemonize yes --logfile "$RUN_DIR/redis.log" >/dev/null
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  REDIS_STARTED=1
  export AUTOCLIP_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
  echo "Redis on 127.0.0.1:$REDIS_PORT"
fi

set +e
"$@"
status=$?
set -e
# pytest exits 5 when it collected nothing: that is a failure here, not a pass.
exit $status
