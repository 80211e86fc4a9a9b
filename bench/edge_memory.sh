#!/usr/bin/env bash
# Memory per cached session at an edge (issue 16): a release `continuum serve` (the origin, on
# its embedded store) and a release `continuum edge` of it, each its own process; the load
# generator (`examples/edge_memory.rs` of continuum-edge) creates WARMUP + SESSIONS sessions at
# the origin and validates them at the edge (GET /v1/me, each a cache miss, so the edge caches
# its record), and reports the edge's RSS (/proc/<pid>/status) before and after the SESSIONS
# measured ones, per session. RUNS times, each on fresh processes.
#
#   cargo build --release -p continuum -p continuum-edge --example edge_memory
#   bash bench/edge_memory.sh target/release/continuum target/release/examples/edge_memory
#
# Environment (all optional): RUNS=2, SESSIONS=100000, WARMUP=1000.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${1:?usage: bench/edge_memory.sh BIN LOADGEN}
LOADGEN=${2:?usage: bench/edge_memory.sh BIN LOADGEN}
RUNS=${RUNS:-2}
SESSIONS=${SESSIONS:-100000}
WARMUP=${WARMUP:-1000}

# shellcheck source=lib.sh
source bench/lib.sh

WORK=$(mktemp -d "${TMPDIR:-/tmp}/continuum-edge-memory.XXXXXX")
EDGE_PID=""
stop_edge() {
  if [ -n "$EDGE_PID" ] && kill -0 "$EDGE_PID" 2>/dev/null; then
    kill -TERM "$EDGE_PID"
    wait "$EDGE_PID" || true
  fi
  EDGE_PID=""
}
cleanup() { stop_edge; stop_server; rm -rf "$WORK"; }
trap cleanup EXIT
use_bench_key
log "machine: $(nproc) cores, $(uname -sr), $(date -u +%Y-%m-%dT%H:%MZ), $(rustc --version)"

for run in $(seq "$RUNS"); do
  start_server "origin-$run"
  ORIGIN_ADDR=$ADDR
  # Room for every session, and a TTL longer than the run, so that the second pass can check
  # that each measured session is still cached.
  CONTINUUM_LOG=info CONTINUUM_ORIGIN_API_KEY=$CONTINUUM_API_KEY "$BIN" edge --listen 127.0.0.1:0 \
    --origin "http://$ORIGIN_ADDR" --data "$WORK/edge-$run" --cache-capacity $((2 * (SESSIONS + WARMUP))) \
    --cache-ttl-secs 3600 --stream-cap-secs 3600 2>"$WORK/edge-$run.log" &
  EDGE_PID=$!
  wait_for "$WORK/edge-$run.log" 'addr=127\.0\.0\.1:[0-9]*' /readyz "$EDGE_PID"
  log "run $run: origin on $ORIGIN_ADDR, edge on $ADDR (pid $EDGE_PID)"
  ORIGIN="http://$ORIGIN_ADDR" EDGE="http://$ADDR" EDGE_PID=$EDGE_PID KEY=$CONTINUUM_API_KEY \
    SESSIONS=$SESSIONS WARMUP=$WARMUP "$LOADGEN"
  stop_edge
  stop_server
done
