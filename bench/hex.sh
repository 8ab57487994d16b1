#!/usr/bin/env bash
# Hex repository benchmark for tollgate: the signed /packages/NAME of a package with many releases.
# Prints numbers; asserts nothing but sanity.
#
#   bench/hex.sh                                          # full run: acme_pro x 200 releases
#   RELEASES=20 DURATION=5s FIRST_RUNS=3 bench/hex.sh     # quick run while developing
#
# What it does, on a fresh temporary data directory (SQLite + filesystem store):
#   1. builds `tollgate` and the `baseline` example in release mode, installs wrk if missing;
#   2. creates seller acme, product pro naming hex:acme_pro and its dependencies (hex:acme_util,
#      hex:acme_log), org buyer with a grant, a publish token and an org token; starts
#      `tollgate serve` (RUST_LOG=warn);
#   3. publishes RELEASES releases of acme_pro (1.0.0 .. 1.0.199), each requiring acme_util and
#      acme_log (`~> 1.0`), and one release of each dependency, through the real publish API
#      (POST /acme/hex/api/publish, raw tarball; bench/hex_seed.py builds valid Hex tarballs);
#      checks /acme/hex/packages/acme_pro: signature, release count, dependencies, refusal
#      without a key or with a wrong one, 304;
#   4. the first (uncached) hit, FIRST_RUNS times each, one curl request timed (total and time
#      to first byte; loopback, keep-alive not involved):
#        (a) fresh process: the server is restarted, then the first request it serves (token,
#            seller, package and release metadata read from SQLite, the sealed RSA key opened,
#            protobuf built, signed, gzipped);
#        (b) re-render: the process stays up, `packages/acme_pro` is invalidated by retiring and
#            unretiring 1.0.0 through the API (the release count stays RELEASES), then timed;
#        (c) cached: the same single curl request when the signed bytes are cached, for scale;
#      the server's hex_packages cache counters (/metrics) confirm each hit was a miss or a hit;
#   5. wrk, CONNECTIONS connections for DURATION, authorized (`authorization: ORG_TOKEN`, as mix
#      and rebar3 send it) GET /acme/hex/packages/acme_pro after a short warm-up;
#   6. the same wrk run against examples/baseline.rs: bare axum returning the same signed bytes
#      after a sha256-hashed token lookup (it wants `Bearer TOKEN`), and the throughput ratio;
#   7. server RSS after the run (and its peak).
#
# Environment knobs (defaults in brackets): RELEASES [200] DURATION [15s] CONNECTIONS [64]
# WRK_THREADS [2] WARMUP [3s] FIRST_RUNS [5] IDLE_SECS [3]. KEEP=1 keeps the temporary
# directory (data, logs, wrk output, the signed file).
#
# The server, the baseline and wrk share this machine's cores: numbers are for that setup.
set -euo pipefail

RELEASES=${RELEASES:-200}
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-64}
WRK_THREADS=${WRK_THREADS:-2}
WARMUP=${WARMUP:-3s}
FIRST_RUNS=${FIRST_RUNS:-5}
IDLE_SECS=${IDLE_SECS:-3}
KEEP=${KEEP:-0}
PACKAGE=acme_pro
DEPS=(acme_util acme_log)

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
cd "$ROOT"
STARTED=$SECONDS

log() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

[ "$RELEASES" -ge 2 ] || die "RELEASES must be at least 2"
[ "$FIRST_RUNS" -ge 1 ] || die "FIRST_RUNS must be at least 1"

