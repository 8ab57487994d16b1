#!/usr/bin/env bash
# PyPI simple-index benchmark for tollgate: the PEP 691 JSON project page of a project with many
# files, read with an org token. Prints numbers; asserts nothing but sanity.
#
#   bench/pypi.sh                                   # full run: acme-pro with 200 files
#   FILES=20 DURATION=5s bench/pypi.sh              # quick run while developing
#   BACKEND=postgres-s3 bench/pypi.sh               # on a throwaway PostgreSQL + S3 (moto)
#
# BACKEND (bench/backend.sh): sqlite [default], postgres, postgres-s3; the server and every CLI
# call get the same TOLLGATE_DATABASE_URL / TOLLGATE_STORE / TOLLGATE_S3_* variables.
#
# What it does, on a fresh temporary data directory:
#   1. builds `tollgate` and the `baseline` example in release mode, installs wrk if missing;
#   2. creates seller acme, product pro naming pypi:acme-pro, org buyer with a grant, a publish
#      token and an org token; starts `tollgate serve` (RUST_LOG=warn);
#   3. uploads FILES files of acme-pro (FILES/2 versions, each a wheel and an sdist) through the
#      real upload endpoint (POST /acme/pypi/upload/, multipart as twine sends it;
#      bench/pypi_seed.py builds the files);
#   4. checks GET /acme/pypi/simple/acme-pro/: the JSON page lists every file, the HTML page
#      (text/html) too, no token is a 401, the ETag gives a 304;
#   5. wrk, CONNECTIONS connections for DURATION, HTTP Basic `__token__:ORG_TOKEN` and the
#      `Accept` header pip sends, after a short warm-up: (a) the JSON page, (b) the HTML page;
#   6. the same wrk run against examples/baseline.rs: bare axum returning the same JSON bytes
#      after a sha256-hashed token lookup (it wants `Bearer TOKEN`), and the throughput ratio;
#   7. server RSS at start, after seeding, after the runs.
#
# Environment knobs (defaults in brackets): FILES [200] DURATION [15s] CONNECTIONS [64]
# WRK_THREADS [2] WARMUP [3s] SEED_THREADS [4] IDLE_SECS [3]. KEEP=1 keeps the temporary
# directory (data, logs, wrk output, the page bytes).
#
# The server, the baseline and wrk share this machine's cores: numbers are for that setup.
set -euo pipefail

FILES=${FILES:-200}
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-64}
WRK_THREADS=${WRK_THREADS:-2}
WARMUP=${WARMUP:-3s}
SEED_THREADS=${SEED_THREADS:-4}
IDLE_SECS=${IDLE_SECS:-3}
KEEP=${KEEP:-0}
PROJECT=acme-pro
# What pip 26 sends (uv sends the same with q=0.2).
ACCEPT_PIP='application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01'

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
cd "$ROOT"
STARTED=$SECONDS

log() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

[ "$FILES" -ge 2 ] && [ $((FILES % 2)) = 0 ] || die "FILES must be an even number >= 2"

# ---------------------------------------------------------------- tools and build
for tool in curl python3 base64; do
    command -v "$tool" >/dev/null || die "$tool is required"
done
if ! command -v wrk >/dev/null; then
    log "installing wrk"
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq wrk >/dev/null
    else
        sudo apt-get update -qq && sudo apt-get install -y -qq wrk >/dev/null
    fi
fi

log "building (release)"
cargo build --release --quiet --bin tollgate --example baseline
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
TOLLGATE="$TARGET_DIR/release/tollgate"
BASELINE="$TARGET_DIR/release/examples/baseline"

# ---------------------------------------------------------------- scratch space and cleanup
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-bench-pypi.XXXXXX")
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
export RUST_LOG=warn
# shellcheck source=bench/backend.sh
. "$BENCH/backend.sh"
backend_start
tg() { "$TOLLGATE" --data "$DATA" "$@"; }
secret() { grep -oE 'tg_[0-9a-f]{16}_[0-9a-f]{64}' | head -n1; }

# Memory of a process, in KiB, from /proc/PID/status (VmRSS = now, VmHWM = peak).
mem_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
mib() { awk -v kb="$1" 'BEGIN { printf "%.1f MiB", kb / 1024 }'; }

# Start a server whose first stdout line is `listening on URL`; sets SERVER_PID and SERVER_URL.
start_server() {
    local name=$1
    shift
    "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    for _ in $(seq 1 100); do
        SERVER_URL=$(sed -n 's/^listening on \(http[^ ]*\).*/\1/p' "$WORK/$name.out" | head -n1)
        SERVER_URL=${SERVER_URL%/}
        [ -n "$SERVER_URL" ] && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/$name.err" >&2; die "$name exited on start"; }
        sleep 0.1
    done
    die "$name did not print its address"
}

