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
