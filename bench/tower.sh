#!/usr/bin/env bash
# Issue 6's middleware comparison, in one run on this machine: the `visits` example app
# (crates/continuum-tower/examples/visits) behind Continuum's tower layer in each mode, next to
# the same app on tower-sessions with its MemoryStore and with tower-sessions-redis-store
# (bench/baselines/src/visits), all under one load shape: CONNECTIONS keep-alive clients, each
# logged in with its own cookie, looping `GET /me` for WARMUP_MS, then DURATION_SECS counted.
#
# Builds the load and visits examples and bench/baselines --release, flushes Redis database
# REDIS_DB, starts three apps in their own processes on free loopback ports (tower-sessions on
# memory, tower-sessions on Redis, and Continuum's sealed mode as a control for the in-process
# rows), runs the `load` example (which serves Continuum's remote modes, with an in-process
# Continuum server on the embedded store, sealed mode and the no-layer ceiling itself, then drives
# the three external apps), prints its table, and stops everything. About 45 s after the builds.
#
# Environment (all optional):
#   DURATION_SECS=5     measured window per app
#   WARMUP_MS=500       warm-up per app (requests sent, not counted)
#   CONNECTIONS=32      concurrent keep-alive clients, each with its own session
#   REDIS_DB=10         Redis database for tower-sessions (flushed before the run; no test or other bench uses it)
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION_SECS=${DURATION_SECS:-5}
WARMUP_MS=${WARMUP_MS:-500}
CONNECTIONS=${CONNECTIONS:-32}
REDIS_DB=${REDIS_DB:-10}
export DURATION_SECS WARMUP_MS CONNECTIONS

# shellcheck source=lib.sh
source bench/lib.sh

log "building the load and visits examples and the baselines (release)"
cargo build --release --locked -p continuum-tower --example load --example visits >&2
EXAMPLES="${CARGO_TARGET_DIR:-target}/release/examples"
BASELINES_TARGET="$PWD/bench/baselines/target"
CARGO_TARGET_DIR="$BASELINES_TARGET" cargo build --release --locked \
  --manifest-path bench/baselines/Cargo.toml --bin visits_tower_sessions >&2
TOWER_VISITS="$BASELINES_TARGET/release/visits_tower_sessions"

if ! redis-cli -n "$REDIS_DB" ping >/dev/null 2>&1; then
  log "Redis does not answer on 127.0.0.1:6379 (bash scripts/services.sh starts it)"
  exit 1
fi
redis-cli -n "$REDIS_DB" flushdb >/dev/null

WORK=$(mktemp -d "${TMPDIR:-/tmp}/continuum-tower-bench.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" || true; fi
  done
  redis-cli -n "$REDIS_DB" flushdb >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# What the apps print once bound (the sealed example prints a URL).
LISTENING='listening on [a-z:/]*127\.0\.0\.1:[0-9]*'
"$TOWER_VISITS" --store memory --listen 127.0.0.1:0 2>"$WORK/memory.log" &
PIDS+=($!)
wait_for "$WORK/memory.log" "$LISTENING" /me $!
MEMORY=$ADDR
"$TOWER_VISITS" --store "redis://127.0.0.1:6379/$REDIS_DB" --listen 127.0.0.1:0 2>"$WORK/redis.log" &
PIDS+=($!)
wait_for "$WORK/redis.log" "$LISTENING" /me $!
REDIS=$ADDR
VISITS_ADDR=127.0.0.1:0 "$EXAMPLES/visits" sealed 2>"$WORK/sealed.log" &
PIDS+=($!)
wait_for "$WORK/sealed.log" "$LISTENING" /me $!
SEALED=$ADDR

log "machine: $(nproc) cores, $(uname -sr), $(date -u +%Y-%m-%dT%H:%MZ), $(rustc --version)," \
  "Redis $(redis-cli info server | tr -d '\r' | grep '^redis_version:' | cut -d: -f2)"
log "before:$(uptime | sed 's/.*load average/ load average/')"
EXTERNAL="continuum sealed (own process)=http://$SEALED"
EXTERNAL+=",tower-sessions MemoryStore=http://$MEMORY"
EXTERNAL+=",tower-sessions + Redis=http://$REDIS"
EXTERNAL=$EXTERNAL VS="tower-sessions MemoryStore,tower-sessions + Redis" "$EXAMPLES/load"
log "after:$(uptime | sed 's/.*load average/ load average/')"