# ---------------------------------------------------------------- tools and build
for tool in curl python3; do
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
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-bench-hex.XXXXXX")
TG_PID=""
BL_PID=""
cleanup() {
    local pid
    for pid in $TG_PID $BL_PID; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in $TG_PID $BL_PID; do
        wait "$pid" 2>/dev/null || true
    done
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
# SQLite + filesystem store in $DATA, whatever the calling shell has set.
unset TOLLGATE_DATABASE_URL TOLLGATE_STORE
tg() { "$TOLLGATE" --data "$DATA" "$@"; }
secret() { grep -oE 'tg_[0-9a-f]{16}_[0-9a-f]{64}' | head -n1; }

# Memory of a process, in KiB, from /proc/PID/status (VmRSS = now, VmHWM = peak).
mem_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
mib() { awk -v kb="$1" 'BEGIN { printf "%.1f MiB", kb / 1024 }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
minimum() { printf '%s\n' "$@" | sort -g | head -n1; }

# Start a server whose first stdout line is `listening on URL`; sets SERVER_PID and SERVER_URL.
start_server() {
    local name=$1
    shift
    "$@" >"$WORK/$name.out" 2>>"$WORK/$name.err" &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        SERVER_URL=$(sed -n 's/^listening on \(http[^ ]*\).*/\1/p' "$WORK/$name.out" | head -n1)
        SERVER_URL=${SERVER_URL%/}
        [ -n "$SERVER_URL" ] && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/$name.err" >&2; die "$name exited on start"; }
        sleep 0.1
    done
    die "$name did not print its address"
}

start_tollgate() {
    start_server tollgate "$TOLLGATE" --data "$DATA" serve --listen 127.0.0.1:0
    TG_PID=$SERVER_PID
    TG_URL=$SERVER_URL
    REPO="$TG_URL/acme/hex"
    API="$REPO/api"
    PKG_URL="$REPO/packages/$PACKAGE"
}

stop_tollgate() {
    kill "$TG_PID" 2>/dev/null || true
    wait "$TG_PID" 2>/dev/null || true
    TG_PID=""
}

# The server's hex_packages cache counter: hits or misses.
cache_count() {
    curl -sS "$TG_URL/metrics" | awk -v m="tollgate_cache_$1_total{cache=\"hex_packages\"}" \
        '$1 == m { v = $2 } END { print v + 0 }'
}

# One timed authorized GET of packages/acme_pro into $WORK/timed.bin; sets TTFB and TOTAL (ms).
# Dies unless it is a 200 with the whole body.
timed_get() {
    local out code size ttfb total
    out=$(curl -sS -o "$WORK/timed.bin" -H "authorization: $ORG_TOKEN" \
        -w '%{http_code} %{size_download} %{time_starttransfer} %{time_total}' "$PKG_URL")
    read -r code size ttfb total <<<"$out"
    [ "$code" = 200 ] || die "GET $PKG_URL answered $code"
    [ "$size" = "$DOC_BYTES" ] || die "GET $PKG_URL sent $size bytes, expected $DOC_BYTES"
    TTFB=$(awk -v s="$ttfb" 'BEGIN { printf "%.2f", s * 1000 }')
    TOTAL=$(awk -v s="$total" 'BEGIN { printf "%.2f", s * 1000 }')
}

# ---------------------------------------------------------------- seller, product, buyer, tokens
log "setting up seller acme, product pro (hex:$PACKAGE ${DEPS[*]/#/hex:}), org buyer, tokens"
tg seller create acme --name Acme --email bench@example.com >/dev/null
pkg_args=(--package "hex:$PACKAGE")
for d in "${DEPS[@]}"; do
    pkg_args+=(--package "hex:$d")
done
tg product create --seller acme pro "${pkg_args[@]}" >/dev/null
tg org create --seller acme buyer --name Buyer >/dev/null
tg grant --seller acme --org buyer --product pro >/dev/null
PUBLISH_TOKEN=$(tg token create --seller acme --publish 2>/dev/null | secret)
ORG_TOKEN=$(tg token create --seller acme --org buyer 2>/dev/null | secret)
if [ -z "$PUBLISH_TOKEN" ] || [ -z "$ORG_TOKEN" ]; then die "could not create tokens"; fi

# ---------------------------------------------------------------- server, publishing, RSS
start_tollgate
sleep 1
RSS_START=$(mem_kb "$TG_PID" VmRSS)
log "tollgate at $TG_URL (pid $TG_PID), RSS at start $(mib "$RSS_START")"

log "publishing $PACKAGE x $RELEASES releases (requiring ${DEPS[*]}) and one release of each dependency"
SEED_T0=$SECONDS
dep_args=()
for d in "${DEPS[@]}"; do
    python3 "$BENCH/hex_seed.py" publish --api "$API" --token "$PUBLISH_TOKEN" --name "$d" --versions 1 >/dev/null
    dep_args+=(--dep "$d")
done
python3 "$BENCH/hex_seed.py" publish --api "$API" --token "$PUBLISH_TOKEN" --name "$PACKAGE" \
    --versions "$RELEASES" "${dep_args[@]}" | tee "$WORK/seed.out"
SEED_SECS=$((SECONDS - SEED_T0))
SEED_LINE=$(cat "$WORK/seed.out")
sleep "$IDLE_SECS"
RSS_SEEDED=$(mem_kb "$TG_PID" VmRSS)
log "RSS after publishing and ${IDLE_SECS}s idle: $(mib "$RSS_SEEDED")"

# Sanity: the signed file verifies and lists every release with its dependencies; no key is a
# 401; the ETag gives a 304.
curl -sS -o "$WORK/public_key.pem" "$REPO/public_key"
code=$(curl -sS -o "$WORK/$PACKAGE.bin" -D "$WORK/$PACKAGE.headers" -w '%{http_code}' \
    -H "authorization: $ORG_TOKEN" "$PKG_URL")
[ "$code" = 200 ] || { head -c 500 "$WORK/$PACKAGE.bin" >&2; die "GET packages/$PACKAGE answered $code"; }
CHECK_LINE=$(python3 "$BENCH/hex_seed.py" check "$WORK/$PACKAGE.bin" --name "$PACKAGE" --repository acme \
    --versions "$RELEASES" "${dep_args[@]}" --public-key "$WORK/public_key.pem")
echo "$CHECK_LINE" >&2
DOC_BYTES=$(wc -c <"$WORK/$PACKAGE.bin")
ETAG=$(awk 'tolower($1) == "etag:" { sub(/\r$/, "", $2); print $2 }' "$WORK/$PACKAGE.headers")
# No key: refused (403 since mix would offer a hex.pm login on a 401); a wrong key: 401.
code=$(curl -sS -o /dev/null -w '%{http_code}' "$PKG_URL")
case $code in 401 | 403) ;; *) die "a GET without a key answered $code, expected 401 or 403" ;; esac
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "authorization: tg_0000000000000000_${ORG_TOKEN: -64}" "$PKG_URL")
[ "$code" = 401 ] || die "a GET with an unknown key answered $code, expected 401"
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "authorization: $ORG_TOKEN" -H "if-none-match: $ETAG" "$PKG_URL")
[ "$code" = 304 ] || die "a GET with If-None-Match: $ETAG answered $code, expected 304"

