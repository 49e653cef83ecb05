#!/usr/bin/env bash
# Install (Debian) and start a local PostgreSQL with a `mediamix` role and `mediamix_test`
# database, for the registry and job-queue tests. Safe to run again.
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
PG_VERSION=$(ls /usr/lib/postgresql | sort -V | tail -n1)
pg_lsclusters -h | grep -q "^$PG_VERSION main" || pg_createcluster "$PG_VERSION" main
pg_ctlcluster "$PG_VERSION" main status >/dev/null || pg_ctlcluster "$PG_VERSION" main start
su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname = 'mediamix'\"" | grep -q 1 \
  || su postgres -c "psql -v ON_ERROR_STOP=1 -c \"CREATE ROLE mediamix LOGIN PASSWORD 'mediamix'\""
su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname = 'mediamix_test'\"" | grep -q 1 \
  || su postgres -c "createdb -O mediamix mediamix_test"
