#!/usr/bin/env bash
# The four cluster strategies side by side, under load and under faults (issue 17).
#
#   bash bench/strategies.sh            the bounded run (part of the test command): every
#                                       strategy, each fault once, then the checker against three
#                                       deliberately broken modes; a few minutes on a debug build
#   bash bench/strategies.sh --long     the figures of BENCHMARKS.md: a release build, longer
#                                       faults, more clients, seeds 1,2,3 (about half an hour)
#   bash bench/strategies.sh --strategies redis,sealed --seeds 4
#                                       any of continuum-faults run's flags
#
# Prints one line per strategy and exits non-zero on any checker violation. Each strategy's
# processes run in network namespaces (one per node) so partitions and latency are real packets
# dropped or delayed by tc; that needs root and iproute2 (installed when missing). Output:
# target/faults/ (per strategy: node logs, history.jsonl, summary.json; report.md).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

if [ "$(id -u)" -ne 0 ]; then
  log "the fault suite needs root: it creates network namespaces and tc rules"
  exit 2
fi
need_packages=()
command -v ip >/dev/null 2>&1 && command -v tc >/dev/null 2>&1 || need_packages+=(iproute2)
command -v redis-server >/dev/null 2>&1 || need_packages+=(redis-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_packages+=(postgresql)
if [ ${#need_packages[@]} -gt 0 ]; then
  log "installing ${need_packages[*]} (Debian packages)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_packages[@]}"
fi

profile=debug
build=(cargo build --workspace --bins --locked)
long=false
seeds=(--seeds 1,2,3)
for arg in "$@"; do
  [ "$arg" = --long ] && long=true
  case "$arg" in --seeds | --seeds=*) seeds=() ;; esac
done
if $long; then
  profile=release
  build+=(--release)
fi
log "building continuum and continuum-faults ($profile; the workspace build has the fault modes)"
"${build[@]}"
FAULTS="target/$profile/continuum-faults"
BIN="target/$profile/continuum"
OUT=target/faults

if $long; then
  "$FAULTS" run --bin "$BIN" --out "$OUT" "${seeds[@]}" "$@"
  log "report: $OUT/report.md"
  exit 0
fi
if [ $# -gt 0 ]; then
  "$FAULTS" run --bin "$BIN" --out "$OUT" "$@"
  exit 0
fi

log "every strategy, each fault once"
"$FAULTS" run --bin "$BIN" --out "$OUT"
log "report: $OUT/report.md"

# The checker must catch each broken mode with the violation it is meant to cause.
log "the checker against three broken modes (each must be caught)"
"$FAULTS" run --bin "$BIN" --out "$OUT/broken-ack" --no-perf --strategies redb \
  --fault-mode ack-before-write --expect lost-write,stale-read
"$FAULTS" run --bin "$BIN" --out "$OUT/broken-copies" --no-perf --strategies replicated-1 \
  --fault-mode drop-copies --expect lost-write,version-went-back
"$FAULTS" run --bin "$BIN" --out "$OUT/broken-revocations" --no-perf --strategies redis \
  --fault-mode ignore-revocations --expect revocation-undone
log "the fault suite passed"
