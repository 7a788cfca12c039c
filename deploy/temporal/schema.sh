#!/bin/sh
# Creates (or upgrades) the two PostgreSQL databases of Sparky's Temporal cluster: persistence
# (`temporal`) and SQL visibility (`temporal_visibility`), with `temporal-sql-tool` and the schema
# files that ship with the server (schema/postgresql/v12/ in the go.temporal.io/server module, or
# /etc/temporal/schema/postgresql/v12 in the temporalio/admin-tools image). Idempotent: safe on every
# start. Used by scripts/cluster and by docker-compose.yml's temporal-schema service.
#   POSTGRES_SEEDS DB_PORT POSTGRES_USER POSTGRES_PWD   (defaults 127.0.0.1 5432 temporal temporal)
#   SCHEMA_DIR   (default /etc/temporal/schema/postgresql/v12)   SQL_TOOL (default temporal-sql-tool)
set -eu
schema_dir=${SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}
tool=${SQL_TOOL:-temporal-sql-tool}
for pair in "${DBNAME:-temporal}:temporal" "${VISIBILITY_DBNAME:-temporal_visibility}:visibility"; do
  db=${pair%%:*}; kind=${pair#*:}
  set -- --plugin postgres12 --ep "${POSTGRES_SEEDS:-127.0.0.1}" -p "${DB_PORT:-5432}" \
    -u "${POSTGRES_USER:-temporal}" --pw "${POSTGRES_PWD:-temporal}" --db "$db"
  "$tool" "$@" create-database >/dev/null 2>&1 || true   # "already exists" on every later start
  # setup-schema -v 0.0 creates the version table (a no-op once it exists); update-schema applies
  # every versioned migration not yet applied.
  "$tool" "$@" setup-schema -v 0.0 >/dev/null 2>&1 || true
  "$tool" "$@" update-schema -d "$schema_dir/$kind/versioned"
done
