#!/usr/bin/env bash
# Web dashboard benchmark for tollgate. Prints numbers; it is not a test and asserts nothing but
# sanity (every timed request answers 200, the CSV has every row, every stream gets its update).
#
#   bench/web.sh                          # full run: 1000 orgs, 1 000 000 download events
#   ORGS=100 EVENTS=50000 STREAMS=20 bench/web.sh   # quick run while developing
#   BACKEND=postgres bench/web.sh         # the same on a throwaway PostgreSQL (bench/backend.sh)
#
# What it does, on a fresh temporary data directory:
#   1. builds `tollgate` in release mode; makes seller acme, product pro and a publish token with
#      the CLI, and publishes PACKAGES x VERSIONS npm releases through the real publish endpoint
#      (bench/seed.py) on a first server;
#   2. with that server stopped, bulk-loads ORGS orgs (seat caps, 1-5 seats, seat and org tokens,
#      a live entitlement, two in three with a Stripe subscription) and EVENTS download events
#      spread over the last 60 days (bench/web_seed.py: Python's sqlite3 in one transaction, or
#      psql COPY on PostgreSQL, followed there by ANALYZE);
#   3. starts a fresh server (RUST_LOG=warn), signs the seller in through a one-time link
#      (`tollgate seller login-link` + curl's cookie jar), and times REQUESTS sequential GETs of
#      each page with one curl process (one keep-alive connection; curl's %{time_total}, the first
#      request included, so p99 shows the cold first render):
#        customers   /acme/dashboard/customers
#        audit       /acme/dashboard/downloads                      (first page)
#        audit+filt  /acme/dashboard/downloads?org=…&from=…&to=…    (one org, 8 days)
#   4. downloads the full CSV export (every event, unfiltered) CSV_RUNS times: time, size, rows,
#      and the server's peak RSS meanwhile (VmHWM reset just before via clear_refs, plus a
#      sampled VmRSS as a cross-check) — streamed, it should stay near the idle RSS;
#   5. opens STREAMS dashboard event streams (`/acme/dashboard/live`) from one Python asyncio
#      client (bench/web_sse.py, raw sockets) and publishes ROUNDS new versions of @acme/live
#      through the real npm publish endpoint: per stream, the wait from the publish response to
#      its `event: change` / `data: releases`; p50/p99/max per round and overall.
#
# Environment knobs (defaults in brackets): ORGS [1000] EVENTS [1000000] PACKAGES [10]
# VERSIONS [10] REQUESTS [100] CSV_RUNS [2] STREAMS [200] ROUNDS [5] BACKEND [sqlite];
# TOLLGATE_BIN=path runs that binary instead of building one (a debug build while developing).
# KEEP=1 keeps the temporary directory (data, logs, pages, CSV) for inspection.
#
# The server, curl and the Python clients share this machine's cores: numbers are for that setup.
set -euo pipefail

ORGS=${ORGS:-1000}
EVENTS=${EVENTS:-1000000}
PACKAGES=${PACKAGES:-10}
VERSIONS=${VERSIONS:-10}
REQUESTS=${REQUESTS:-100}
CSV_RUNS=${CSV_RUNS:-2}
STREAMS=${STREAMS:-200}
ROUNDS=${ROUNDS:-5}
KEEP=${KEEP:-0}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
cd "$ROOT"
STARTED=$SECONDS

log() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

for tool in curl python3; do
    command -v "$tool" >/dev/null || die "$tool is required"
done

if [ -n "${TOLLGATE_BIN:-}" ]; then
    TOLLGATE=$TOLLGATE_BIN
else
    log "building (release)"
    cargo build --release --quiet --bin tollgate
    TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
    TOLLGATE="$TARGET_DIR/release/tollgate"
fi

# ---------------------------------------------------------------- scratch space and cleanup
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-web-bench.XXXXXX")
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
mem_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
mib() { awk -v kb="$1" 'BEGIN { printf "%.1f MiB", kb / 1024 }'; }
reset_hwm() { echo 5 >"/proc/$1/clear_refs" 2>/dev/null; }

