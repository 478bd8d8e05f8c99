#!/bin/sh
# with-postgres.sh CMD [ARGS...] - runs CMD with a throwaway PostgreSQL.
#
# Creates a fresh cluster in a temporary folder (owned by the postgres user
# when run as root, as on a CI machine), starts it listening only on
# 127.0.0.1 on a free port with its unix socket inside that folder, creates
# a role and a database, exports
#   EDGEPROMO_TEST_PG_URL=postgresql://edgepromo:PW@127.0.0.1:PORT/edgepromo
# runs the command, then stops the cluster and deletes the folder whatever
# happens. Exits with the command's status (or 2 when PostgreSQL could not
# be set up). The role may create databases: tests make one per run.
#
# Needs the PostgreSQL server binaries (scripts/install-deps.sh installs
# them on Debian 12). PG_BINDIR overrides where they are looked for.
set -eu

if [ "$#" -eq 0 ]; then
    echo "usage: scripts/with-postgres.sh CMD [ARGS...]" >&2
    exit 2
fi

die() {
    echo "with-postgres: $*" >&2
    exit 2
}

find_bindir() {
    if [ -n "${PG_BINDIR:-}" ]; then
        echo "$PG_BINDIR"
        return
    fi
    for v in 15 16 17 14 13; do
        if [ -x "/usr/lib/postgresql/$v/bin/initdb" ]; then
            echo "/usr/lib/postgresql/$v/bin"
            return
        fi
    done
    if command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
        return
    fi
    die "no PostgreSQL server binaries (initdb); run scripts/install-deps.sh"
}

free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
    else
        echo $((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000))
    fi
}

random_word() {
    od -An -N12 -tx1 /dev/urandom | tr -d ' \n'
}

BINDIR=$(find_bindir)
[ -x "$BINDIR/pg_ctl" ] || die "$BINDIR/pg_ctl not found"

# Commands that touch the cluster run as its owner.
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 ||
        die "no postgres user; run scripts/install-deps.sh"
    as_owner() { runuser -u postgres -- "$@"; }
else
    as_owner() { "$@"; }
fi

PGWORK=$(mktemp -d "${TMPDIR:-/tmp}/edgepromo-pg-XXXXXX")
# As root, the folder must be reachable by the postgres user: a TMPDIR
# under /root is not, so fall back to /tmp.
if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$PGWORK/.."
then
    rmdir "$PGWORK"
    PGWORK=$(mktemp -d /tmp/edgepromo-pg-XXXXXX)
fi
DATA="$PGWORK/data"
LOG="$PGWORK/server.log"
STARTED=0

cleanup() {
    if [ "$STARTED" -eq 1 ]; then
        as_owner "$BINDIR/pg_ctl" -D "$DATA" -m immediate -w stop \
            >/dev/null 2>&1 || true
    fi
    rm -rf "$PGWORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

chmod 700 "$PGWORK"
if [ "$(id -u)" -eq 0 ]; then
    chown postgres:postgres "$PGWORK"
fi

PASSWORD=$(random_word)
echo "$PASSWORD" >"$PGWORK/superpass"
if [ "$(id -u)" -eq 0 ]; then
    chown postgres:postgres "$PGWORK/superpass"
fi
as_owner "$BINDIR/initdb" -D "$DATA" -U postgres -E UTF8 --locale=C \
    --auth-local=trust --auth-host=scram-sha-256 \
    --pwfile="$PGWORK/superpass" >"$PGWORK/initdb.log" 2>&1 ||
    { cat "$PGWORK/initdb.log" >&2; die "initdb failed"; }
rm -f "$PGWORK/superpass"

# Start on a free port; retry if another process took it meanwhile.
PORT=""
for attempt in 1 2 3 4 5; do
    PORT=$(free_port)
    if as_owner "$BINDIR/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$PORT \
-c unix_socket_directories=$PGWORK -c fsync=off \
-c synchronous_commit=off -c full_page_writes=off \
-c max_connections=100" start >/dev/null 2>&1; then
        STARTED=1
        break
    fi
    echo "with-postgres: start on port $PORT failed (attempt $attempt)" >&2
done
if [ "$STARTED" -ne 1 ]; then
    [ -f "$LOG" ] && cat "$LOG" >&2
    die "could not start PostgreSQL"
fi

psql_owner() {
    as_owner "$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGWORK" \
        -p "$PORT" -U postgres -d postgres "$@"
}
ROLE_PASSWORD=$(random_word)
psql_owner -c \
    "CREATE ROLE edgepromo LOGIN CREATEDB PASSWORD '$ROLE_PASSWORD'" ||
    die "could not create the role"
psql_owner -c "CREATE DATABASE edgepromo OWNER edgepromo" ||
    die "could not create the database"

URL_AUTH="edgepromo:$ROLE_PASSWORD@127.0.0.1:$PORT"
EDGEPROMO_TEST_PG_URL="postgresql://$URL_AUTH/edgepromo"
export EDGEPROMO_TEST_PG_URL

set +e
"$@"
STATUS=$?
set -e
exit "$STATUS"