# ---------------------------------------------------------------- seller, product, buyer, tokens
log "setting up seller acme, product pro (pypi:$PROJECT), org buyer, tokens"
tg seller create acme --name Acme --email bench@example.com >/dev/null
tg product create --seller acme pro --package "pypi:$PROJECT" >/dev/null
tg org create --seller acme buyer --name Buyer >/dev/null
tg grant --seller acme --org buyer --product pro >/dev/null
PUBLISH_TOKEN=$(tg token create --seller acme --publish 2>/dev/null | secret)
ORG_TOKEN=$(tg token create --seller acme --org buyer 2>/dev/null | secret)
if [ -z "$PUBLISH_TOKEN" ] || [ -z "$ORG_TOKEN" ]; then die "could not create tokens"; fi
# pip's and uv's form: user __token__, the token as the password.
BASIC="Basic $(printf '__token__:%s' "$ORG_TOKEN" | base64 -w0)"

# ---------------------------------------------------------------- server, seeding, RSS
start_server tollgate "$TOLLGATE" --data "$DATA" serve --listen 127.0.0.1:0
TG_PID=$SERVER_PID
TG_URL=$SERVER_URL
INDEX="$TG_URL/acme/pypi"
PAGE="$INDEX/simple/$PROJECT/"
sleep 1
RSS_START=$(mem_kb "$TG_PID" VmRSS)
log "tollgate at $TG_URL (pid $TG_PID), RSS at start $(mib "$RSS_START")"

log "uploading $FILES files of $PROJECT ($((FILES / 2)) versions x wheel+sdist)"
SEED_T0=$SECONDS
python3 "$BENCH/pypi_seed.py" --upload "$INDEX/upload/" --token "$PUBLISH_TOKEN" --name "$PROJECT" \
    --files "$FILES" --threads "$SEED_THREADS" | tee "$WORK/seed.out"
SEED_SECS=$((SECONDS - SEED_T0))
SEED_LINE=$(cat "$WORK/seed.out")
sleep "$IDLE_SECS"
RSS_SEEDED=$(mem_kb "$TG_PID" VmRSS)
log "RSS after uploading and ${IDLE_SECS}s idle: $(mib "$RSS_SEEDED")"

# Sanity: both page forms list every file; no token is a 401; the ETag gives a 304.
code=$(curl -sS -o "$WORK/page.json" -D "$WORK/page.headers" -w '%{http_code}' \
    -H "authorization: $BASIC" -H "accept: $ACCEPT_PIP" "$PAGE")
[ "$code" = 200 ] || { head -c 500 "$WORK/page.json" >&2; die "GET $PAGE (JSON) answered $code"; }
JSON_TYPE=$(awk 'tolower($1) == "content-type:" { sub(/\r$/, ""); $1 = ""; sub(/^ /, ""); print }' "$WORK/page.headers")
JSON_FILES=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["files"]))' "$WORK/page.json")
[ "$JSON_FILES" = "$FILES" ] || die "the JSON page lists $JSON_FILES files, expected $FILES"
JSON_BYTES=$(wc -c <"$WORK/page.json")
code=$(curl -sS -o "$WORK/page.html" -w '%{http_code}' -H "authorization: $BASIC" -H 'accept: text/html' "$PAGE")
[ "$code" = 200 ] || die "GET $PAGE (HTML) answered $code"
HTML_FILES=$(grep -o '<a ' "$WORK/page.html" | wc -l)
[ "$HTML_FILES" = "$FILES" ] || die "the HTML page lists $HTML_FILES files, expected $FILES"
HTML_BYTES=$(wc -c <"$WORK/page.html")
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "accept: $ACCEPT_PIP" "$PAGE")
[ "$code" = 401 ] || die "an anonymous GET answered $code, expected 401"
ETAG=$(awk 'tolower($1) == "etag:" { sub(/\r$/, "", $2); print $2 }' "$WORK/page.headers")
if [ -n "$ETAG" ]; then
    code=$(curl -sS -o /dev/null -w '%{http_code}' -H "authorization: $BASIC" -H "accept: $ACCEPT_PIP" \
        -H "if-none-match: $ETAG" "$PAGE")
    [ "$code" = 304 ] || die "a GET with If-None-Match: $ETAG answered $code, expected 304"
    ETAG_LINE="ETag $ETAG, If-None-Match answered 304"
else
    ETAG_LINE="no ETag on the page"
fi

# ---------------------------------------------------------------- wrk
# run_wrk NAME [wrk args...]: warm-up, then the measured run into $WORK/wrk-NAME.txt
run_wrk() {
    local name=$1
    shift
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$WARMUP" "$@" >/dev/null
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" >"$WORK/wrk-$name.txt"
    cat "$WORK/wrk-$name.txt" >&2
}

