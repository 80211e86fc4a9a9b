#!/usr/bin/env bash
# Measures a release build of `continuum serve` on the embedded redb store, on this machine.
#
# Builds --release, starts the server on a fresh temporary data directory and a free loopback
# port with a known API key, waits for /readyz, runs hello,validate,create,patch, then measures
# idle memory per session on a second fresh server (so the earlier load does not blur the RSS
# baseline), then the continuity-document scenarios doc-updates,fanout,reconnect on a third and
# doc-memory on a fourth, then the overload scenarios of issue 7 on fresh servers (durable
# updates from 10 pipelined writers; a burst to 1,000 subscribers of one document, with server CPU
# read from /proc), prints the results and stops the servers.
#
# Environment (all optional):
#   DURATION=10s        measurement window of each timed scenario
#   WARMUP=1s           warm-up before each window (each turn of a round)
#   ROUNDS=10           turns hello and validate take, each measuring DURATION/ROUNDS
#   CONNECTIONS=64      concurrent keep-alive connections
#   WRITE_CONNECTIONS=256  connections of the second, write-heavy patch run
#   POOL=1000           sessions validate and patch spread over
#   IDLE_SESSIONS=100000  sessions idle-memory creates
#   DOC_DURATION=5s     measurement window of doc-updates
#   DOC_FEW_WRITERS=4   writer sockets of the first doc-updates run (a few devices of one user)
#   DOC_WRITERS=64      writer sockets of the second doc-updates run, all on one document
#   FANOUT_SOCKETS=1000 reader sockets of fanout
#   FANOUT_UPDATES=200  updates fanout sends, 20 ms apart (also the size of reconnect's document)
#   DOC_DOCUMENTS=2000  documents doc-memory holds open
#   DOC_PIPELINE_WRITERS=10  writer sockets of the pipelined doc-updates run
#   DOC_PIPELINE=16     unacknowledged updates each of those writers keeps
#   BURST_SOCKETS=1000  subscribers of the burst document
#   BURST_UPDATES=2000  updates in the burst, sent as fast as one writer can
#   BENCH_JSON=1        print one JSON object per scenario instead of the table
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-1s}
ROUNDS=${ROUNDS:-10}
CONNECTIONS=${CONNECTIONS:-64}
WRITE_CONNECTIONS=${WRITE_CONNECTIONS:-256}
POOL=${POOL:-1000}
IDLE_SESSIONS=${IDLE_SESSIONS:-100000}
DOC_DURATION=${DOC_DURATION:-5s}
DOC_FEW_WRITERS=${DOC_FEW_WRITERS:-4}
DOC_WRITERS=${DOC_WRITERS:-64}
FANOUT_SOCKETS=${FANOUT_SOCKETS:-1000}
FANOUT_UPDATES=${FANOUT_UPDATES:-200}
DOC_DOCUMENTS=${DOC_DOCUMENTS:-2000}
DOC_PIPELINE_WRITERS=${DOC_PIPELINE_WRITERS:-10}
DOC_PIPELINE=${DOC_PIPELINE:-16}
BURST_SOCKETS=${BURST_SOCKETS:-1000}
BURST_UPDATES=${BURST_UPDATES:-2000}
JSON_FLAG=()
if [ -n "${BENCH_JSON:-}" ]; then JSON_FLAG=(--json); fi

# shellcheck source=lib.sh
source bench/lib.sh

log "building continuum (release)"
cargo build --release --locked -p continuum >&2
BIN="${CARGO_TARGET_DIR:-target}/release/continuum"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/continuum-bench.XXXXXX")
cleanup() { stop_server; rm -rf "$WORK"; }
trap cleanup EXIT

# Thousands of sync sockets need as many descriptors, in the server as in the bench.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

use_bench_key

log "machine: $(nproc) cores, $(uname -sr), $(date -u +%Y-%m-%dT%H:%MZ), $(rustc --version)"

start_server load
# hello and validate take turns (--rounds), so a slow stretch of the machine falls on both.
"$BIN" bench --url "http://$ADDR" --scenario hello,validate --rounds "$ROUNDS" \
  --connections "$CONNECTIONS" --duration "$DURATION" --warmup "$WARMUP" --sessions "$POOL" \
  "${JSON_FLAG[@]}"
"$BIN" bench --url "http://$ADDR" --scenario create,patch \
  --connections "$CONNECTIONS" --duration "$DURATION" --warmup "$WARMUP" --sessions "$POOL" \
  "${JSON_FLAG[@]}"
# Group commit grows with the writes in flight: the same patch load with more connections.
log "patch with $WRITE_CONNECTIONS connections"
"$BIN" bench --url "http://$ADDR" --scenario patch \
  --connections "$WRITE_CONNECTIONS" --duration "$DURATION" --warmup "$WARMUP" --sessions "$POOL" \
  "${JSON_FLAG[@]}"
curl -fsS "http://$ADDR/metrics" | grep -E '^continuum_store_commit_(batch_size|duration_seconds)_(sum|count)' >&2
stop_server

start_server idle
"$BIN" bench --url "http://$ADDR" --scenario idle-memory \
  --connections "$CONNECTIONS" --sessions "$IDLE_SESSIONS" "${JSON_FLAG[@]}"
stop_server

# Continuity documents: durable updates on one document, fan-out to many readers, reconnect deltas.
start_server docs
"$BIN" bench --url "http://$ADDR" --scenario doc-updates \
  --connections "$DOC_FEW_WRITERS" --duration "$DOC_DURATION" --warmup "$WARMUP" "${JSON_FLAG[@]}"
# Every update is relayed to every other writer: with many writers, the relays dominate.
"$BIN" bench --url "http://$ADDR" --scenario doc-updates,fanout,reconnect \
  --connections "$DOC_WRITERS" --duration "$DOC_DURATION" --warmup "$WARMUP" \
  --sockets "$FANOUT_SOCKETS" --updates "$FANOUT_UPDATES" --interval 20ms --missed 0,1,10,100 \
  "${JSON_FLAG[@]}"
stop_server

# Memory per open document, on a server of its own for a clean RSS baseline.
start_server doc-memory
"$BIN" bench --url "http://$ADDR" --scenario doc-memory \
  --connections "$CONNECTIONS" --sessions "$DOC_DOCUMENTS" "${JSON_FLAG[@]}"
stop_server

# Issue 7: acknowledged-durable updates/s from a few pipelined writers, on a server of its own.
start_server pipeline
"$BIN" bench --url "http://$ADDR" --scenario doc-updates \
  --connections "$DOC_PIPELINE_WRITERS" --pipeline "$DOC_PIPELINE" --duration "$DOC_DURATION" \
  --warmup "$WARMUP" "${JSON_FLAG[@]}"
stop_server

# Issue 7: a burst to many subscribers of one document (memory per socket, peak RSS, CPU per
# delivered update, closes for lag and resyncs, awareness on a mass leave), on a fresh server.
start_server burst
"$BIN" bench --url "http://$ADDR" --scenario burst --server-pid "$SERVER_PID" \
  --sockets "$BURST_SOCKETS" --updates "$BURST_UPDATES" --connections "$CONNECTIONS" "${JSON_FLAG[@]}"
curl -fsS "http://$ADDR/metrics" | grep -E '^continuum_sync_' >&2
stop_server
