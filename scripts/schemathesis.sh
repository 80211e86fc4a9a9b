#!/usr/bin/env bash
# Schemathesis (PyPI) against a real `continuum serve`'s /openapi.json, on both planes: the
# backend plane with an API key, the client plane and the operational routes with a session
# token. Fails on any 5xx, an undocumented status, media type or header, or a body that does
# not match its schema. Bounded: each run gets MAX_TIME seconds of generated requests (about
# three minutes in all with the fixed phases).
#
#   bash scripts/schemathesis.sh            # BIN=target/debug/continuum (built if missing)
#
# Installs schemathesis in a virtualenv under target/ the first time.
set -euo pipefail
cd "$(dirname "$0")/.."

ST_VERSION=4.32.5
VENV=target/schemathesis-venv
MAX_TIME=${MAX_TIME:-60}
BIN=${BIN:-target/debug/continuum}
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$ST_VERSION"; then
  if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
  fi
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "schemathesis==$ST_VERSION"
fi
[ -x "$BIN" ] || cargo build -p continuum --locked

# shellcheck source=../bench/lib.sh
source bench/lib.sh
WORK=$(mktemp -d "${TMPDIR:-/tmp}/continuum-schemathesis.XXXXXX")
cleanup() { stop_server; rm -rf "$WORK"; }
trap cleanup EXIT
use_bench_key
start_server schemathesis
BASE="http://$ADDR"

# A session for the client plane.
TOKEN=$(curl -fsS -X POST -H "Authorization: Bearer $CONTINUUM_API_KEY" -H 'Content-Type: application/json' \
  -d '{"principal": "schemathesis"}' "$BASE/v1/sessions" | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')

CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance
st() {
  (cd "$WORK" && timeout $((MAX_TIME + 120)) "$OLDPWD/$VENV/bin/schemathesis" run "$BASE/openapi.json" \
    --checks "$CHECKS" --max-time "$MAX_TIME" --workers 2 --seed 1 --no-color "$@")
}
log "schemathesis: backend plane"
st -H "Authorization: Bearer $CONTINUUM_API_KEY" --include-tag backend
log "schemathesis: client plane and operations (logout left out: it would end the session under test)"
st -H "Authorization: Session $TOKEN" --exclude-tag backend --exclude-operation-id logout
log "schemathesis: no 5xx, every answer as documented"
