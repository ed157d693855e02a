#!/bin/sh
# Entry point of localhost/updraft-dev-postgres (development only). Uses only
# dash built-ins and the PostgreSQL binaries in the image.
set -eu
PG=/usr/lib/postgresql/15/bin
: "${PGDATA:=/var/lib/postgresql/data/pgdata}"
: "${PGPORT:=5432}"
: "${POSTGRES_USER:=updraft}"
: "${POSTGRES_DB:=updraft}"
: "${POSTGRES_PASSWORD_FILE:?set POSTGRES_PASSWORD_FILE to a file holding the password}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  "$PG/initdb" -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$POSTGRES_PASSWORD_FILE" \
    --auth-local=trust --auth-host=scram-sha-256 --no-locale -E UTF8 >/dev/null
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  "$PG/postgres" --single -D "$PGDATA" -c unix_socket_directories= postgres >/dev/null <<SQL
CREATE DATABASE "$POSTGRES_DB";
SQL
fi
exec "$PG/postgres" -D "$PGDATA" -p "$PGPORT" -c listen_addresses="${POSTGRES_LISTEN:-*}" \
  -c unix_socket_directories= -c max_connections=200 "$@"
