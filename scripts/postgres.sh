#!/usr/bin/env bash
# Start Debian's PostgreSQL cluster (if stopped) and make a database for the
# tests; prints the URL to use. Connects over the local socket with peer auth.
set -euo pipefail
version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | grep -q "^$version main"; then
  pg_createcluster "$version" main >&2
fi
if ! pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $4}' | grep -q online; then
  pg_ctlcluster "$version" main start >&2
fi
user=$(id -un)
run_psql() { su postgres -c "psql -v ON_ERROR_STOP=1 -qAt -c \"$1\"" ; }
[ "$(run_psql "select 1 from pg_roles where rolname='$user'")" = 1 ] \
  || run_psql "create role \\\"$user\\\" login createdb" >&2
[ "$(run_psql "select 1 from pg_database where datname='clustermgr_test'")" = 1 ] \
  || run_psql "create database clustermgr_test owner \\\"$user\\\"" >&2
echo "postgresql:///clustermgr_test?host=/var/run/postgresql"
