# Shared by the bench scripts (sourced, not run): logging and waiting for a process to be ready.

log() { printf '== %s\n' "$*" >&2; }

# Waits until the process `pid` logging to `log_file` prints its address (the first match of
# the grep pattern `pattern`, which must contain 127.0.0.1:<port>), then until `path` answers
# there; sets ADDR. Gives up after about 15 s, or at once if the process died, showing its log.
wait_for() {
  local log_file=$1 pattern=$2 path=$3 pid=$4
  ADDR=""
  for _ in $(seq 150); do
    ADDR=$(grep -o "$pattern" "$log_file" | head -n1 | grep -o '127\.0\.0\.1:[0-9]*' || true)
    [ -n "$ADDR" ] && curl -fsS "http://$ADDR$path" >/dev/null 2>&1 && return
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  cat "$log_file" >&2
  log "the process logging to $log_file did not become ready"
  exit 1
}

# A key the server and the bench both read from CONTINUUM_API_KEY, and none of the caller's own
# server settings (a config file, data directory or store of theirs would change the run).
use_bench_key() {
  CONTINUUM_API_KEY="ck_bench_$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
  export CONTINUUM_API_KEY
  unset CONTINUUM_CONFIG CONTINUUM_DATA CONTINUUM_LISTEN CONTINUUM_STORE CONTINUUM_SERVER
}

# `continuum serve` on the embedded store, for the scripts that start their own: BIN (the
# binary) and WORK (a scratch directory) must be set. `start_server NAME` starts one on a fresh
# data directory $WORK/NAME and sets SERVER_PID and ADDR; `stop_server` stops it, if any.
SERVER_PID=""
start_server() {
  local name=$1 log_file="$WORK/$1.log"
  CONTINUUM_LOG=info "$BIN" serve --listen 127.0.0.1:0 --data "$WORK/$name" 2>"$log_file" &
  SERVER_PID=$!
  wait_for "$log_file" 'addr=127\.0\.0\.1:[0-9]*' /readyz "$SERVER_PID"
  log "server ready on $ADDR (data $WORK/$name, log $log_file)"
}
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" || true
  fi
  SERVER_PID=""
}
