#!/usr/bin/env bash
# Revocation-to-refusal latency across two tollgate replicas. Prints numbers; asserts only sanity.
#
#   bench/revocation.sh                    # two replicas on one throwaway PostgreSQL database
#   BACKEND=sqlite bench/revocation.sh     # two servers on one data directory (SQLite + files)
#   COUNT=20 bench/revocation.sh           # quick run
#
# What it does, on a fresh temporary data directory:
#   1. builds `tollgate` in release mode; starts the backend (bench/backend.sh: BACKEND=postgres
#      [default here], postgres-s3 or sqlite) and exports the same TOLLGATE_* variables to the
#      two servers and every CLI call;
#   2. starts replicas A and B (`tollgate serve`, RUST_LOG=warn) on that database and store;
#   3. bench/revocation.py: creates seller acme, product ui (npm:@acme/ui), org buyer and the grant
#      with the CLI, publishes @acme/ui through A, then COUNT times: adds seat dev<i>@x, creates
#      its token, GETs the packument on A and B (200: the token is now cached on both), revokes
#      the seat with the CLI and measures, from the moment the CLI exits (its transaction is
#      committed), how long each replica keeps answering before it answers 401, polling every
#      INTERVAL_MS on a keep-alive connection. B saw no write at all: it learns of the revoke
#      through the change log (PostgreSQL NOTIFY, or its 50 ms poll of the log on SQLite).
#   4. Note that an admin CLI command that changed something sleeps 3 x 50 ms after its commit
#      before exiting (src/commands.rs), so "after exit" mostly shows that wait is long enough.
#      A second pass of DURING revocations polls both replicas from the spawn of the revoke CLI
#      on and reports when they began refusing relative to the CLI's start and exit (negative:
#      before it exited; the commit is about 150 ms before the exit): the propagation itself.
#
# Environment knobs (defaults in brackets): BACKEND [postgres] COUNT [100] DURING [100] INTERVAL_MS [1]
# TIMEOUT_S [5] (give up on one revocation). KEEP=1 keeps the temporary directory (data, logs,
# the raw samples in samples.json).
set -euo pipefail

BACKEND=${BACKEND:-postgres}
COUNT=${COUNT:-100}
DURING=${DURING:-100}
INTERVAL_MS=${INTERVAL_MS:-1}
TIMEOUT_S=${TIMEOUT_S:-5}
KEEP=${KEEP:-0}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
cd "$ROOT"
STARTED=$SECONDS

log() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

command -v python3 >/dev/null || die "python3 is required"

log "building (release)"
cargo build --release --quiet --bin tollgate
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
TOLLGATE="$TARGET_DIR/release/tollgate"

# ---------------------------------------------------------------- scratch space and cleanup
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-revocation.XXXXXX")
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    backend_stop
    if [ "$KEEP" = 1 ]; then
        echo "kept $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

DATA="$WORK/data"
mkdir -p "$DATA"
export RUST_LOG=warn PYTHONDONTWRITEBYTECODE=1
# shellcheck source=bench/backend.sh
. "$BENCH/backend.sh"
backend_start

# Start a server whose first stdout line is `listening on URL`; sets SERVER_PID and SERVER_URL.
start_server() {
    local name=$1
    shift
    "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    for _ in $(seq 1 100); do
        SERVER_URL=$(sed -n 's/^listening on \(http[^ ]*\).*/\1/p' "$WORK/$name.out" | head -n1)
        [ -n "$SERVER_URL" ] && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/$name.err" >&2; die "$name exited on start"; }
        sleep 0.1
    done
    die "$name did not print its address"
}

# Migrate once, so the two servers do not race to create the schema.
"$TOLLGATE" --data "$DATA" migrate >/dev/null

log "starting replicas A and B"
start_server replica-a "$TOLLGATE" --data "$DATA" serve --listen 127.0.0.1:0
A_PID=$SERVER_PID A_URL=$SERVER_URL
start_server replica-b "$TOLLGATE" --data "$DATA" serve --listen 127.0.0.1:0
B_PID=$SERVER_PID B_URL=$SERVER_URL
log "replica A at $A_URL (pid $A_PID), replica B at $B_URL (pid $B_PID)"

log "$COUNT revocations, then $DURING polled while the revoke CLI runs"
python3 "$BENCH/revocation.py" --tollgate "$TOLLGATE" --data "$DATA" --a "$A_URL" --b "$B_URL" \
    --count "$COUNT" --during "$DURING" --interval "$(awk -v m="$INTERVAL_MS" 'BEGIN { print m / 1000 }')" \
    --timeout "$TIMEOUT_S" --backend "$BACKEND_DESC" --json "$WORK/samples.json" | tee "$WORK/summary.txt"

for pid in "$A_PID" "$B_PID"; do
    kill -0 "$pid" 2>/dev/null || die "a replica died during the benchmark"
done
ERRS=$(cat "$WORK/replica-a.err" "$WORK/replica-b.err" | grep -ciE 'error|panic' || true)
echo "machine: $(nproc) cores; servers, CLI, database and poller share them"
echo "server log lines with error/panic (RUST_LOG=warn, both replicas): $ERRS"
echo "total time: $((SECONDS - STARTED))s"
