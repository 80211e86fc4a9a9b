#!/usr/bin/env bash
# CPU time per request of each scenario, the server's and the load generator's, next to req/s.
#
# On this shared two-core machine one run's req/s ratio (validate / hello) moves by ±0.1 for
# reasons outside the server; the CPU each side spends per request is much steadier, and its
# ratio is what the req/s ratio converges to when the two cores are the bottleneck. Builds
# --release, then for each of SERVERS servers starts a fresh one (embedded store), warms it with
# one second of validate (which also creates the session pool), and runs each scenario alone for
# DURATION with no warm-up: the server's utime+stime from /proc/<pid>/stat and the bench's from
# the shell's `times`, each divided by the requests answered.
#
# Environment (all optional):
#   SCENARIOS=hello,validate  scenarios to measure (the first is the floor of the ratio)
#   SERVERS=3                 fresh servers, one after another
#   DURATION=4s               measurement window of each scenario
#   CONNECTIONS=64            concurrent keep-alive connections
set -euo pipefail
cd "$(dirname "$0")/.."

SCENARIOS=${SCENARIOS:-hello,validate}
SERVERS=${SERVERS:-3}
DURATION=${DURATION:-4s}
CONNECTIONS=${CONNECTIONS:-64}

# shellcheck source=lib.sh
source bench/lib.sh

log "building continuum (release)"
cargo build --release --locked -p continuum >&2
BIN="${CARGO_TARGET_DIR:-target}/release/continuum"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/continuum-cpu.XXXXXX")
trap 'stop_server; rm -rf "$WORK"' EXIT
use_bench_key
TICK=$(getconf CLK_TCK)

# utime + stime of process $1, in clock ticks.
server_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# Sets the variable named $1 to the CPU seconds this shell's finished children used so far
# (user + system), from `times`. It must run in this shell: a subshell, such as `$(...)`, has
# no children of its own to report.
children_seconds() {
  times >"$WORK/times"
  printf -v "$1" '%s' "$(tail -n1 "$WORK/times" | awk '{
    total = 0
    for (i = 1; i <= 2; i++) { split($i, p, "m"); sub("s", "", p[2]); total += p[1] * 60 + p[2] }
    print total
  }')"
}

log "machine: $(nproc) cores, $(uname -sr), $(date -u +%Y-%m-%dT%H:%MZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %-10s %10s %9s %12s %12s %12s\n' server scenario req/s requests 'server µs' 'bench µs' 'total µs'
IFS=',' read -r -a scenarios <<<"$SCENARIOS"
for round in $(seq "$SERVERS"); do
  start_server "round-$round"
  "$BIN" bench --url "http://$ADDR" --scenario validate --duration 1s --warmup 0s \
    --connections "$CONNECTIONS" >/dev/null 2>&1
  floor=""
  for scenario in "${scenarios[@]}"; do
    before_server=$(server_ticks "$SERVER_PID")
    children_seconds before_bench
    line=$("$BIN" bench --url "http://$ADDR" --scenario "$scenario" --duration "$DURATION" \
      --warmup 0s --connections "$CONNECTIONS" 2>/dev/null | awk -v s="$scenario" '$1 == s')
    children_seconds after_bench
    after_server=$(server_ticks "$SERVER_PID")
    read -r _ rate requests _ <<<"$line"
    figures=$(awk -v s0="$before_server" -v s1="$after_server" -v b0="$before_bench" \
      -v b1="$after_bench" -v n="$requests" -v tick="$TICK" \
      'BEGIN { s = (s1 - s0) / tick * 1e6 / n; b = (b1 - b0) * 1e6 / n; printf "%.2f %.2f %.2f", s, b, s + b }')
    read -r server bench total <<<"$figures"
    ratio=""
    if [ -z "$floor" ]; then floor=$total; else ratio=$(awk -v f="$floor" -v t="$total" 'BEGIN { printf "CPU ratio %.3f", f / t }'); fi
    printf '%-6s %-10s %10s %9s %12s %12s %12s  %s\n' "$round" "$scenario" "$rate" "$requests" \
      "$server" "$bench" "$total" "$ratio"
  done
  stop_server
done