# ---------------------------------------------------------------- first (uncached) hits
log "first hit on a fresh process: restart, then one GET, $FIRST_RUNS times"
FRESH_TTFB=() FRESH_TOTAL=()
for ((r = 1; r <= FIRST_RUNS; r++)); do
    stop_tollgate
    start_tollgate
    sleep 1
    timed_get
    cmp -s "$WORK/timed.bin" "$WORK/$PACKAGE.bin" || die "the re-rendered file differs from the first one"
    misses=$(cache_count misses)
    [ "$misses" = 1 ] || die "fresh process: hex_packages misses = $misses after its first GET, expected 1"
    FRESH_TTFB+=("$TTFB")
    FRESH_TOTAL+=("$TOTAL")
    log "fresh process $r: first byte after ${TTFB} ms, total ${TOTAL} ms"
done
RSS_FRESH=$(mem_kb "$TG_PID" VmRSS)

log "re-render after invalidation (retire + unretire 1.0.0), $FIRST_RUNS times"
RERENDER_TTFB=() RERENDER_TOTAL=()
timed_get  # the key, token and seller are now warm in this process
for ((r = 1; r <= FIRST_RUNS; r++)); do
    code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H "authorization: $PUBLISH_TOKEN" \
        -H 'content-type: application/json' -d '{"reason":"other","message":"bench"}' \
        "$API/packages/$PACKAGE/releases/1.0.0/retire")
    [ "$code" = 204 ] || die "retire answered $code"
    code=$(curl -sS -o /dev/null -w '%{http_code}' -X DELETE -H "authorization: $PUBLISH_TOKEN" \
        "$API/packages/$PACKAGE/releases/1.0.0/retire")
    [ "$code" = 204 ] || die "unretire answered $code"
    before=$(cache_count misses)
    timed_get
    after=$(cache_count misses)
    [ "$after" = $((before + 1)) ] || die "re-render: hex_packages misses went $before -> $after, expected +1"
    python3 "$BENCH/hex_seed.py" check "$WORK/timed.bin" --name "$PACKAGE" --repository acme \
        --versions "$RELEASES" "${dep_args[@]}" >/dev/null
    RERENDER_TTFB+=("$TTFB")
    RERENDER_TOTAL+=("$TOTAL")
    log "re-render $r: first byte after ${TTFB} ms, total ${TOTAL} ms"
