#!/usr/bin/env bash
# npm benchmark for tollgate. Prints numbers; it is not a test and asserts nothing but sanity.
#
#   bench/npm.sh                      # full run: 1000 packages x 20 versions, 100 MB tarball
#   PACKAGES=50 VERSIONS=3 DURATION=5s BIG_MB=10 bench/npm.sh    # quick run while developing
#   BACKEND=postgres-s3 bench/npm.sh  # the same on a throwaway PostgreSQL + S3 server (moto)
#
# BACKEND (bench/backend.sh): sqlite [default] = SQLite + filesystem store in the temporary data
# directory; postgres = a throwaway PostgreSQL (scripts/postgres, fsync=off) + filesystem store;
# postgres-s3 = that PostgreSQL + an S3 server (scripts/s3: moto, which keeps objects in RAM in a
# Python process, so the big download there measures moto more than tollgate; the summary also
# reports a download straight from moto for comparison). The server and every CLI call get the
# same TOLLGATE_DATABASE_URL / TOLLGATE_STORE / TOLLGATE_S3_* / AWS_* variables.
#
# What it does, on a fresh temporary data directory:
#   1. builds `tollgate` and the `baseline` example in release mode, installs wrk if missing;
#   2. starts `tollgate serve` (RUST_LOG=warn), seeds PACKAGES x VERSIONS npm releases through
#      the real publish endpoint (bench/seed.py), and measures RSS at start and idle after seeding;
#   3. wrk, CONNECTIONS connections for DURATION, authorized abbreviated packuments rotating over
#      all packages (bench/packument.lua), after a short warm-up;
#   4. the same wrk run against examples/baseline.rs: bare axum returning the same bytes (those
#      of @acme/p0's abbreviated packument) after a sha256-hashed token lookup;
#   5. publishes one BIG_MB MiB package and downloads its tarball with curl, reporting MB/s and
#      the server's peak RSS during the download (VmHWM, reset just before via clear_refs).
#
# Environment knobs (defaults in brackets): PACKAGES [1000] VERSIONS [20] DURATION [15s]
# CONNECTIONS [64] WRK_THREADS [2] WARMUP [3s] SEED_THREADS [8] IDLE_SECS [5] BIG_MB [100]
# DOWNLOADS [3] (sequential downloads of the big tarball).
# KEEP=1 keeps the temporary directory (data, logs, wrk output) for inspection.
#
# The server, the baseline and wrk share this machine's cores: numbers are for that setup.
set -euo pipefail

PACKAGES=${PACKAGES:-1000}
VERSIONS=${VERSIONS:-20}
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-64}
WRK_THREADS=${WRK_THREADS:-2}
WARMUP=${WARMUP:-3s}
SEED_THREADS=${SEED_THREADS:-8}
IDLE_SECS=${IDLE_SECS:-5}
BIG_MB=${BIG_MB:-100}
DOWNLOADS=${DOWNLOADS:-3}
KEEP=${KEEP:-0}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
cd "$ROOT"
STARTED=$SECONDS

log() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

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
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-bench.XXXXXX")
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
    local i
    for i in $(seq 1 100); do
        SERVER_URL=$(sed -n 's/^listening on \(http[^ ]*\).*/\1/p' "$WORK/$name.out" | head -n1)
        [ -n "$SERVER_URL" ] && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/$name.err" >&2; die "$name exited on start"; }
        sleep 0.1
    done
    die "$name did not print its address"
}

# ---------------------------------------------------------------- seller, product, buyer, tokens
log "setting up seller acme, product pro ($PACKAGES packages + @acme/big), org buyer"
tg seller create acme --name Acme --email bench@example.com >/dev/null
pkg_args=()
for ((i = 0; i < PACKAGES; i++)); do
    pkg_args+=(--package "npm:@acme/p$i")
