#!/usr/bin/env bash
# Runs one command against a throw-away PostgreSQL cluster and removes it afterwards.
#
#   scripts/pg-throwaway.sh [--bench] -- COMMAND [ARGS...]
#
# initdb into a fresh temporary directory, start the server on 127.0.0.1 at the
# first free port from $PG_PORT_FROM (default 55432), with its unix socket inside
# the temporary directory, create the database "jiedao", then run COMMAND with
# DATABASE_URL=postgres://jiedao@127.0.0.1:PORT/jiedao in its environment. The
# cluster is always stopped and the directory removed, whatever happens. Exits
# with COMMAND's status.
#
# PostgreSQL refuses to run as root: as root the server runs as the `postgres`
# user (override with PG_RUN_AS). Without --bench the cluster trades durability
# for speed (fsync off), which is what a test database wants; --bench keeps fsync
# on and only turns off synchronous_commit, the same trade SQLite's WAL mode with
# synchronous=NORMAL makes.
set -euo pipefail

BENCH=0
while [ $# -gt 0 ]; do
    case "$1" in
        --bench) BENCH=1; shift ;;
        --) shift; break ;;
        *) echo "usage: $0 [--bench] -- COMMAND [ARGS...]" >&2; exit 2 ;;
    esac
done
[ $# -gt 0 ] || { echo "usage: $0 [--bench] -- COMMAND [ARGS...]" >&2; exit 2; }

PG_BIN="${PG_BIN:-}"
if [ -z "$PG_BIN" ]; then
    PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
fi
if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
    echo "pg-throwaway: PostgreSQL server binaries not found (run scripts/system-deps.sh)" >&2
    exit 1
fi

as_pg=()
if [ "$(id -u)" -eq 0 ]; then
    PG_RUN_AS="${PG_RUN_AS:-postgres}"
    if command -v runuser >/dev/null 2>&1; then
        as_pg=(runuser -u "$PG_RUN_AS" --)
    else
        as_pg=(su "$PG_RUN_AS" -s /bin/sh -c '"$0" "$@"')
    fi
fi

free_port() {
    local port="${PG_PORT_FROM:-55432}"
    while [ "$port" -lt 65000 ]; do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null \
            && [ ! -e "$PGTMP/.s.PGSQL.$port" ]; then
            echo "$port"
            return 0
        fi
        port=$((port + 1))
    done
    return 1
}

PGTMP="$(mktemp -d "${TMPDIR:-/tmp}/jiedao-pg.XXXXXX")"
PGDATA="$PGTMP/data"
LOG="$PGTMP/server.log"
started=0

cleanup() {
    local status=$?
    if [ "$started" -eq 1 ]; then
        "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w -t 60 stop >/dev/null 2>&1 \
            || "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PGDATA" -m immediate -w stop >/dev/null 2>&1 || true
        echo "pg-throwaway: cluster on port $PORT stopped"
    fi
    rm -rf "$PGTMP"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "${#as_pg[@]}" -gt 0 ]; then
    chown "$PG_RUN_AS" "$PGTMP"
    # The server's user must reach the directory; a private $TMPDIR may not let it.
    if ! "${as_pg[@]}" test -w "$PGTMP"; then
        rm -rf "$PGTMP"
        PGTMP="$(mktemp -d /tmp/jiedao-pg.XXXXXX)"
        PGDATA="$PGTMP/data"
        LOG="$PGTMP/server.log"
        chown "$PG_RUN_AS" "$PGTMP"
    fi
fi

"${as_pg[@]}" "$PG_BIN/initdb" -D "$PGDATA" -U jiedao --auth=trust -E UTF8 --locale=C.UTF-8 \
    >"$PGTMP/initdb.log" 2>&1 || { cat "$PGTMP/initdb.log" >&2; exit 1; }

if [ "$BENCH" -eq 1 ]; then
    tuning="-c synchronous_commit=off -c max_connections=200 -c shared_buffers=256MB"
else
    tuning="-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
fi

PORT="$(free_port)"
"${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$LOG" -w -t 60 \
    -o "-p $PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PGTMP $tuning" \
    start >/dev/null || { cat "$LOG" >&2; exit 1; }
started=1
echo "pg-throwaway: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT (data in $PGTMP)"

"$PG_BIN/createdb" -h 127.0.0.1 -p "$PORT" -U jiedao jiedao

export DATABASE_URL="postgres://jiedao@127.0.0.1:$PORT/jiedao"
# For tests that restart the server under load (tests/infra/test_load_faults.py):
# `$JIEDAO_PG_RESTART` restarts this cluster with its options (fast shutdown).
export JIEDAO_PG_RESTART="${as_pg[*]} $PG_BIN/pg_ctl -D $PGDATA -l $LOG -m fast -w -t 60 restart"
set +e
"$@"
status=$?
set -e
exit "$status"