# Start `tollgate serve` on a free port; sets SERVER_PID and SERVER_URL.
start_server() {
    local name=$1
    "$TOLLGATE" --data "$DATA" serve --listen 127.0.0.1:0 >"$WORK/$name.out" 2>"$WORK/$name.err" &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    local i
    for i in $(seq 1 100); do
        SERVER_URL=$(sed -n 's/^listening on \(http[^ ]*\).*/\1/p' "$WORK/$name.out" | head -n1)
        [ -n "$SERVER_URL" ] && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/$name.err" >&2; die "$name exited on start"; }
        sleep 0.1
    done
    die "$name did not print its address"
}
stop_server() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# ---------------------------------------------------------------- seller, product, releases
log "setting up seller acme, product pro ($PACKAGES packages + @acme/live)"
tg seller create acme --name Acme --email bench@example.com >/dev/null
pkg_args=()
for ((i = 0; i < PACKAGES; i++)); do
    pkg_args+=(--package "npm:@acme/p$i")
done
tg product create --seller acme pro "${pkg_args[@]}" --package npm:@acme/live >/dev/null
PUBLISH_TOKEN=$(tg token create --seller acme --publish 2>/dev/null | secret)
[ -n "$PUBLISH_TOKEN" ] || die "could not create a publish token"

start_server seed
log "publishing $PACKAGES packages x $VERSIONS versions"
python3 "$BENCH/seed.py" --registry "$SERVER_URL/acme/npm" --token "$PUBLISH_TOKEN" \
    --packages "$PACKAGES" --versions "$VERSIONS" --threads 4 | tee "$WORK/seed.out" >&2
stop_server "$SERVER_PID"

log "bulk-loading $ORGS orgs and $EVENTS download events"
SEED_T0=$SECONDS
python3 "$BENCH/web_seed.py" --database "${TOLLGATE_DATABASE_URL:-$DATA/tollgate.db}" \
    --seller acme --product pro --orgs "$ORGS" --events "$EVENTS" | tee "$WORK/web_seed.out" >&2
SEED_SECS=$((SECONDS - SEED_T0))

# ---------------------------------------------------------------- server and sign-in
start_server tollgate
TG_PID=$SERVER_PID
TG_URL=$SERVER_URL
sleep 1
RSS_START=$(mem_kb "$TG_PID" VmRSS)
log "tollgate at $TG_URL (pid $TG_PID), RSS at start $(mib "$RSS_START")"

JAR="$WORK/cookies.txt"
LINK=$(tg seller login-link acme --public-url "$TG_URL" | grep -oE 'https?://[^ ]+' | head -n1)
[ -n "$LINK" ] || die "no sign-in link printed"
code=$(curl -sS -o /dev/null -c "$JAR" -w '%{http_code}' "$LINK")
case "$code" in 2* | 3*) ;; *) die "the sign-in link answered $code" ;; esac
grep -q tollgate_session "$JAR" || die "no tollgate_session cookie after following the sign-in link"

SELLER_URL="$TG_URL/acme/dashboard"
# The audit filter: one org, the 8 days ending yesterday (UTC dates, `to` inclusive).
FILTER_ORG=org0042
[ "$ORGS" -ge 42 ] || FILTER_ORG=org0001
FROM=$(date -u -d '8 days ago' +%F)
TO=$(date -u -d '1 day ago' +%F)
CUSTOMERS_PATH=${CUSTOMERS_PATH:-/customers}
AUDIT_PATH=${AUDIT_PATH:-/downloads}
FILTER_QUERY=${FILTER_QUERY:-?org=$FILTER_ORG&from=$FROM&to=$TO}
CSV_PATH=${CSV_PATH:-/downloads.csv}

# Sanity: the pages answer for the signed-in seller (and not without the cookie).
for path in "$CUSTOMERS_PATH" "$AUDIT_PATH" "$AUDIT_PATH$FILTER_QUERY"; do
    code=$(curl -sS -o "$WORK/page.html" -b "$JAR" -w '%{http_code}' "$SELLER_URL$path")
    [ "$code" = 200 ] || { head -c 500 "$WORK/page.html" >&2; die "GET $path answered $code"; }
