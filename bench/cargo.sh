#!/usr/bin/env bash
# Cargo sparse-registry benchmark for tollgate. Prints numbers; asserts nothing but sanity.
#
#   bench/cargo.sh                                           # full run: 1000 crates x 20 versions
#   CRATES=60 VERSIONS=3 DURATION=5s bench/cargo.sh          # quick run while developing
#
# What it does, on a fresh temporary data directory (SQLite + filesystem store):
#   1. builds `tollgate` in release mode, installs wrk if missing;
#   2. creates seller acme, product pro naming cargo:c0000 .. c0999, org buyer with a grant, a
#      publish token and an org token; starts `tollgate serve` (RUST_LOG=warn);
#   3. seeds CRATES x VERSIONS crates through the real publish endpoint
#      (PUT /acme/cargo/api/v1/crates/new, bench/seed_cargo.py), with RSS readings;
#   4. wrk, CONNECTIONS connections for DURATION, authorized index files rotating over all crates
#      (/acme/cargo/index/c0/00/c0000 ..., bench/cargo_index.lua), after a short warm-up;
#   5. a cold `cargo generate-lockfile` of a crate with LOCK_DEPS private dependencies
#      (c0000 = { version = "*", registry = "acme" } ...), each run with a fresh CARGO_HOME
#      (empty index cache), LOCK_RUNS times, median wall clock; then the same with the index
#      cache kept (Cargo revalidates every file: conditional requests), for comparison.
#
# Environment knobs (defaults in brackets): CRATES [1000] VERSIONS [20] DURATION [15s]
# CONNECTIONS [64] WRK_THREADS [2] WARMUP [3s] SEED_THREADS [8] IDLE_SECS [5] LOCK_DEPS [50]
# LOCK_RUNS [3]. KEEP=1 keeps the temporary directory (data, logs, wrk output).
#
# The server, wrk and cargo share this machine's cores: numbers are for that setup.
set -euo pipefail

CRATES=${CRATES:-1000}
VERSIONS=${VERSIONS:-20}
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-64}
WRK_THREADS=${WRK_THREADS:-2}
WARMUP=${WARMUP:-3s}
SEED_THREADS=${SEED_THREADS:-8}
IDLE_SECS=${IDLE_SECS:-5}
LOCK_DEPS=${LOCK_DEPS:-50}
LOCK_RUNS=${LOCK_RUNS:-3}
KEEP=${KEEP:-0}
CRATE_PREFIX=c

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
cd "$ROOT"
STARTED=$SECONDS

log() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

[ "$LOCK_DEPS" -le "$CRATES" ] || die "LOCK_DEPS ($LOCK_DEPS) must not exceed CRATES ($CRATES)"
[ "$CRATES" -le 10000 ] || die "CRATES is at most 10000 (names have 4 digits)"

# ---------------------------------------------------------------- tools and build
for tool in curl python3 cargo; do
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
cargo build --release --quiet --bin tollgate
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
TOLLGATE="$TARGET_DIR/release/tollgate"
# The real cargo binary, not the rustup proxy: the timed runs then measure cargo, not rustup.
CARGO_BIN=$(rustup which cargo 2>/dev/null || command -v cargo)
CARGO_VERSION=$("$CARGO_BIN" --version)

# ---------------------------------------------------------------- scratch space and cleanup
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-bench-cargo.XXXXXX")
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
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
crate() { printf '%s%04d' "$CRATE_PREFIX" "$1"; }