done
tg product create --seller acme pro "${pkg_args[@]}" --package npm:@acme/big >/dev/null
tg org create --seller acme buyer --name Buyer >/dev/null
tg grant --seller acme --org buyer --product pro >/dev/null
PUBLISH_TOKEN=$(tg token create --seller acme --publish 2>/dev/null | secret)
ORG_TOKEN=$(tg token create --seller acme --org buyer 2>/dev/null | secret)
if [ -z "$PUBLISH_TOKEN" ] || [ -z "$ORG_TOKEN" ]; then die "could not create tokens"; fi

# ---------------------------------------------------------------- server, seeding, idle RSS
start_server tollgate "$TOLLGATE" --data "$DATA" serve --listen 127.0.0.1:0 --max-upload-mb "$((BIG_MB * 2))"
TG_PID=$SERVER_PID
TG_URL=$SERVER_URL
REGISTRY="$TG_URL/acme/npm"
sleep 1
RSS_START=$(mem_kb "$TG_PID" VmRSS)
log "tollgate at $TG_URL (pid $TG_PID), RSS at start $(mib "$RSS_START")"

log "seeding $PACKAGES packages x $VERSIONS versions"
SEED_T0=$SECONDS
python3 "$BENCH/seed.py" --registry "$REGISTRY" --token "$PUBLISH_TOKEN" \
    --packages "$PACKAGES" --versions "$VERSIONS" --threads "$SEED_THREADS" | tee "$WORK/seed.out"
SEED_SECS=$((SECONDS - SEED_T0))
RSS_SEEDED=$(mem_kb "$TG_PID" VmRSS)
sleep "$IDLE_SECS"
RSS_IDLE=$(mem_kb "$TG_PID" VmRSS)
log "RSS right after seeding $(mib "$RSS_SEEDED"), after ${IDLE_SECS}s idle $(mib "$RSS_IDLE")"

# The bytes the baseline serves, and a sanity check of the authorized read path.
code=$(curl -sS -o "$WORK/p0.json" -w '%{http_code}' \
    -H "authorization: Bearer $ORG_TOKEN" -H 'accept: application/vnd.npm.install-v1+json' \
    "$REGISTRY/@acme%2fp0")
[ "$code" = 200 ] || { cat "$WORK/p0.json" >&2; die "packument GET answered $code"; }
DOC_BYTES=$(wc -c <"$WORK/p0.json")
DOC_VERSIONS=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["versions"]))' "$WORK/p0.json")
[ "$DOC_VERSIONS" = "$VERSIONS" ] || die "@acme/p0 lists $DOC_VERSIONS versions, expected $VERSIONS"
code=$(curl -sS -o /dev/null -w '%{http_code}' -H 'accept: application/vnd.npm.install-v1+json' \
    "$REGISTRY/@acme%2fp0")
[ "$code" = 401 ] || die "an anonymous packument GET answered $code, expected 401"

# ---------------------------------------------------------------- wrk
export TG_TOKEN=$ORG_TOKEN TG_PREFIX=/acme/npm TG_SCOPE=@acme TG_PACKAGES=$PACKAGES

# run_wrk NAME URL: warm-up, then the measured run into $WORK/wrk-NAME.txt
run_wrk() {
    local name=$1 url=$2
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$WARMUP" -s "$BENCH/packument.lua" "$url" >/dev/null
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$BENCH/packument.lua" "$url" \
        >"$WORK/wrk-$name.txt"
    cat "$WORK/wrk-$name.txt" >&2
}

