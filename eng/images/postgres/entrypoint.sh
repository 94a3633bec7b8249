#!/bin/sh
# Initialises PGDATA on first start from POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_INITDB_ARGS /
# POSTGRES_HOST_AUTH_METHOD (the variables of the official image), then execs postgres as the
# postgres user: postgres refuses to run as root, and setpriv switches user without forking.
set -eu
PGBIN=/usr/lib/postgresql/15/bin
PGDATA=${PGDATA:-/var/lib/postgresql/data}
TEMPLATE=/usr/local/share/raworc-postgres-template
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }

mkdir -p "$PGDATA" /var/run/postgresql
chown -R postgres:postgres "$PGDATA" /var/run/postgresql
chmod 700 "$PGDATA"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  password=${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}
  newline='
'
  case "$password" in *"$newline"*) one_line=no ;; *) one_line=yes ;; esac
  if [ "${POSTGRES_USER:-postgres}" = postgres ] && [ -z "${POSTGRES_INITDB_ARGS:-}" ] && [ "$one_line" = yes ] \
     && [ -s "$TEMPLATE/PG_VERSION" ]; then
    # The image's cluster, made by the same initdb with the same defaults; only the password is this run's. Single-user
    # mode reads one statement per line and runs no network listener; the statement is not logged.
    cp -a "$TEMPLATE/." "$PGDATA/"
    quoted=$(printf '%s' "$password" | sed "s/'/''/g")
    printf "ALTER USER postgres PASSWORD '%s';\n" "$quoted" | as_postgres "$PGBIN/postgres" --single -D "$PGDATA" postgres >/dev/null
  else
    pwfile=$(mktemp)
    printf '%s' "$password" > "$pwfile"
    chown postgres "$pwfile"
    # UTF8 as in the template (and the official image); POSTGRES_INITDB_ARGS come after, so an --encoding there wins.
    # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of arguments
    as_postgres "$PGBIN/initdb" -D "$PGDATA" -U "${POSTGRES_USER:-postgres}" --pwfile="$pwfile" --encoding=UTF8 --no-locale \
      ${POSTGRES_INITDB_ARGS:-} >/dev/null
    rm -f "$pwfile"
  fi
  echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
  echo "host all all all ${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >> "$PGDATA/pg_hba.conf"
fi

exec setpriv --reuid=postgres --regid=postgres --init-groups "$PGBIN/postgres" -D "$PGDATA" "$@"