# Memory of a process, in KiB, from /proc/PID/status (VmRSS = now, VmHWM = peak).
mem_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
mib() { awk -v kb="$1" 'BEGIN { printf "%.1f MiB", kb / 1024 }'; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# ---------------------------------------------------------------- seller, product, buyer, tokens
log "setting up seller acme, product pro ($CRATES crates), org buyer, tokens"
tg seller create acme --name Acme --email bench@example.com >/dev/null
pkg_args=()
for ((i = 0; i < CRATES; i++)); do
    pkg_args+=(--package "cargo:$(crate "$i")")
done
tg product create --seller acme pro "${pkg_args[@]}" >/dev/null
tg org create --seller acme buyer --name Buyer >/dev/null
tg grant --seller acme --org buyer --product pro >/dev/null
PUBLISH_TOKEN=$(tg token create --seller acme --publish 2>/dev/null | secret)
ORG_TOKEN=$(tg token create --seller acme --org buyer 2>/dev/null | secret)
if [ -z "$PUBLISH_TOKEN" ] || [ -z "$ORG_TOKEN" ]; then die "could not create tokens"; fi

# ---------------------------------------------------------------- server, seeding, RSS
"$TOLLGATE" --data "$DATA" serve --listen 127.0.0.1:0 >"$WORK/tollgate.out" 2>"$WORK/tollgate.err" &
TG_PID=$!
PIDS+=("$TG_PID")
TG_URL=""
for _ in $(seq 1 100); do
    TG_URL=$(sed -n 's/^listening on \(http[^ ]*\).*/\1/p' "$WORK/tollgate.out" | head -n1)
    [ -n "$TG_URL" ] && break
    kill -0 "$TG_PID" 2>/dev/null || { cat "$WORK/tollgate.err" >&2; die "tollgate exited on start"; }
    sleep 0.1
done
[ -n "$TG_URL" ] || die "tollgate did not print its address"
TG_URL=${TG_URL%/}
API="$TG_URL/acme/cargo"
INDEX_PREFIX=/acme/cargo/index
sleep 1
RSS_START=$(mem_kb "$TG_PID" VmRSS)
log "tollgate at $TG_URL (pid $TG_PID), RSS at start $(mib "$RSS_START")"

log "seeding $CRATES crates x $VERSIONS versions"
SEED_T0=$SECONDS
python3 "$BENCH/seed_cargo.py" --api "$API" --token "$PUBLISH_TOKEN" --prefix "$CRATE_PREFIX" \
    --crates "$CRATES" --versions "$VERSIONS" --threads "$SEED_THREADS" | tee "$WORK/seed.out"
SEED_SECS=$((SECONDS - SEED_T0))
SEED_LINE=$(cat "$WORK/seed.out")
RSS_SEEDED=$(mem_kb "$TG_PID" VmRSS)
sleep "$IDLE_SECS"
RSS_IDLE=$(mem_kb "$TG_PID" VmRSS)
log "RSS right after seeding $(mib "$RSS_SEEDED"), after ${IDLE_SECS}s idle $(mib "$RSS_IDLE")"

# Sanity: config.json, one authorized index file with every version, 401 without a token.
code=$(curl -sS -o "$WORK/config.json" -w '%{http_code}' "$TG_URL$INDEX_PREFIX/config.json")
[ "$code" = 200 ] || die "config.json answered $code"
code=$(curl -sS -o "$WORK/c0000.idx" -w '%{http_code}' -H "authorization: $ORG_TOKEN" \
    "$TG_URL$INDEX_PREFIX/c0/00/$(crate 0)")
[ "$code" = 200 ] || { cat "$WORK/c0000.idx" >&2; die "index file GET answered $code"; }
IDX_LINES=$(grep -c . "$WORK/c0000.idx")
[ "$IDX_LINES" = "$VERSIONS" ] || die "$(crate 0)'s index file has $IDX_LINES lines, expected $VERSIONS"
IDX_BYTES=$(wc -c <"$WORK/c0000.idx")
last=$((CRATES - 1))
last_name=$(crate "$last")
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "authorization: $ORG_TOKEN" \
    "$TG_URL$INDEX_PREFIX/${last_name:0:2}/${last_name:2:2}/$last_name")
[ "$code" = 200 ] || die "index file of $last_name answered $code"
code=$(curl -sS -o /dev/null -w '%{http_code}' "$TG_URL$INDEX_PREFIX/c0/00/$(crate 0)")
[ "$code" = 401 ] || die "an anonymous index GET answered $code, expected 401"

# ---------------------------------------------------------------- wrk
export TG_TOKEN=$ORG_TOKEN TG_PREFIX=$INDEX_PREFIX TG_CRATE_PREFIX=$CRATE_PREFIX TG_CRATES=$CRATES
log "wrk: $CONNECTIONS connections, $WRK_THREADS threads, $DURATION (after $WARMUP warm-up), index files over $CRATES crates"
wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$WARMUP" -s "$BENCH/cargo_index.lua" "$TG_URL" >/dev/null
wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$BENCH/cargo_index.lua" "$TG_URL" \
    >"$WORK/wrk-index.txt"
cat "$WORK/wrk-index.txt" >&2
RSS_AFTER_WRK=$(mem_kb "$TG_PID" VmRSS)
HWM_AFTER_WRK=$(mem_kb "$TG_PID" VmHWM)
W_RPS=$(python3 "$BENCH/wrkstats.py" "$WORK/wrk-index.txt" rps)
W_P50=$(python3 "$BENCH/wrkstats.py" "$WORK/wrk-index.txt" p50)
W_P90=$(python3 "$BENCH/wrkstats.py" "$WORK/wrk-index.txt" p90)
W_P99=$(python3 "$BENCH/wrkstats.py" "$WORK/wrk-index.txt" p99)
W_NON2XX=$(python3 "$BENCH/wrkstats.py" "$WORK/wrk-index.txt" non2xx)
W_ERRORS=$(python3 "$BENCH/wrkstats.py" "$WORK/wrk-index.txt" errors)
W_REQUESTS=$(python3 "$BENCH/wrkstats.py" "$WORK/wrk-index.txt" requests)

# ---------------------------------------------------------------- cargo generate-lockfile
log "cargo generate-lockfile with $LOCK_DEPS private dependencies, $LOCK_RUNS cold runs ($CARGO_VERSION)"
PROJECT="$WORK/consumer"
mkdir -p "$PROJECT/src"
: >"$PROJECT/src/lib.rs"
{
    printf '[package]\nname = "consumer"\nversion = "0.1.0"\nedition = "2021"\npublish = false\n\n[dependencies]\n'
    for ((i = 0; i < LOCK_DEPS; i++)); do
        printf '%s = { version = "*", registry = "acme" }\n' "$(crate "$i")"
    done
} >"$PROJECT/Cargo.toml"

