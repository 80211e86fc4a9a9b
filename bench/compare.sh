#!/usr/bin/env bash
# Issue 5's comparison, in one run on this machine: Continuum on Redis (without and with
# `--session-cache`, issue 16) and on PostgreSQL next to
# an axum + tower-sessions + Redis app and a raw Redis GET+SET app (bench/baselines), validate
# and patch on each over the same 64 keep-alive connections, Continuum's /hello as the floor, and
# the lost updates of each under 64 concurrent writers on one session.
#
# Builds everything --release, makes sure Redis and PostgreSQL run (scripts/services.sh), flushes
# the Redis databases the run uses and creates a fresh PostgreSQL database, starts the four
# servers on free loopback ports, runs `compare` (bench/baselines/src/bin/compare.rs) with their
# process ids (CPU per request of each server, of Redis and of the load generator), prints its
# tables with the Redis and PostgreSQL versions and Redis's commandstats over the run, and stops
# everything. About two minutes after the builds.
#
# Environment (all optional):
#   DURATION=8          measurement window per (system, operation), seconds
#   WARMUP=1            warm-up before each window, seconds
#   CONNECTIONS=64      concurrent keep-alive connections
#   POOL=1000           sessions each system logs in for validate and patch
#   WRITERS=64          concurrent writers of the lost-update count
#   WRITES=20           patches per writer (distinct keys; 64 x 20 fit Continuum's 16 KiB default)
#   CONTINUUM_DB=12 TOWER_DB=13 RAW_DB=14 CACHED_DB=9   Redis databases (flushed before the run)
#   PG_DATABASE=continuum_compare           PostgreSQL database (dropped and created anew)
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-8}
WARMUP=${WARMUP:-1}
CONNECTIONS=${CONNECTIONS:-64}
POOL=${POOL:-1000}
WRITERS=${WRITERS:-64}
WRITES=${WRITES:-20}
CONTINUUM_DB=${CONTINUUM_DB:-12}
TOWER_DB=${TOWER_DB:-13}
RAW_DB=${RAW_DB:-14}
CACHED_DB=${CACHED_DB:-9}
PG_DATABASE=${PG_DATABASE:-continuum_compare}
REDIS=redis://127.0.0.1:6379

# shellcheck source=lib.sh
source bench/lib.sh

log "building continuum and the baselines (release)"
cargo build --release --locked -p continuum >&2
BIN="${CARGO_TARGET_DIR:-target}/release/continuum"
BASELINES_TARGET="$PWD/bench/baselines/target"
CARGO_TARGET_DIR="$BASELINES_TARGET" cargo build --release --locked \
  --manifest-path bench/baselines/Cargo.toml >&2
BASELINE="$BASELINES_TARGET/release/baseline"
COMPARE="$BASELINES_TARGET/release/compare"

# shellcheck source=../scripts/services.sh
source scripts/services.sh
PG_ADMIN=${CONTINUUM_TEST_POSTGRES}
PG_URL="${PG_ADMIN%/*}/$PG_DATABASE"
for db in "$CONTINUUM_DB" "$TOWER_DB" "$RAW_DB" "$CACHED_DB"; do redis-cli -n "$db" flushdb >/dev/null; done
psql "$PG_ADMIN" -qAt -c "drop database if exists $PG_DATABASE" -c "create database $PG_DATABASE" >/dev/null

WORK=$(mktemp -d "${TMPDIR:-/tmp}/continuum-compare.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" || true; fi
  done
  psql "$PG_ADMIN" -qAt -c "drop database if exists $PG_DATABASE" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

use_bench_key

# Continuum with its default settings, only the store chosen (and any further flags).
start_continuum() {
  local name=$1 store=$2
  shift 2
  CONTINUUM_LOG=info "$BIN" serve --listen 127.0.0.1:0 --data "$WORK/$name" --store "$store" "$@" \
    >/dev/null 2>"$WORK/$name.log" &
  PIDS+=($!)
  wait_for "$WORK/$name.log" 'addr=127\.0\.0\.1:[0-9]*' /readyz $!
}

start_baseline() {
  local app=$1 db=$2
  "$BASELINE" --app "$app" --listen 127.0.0.1:0 --redis "$REDIS/$db" >/dev/null 2>"$WORK/$app.log" &
  PIDS+=($!)
  wait_for "$WORK/$app.log" 'listening on 127\.0\.0\.1:[0-9]*' /hello $!
}

start_continuum redis "$REDIS/$CONTINUUM_DB"
CONTINUUM_REDIS=$ADDR SERVER_PIDS=(--server-pid "continuum-redis=${PIDS[-1]}")
start_continuum postgres "$PG_URL"
CONTINUUM_POSTGRES=$ADDR SERVER_PIDS+=(--server-pid "continuum-postgres=${PIDS[-1]}")
start_continuum redis-cached "$REDIS/$CACHED_DB" --session-cache
CONTINUUM_CACHED=$ADDR SERVER_PIDS+=(--server-pid "continuum-redis-cached=${PIDS[-1]}")
start_baseline tower-sessions "$TOWER_DB"
TOWER=$ADDR SERVER_PIDS+=(--server-pid "tower-sessions=${PIDS[-1]}")
start_baseline raw-redis "$RAW_DB"
RAW=$ADDR SERVER_PIDS+=(--server-pid "raw-redis=${PIDS[-1]}")
REDIS_PID=$(redis-cli info server | tr -d '\r' | grep '^process_id:' | cut -d: -f2)

# Redis's own view of the run: calls and microseconds per command, as differences.
commandstats() { redis-cli info commandstats | tr -d '\r' | grep '^cmdstat_' | sed 's/^cmdstat_//; s/:calls=/ /; s/,usec=/ /; s/,.*//'; }
commandstats >"$WORK/commandstats.before"

log "machine: $(nproc) cores, $(uname -sr), $(date -u +%Y-%m-%dT%H:%MZ), $(rustc --version)"
log "Redis $(redis-cli info server | tr -d '\r' | grep '^redis_version:' | cut -d: -f2)," \
  "$(psql "$PG_ADMIN" -qAtc 'show server_version' | cut -d' ' -f1 | sed 's/^/PostgreSQL /')"
"$COMPARE" --continuum-redis "http://$CONTINUUM_REDIS" --continuum-postgres "http://$CONTINUUM_POSTGRES" \
  --continuum-redis-cached "http://$CONTINUUM_CACHED" \
  --tower-sessions "http://$TOWER" --raw-redis "http://$RAW" \
  --connections "$CONNECTIONS" --duration "$DURATION" --warmup "$WARMUP" --pool "$POOL" \
  --writers "$WRITERS" --writes "$WRITES" "${SERVER_PIDS[@]}" --redis-pid "$REDIS_PID"
commandstats >"$WORK/commandstats.after"
echo
echo "Redis commands during the run (all systems on Redis together; also counts other clients):"
awk 'NR == FNR { calls[$1] = $2; usec[$1] = $3; next }
     $2 - calls[$1] > 0 { printf "  %-10s %10d calls %8.2f us/call\n", $1, $2 - calls[$1], ($3 - usec[$1]) / ($2 - calls[$1]) }' \
  "$WORK/commandstats.before" "$WORK/commandstats.after"
