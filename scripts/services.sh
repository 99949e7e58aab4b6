#!/usr/bin/env bash
# The machine's services the tests use, started when they are not running (called by
# scripts/test.sh). It exports nothing: the tests reach them at fixed addresses.
#
#   PostgreSQL on 127.0.0.1:5432, user postgres with trust authentication (the cluster
#   mode's checks; MAILTRAIL_TEST_POSTGRES_DSN in scripts/test.sh). Debian's package, its
#   cluster "main" started by hand: there is no init system to start it.
#
# ClickHouse and the NATS test cluster run per test run, in its log directory
# (scripts/clickhouse.sh, scripts/nats-cluster.sh).
set -euo pipefail

pg_ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if command -v pg_isready >/dev/null && pg_ready; then
  echo "PostgreSQL: 127.0.0.1:5432 answers"
  exit 0
fi
if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  # Not on this machine: Debian's server, local connections trusted (a test machine's
  # database, on loopback only).
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null 2>&1 ||
    { DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null; }
  hba="$(ls /etc/postgresql/*/main/pg_hba.conf | head -n 1)"
  sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
fi
version="$(ls /etc/postgresql | sort -V | tail -n 1)"
echo "PostgreSQL: starting cluster $version/main"
pg_ctlcluster --skip-systemctl-redirect "$version" main start || true # "already running" is fine; readiness decides
for _ in $(seq 150); do
  if pg_ready; then
    echo "PostgreSQL: 127.0.0.1:5432 answers"
    exit 0
  fi
  sleep 0.2
done
echo "PostgreSQL does not answer on 127.0.0.1:5432; its log:" >&2
tail -n 20 /var/log/postgresql/postgresql-"$version"-main.log >&2 || true
exit 1