# new_cargo_home DIR: a CARGO_HOME that knows only the acme registry.
new_cargo_home() {
    rm -rf "$1"
    mkdir -p "$1"
    cat >"$1/config.toml" <<EOF
[registries.acme]
index = "sparse+$TG_URL/acme/cargo/index/"
credential-provider = ["cargo:token"]

[net]
retry = 0
EOF
}

# lock_run CARGO_HOME LOG: one timed generate-lockfile (prints seconds).
lock_run() {
    local home=$1 out=$2 t0 t1
    rm -f "$PROJECT/Cargo.lock"
    t0=$(now)
    if ! (cd "$PROJECT" && CARGO_HOME="$home" CARGO_REGISTRIES_ACME_TOKEN="$ORG_TOKEN" \
        CARGO_TERM_COLOR=never "$CARGO_BIN" generate-lockfile) >"$out" 2>&1; then
        cat "$out" >&2
        die "cargo generate-lockfile failed"
    fi
    t1=$(now)
    elapsed "$t0" "$t1"
}

# Sanity of a lockfile: LOCK_DEPS packages from the sparse source, each at the newest version.
check_lock() {
    local n newest
    n=$(grep -c "^source = \"sparse+$TG_URL/acme/cargo/index/\"" "$PROJECT/Cargo.lock" || true)
    [ "$n" = "$LOCK_DEPS" ] || die "Cargo.lock has $n packages from the acme registry, expected $LOCK_DEPS"
    newest="1.0.$((VERSIONS - 1))"
    n=$(grep -c "^version = \"$newest\"" "$PROJECT/Cargo.lock" || true)
    [ "$n" = "$LOCK_DEPS" ] || die "Cargo.lock has $n packages at $newest, expected $LOCK_DEPS"
}

COLD=()
for ((r = 1; r <= LOCK_RUNS; r++)); do
    home="$WORK/cargo-home-$r"
    new_cargo_home "$home"
    secs=$(lock_run "$home" "$WORK/lock-cold-$r.log")
    check_lock
    COLD+=("$secs")
    log "cold run $r: ${secs}s"
done
COLD_MEDIAN=$(median "${COLD[@]}")

# Warm: the index cache of the last cold run is kept; Cargo revalidates each file (ETag -> 304).
WARM=()
for ((r = 1; r <= LOCK_RUNS; r++)); do
    secs=$(lock_run "$WORK/cargo-home-$LOCK_RUNS" "$WORK/lock-warm-$r.log")
    check_lock
    WARM+=("$secs")
done
WARM_MEDIAN=$(median "${WARM[@]}")

# ---------------------------------------------------------------- server health
ERRS=$(grep -ciE 'error|panic' "$WORK/tollgate.err" || true)
kill -0 "$TG_PID" 2>/dev/null || die "tollgate died during the benchmark"
RSS_END=$(mem_kb "$TG_PID" VmRSS)

# ---------------------------------------------------------------- summary
{
    echo
    echo "================================================================ tollgate cargo (sparse index) benchmark"
    echo "backend: sqlite + filesystem (temporary data directory)"
    echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM; the server, wrk and cargo share these cores"
    echo "data: $CRATES crates x $VERSIONS versions, published through PUT /acme/cargo/api/v1/crates/new in ${SEED_SECS}s"
    echo "      ($SEED_LINE)"
    echo "      index file of $(crate 0) = $IDX_BYTES bytes, $IDX_LINES lines"
    echo
    echo "index files: wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION --latency, authorized (org token), rotating over $CRATES crates, after a $WARMUP warm-up"
    printf '  %12s %10s %10s %10s %10s %10s %8s\n' "requests" "req/s" "p50 ms" "p90 ms" "p99 ms" "non-2xx" "sockerr"
    printf '  %12s %10s %10s %10s %10s %10s %8s\n' "$W_REQUESTS" "$W_RPS" "$W_P50" "$W_P90" "$W_P99" "$W_NON2XX" "$W_ERRORS"
    echo
    echo "cargo generate-lockfile, $LOCK_DEPS private dependencies ($CARGO_VERSION, wall clock):"
    echo "  cold (fresh CARGO_HOME each run): median ${COLD_MEDIAN}s   runs: ${COLD[*]}"
    echo "  warm (index cache kept):          median ${WARM_MEDIAN}s   runs: ${WARM[*]}"
    echo
    echo "tollgate RSS at start:             $(mib "$RSS_START")"
    echo "tollgate RSS right after seeding:  $(mib "$RSS_SEEDED"); after ${IDLE_SECS}s idle $(mib "$RSS_IDLE")"
    echo "tollgate RSS right after wrk:      $(mib "$RSS_AFTER_WRK") (peak so far $(mib "$HWM_AFTER_WRK"))"
    echo "tollgate RSS at the end:           $(mib "$RSS_END")"
    echo
    echo "server log lines with error/panic (RUST_LOG=warn): $ERRS"
    echo "total time: $((SECONDS - STARTED))s"
}
