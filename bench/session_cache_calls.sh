#!/usr/bin/env bash
# What one validate and one patch cost in Redis commands, through a `continuum serve` node on
# Redis without and with `--session-cache` (issue 16): each node alone, `compare` with only
# `--continuum-redis` (short windows), Redis's `INFO commandstats` before and after, and the
# cache's counters from the node's /metrics. Calls, not times: the counts do not depend on how
# busy the machine is. Expects the release builds of bench/compare.sh (run it first, or
# `cargo build --release -p continuum` and the baselines' `compare`).
#
# Environment (all optional): DURATION=3 (seconds per window), PLAIN_DB=12 CACHED_DB=9 (Redis
# databases, flushed).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-3}
PLAIN_DB=${PLAIN_DB:-12}
CACHED_DB=${CACHED_DB:-9}
BIN="${CARGO_TARGET_DIR:-target}/release/continuum"
COMPARE="$PWD/bench/baselines/target/release/compare"
for built in "$BIN" "$COMPARE"; do
  [ -x "$built" ] || { echo "missing $built: run bash bench/compare.sh first" >&2; exit 1; }
done

# shellcheck source=lib.sh
source bench/lib.sh
# shellcheck source=../scripts/services.sh
source scripts/services.sh
use_bench_key

WORK=$(mktemp -d "${TMPDIR:-/tmp}/continuum-cache-calls.XXXXXX")
PID=
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -TERM "$PID"; wait "$PID" || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

commandstats() { redis-cli info commandstats | tr -d '\r' | grep '^cmdstat_' | sed 's/^cmdstat_//; s/:calls=/ /; s/,usec=/ /; s/,.*//'; }

for mode in plain cached; do
  db=$PLAIN_DB flags=()
  if [ "$mode" = cached ]; then db=$CACHED_DB flags=(--session-cache); fi
  redis-cli -n "$db" flushdb >/dev/null
  CONTINUUM_LOG=info "$BIN" serve --listen 127.0.0.1:0 --data "$WORK/$mode" \
    --store "redis://127.0.0.1:6379/$db" "${flags[@]}" >/dev/null 2>"$WORK/$mode.log" &
  PID=$!
  wait_for "$WORK/$mode.log" 'addr=127\.0\.0\.1:[0-9]*' /readyz "$PID"
  commandstats >"$WORK/before"
  "$COMPARE" --continuum-redis "http://$ADDR" --duration "$DURATION" --warmup 1 --writers 1 --writes 1 \
    2>&1 | grep -E '^continuum-redis +(validate|patch) '
  commandstats >"$WORK/after"
  echo "== $mode ($mode node, Redis db $db): Redis calls during its run"
  awk 'NR == FNR { calls[$1] = $2; next } $2 - calls[$1] > 0 { printf "  %-12s %10d\n", $1, $2 - calls[$1] }' \
    "$WORK/before" "$WORK/after"
  curl -s "http://$ADDR/metrics" | grep -E '^continuum_session_cache_[a-z_]+ ' || true
  kill -TERM "$PID"
  wait "$PID" || true
  PID=
done
