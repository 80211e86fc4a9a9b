#!/usr/bin/env bash
# The cost of encryption at rest (issue 18): one release binary of `continuum serve` with
# `--encrypt false` and `--encrypt true` taking turns, each on a fresh server and data directory,
# RUNS times, measured by the same `continuum bench`. Prints per run and side: hello, validate
# and patch req/s (patch and validate also as a ratio of hello, the floor), and the server's CPU
# per validate and per patch, each scenario alone.
#
#   bash bench/at_rest.sh target/release/continuum
#
# Environment (all optional): RUNS=4, DURATION=6s (hello,validate,patch in ROUNDS=6 turns),
# CPU_DURATION=3s, CONNECTIONS=64.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${1:?usage: bench/at_rest.sh BIN}
RUNS=${RUNS:-4}
DURATION=${DURATION:-6s}
ROUNDS=${ROUNDS:-6}
CPU_DURATION=${CPU_DURATION:-3s}
CONNECTIONS=${CONNECTIONS:-64}

# shellcheck source=lib.sh
source bench/lib.sh

WORK=$(mktemp -d "${TMPDIR:-/tmp}/continuum-at-rest.XXXXXX")
cleanup() { stop_server; rm -rf "$WORK"; }
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
TICK=$(getconf CLK_TCK)
server_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
use_bench_key
log "machine: $(nproc) cores, $(uname -sr), $(date -u +%Y-%m-%dT%H:%MZ), $(rustc --version)"

start_side() {
  local name=$1 encrypt=$2 log_file="$WORK/$1.log"
  CONTINUUM_LOG=info "$BIN" serve --listen 127.0.0.1:0 --data "$WORK/$name" --encrypt "$encrypt" 2>"$log_file" &
  SERVER_PID=$!
  wait_for "$log_file" 'addr=127\.0\.0\.1:[0-9]*' /readyz "$SERVER_PID"
}

for run in $(seq "$RUNS"); do
  for side in plain encrypted; do
    encrypt=false; [ "$side" = encrypted ] && encrypt=true
    start_side "$side-$run" "$encrypt"
    load=$("$BIN" bench --url "http://$ADDR" --scenario hello,validate,patch --rounds "$ROUNDS" \
      --connections "$CONNECTIONS" --duration "$DURATION" --warmup 250ms --json)
    declare -A ticks rows
    for scenario in validate patch; do
      start_ticks=$(server_ticks "$SERVER_PID")
      rows[$scenario]=$("$BIN" bench --url "http://$ADDR" --scenario "$scenario" \
        --connections "$CONNECTIONS" --duration "$CPU_DURATION" --warmup 0s --json | grep '^{' | tail -n1)
      ticks[$scenario]=$(( $(server_ticks "$SERVER_PID") - start_ticks ))
    done
    stop_server
    python3 -c '
import json, sys
run, side, load, tick, vt, vr, pt, pr = sys.argv[1:9]
rows = {}
for line in load.splitlines():
    line = line.strip()
    if line.startswith("{"):
        row = json.loads(line)
        rows[row.get("scenario")] = row
hello, validate, patch = (rows[s]["rps"] for s in ("hello", "validate", "patch"))
per = lambda ticks, row: int(ticks) / float(tick) * 1e6 / max(json.loads(row)["requests"], 1)
print(f"run {run} {side:9} hello {hello:7.0f} validate {validate:7.0f} ({validate / hello:.3f})"
      f" patch {patch:7.0f} ({patch / hello:.3f}) | server cpu validate {per(vt, vr):.2f} us patch {per(pt, pr):.2f} us")
' "$run" "$side" "$load" "$TICK" "${ticks[validate]}" "${rows[validate]}" "${ticks[patch]}" "${rows[patch]}"
  done
done
