#!/usr/bin/env bash
# Affinity routing in one run: validate throughput and p99 straight to one node, through
# `continuum gateway` (--affinity sid), and through Debian's nginx with `hash $cookie_continuum
# consistent`, over three `continuum serve` nodes sharing one Redis; the three fronts take turns
# RUNS times, measured by the same `continuum bench`. Then, for the gateway by sid, the gateway by
# IP and nginx, each on fresh nodes: SIGKILL one node and report how many of SESSIONS sessions
# fail their first request after the kill, the seconds until the first success and until every
# session has been answered 2xx once (given up after 5 s: "never"); and the same by IP with each
# node on its own memory store (no replication, no shared store), where the dead node's sessions
# are lost.
#
#   bash bench/gateway.sh [target/release/continuum]
#
# Environment (all optional): RUNS=3, DURATION=6s, CONNECTIONS=64, SESSIONS=300,
# REDIS=redis://127.0.0.1:6379/15; BASE=<another continuum binary> adds its gateway to the turns
# (before / after a change, same nodes, same load generator); KILLS=0 skips the SIGKILL part.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${1:-target/release/continuum}
RUNS=${RUNS:-3}
DURATION=${DURATION:-6s}
CONNECTIONS=${CONNECTIONS:-64}
SESSIONS=${SESSIONS:-300}
BASE=${BASE:-}
KILLS=${KILLS:-1}
REDIS=${REDIS:-redis://127.0.0.1:6379/15}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# shellcheck source=lib.sh
source bench/lib.sh
WORK=$(mktemp -d "${TMPDIR:-/tmp}/continuum-gateway.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
use_bench_key
log "machine: $(nproc) cores, $(uname -sr), $(date -u +%Y-%m-%dT%H:%MZ), load $(cut -d' ' -f1-3 /proc/loadavg)"

# Starts three nodes on store $2 (default: the shared Redis); sets NODES (addresses) and NODE_PIDS.
start_nodes() {
  NODES=(); NODE_PIDS=()
  for i in 0 1 2; do
    local name="node-$1-$i"
    CONTINUUM_LOG=info "$BIN" serve --dev --listen 127.0.0.1:0 --data "$WORK/$name" --store "${2:-$REDIS}" \
      --trusted-proxy 127.0.0.1 2>"$WORK/$name.log" &
    local pid=$!
    PIDS+=("$pid"); NODE_PIDS+=("$pid")
    wait_for "$WORK/$name.log" 'addr=127\.0\.0\.1:[0-9]*' /readyz "$pid"
    NODES+=("$ADDR")
  done
}
stop_pids() { for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done; }

# Starts the gateway with affinity $1 over NODES (of binary $3, default BIN); sets FRONT and
# FRONT_PID.
start_gateway() {
  local list; list=$(printf 'http://%s,' "${NODES[@]}"); list=${list%,}
  CONTINUUM_LOG=info "${3:-$BIN}" gateway --listen 127.0.0.1:0 --nodes "$list" --affinity "$1" \
    2>"$WORK/gateway-$1-$2.log" &
  FRONT_PID=$!; PIDS+=("$FRONT_PID")
  wait_for "$WORK/gateway-$1-$2.log" 'addr=127\.0\.0\.1:[0-9]*' /readyz "$FRONT_PID"
  FRONT=$ADDR
}

# Starts nginx over NODES (as tests/gateway_nginx.rs configures it); sets FRONT and FRONT_PID.
start_nginx() {
  local dir="$WORK/nginx-$1" port servers=""
  mkdir -p "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  for node in "${NODES[@]}"; do servers+="    server $node max_fails=1 fail_timeout=10s;"$'\n'; done
  cat >"$dir/nginx.conf" <<EOF
daemon off;
worker_processes auto;
user root;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/body; proxy_temp_path $dir/proxy; fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi; scgi_temp_path $dir/scgi;
  upstream nodes {
    hash \$cookie_continuum consistent;
$servers    keepalive 256;
  }
  server {
    listen 127.0.0.1:$port;
    location / {
      proxy_pass http://nodes;
      proxy_http_version 1.1;
      proxy_set_header Host \$http_host;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_next_upstream error timeout http_502 http_503;
    }
  }
}
EOF
  "$NGINX" -p "$dir" -c nginx.conf -e "$dir/error.log" &
  FRONT_PID=$!; PIDS+=("$FRONT_PID")
  for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
  FRONT=127.0.0.1:$port
}

# CPU ticks (1/100 s) used so far by process $1 and its children (nginx's workers).
cpu_ticks() {
  local total=0 pid fields
  for pid in "$1" $(pgrep -P "$1" || true); do
    read -r -a fields <"/proc/$pid/stat" || continue
    total=$((total + fields[13] + fields[14]))
  done
  echo "$total"
}
# One validate measurement through $1; $2: the pid of the front (whose CPU is counted), if any.
# Prints the bench's JSON row with "front_cpu_ticks" added.
validate_row() {
  local before=0 row
  [ -z "${2:-}" ] || before=$(cpu_ticks "$2")
  row=$("$BIN" bench --url "http://$1" --scenario validate --connections "$CONNECTIONS" --duration "$DURATION" \
    --warmup 500ms --json | grep '^{' | tail -n1)
  local used=0
  [ -z "${2:-}" ] || used=$(( $(cpu_ticks "$2") - before ))
  echo "${row%\}}, \"front_cpu_ticks\": $used}"
}
# The front's CPU per request counts the warm-up's requests too (the same 500 ms for each front):
# compare it between fronts, not with the server's CPU per request elsewhere.
summary() {
  python3 -c '
import json, sys
row = json.loads(sys.argv[2])
rps, p99, errors = row["rps"], row["latency_us"]["p99"] / 1000, sum(row.get("errors_by_kind", {}).values())
cpu = row["front_cpu_ticks"] * 10_000 / row["requests"] if row["front_cpu_ticks"] else 0
front = f"  front CPU {cpu:5.1f} us/req" if cpu else ""
print(f"{sys.argv[1]:10} validate {rps:8.0f} req/s  p99 {p99:6.2f} ms  errors {errors}{front}")' "$1" "$2"
}

log "validate: direct vs gateway vs nginx, $RUNS turns of $DURATION each, $CONNECTIONS connections"
start_nodes load
start_gateway sid load; GATEWAY=$FRONT; GATEWAY_PID=$FRONT_PID
BASE_PID=""
if [ -n "$BASE" ]; then start_gateway sid load-base "$BASE"; BASE_FRONT=$FRONT; BASE_PID=$FRONT_PID; fi
start_nginx load; NGINX_FRONT=$FRONT; NGINX_PID=$FRONT_PID
for run in $(seq "$RUNS"); do
  summary "direct" "$(validate_row "${NODES[0]}")"
  summary "gateway" "$(validate_row "$GATEWAY" "$GATEWAY_PID")"
  [ -z "$BASE" ] || summary "base-gw" "$(validate_row "$BASE_FRONT" "$BASE_PID")"
  summary "nginx" "$(validate_row "$NGINX_FRONT" "$NGINX_PID")"
done
stop_pids "$GATEWAY_PID" $BASE_PID "$NGINX_PID" "${NODE_PIDS[@]}"
[ "$KILLS" = 1 ] || exit 0

# SIGKILL one node behind a front: sessions failing their first request, and time until all
# are answered again. Requests are `GET /v1/me` with the session cookie (what nginx hashes).
kill_scenario() {
  python3 - "$1" "$FRONT" "$SESSIONS" "$CONTINUUM_API_KEY" "${NODES[*]}" "${NODE_PIDS[*]}" <<'EOF'
import http.client, json, os, signal, sys, time
name, front, sessions, key = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
nodes, pids = sys.argv[5].split(), [int(pid) for pid in sys.argv[6].split()]
def call(method, path, headers, body=None, addr=front):
    host, port = addr.split(":")
    try:
        c = http.client.HTTPConnection(host, int(port), timeout=5)
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse(); data = r.read(); c.close()
        return r.status, data
    except OSError:
        return 0, b""
tokens = []
for i in range(sessions):
    status, data = call("POST", "/v1/sessions", {"authorization": f"Bearer {key}", "content-type": "application/json"},
                        json.dumps({"principal": f"bench-{name}-{i}"}))
    assert status == 201, (status, data)
    tokens.append(json.loads(data)["token"])
me = lambda token: call("GET", "/v1/me", {"cookie": f"continuum={token}"})[0]
served = lambda addr: sum(float(line.rsplit(" ", 1)[1]) for line in call("GET", "/metrics", {}, addr=addr)[1].decode().splitlines()
                          if line.startswith('continuum_http_requests_total{method="GET",route="/v1/me",status="200"}'))
assert all(me(t) == 200 for t in tokens)
# The victim: the node that answered the most of these sessions' requests.
victim = max(range(len(nodes)), key=lambda i: served(nodes[i]))
os.kill(pids[victim], signal.SIGKILL); killed = time.monotonic()
pending, failed_first, first, first_ok = list(tokens), 0, True, None
while pending:
    still = []
    for t in pending:
        if 200 <= me(t) < 300:
            first_ok = first_ok or time.monotonic() - killed
        else:
            still.append(t)
    if first: failed_first = len(still); first = False
    pending = still
    if time.monotonic() - killed > 5: break
print(f"{name:12} sessions {sessions}  failed their first request after the kill {failed_first}"
      f"  first success {'none' if first_ok is None else f'{first_ok:.4f} s'}  all answered again {time.monotonic() - killed:.3f} s"
      f"  never {len(pending)}")
EOF
}
log "SIGKILL of one node of three: $SESSIONS sessions each; over one Redis, and (ip-alone) each node on its own memory store, as IP hashing without replication"
for front in sid ip nginx ip-alone; do
  case $front in
    ip-alone) start_nodes "kill-$front" memory ;;
    *) start_nodes "kill-$front" ;;
  esac
  case $front in
    nginx) start_nginx kill ;;
    ip-alone) start_gateway ip kill-alone ;;
    *) start_gateway "$front" kill ;;
  esac
  kill_scenario "$front"
  stop_pids "$FRONT_PID" "${NODE_PIDS[@]}"
done