done
code=$(curl -sS -o /dev/null -w '%{http_code}' "$SELLER_URL$CUSTOMERS_PATH")
case "$code" in 2*) die "the customers page answered $code without a session" ;; esac

# ---------------------------------------------------------------- page timings
# time_page NAME PATH: REQUESTS sequential GETs on one curl keep-alive connection; writes
# "code seconds bytes" lines to $WORK/times-NAME.txt and the first response to $WORK/NAME.html.
time_page() {
    local name=$1 url="$SELLER_URL$2" args=(-o "$WORK/$1.html" "$SELLER_URL$2") i
    for ((i = 1; i < REQUESTS; i++)); do
        args+=(-o /dev/null "$url")
    done
    curl -sS -b "$JAR" -w '%{http_code} %{time_total} %{size_download}\n' "${args[@]}" >"$WORK/times-$name.txt"
    local bad
    bad=$(awk '$1 != 200' "$WORK/times-$name.txt" | wc -l)
    [ "$bad" = 0 ] || die "$bad of $REQUESTS GETs of $2 did not answer 200"
}
# stats FILE: "first p50 p99 max bytes" in ms from the second column.
stats() {
    python3 - "$1" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
t = [float(r[1]) * 1000 for r in rows]
s = sorted(t)
def pct(p):
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]
print(f"{t[0]:.1f} {pct(50):.1f} {pct(99):.1f} {s[-1]:.1f} {rows[0][2]}")
PY
}

log "timing pages: $REQUESTS sequential GETs each"
RSS_BEFORE_PAGES=$(mem_kb "$TG_PID" VmRSS)
reset_hwm "$TG_PID" || true
PAGE_NAMES=(customers audit audit-filtered)
PAGE_PATHS=("$CUSTOMERS_PATH" "$AUDIT_PATH" "$AUDIT_PATH$FILTER_QUERY")
for i in "${!PAGE_NAMES[@]}"; do
    time_page "${PAGE_NAMES[$i]}" "${PAGE_PATHS[$i]}"
    echo "  ${PAGE_NAMES[$i]}: $(stats "$WORK/times-${PAGE_NAMES[$i]}.txt")" >&2
done
HWM_PAGES=$(mem_kb "$TG_PID" VmHWM)
CUSTOMER_ROWS=$(grep -oE 'org[0-9]{4}' "$WORK/customers.html" | sort -u | wc -l)
AUDIT_ROWS=$(grep -c '<tr' "$WORK/audit.html" || true)
FILTERED_ROWS=$(grep -c '<tr' "$WORK/audit-filtered.html" || true)

# ---------------------------------------------------------------- CSV export
log "CSV export of all $EVENTS events, $CSV_RUNS times"
sleep 2
RSS_BEFORE_CSV=$(mem_kb "$TG_PID" VmRSS)
HWM_OK=yes
reset_hwm "$TG_PID" || HWM_OK=no
rm -f "$WORK/csv-done"
(
    max=0
    while :; do
        r=$(mem_kb "$TG_PID" VmRSS 2>/dev/null || echo 0)
        [ "${r:-0}" -gt "$max" ] && max=$r
        echo "$max" >"$WORK/rss-sampled"
        [ -e "$WORK/csv-done" ] && break
        sleep 0.02
    done
) &
SAMPLER=$!
PIDS+=("$SAMPLER")
CSV_LINES=()
for ((r = 1; r <= CSV_RUNS; r++)); do
    out=$(curl -sS -b "$JAR" -o "$WORK/export.csv" \
        -w '%{http_code} %{size_download} %{time_total} %{time_starttransfer}' "$SELLER_URL$CSV_PATH")
    read -r C_CODE C_SIZE C_TIME C_TTFB <<<"$out"
    [ "$C_CODE" = 200 ] || { head -c 300 "$WORK/export.csv" >&2; die "GET $CSV_PATH answered $C_CODE"; }
    CSV_ROWS=$(($(wc -l <"$WORK/export.csv") - 1))
    # Loaded events plus the few real downloads (none here): at least EVENTS rows.
    [ "$CSV_ROWS" -ge "$EVENTS" ] || die "the CSV export has $CSV_ROWS rows, expected $EVENTS"
    CSV_LINES+=("$(awk -v n="$r" -v t="$C_TIME" -v f="$C_TTFB" -v b="$C_SIZE" -v rows="$CSV_ROWS" \
        'BEGIN { printf "  export %d: %.2fs (first byte after %.3fs), %d rows, %.1f MB, %.0f rows/s", n, t, f, rows, b / 1e6, rows / t }')")