log "wrk JSON page: $CONNECTIONS connections, $WRK_THREADS threads, $DURATION (after $WARMUP warm-up)"
run_wrk json -H "authorization: $BASIC" -H "accept: $ACCEPT_PIP" "$PAGE"
RSS_AFTER_JSON=$(mem_kb "$TG_PID" VmRSS)
log "wrk HTML page: $CONNECTIONS connections, $WRK_THREADS threads, $DURATION (after $WARMUP warm-up)"
run_wrk html -H "authorization: $BASIC" -H "accept: text/html" "$PAGE"
RSS_AFTER_HTML=$(mem_kb "$TG_PID" VmRSS)
HWM=$(mem_kb "$TG_PID" VmHWM)

log "baseline (bare axum + sha256 token lookup, the same $JSON_BYTES JSON bytes)"
start_server baseline "$BASELINE" --listen 127.0.0.1:0 --token "$ORG_TOKEN" --body "$WORK/page.json"
BL_PID=$SERVER_PID
BL_URL=$SERVER_URL
code=$(curl -sS -o "$WORK/bl.json" -w '%{http_code}' -H "authorization: Bearer $ORG_TOKEN" "$BL_URL/acme/pypi/simple/$PROJECT/")
if [ "$code" != 200 ] || ! cmp -s "$WORK/bl.json" "$WORK/page.json"; then die "baseline does not serve the same bytes"; fi
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "authorization: Bearer nope" "$BL_URL/")
[ "$code" = 401 ] || die "baseline accepted a wrong token"
run_wrk baseline -H "authorization: Bearer $ORG_TOKEN" -H "accept: $ACCEPT_PIP" "$BL_URL/acme/pypi/simple/$PROJECT/"
kill "$BL_PID" 2>/dev/null || true
wait "$BL_PID" 2>/dev/null || true
# tollgate has been idle for the whole baseline run.
RSS_IDLE_AFTER=$(mem_kb "$TG_PID" VmRSS)

for name in json html baseline; do
    for f in rps p50 p90 p99 non2xx errors requests; do
        printf -v "W_${name}_$f" '%s' "$(python3 "$BENCH/wrkstats.py" "$WORK/wrk-$name.txt" "$f")"
    done
done

# ---------------------------------------------------------------- server health
ERRS=$(grep -ciE 'error|panic' "$WORK/tollgate.err" || true)
kill -0 "$TG_PID" 2>/dev/null || die "tollgate died during the benchmark"

# ---------------------------------------------------------------- summary
RATIO=$(awk -v a="$W_json_rps" -v b="$W_baseline_rps" 'BEGIN { printf "%.2f", a / b }')
{
    echo
    echo "================================================================ tollgate pypi (/simple/NAME/) benchmark"
    echo "backend: $BACKEND_DESC"
    echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM; the server, the baseline and wrk share these cores"
    echo "data: $PROJECT with $FILES files, uploaded through POST /acme/pypi/upload/ in ${SEED_SECS}s"
    echo "      ($SEED_LINE)"
    echo "      JSON page = $JSON_BYTES bytes ($JSON_FILES files, $JSON_TYPE); HTML page = $HTML_BYTES bytes; $ETAG_LINE"
    echo
    echo "load: wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION --latency, GET /acme/pypi/simple/$PROJECT/, after a $WARMUP warm-up each"
    printf '  %-40s %10s %10s %10s %10s %10s %10s %8s\n' "server" "requests" "req/s" "p50 ms" "p90 ms" "p99 ms" "non-2xx" "sockerr"
    for name in json html baseline; do
        r="W_${name}_rps" p50="W_${name}_p50" p90="W_${name}_p90" p99="W_${name}_p99" n="W_${name}_non2xx" e="W_${name}_errors" q="W_${name}_requests"
        case $name in
        json) label="tollgate JSON (Basic __token__:ORG)" ;;
        html) label="tollgate HTML (Basic __token__:ORG)" ;;
        baseline) label="baseline, same JSON (bare axum+sha256)" ;;
        esac
        printf '  %-40s %10s %10s %10s %10s %10s %10s %8s\n' "$label" "${!q}" "${!r}" "${!p50}" "${!p90}" "${!p99}" "${!n}" "${!e}"
    done
    echo "  tollgate JSON / baseline throughput: $RATIO"
    echo
    echo "tollgate RSS at start:                  $(mib "$RSS_START")"
    echo "tollgate RSS after uploading (${IDLE_SECS}s idle): $(mib "$RSS_SEEDED")"
    echo "tollgate RSS after wrk JSON / HTML:     $(mib "$RSS_AFTER_JSON") / $(mib "$RSS_AFTER_HTML") (peak $(mib "$HWM"))"
    echo "tollgate RSS idle after the baseline:   $(mib "$RSS_IDLE_AFTER")"
    echo
    echo "server log lines with error/panic (RUST_LOG=warn): $ERRS"
    echo "total time: $((SECONDS - STARTED))s"
}