# Fields of a wrk report: rps, p50, p90, p99 (ms), non-2xx count, socket errors.
wrk_field() {
    python3 - "$1" "$2" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
field = sys.argv[2]
def ms(v):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", v)
    n, u = float(m.group(1)), m.group(2)
    return n * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[u]
if field == "rps":
    print(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
elif field in ("p50", "p90", "p99"):
    v = re.search(r"^\s+%s%%\s+(\S+)" % field[1:], text, re.M).group(1)
    print(f"{ms(v):.2f}")
elif field == "non2xx":
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    print(m.group(1) if m else 0)
elif field == "errors":
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    print(sum(map(int, m.groups())) if m else 0)
elif field == "requests":
    print(re.search(r"(\d+) requests in", text).group(1))
PY
}

log "wrk against tollgate: $CONNECTIONS connections, $WRK_THREADS threads, $DURATION (after $WARMUP warm-up)"
run_wrk tollgate "$TG_URL"
RSS_AFTER_WRK=$(mem_kb "$TG_PID" VmRSS)
HWM_AFTER_WRK=$(mem_kb "$TG_PID" VmHWM)

log "baseline (bare axum + sha256 token lookup, same $DOC_BYTES bytes)"
start_server baseline "$BASELINE" --listen 127.0.0.1:0 --token "$ORG_TOKEN" --body "$WORK/p0.json"
BL_PID=$SERVER_PID
BL_URL=$SERVER_URL
code=$(curl -sS -o "$WORK/bl.json" -w '%{http_code}' -H "authorization: Bearer $ORG_TOKEN" "$BL_URL/acme/npm/@acme%2fp0")
if [ "$code" != 200 ] || ! cmp -s "$WORK/bl.json" "$WORK/p0.json"; then die "baseline does not serve the same bytes"; fi
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "authorization: Bearer nope" "$BL_URL/")
[ "$code" = 401 ] || die "baseline accepted a wrong token"
run_wrk baseline "$BL_URL"
kill "$BL_PID" 2>/dev/null || true
wait "$BL_PID" 2>/dev/null || true
# tollgate has been idle for the whole baseline run: its RSS with every package's caches warm.
RSS_IDLE_WARM=$(mem_kb "$TG_PID" VmRSS)

# Sets W_<server>_<field>, e.g. W_tollgate_rps.
W_tollgate_rps="" W_baseline_rps=""
for name in tollgate baseline; do
    for f in rps p50 p90 p99 non2xx errors requests; do
        printf -v "W_${name}_$f" '%s' "$(wrk_field "$WORK/wrk-$name.txt" "$f")"
    done
done

# ---------------------------------------------------------------- 100 MB tarball
# Peak RSS: `echo 5 > /proc/PID/clear_refs` resets VmHWM to the current RSS (Linux >= 4.0).
reset_hwm() { echo 5 >"/proc/$1/clear_refs" 2>/dev/null; }
HWM_OK=yes
log "publishing a $BIG_MB MiB package (@acme/big)"
RSS_BEFORE_PUBLISH=$(mem_kb "$TG_PID" VmRSS)
reset_hwm "$TG_PID" || HWM_OK=no
python3 "$BENCH/seed.py" --registry "$REGISTRY" --token "$PUBLISH_TOKEN" \
    --big @acme/big --big-mb "$BIG_MB" --size-file "$WORK/big.size" | tee "$WORK/big.out"
HWM_PUBLISH=$(mem_kb "$TG_PID" VmHWM)
BIG_BYTES=$(cat "$WORK/big.size")
sleep 2

log "downloading the $BIG_MB MiB tarball with curl, $DOWNLOADS times"
RSS_BEFORE_DL=$(mem_kb "$TG_PID" VmRSS)
reset_hwm "$TG_PID" || HWM_OK=no
# Also sample VmRSS while curl runs, as a cross-check of VmHWM.
rm -f "$WORK/dl-done"
(
    max=0
    while :; do
        r=$(mem_kb "$TG_PID" VmRSS 2>/dev/null || echo 0)
        [ "${r:-0}" -gt "$max" ] && max=$r
        echo "$max" >"$WORK/rss-sampled"
        [ -e "$WORK/dl-done" ] && break
        sleep 0.02
    done
) &
SAMPLER=$!
PIDS+=("$SAMPLER")
DL_LINES=()
DL_SPEEDS=()
for ((d = 1; d <= DOWNLOADS; d++)); do
    DL=$(curl -sS -o /dev/null -H "authorization: Bearer $ORG_TOKEN" \
        -w '%{http_code} %{size_download} %{speed_download} %{time_total} %{time_starttransfer}' \
        "$REGISTRY/@acme/big/-/big-1.0.0.tgz")
    read -r DL_CODE DL_SIZE DL_SPEED DL_TIME DL_TTFB <<<"$DL"
    [ "$DL_CODE" = 200 ] || die "tarball GET answered $DL_CODE"
    [ "$DL_SIZE" = "$BIG_BYTES" ] || die "downloaded $DL_SIZE bytes, published $BIG_BYTES"
    DL_SPEEDS+=("$DL_SPEED")
    DL_LINES+=("$(awk -v n="$d" -v s="$DL_SPEED" -v t="$DL_TIME" -v f="$DL_TTFB" \
        'BEGIN { printf "  download %d: %7.1f MB/s (%6.1f MiB/s), %.3fs total, first byte after %.3fs", n, s / 1e6, s / 1048576, t, f }')")
