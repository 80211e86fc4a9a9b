#!/usr/bin/env bash
# Makes sure the servers the tests talk to are installed and answering, starting what is missing:
#   Redis on 127.0.0.1:6379 (and redis-server/redis-cli for the tests' own Redis Cluster nodes),
#   PostgreSQL on 127.0.0.1:5432 with a database `test` the tests reach without a password.
# Sourced by scripts/test.sh. On a machine where they already run, it changes nothing.
set -euo pipefail

SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then $SUDO apt-get update -qq; apt_updated=1; fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

# Redis
if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  echo "== installing Redis (Debian package)" >&2
  apt_install redis-server
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "== starting Redis on 127.0.0.1:6379" >&2
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir "${TMPDIR:-/tmp}" --logfile "${TMPDIR:-/tmp}/continuum-test-redis.log"
  for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

# PostgreSQL: use CONTINUUM_TEST_POSTGRES if it answers, else the local server, set up for the tests.
export CONTINUUM_TEST_POSTGRES="${CONTINUUM_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}"
if ! psql "$CONTINUUM_TEST_POSTGRES" -qAtc 'select 1' >/dev/null 2>&1; then
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    echo "== installing PostgreSQL (Debian package)" >&2
    apt_install postgresql postgresql-client
  fi
  version=$(ls /usr/lib/postgresql | sort -n | tail -1)
  if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    echo "== starting PostgreSQL $version" >&2
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
    for _ in $(seq 50); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 0.2; done
  fi
  # Tests connect over TCP as `postgres` without a password: allow that for loopback only.
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  if ! grep -q "continuum-tests" "$hba"; then
    echo "== trusting loopback connections for the tests in $hba" >&2
    $SUDO sed -i '1i host all all 127.0.0.1/32 trust # continuum-tests\nhost all all ::1/128 trust # continuum-tests' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  fi
  runuser -u postgres -- psql -qAtc "select 1 from pg_database where datname = 'test'" | grep -q 1 \
    || runuser -u postgres -- createdb test
  psql "$CONTINUUM_TEST_POSTGRES" -qAtc 'select 1' >/dev/null
fi