done

log "cached single GET, $FIRST_RUNS times"
CACHED_TTFB=() CACHED_TOTAL=()
before=$(cache_count misses)
for ((r = 1; r <= FIRST_RUNS; r++)); do
    timed_get
    CACHED_TTFB+=("$TTFB")
    CACHED_TOTAL+=("$TOTAL")
done
after=$(cache_count misses)
[ "$after" = "$before" ] || die "cached GETs missed the cache ($before -> $after misses)"

# ---------------------------------------------------------------- wrk
# run_wrk NAME URL [wrk args...]: warm-up, then the measured run into $WORK/wrk-NAME.txt
run_wrk() {
    local name=$1
    shift
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$WARMUP" "$@" >/dev/null
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" >"$WORK/wrk-$name.txt"
    cat "$WORK/wrk-$name.txt" >&2
}

log "wrk against tollgate: $CONNECTIONS connections, $WRK_THREADS threads, $DURATION (after $WARMUP warm-up)"
MISSES_BEFORE_WRK=$(cache_count misses)
HITS_BEFORE_WRK=$(cache_count hits)
run_wrk tollgate -H "authorization: $ORG_TOKEN" "$PKG_URL"
MISSES_AFTER_WRK=$(cache_count misses)
HITS_AFTER_WRK=$(cache_count hits)
RSS_AFTER_WRK=$(mem_kb "$TG_PID" VmRSS)
HWM_AFTER_WRK=$(mem_kb "$TG_PID" VmHWM)

log "baseline (bare axum + sha256 token lookup, the same $DOC_BYTES signed bytes)"
start_server baseline "$BASELINE" --listen 127.0.0.1:0 --token "$ORG_TOKEN" --body "$WORK/$PACKAGE.bin"
BL_PID=$SERVER_PID
BL_URL=$SERVER_URL
code=$(curl -sS -o "$WORK/bl.bin" -w '%{http_code}' -H "authorization: Bearer $ORG_TOKEN" "$BL_URL/acme/hex/packages/$PACKAGE")
if [ "$code" != 200 ] || ! cmp -s "$WORK/bl.bin" "$WORK/$PACKAGE.bin"; then die "baseline does not serve the same bytes"; fi
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "authorization: Bearer nope" "$BL_URL/")
[ "$code" = 401 ] || die "baseline accepted a wrong token"
run_wrk baseline -H "authorization: Bearer $ORG_TOKEN" "$BL_URL/acme/hex/packages/$PACKAGE"
kill "$BL_PID" 2>/dev/null || true
wait "$BL_PID" 2>/dev/null || true
BL_PID=""
# tollgate has been idle for the whole baseline run.
RSS_IDLE_AFTER=$(mem_kb "$TG_PID" VmRSS)

W_tollgate_rps="" W_baseline_rps=""
for name in tollgate baseline; do
    for f in rps p50 p90 p99 non2xx errors requests; do
        printf -v "W_${name}_$f" '%s' "$(python3 "$BENCH/wrkstats.py" "$WORK/wrk-$name.txt" "$f")"
    done