done
touch "$WORK/dl-done"
wait "$SAMPLER" 2>/dev/null || true
HWM_DL=$(mem_kb "$TG_PID" VmHWM)
RSS_AFTER_DL=$(mem_kb "$TG_PID" VmRSS)
RSS_SAMPLED=$(cat "$WORK/rss-sampled")
DL_MEDIAN=$(printf '%s\n' "${DL_SPEEDS[@]}" | sort -g | awk '{ a[NR] = $1 } END { printf "%.1f", a[int((NR + 1) / 2)] / 1e6 }')

# On S3, the same object fetched straight from the S3 server (curl signs with SigV4):
# the ceiling tollgate's streaming download can reach on this store.
DIRECT_LINE=""
if [ "$BACKEND" = postgres-s3 ]; then
    bucket_prefix=${TOLLGATE_STORE#s3://}
    bucket=${bucket_prefix%%/*}
    prefix=${bucket_prefix#*/}
    sigv4=(--aws-sigv4 "aws:amz:${AWS_REGION:-us-east-1}:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY")
    # Blobs are content-addressed: blobs/sha256/<2>/<2>/<sha256> under the prefix.
    curl -sS -o "$WORK/big.tgz" -H "authorization: Bearer $ORG_TOKEN" "$REGISTRY/@acme/big/-/big-1.0.0.tgz" || true
    sha=$(sha256sum "$WORK/big.tgz" 2>/dev/null | cut -d' ' -f1)
    rm -f "$WORK/big.tgz"
    key=""
    [ -n "$sha" ] && key="$prefix/blobs/sha256/${sha:0:2}/${sha:2:2}/$sha"
    if [ -n "$key" ]; then
        DIRECT=$(curl -sS "${sigv4[@]}" -o /dev/null -w '%{http_code} %{size_download} %{speed_download} %{time_total}' \
            "$TOLLGATE_S3_ENDPOINT/$bucket/$key" || true)
        read -r D_CODE D_SIZE D_SPEED D_TIME <<<"$DIRECT"
        if [ "${D_CODE:-}" = 200 ] && [ "${D_SIZE:-}" = "$BIG_BYTES" ]; then
            DIRECT_LINE=$(awk -v s="$D_SPEED" -v t="$D_TIME" -v n="$D_SIZE" \
                'BEGIN { printf "  straight from moto (no tollgate): %.1f MB/s (%d bytes, %.3fs)", s / 1e6, n, t }')
        else
            DIRECT_LINE="  straight from moto: GET $key answered ${D_CODE:-nothing} with ${D_SIZE:-0} bytes"
        fi
    else
        DIRECT_LINE="  straight from moto: could not fetch the tarball to find its blob key"
    fi
    MOTO_PID=$(backend_s3_pid || true)
    if [ -n "$MOTO_PID" ] && [ -r "/proc/$MOTO_PID/status" ]; then
        DIRECT_LINE="$DIRECT_LINE; moto RSS now $(mib "$(mem_kb "$MOTO_PID" VmRSS)")"
    fi
fi

# ---------------------------------------------------------------- server health
ERRS=$(grep -ciE 'error|panic' "$WORK/tollgate.err" || true)
kill -0 "$TG_PID" 2>/dev/null || die "tollgate died during the benchmark"

# ---------------------------------------------------------------- summary
RATIO=$(awk -v a="$W_tollgate_rps" -v b="$W_baseline_rps" 'BEGIN { printf "%.2f", a / b }')
verdict() { awk -v x="$1" -v t="$2" -v dir="$3" 'BEGIN { ok = (dir == "ge") ? x >= t : x < t; print ok ? "meets" : "MISSES" }'; }
HWM_NOTE=""
[ "$HWM_OK" = yes ] || HWM_NOTE=" (clear_refs failed: peak since start)"
{
    echo
    echo "================================================================ tollgate npm benchmark"
    echo "backend: $BACKEND_DESC"
    echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM; server and load generator share the cores"
    echo "data: $PACKAGES packages x $VERSIONS versions (seeded in ${SEED_SECS}s); @acme/p0 abbreviated packument = $DOC_BYTES bytes"
    echo "load: wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION --latency, authorized abbreviated packuments over $PACKAGES URLs, after a $WARMUP warm-up"
    echo
    printf '%-30s %12s %10s %10s %10s %10s %8s\n' "server" "req/s" "p50 ms" "p90 ms" "p99 ms" "non-2xx" "sockerr"
    for name in tollgate baseline; do
        r="W_${name}_rps" p50="W_${name}_p50" p90="W_${name}_p90" p99="W_${name}_p99" n="W_${name}_non2xx" e="W_${name}_errors"
        label=$name
        [ "$name" = baseline ] && label="baseline (bare axum+sha256)"
        printf '%-30s %12s %10s %10s %10s %10s %8s\n' "$label" "${!r}" "${!p50}" "${!p90}" "${!p99}" "${!n}" "${!e}"
    done
    echo
    echo "tollgate / baseline throughput: $RATIO  (target >= 0.50: $(verdict "$RATIO" 0.5 ge))"
    echo
    echo "tollgate RSS at start:                 $(mib "$RSS_START")"
    echo "tollgate RSS idle after seeding (${IDLE_SECS}s): $(mib "$RSS_IDLE")  (target < 64 MiB: $(verdict "$RSS_IDLE" 65536 lt))"
    echo "tollgate RSS right after its wrk run:  $(mib "$RSS_AFTER_WRK")  (peak so far $(mib "$HWM_AFTER_WRK"))"
    echo "tollgate RSS idle, caches warm:        $(mib "$RSS_IDLE_WARM")  (target < 64 MiB: $(verdict "$RSS_IDLE_WARM" 65536 lt); idle during the baseline run, every package read)"
    echo
    echo "big package: $BIG_BYTES bytes ($(awk -v b="$BIG_BYTES" 'BEGIN { printf "%.1f", b / 1048576 }') MiB)"
    echo "  publish: RSS before $(mib "$RSS_BEFORE_PUBLISH"), peak during $(mib "$HWM_PUBLISH")$HWM_NOTE; $(sed -n 's/.*\(PUT took [0-9.]*s\).*/\1/p' "$WORK/big.out")"
    printf '%s\n' "${DL_LINES[@]}"
    if [ "$BACKEND" = postgres-s3 ]; then
        echo "  download median: $DL_MEDIAN MB/s (curl -o /dev/null over loopback, streamed by tollgate from S3)"
        echo "  NOTE: the S3 server is moto, which keeps objects in RAM in a single Python process: this"
        echo "        download number measures moto more than tollgate (compare the direct line below)."
        echo "$DIRECT_LINE"
    else
        echo "  download median: $DL_MEDIAN MB/s (curl -o /dev/null over loopback; the blob is in the page cache)"
    fi
    echo "  server RSS before downloads $(mib "$RSS_BEFORE_DL"), peak during $(mib "$HWM_DL")$HWM_NOTE (sampled max $(mib "$RSS_SAMPLED")), after $(mib "$RSS_AFTER_DL")"
    echo
    echo "server log lines with error/panic (RUST_LOG=warn): $ERRS"
    echo "total time: $((SECONDS - STARTED))s"
}
