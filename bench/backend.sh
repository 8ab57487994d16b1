# shellcheck shell=bash
# Sourced by the bench scripts: starts the database and package store a benchmark runs on and
# exports the TOLLGATE_* variables every tollgate process (servers and CLI calls) then inherits.
#
#   BACKEND=sqlite        SQLite in the data directory + filesystem store (the default)
#   BACKEND=postgres      a throwaway PostgreSQL (scripts/postgres) + filesystem store
#   BACKEND=postgres-s3   a throwaway PostgreSQL + an S3 server (scripts/s3: moto, objects in RAM)
#
# Usage (after WORK, ROOT and DATA are set and `die` is defined):
#   backend_start            # sets BACKEND_DESC (one line for the summary)
#   backend_stop             # from the EXIT trap, after the tollgate processes are gone
# The PostgreSQL cluster runs with fsync=off (scripts/postgres): numbers are not those of a
# durable production database.

BACKEND=${BACKEND:-sqlite}
BACKEND_PG_DIR=""
BACKEND_S3_DIR=""
BACKEND_DESC=""

backend_start() {
    case "$BACKEND" in
    sqlite | sqlite-fs)
        BACKEND=sqlite
        unset TOLLGATE_DATABASE_URL TOLLGATE_STORE
        BACKEND_DESC="sqlite + filesystem ($DATA)"
        return 0
        ;;
    postgres | postgres-fs | postgres-s3) ;;
    *) die "unknown BACKEND=$BACKEND (sqlite, postgres, postgres-s3)" ;;
    esac
    command -v psql >/dev/null || die "psql is required for BACKEND=$BACKEND"

    # A random suffix names this run's database and S3 prefix.
    local run
    run=$(python3 -c 'import secrets; print(secrets.token_hex(4))')

    printf '\n== starting PostgreSQL (scripts/postgres)\n' >&2
    BACKEND_PG_DIR="$WORK/pg"
    local pg_env
    pg_env=$("$ROOT/scripts/postgres" start "$BACKEND_PG_DIR") || die "scripts/postgres start failed"
    eval "$pg_env"
    local admin_url=$TOLLGATE_TEST_POSTGRES_URL
    local db="bench_$run"
    psql -q -v ON_ERROR_STOP=1 "$admin_url" -c "CREATE DATABASE $db" >/dev/null ||
        die "cannot create database $db"
    export TOLLGATE_DATABASE_URL="${admin_url%/*}/$db"
    TOLLGATE_SECRET_KEY=$(head -c 32 /dev/urandom | base64)
    export TOLLGATE_SECRET_KEY
    local pg_version
    pg_version=$(psql -Atq "$TOLLGATE_DATABASE_URL" -c 'SHOW server_version' 2>/dev/null | cut -d' ' -f1)

    if [ "$BACKEND" = postgres-s3 ]; then
        printf '\n== starting S3 server (scripts/s3, moto)\n' >&2
        BACKEND_S3_DIR="$WORK/s3"
        local s3_env
        s3_env=$("$ROOT/scripts/s3" start "$BACKEND_S3_DIR") || die "scripts/s3 start failed"
        eval "$s3_env"
        export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION
        export TOLLGATE_STORE="s3://tollgate-e2e/bench-$run"
        export TOLLGATE_S3_ENDPOINT=$TOLLGATE_TEST_S3_ENDPOINT
        export TOLLGATE_S3_PATH_STYLE=true
        BACKEND_DESC="postgres $pg_version (throwaway, fsync=off, database $db) + S3 (moto at $TOLLGATE_S3_ENDPOINT, $TOLLGATE_STORE)"
    else
        BACKEND=postgres
        unset TOLLGATE_STORE
        BACKEND_DESC="postgres $pg_version (throwaway, fsync=off, database $db) + filesystem ($DATA)"
    fi
    unset TOLLGATE_TEST_POSTGRES_URL TOLLGATE_TEST_S3_ENDPOINT
    printf '== backend: %s\n' "$BACKEND_DESC" >&2
}

backend_stop() {
    if [ -n "$BACKEND_S3_DIR" ]; then
        "$ROOT/scripts/s3" stop "$BACKEND_S3_DIR" >/dev/null 2>&1 || true
    fi
    if [ -n "$BACKEND_PG_DIR" ]; then
        "$ROOT/scripts/postgres" stop "$BACKEND_PG_DIR" >/dev/null 2>&1 || true
    fi
}

# The PID of the moto server (for its RSS), or empty.
backend_s3_pid() {
    [ -n "$BACKEND_S3_DIR" ] && [ -f "$BACKEND_S3_DIR/moto.pid" ] && cat "$BACKEND_S3_DIR/moto.pid"
}