done

# ---------------------------------------------------------------- server health
ERRS=$(grep -ciE 'error|panic' "$WORK/tollgate.err" || true)
kill -0 "$TG_PID" 2>/dev/null || die "tollgate died during the benchmark"

# ---------------------------------------------------------------- summary
RATIO=$(awk -v a="$W_tollgate_rps" -v b="$W_baseline_rps" 'BEGIN { printf "%.2f", a / b }')
first_line() {
    local label=$1 ttfb_name=$2 total_name=$3
    local -n t=$ttfb_name
    local -n s=$total_name
    printf '  %-44s min %8s ms  median %8s ms   (first byte: min %8s, median %8s ms)\n' \
        "$label" "$(minimum "${s[@]}")" "$(median "${s[@]}")" "$(minimum "${t[@]}")" "$(median "${t[@]}")"
}
{
    echo
    echo "================================================================ tollgate hex (/packages/NAME) benchmark"
    echo "backend: sqlite + filesystem (temporary data directory)"
    echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM; the server, the baseline and wrk share these cores"
    echo "data: $PACKAGE x $RELEASES releases, each requiring ${DEPS[*]}, published through POST /acme/hex/api/publish in ${SEED_SECS}s"
    echo "      ($SEED_LINE)"
    echo "      GET /acme/hex/packages/$PACKAGE: $CHECK_LINE"
    echo
    echo "first (uncached) hit, one curl GET with the org token, $FIRST_RUNS runs each (wall clock incl. loopback connect):"
    first_line "fresh process (restart, then first request)" FRESH_TTFB FRESH_TOTAL
    first_line "re-render (invalidated by retire+unretire)" RERENDER_TTFB RERENDER_TOTAL
    first_line "cached signed bytes (for scale)" CACHED_TTFB CACHED_TOTAL
    echo "  fresh-process runs (total ms): ${FRESH_TOTAL[*]}"
    echo "  re-render runs (total ms):     ${RERENDER_TOTAL[*]}"
    echo
    echo "cached hits: wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION --latency, GET /acme/hex/packages/$PACKAGE, after a $WARMUP warm-up"
    printf '  %-30s %10s %10s %10s %10s %10s %10s %8s\n' "server" "requests" "req/s" "p50 ms" "p90 ms" "p99 ms" "non-2xx" "sockerr"
    for name in tollgate baseline; do
        r="W_${name}_rps" p50="W_${name}_p50" p90="W_${name}_p90" p99="W_${name}_p99" n="W_${name}_non2xx" e="W_${name}_errors" q="W_${name}_requests"
        label="tollgate (authorization: KEY)"
        [ "$name" = baseline ] && label="baseline (bare axum+sha256)"
        printf '  %-30s %10s %10s %10s %10s %10s %10s %8s\n' "$label" "${!q}" "${!r}" "${!p50}" "${!p90}" "${!p99}" "${!n}" "${!e}"
    done
    echo "  tollgate / baseline throughput: $RATIO"
    echo "  hex_packages cache during the tollgate run (warm-up included): $((HITS_AFTER_WRK - HITS_BEFORE_WRK)) hits, $((MISSES_AFTER_WRK - MISSES_BEFORE_WRK)) misses"
    echo
    rss() { printf '%-46s %s\n' "$1" "$2"; }
    rss "tollgate RSS at start:" "$(mib "$RSS_START")"
    rss "tollgate RSS after publishing (${IDLE_SECS}s idle):" "$(mib "$RSS_SEEDED")"
    rss "tollgate RSS, fresh process after its 1st hit:" "$(mib "$RSS_FRESH")"
    rss "tollgate RSS right after its wrk run:" "$(mib "$RSS_AFTER_WRK") (peak of this process $(mib "$HWM_AFTER_WRK"))"
    rss "tollgate RSS idle after the baseline run:" "$(mib "$RSS_IDLE_AFTER")"
    echo
    echo "server log lines with error/panic (RUST_LOG=warn): $ERRS"
    echo "total time: $((SECONDS - STARTED))s"
}
