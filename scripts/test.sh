#!/usr/bin/env bash
# Runs every Continuum check on this machine: formatting, lints and all tests.
# Installs what the checks need when it is missing: the Rust toolchain and its components,
# Node.js and the npm packages of tests/node, sdk/browser and tests/browser, python3 (and a
# virtualenv under target/ with schemathesis, scripts/schemathesis.sh), Debian's chromium,
# nginx, Redis and PostgreSQL (scripts/services.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*" >&2; }

# A run from a clean clone builds once: incremental caches would only take disk (a clean build
# of the workspace with them once filled the machine's free space mid-build). Set
# CARGO_INCREMENTAL=1 to keep them while editing.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
free_kib=$(df -Pk . | awk 'NR == 2 { print $4 }')
if [ "${free_kib:-0}" -lt $((12 * 1024 * 1024)) ]; then
  log "warning: $((free_kib / 1024)) MiB free here; a clean build and the fault suite take about 12 GiB"
fi

if ! command -v cargo >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    log "installing the Rust toolchain with rustup"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
fi
if command -v rustup >/dev/null 2>&1; then
  rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
  rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  log "installing Node.js and npm (Debian packages)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq nodejs npm
fi
if ! command -v python3 >/dev/null 2>&1; then
  log "installing python3 (Debian package) for the import-cycle check"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq python3
fi
if [ ! -x /usr/sbin/nginx ] && ! command -v nginx >/dev/null 2>&1; then
  log "installing nginx (Debian package) for the gateway's comparison test"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  # Only the binary is used: the test runs it with its own prefix, config and port (a system
  # nginx the package may start on port 80 is never used).
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx
fi
log "services: Redis and PostgreSQL for the store tests"
source scripts/services.sh

log "npm ci: the stock yjs + y-websocket clients the interop tests run"
npm ci --prefix tests/node --no-audit --no-fund --loglevel=error

log "browser SDK: typecheck, build, and check that the committed web/dist is the build's output"
npm ci --prefix sdk/browser --no-audit --no-fund --loglevel=error
npm run --prefix sdk/browser --silent build
log "browser SDK: unit tests of its pure parts (text splices, caret mapping, overwrite detection)"
node --test sdk/browser/test/
if ! git diff --quiet -- web/dist || [ -n "$(git ls-files --others --exclude-standard -- web/dist)" ]; then
  git status --short -- web/dist >&2
  echo "web/dist is stale: commit the output of 'npm run --prefix sdk/browser build'" >&2
  exit 1
fi

log "cargo fmt --check"
cargo fmt --all --check

log "no import cycles between the modules of a crate (scripts/module-cycles.py)"
python3 scripts/test_module_cycles.py
# Every crate but two: continuum-store-postgres (`pool` and the modules using it) and
# continuum-tower (`mode` and its two modes) still have one each, left for their own change.
for crate in crates/*/; do
  case "$crate" in */continuum-store-postgres/ | */continuum-tower/) continue ;; esac
  python3 scripts/module-cycles.py "$crate" >/dev/null || python3 scripts/module-cycles.py "$crate"
done
python3 scripts/module-cycles.py --top crates/continuum-server >/dev/null

log "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

log "tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
  cargo test --workspace --locked --doc
else
  cargo test --workspace --locked
fi
log "schemathesis: the OpenAPI document against a real continuum serve, both planes"
cargo build -p continuum --locked
bash scripts/schemathesis.sh

log "browser end-to-end tests: headless chromium against continuum serve --demo"
if [ ! -x /usr/bin/chromium ]; then
  log "installing chromium (Debian package)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi
npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
cargo build -p continuum --locked
(cd tests/browser && node --test --test-concurrency=1 --test-timeout=120000 ./*.test.mjs)

log "the fault suite: every cluster strategy under each fault once, then three broken modes the checker must catch"
bash bench/strategies.sh

log "all checks passed"