done
touch "$WORK/csv-done"
wait "$SAMPLER" 2>/dev/null || true
HWM_CSV=$(mem_kb "$TG_PID" VmHWM)
RSS_AFTER_CSV=$(mem_kb "$TG_PID" VmRSS)
RSS_SAMPLED=$(cat "$WORK/rss-sampled")
CSV_HEAD=$(head -n1 "$WORK/export.csv")

# ---------------------------------------------------------------- SSE
log "$STREAMS dashboard event streams, $ROUNDS publishes of @acme/live"
RSS_BEFORE_SSE=$(mem_kb "$TG_PID" VmRSS)
python3 "$BENCH/web_sse.py" --url "$TG_URL" --seller acme --jar "$JAR" --token "$PUBLISH_TOKEN" \
    --package @acme/live --streams "$STREAMS" --rounds "$ROUNDS" --server-pid "$TG_PID" | tee "$WORK/sse.out" >&2

ERRS=$(grep -ciE 'error|panic' "$WORK/tollgate.err" || true)
kill -0 "$TG_PID" 2>/dev/null || die "tollgate died during the benchmark"

# ---------------------------------------------------------------- summary
HWM_NOTE=""
[ "$HWM_OK" = yes ] || HWM_NOTE=" (clear_refs failed: peak since start)"
{
    echo
    echo "================================================================ tollgate web benchmark"
    echo "backend: $BACKEND_DESC"
    echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM; server and clients share the cores"
    echo "data: $ORGS orgs, $EVENTS download events over 60 days, $PACKAGES x $VERSIONS npm releases (bulk load ${SEED_SECS}s)"
    echo "      $(cat "$WORK/web_seed.out")"
    echo "pages: $REQUESTS sequential GETs each on one keep-alive connection (curl %{time_total}), signed-in seller"
    echo
    printf '%-16s %10s %10s %10s %10s %10s   %s\n' page "first ms" "p50 ms" "p99 ms" "max ms" bytes path
    for i in "${!PAGE_NAMES[@]}"; do
        read -r first p50 p99 max bytes <<<"$(stats "$WORK/times-${PAGE_NAMES[$i]}.txt")"
        printf '%-16s %10s %10s %10s %10s %10s   %s\n' "${PAGE_NAMES[$i]}" "$first" "$p50" "$p99" "$max" "$bytes" "${PAGE_PATHS[$i]}"
    done
    echo "  customers page names $CUSTOMER_ROWS distinct orgs; audit page $AUDIT_ROWS <tr>, filtered $FILTERED_ROWS <tr>"
    echo
    echo "CSV export ($CSV_PATH, header: $CSV_HEAD):"
    printf '%s\n' "${CSV_LINES[@]}"
    echo "  server RSS before $(mib "$RSS_BEFORE_CSV"), peak during $(mib "$HWM_CSV")$HWM_NOTE (sampled max $(mib "$RSS_SAMPLED")), after $(mib "$RSS_AFTER_CSV")"
    echo
    echo "SSE: $STREAMS open dashboards, wait from the publish response to each stream's change event:"
    grep -A1 '^round' "$WORK/sse.out" | grep -v '^--' | sed 's/^/  /'
    sed -n '/^all /,$p' "$WORK/sse.out"
    echo
    echo "tollgate RSS: at start $(mib "$RSS_START"), before pages $(mib "$RSS_BEFORE_PAGES"), peak during pages $(mib "$HWM_PAGES"), before SSE $(mib "$RSS_BEFORE_SSE"); $(sed -n 's/^server RSS with/with/p' "$WORK/sse.out")"
    echo "server log lines with error/panic (RUST_LOG=warn): $ERRS"
    echo "total time: $((SECONDS - STARTED))s"
}
