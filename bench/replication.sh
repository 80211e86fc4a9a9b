#!/usr/bin/env bash
# Replication between nodes in one run: clusters of 1, 2, 3 and 5 `continuum serve --store
# replicated` nodes on loopback, with one backup (`--replicas 1`) and with every node holding
# everything (`--replicas all`). For each: validate and patch throughput and p99 through node 0
# (which forwards what it does not own), the bytes the nodes sent each other per patch (from
# their `continuum_replication_sent_bytes_total`), and each node's resident memory per 100k
# sessions (RSS before and after creating SESSIONS sessions through node 0).
#
#   bash bench/replication.sh [target/release/continuum]
#
# Environment (all optional): SIZES="1 2 3 5", DURATION=5s, CONNECTIONS=32, SESSIONS=20000.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${1:-target/release/continuum}
SIZES=${SIZES:-1 2 3 5}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-32}
SESSIONS=${SESSIONS:-20000}

# shellcheck source=lib.sh
source bench/lib.sh
WORK=$(mktemp -d "${TMPDIR:-/tmp}/continuum-replication.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
use_bench_key
log "machine: $(nproc) cores, $(uname -sr), $(date -u +%Y-%m-%dT%H:%MZ), load $(cut -d' ' -f1-3 /proc/loadavg)"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Starts $1 nodes with --replicas $2; sets NODES (HTTP addresses) and NODE_PIDS.
start_cluster() {
  local n=$1 replicas=$2 gossip=() i
  NODES=(); NODE_PIDS=()
  for i in $(seq 0 $((n - 1))); do gossip+=("127.0.0.1:$(free_port)"); done
  for i in $(seq 0 $((n - 1))); do
    local peers="" j name="n$n-$replicas-$i"
    for j in $(seq 0 $((n - 1))); do [ "$j" != "$i" ] && peers+="${gossip[$j]},"; done
    local args=(serve --listen 127.0.0.1:0 --data "$WORK/$name" --store replicated --node-id "node-$i"
      --cluster-listen "${gossip[$i]}" --replicas "$replicas")
    [ -n "$peers" ] && args+=(--peers "${peers%,}")
    CONTINUUM_LOG=info "$BIN" "${args[@]}" 2>"$WORK/$name.log" &
    PIDS+=("$!"); NODE_PIDS+=("$!")
  done
  for i in $(seq 0 $((n - 1))); do
    wait_for "$WORK/n$n-$replicas-$i.log" 'addr=127\.0\.0\.1:[0-9]*' /readyz "${NODE_PIDS[$i]}"
    NODES+=("$ADDR")
  done
}
stop_cluster() { for pid in "${NODE_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done; }

# The sum over the nodes of the Prometheus sample $1.
sum_metric() {
  local total=0 node value
  for node in "${NODES[@]}"; do
    value=$(curl -fsS "http://$node/metrics" | awk -v name="$1" '$1 == name { print $2 }')
    total=$(python3 -c "print($total + ${value:-0})")
  done
  echo "$total"
}
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

row() {
  "$BIN" bench --url "http://${NODES[0]}" --scenario "$1" --connections "$CONNECTIONS" --duration "$DURATION" \
    --warmup 500ms --json | grep '^{' | tail -n1
}

printf '%-6s %-5s %10s %9s %10s %9s %12s %14s\n' nodes k validate/s p99_ms patch/s p99_ms bytes/patch KiB/100k/node
for replicas in 1 all; do
  for n in $SIZES; do
    start_cluster "$n" "$replicas"
    validate=$(row validate)
    before=$(sum_metric continuum_replication_sent_bytes_total)
    patch=$(row patch)
    after=$(sum_metric continuum_replication_sent_bytes_total)
    rss_before=(); for pid in "${NODE_PIDS[@]}"; do rss_before+=("$(rss_kib "$pid")"); done
    "$BIN" bench --url "http://${NODES[0]}" --scenario create --connections 8 --duration 1h --warmup 0s \
      --json --sessions 1 >/dev/null 2>&1 &
    creator=$!
    # Create SESSIONS sessions through node 0 (the create scenario, stopped once enough exist).
    python3 - "${NODES[0]}" "$SESSIONS" "$CONTINUUM_API_KEY" <<'EOF'
import http.client, json, sys, time
addr, wanted, key = sys.argv[1], int(sys.argv[2]), sys.argv[3]
host, port = addr.split(":")
deadline = time.time() + 300
while time.time() < deadline:
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    c.request("GET", "/metrics"); text = c.getresponse().read().decode(); c.close()
    count = next((float(l.split()[1]) for l in text.splitlines() if l.startswith("continuum_sessions ")), 0)
    if count >= wanted: break
    time.sleep(0.5)
EOF
    kill -TERM "$creator" 2>/dev/null || true; wait "$creator" 2>/dev/null || true
    sessions=$(curl -fsS "http://${NODES[0]}/metrics" | awk '$1 == "continuum_sessions" { print $2 }')
    per_node=0
    for i in "${!NODE_PIDS[@]}"; do
      per_node=$(python3 -c "print($per_node + ($(rss_kib "${NODE_PIDS[$i]}") - ${rss_before[$i]}))")
    done
    python3 - "$n" "$replicas" "$validate" "$patch" "$before" "$after" "$per_node" "$sessions" <<'EOF'
import json, sys
n, k, validate, patch = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
sent = float(sys.argv[6]) - float(sys.argv[5])
patches = patch["rps"] * patch.get("duration_s", 0) if "requests" not in patch else patch["requests"]
per_patch = sent / patches if patches else 0
kib_per_100k = float(sys.argv[7]) / int(n) / max(float(sys.argv[8]), 1) * 100000
print(f"{n:<6} {k:<5} {validate['rps']:10.0f} {validate['latency_us']['p99'] / 1000:9.2f} "
      f"{patch['rps']:10.0f} {patch['latency_us']['p99'] / 1000:9.2f} {per_patch:12.0f} {kib_per_100k:14.0f}")
EOF
    stop_cluster
  done
done
