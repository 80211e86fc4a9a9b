#!/usr/bin/env bash
# Compares builds of `continuum serve` in one run: two or more release binaries (before first,
# the newest last) take turns, each on a fresh server and data directory, RUNS times, measured by
# the same load generator (the last binary's `continuum bench`), so a slow stretch of the shared
# machine falls on all of them. Prints one line per run and server: validate/hello, and the burst's server CPU per
# delivered update; and the server's CPU time per hello and per validate, each run alone.
#
#   bash bench/ab.sh target-before/release/continuum target/release/continuum
#
# Each line is labelled with the binary's file name.
#
# Environment (all optional):
#   RUNS=6             turns of each server
#   DURATION=6s        window of hello,validate (split over ROUNDS turns of its own)
#   ROUNDS=6           turns hello and validate take within one run
#   CPU_DURATION=3s    window of each scenario alone, for the server's CPU per request
#   CONNECTIONS=64     concurrent keep-alive connections
#   BURST_SOCKETS=1000 subscribers of the burst document
#   BURST_UPDATES=2000 updates in the burst
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 2 ]; then echo "usage: bench/ab.sh BEFORE_BIN AFTER_BIN [MORE_BINS...]" >&2; exit 2; fi
BINS=("$@")
RUNS=${RUNS:-6}
DURATION=${DURATION:-6s}
ROUNDS=${ROUNDS:-6}
CPU_DURATION=${CPU_DURATION:-3s}
CONNECTIONS=${CONNECTIONS:-64}
BURST_SOCKETS=${BURST_SOCKETS:-1000}
BURST_UPDATES=${BURST_UPDATES:-2000}

# shellcheck source=lib.sh
source bench/lib.sh

WORK=$(mktemp -d "${TMPDIR:-/tmp}/continuum-ab.XXXXXX")
cleanup() { stop_server; rm -rf "$WORK"; }
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
TICK=$(getconf CLK_TCK)
# utime + stime of process $1, in clock ticks.
server_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
use_bench_key
LOAD=${BINS[-1]}

log "machine: $(nproc) cores, $(uname -sr), $(date -u +%Y-%m-%dT%H:%MZ), $(rustc --version)"
log "builds: ${BINS[*]}; load generator: $LOAD"

# One scenario's figure from the bench's JSON lines: field `$2` of scenario `$1`.
field() { python3 -c '
import json, sys
for line in sys.stdin:
    line = line.strip()
    if not line.startswith("{"): continue
    row = json.loads(line)
    if row.get("scenario") == sys.argv[1]:
        print(row.get(sys.argv[2])); break
' "$1" "$2"; }

for run in $(seq "$RUNS"); do
  for BIN in "${BINS[@]}"; do
    side=$(basename "$BIN")
    start_server "$side-$run-load"
    load=$("$LOAD" bench --url "http://$ADDR" --scenario hello,validate --rounds "$ROUNDS" \
      --connections "$CONNECTIONS" --duration "$DURATION" --warmup 250ms --json)
    # Server CPU per request, each scenario alone (steadier than req/s on a busy machine).
    declare -A ticks rows
    for scenario in hello validate; do
      start_ticks=$(server_ticks "$SERVER_PID")
      rows[$scenario]=$("$LOAD" bench --url "http://$ADDR" --scenario "$scenario" \
        --connections "$CONNECTIONS" --duration "$CPU_DURATION" --warmup 0s --json | grep '^{' | tail -n1)
      ticks[$scenario]=$(( $(server_ticks "$SERVER_PID") - start_ticks ))
    done
    stop_server
    start_server "$side-$run-burst"
    burst=$("$LOAD" bench --url "http://$ADDR" --scenario burst --server-pid "$SERVER_PID" \
      --sockets "$BURST_SOCKETS" --updates "$BURST_UPDATES" --connections "$CONNECTIONS" --json)
    stop_server
    python3 -c '
import json, sys
run, side, load, burst, tick = sys.argv[1:6]
hello_ticks, hello_row, validate_ticks, validate_row = sys.argv[6:10]
rows = {}
for line in (load + "\n" + burst).splitlines():
    line = line.strip()
    if line.startswith("{"):
        row = json.loads(line)
        rows[row.get("scenario")] = row
hello, validate, b = rows["hello"]["rps"], rows["validate"]["rps"], rows["burst"]
per_request = lambda ticks, row: int(ticks) / float(tick) * 1e6 / max(json.loads(row)["requests"], 1)
per_update, delivered, closed = (b.get(k) for k in ("cpu_per_delivered_update_us", "delivered_updates", "closed_by_server"))
cpu_hello, cpu_validate = per_request(hello_ticks, hello_row), per_request(validate_ticks, validate_row)
print(f"run {run} {side:18} hello {hello:7.0f} validate {validate:7.0f} ratio {validate / hello:.3f}"
      f" | server cpu hello {cpu_hello:.2f} us validate {cpu_validate:.2f} us ratio {cpu_hello / cpu_validate:.3f}"
      f" | burst cpu/update {per_update or 0:.2f} us delivered {delivered} closed {closed}")
' "$run" "$side" "$load" "$burst" "$TICK" "${ticks[hello]}" "${rows[hello]}" "${ticks[validate]}" "${rows[validate]}"
  done
done
