#!/usr/bin/env bash
# RubyGems compact-index benchmark for tollgate. Prints numbers; asserts nothing but sanity.
#
#   bench/rubygems.sh                                        # full run: 1000 gems x 20 versions
#   GEMS=60 VERSIONS=3 DURATION=5s bench/rubygems.sh         # quick run while developing
#
# What it does, on a fresh temporary data directory (SQLite + filesystem store):
#   1. builds `tollgate` in release mode, installs wrk if missing;
#   2. creates seller acme, product pro naming rubygems:g0000 .. g0999, org buyer with a grant, a
#      publish token and an org token; starts `tollgate serve` (RUST_LOG=warn);
#   3. pushes GEMS x VERSIONS gems through the real push endpoint (POST /acme/gems/api/v1/gems,
#      bench/seed_gems.py builds the .gem files), with RSS readings;
#   4. wrk, CONNECTIONS connections for DURATION each, HTTP Basic with the org token (as Bundler
#      sends it), after a short warm-up: (a) GET /acme/gems/versions (the whole compact index of
#      what the org may see), (b) GET /acme/gems/info/NAME rotating over all gems
#      (bench/gems_info.lua).
#
# Environment knobs (defaults in brackets): GEMS [1000] VERSIONS [20] DURATION [15s]
# CONNECTIONS [64] WRK_THREADS [2] WARMUP [3s] SEED_THREADS [8] IDLE_SECS [5].
# KEEP=1 keeps the temporary directory (data, logs, wrk output).
#
# The server and wrk share this machine's cores: numbers are for that setup.
set -euo pipefail

GEMS=${GEMS:-1000}
VERSIONS=${VERSIONS:-20}
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-64}
WRK_THREADS=${WRK_THREADS:-2}
WARMUP=${WARMUP:-3s}
SEED_THREADS=${SEED_THREADS:-8}
IDLE_SECS=${IDLE_SECS:-5}
KEEP=${KEEP:-0}
GEM_PREFIX=g

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
cd "$ROOT"
STARTED=$SECONDS

log() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

[ "$GEMS" -le 10000 ] || die "GEMS is at most 10000 (names have 4 digits)"

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
cargo build --release --quiet --bin tollgate
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
TOLLGATE="$TARGET_DIR/release/tollgate"

# ---------------------------------------------------------------- scratch space and cleanup
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-bench-gems.XXXXXX")
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
gem_name() { printf '%s%04d' "$GEM_PREFIX" "$1"; }

# Memory of a process, in KiB, from /proc/PID/status (VmRSS = now, VmHWM = peak).
mem_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
mib() { awk -v kb="$1" 'BEGIN { printf "%.1f MiB", kb / 1024 }'; }

# ---------------------------------------------------------------- seller, product, buyer, tokens
log "setting up seller acme, product pro ($GEMS gems), org buyer, tokens"
tg seller create acme --name Acme --email bench@example.com >/dev/null
pkg_args=()
for ((i = 0; i < GEMS; i++)); do
    pkg_args+=(--package "rubygems:$(gem_name "$i")")
done
tg product create --seller acme pro "${pkg_args[@]}" >/dev/null
tg org create --seller acme buyer --name Buyer >/dev/null
tg grant --seller acme --org buyer --product pro >/dev/null
PUBLISH_TOKEN=$(tg token create --seller acme --publish 2>/dev/null | secret)
ORG_TOKEN=$(tg token create --seller acme --org buyer 2>/dev/null | secret)
if [ -z "$PUBLISH_TOKEN" ] || [ -z "$ORG_TOKEN" ]; then die "could not create tokens"; fi
# Bundler's form: the token as the user name, an empty password.
BASIC="Basic $(printf '%s:' "$ORG_TOKEN" | base64 -w0)"

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
PREFIX=/acme/gems
SOURCE="$TG_URL$PREFIX"
sleep 1
RSS_START=$(mem_kb "$TG_PID" VmRSS)
log "tollgate at $TG_URL (pid $TG_PID), RSS at start $(mib "$RSS_START")"

log "pushing $GEMS gems x $VERSIONS versions"
SEED_T0=$SECONDS
python3 "$BENCH/seed_gems.py" --source "$SOURCE" --token "$PUBLISH_TOKEN" --prefix "$GEM_PREFIX" \
    --gems "$GEMS" --versions "$VERSIONS" --threads "$SEED_THREADS" | tee "$WORK/seed.out"
SEED_SECS=$((SECONDS - SEED_T0))
SEED_LINE=$(cat "$WORK/seed.out")
RSS_SEEDED=$(mem_kb "$TG_PID" VmRSS)
sleep "$IDLE_SECS"
RSS_IDLE=$(mem_kb "$TG_PID" VmRSS)
log "RSS right after pushing $(mib "$RSS_SEEDED"), after ${IDLE_SECS}s idle $(mib "$RSS_IDLE")"

# Sanity: /versions lists every gem, /info/g0000 every version, 401 without a token.
code=$(curl -sS -o "$WORK/versions" -w '%{http_code}' -H "authorization: $BASIC" "$SOURCE/versions")
[ "$code" = 200 ] || { head -c 500 "$WORK/versions" >&2; die "/versions answered $code"; }
VERSIONS_BYTES=$(wc -c <"$WORK/versions")
# Lines after the `---` separator: one per gem.
VERSIONS_GEMS=$(awk 'seen { n++ } /^---$/ { seen = 1 } END { print n + 0 }' "$WORK/versions")
[ "$VERSIONS_GEMS" = "$GEMS" ] || die "/versions lists $VERSIONS_GEMS gems, expected $GEMS"
code=$(curl -sS -o "$WORK/info" -w '%{http_code}' -H "authorization: $BASIC" "$SOURCE/info/$(gem_name 0)")
[ "$code" = 200 ] || { head -c 500 "$WORK/info" >&2; die "/info/$(gem_name 0) answered $code"; }
INFO_BYTES=$(wc -c <"$WORK/info")
INFO_LINES=$(awk 'seen { n++ } /^---$/ { seen = 1 } END { print n + 0 }' "$WORK/info")
[ "$INFO_LINES" = "$VERSIONS" ] || die "/info/$(gem_name 0) lists $INFO_LINES versions, expected $VERSIONS"
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "authorization: $BASIC" "$SOURCE/info/$(gem_name $((GEMS - 1)))")
[ "$code" = 200 ] || die "/info/$(gem_name $((GEMS - 1))) answered $code"
code=$(curl -sS -o /dev/null -w '%{http_code}' "$SOURCE/versions")
[ "$code" = 401 ] || die "an anonymous /versions GET answered $code, expected 401"

# ---------------------------------------------------------------- wrk
# run_wrk NAME [wrk args...]: warm-up, then the measured run into $WORK/wrk-NAME.txt
run_wrk() {
    local name=$1
    shift
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$WARMUP" "$@" >/dev/null
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" >"$WORK/wrk-$name.txt"
    cat "$WORK/wrk-$name.txt" >&2
}

log "wrk /versions: $CONNECTIONS connections, $WRK_THREADS threads, $DURATION (after $WARMUP warm-up)"
run_wrk versions -H "Authorization: $BASIC" "$SOURCE/versions"
RSS_AFTER_VERSIONS=$(mem_kb "$TG_PID" VmRSS)

export TG_AUTH=$BASIC TG_PREFIX=$PREFIX TG_GEM_PREFIX=$GEM_PREFIX TG_GEMS=$GEMS
log "wrk /info/NAME over $GEMS gems: $CONNECTIONS connections, $WRK_THREADS threads, $DURATION (after $WARMUP warm-up)"
run_wrk info -s "$BENCH/gems_info.lua" "$TG_URL"
RSS_AFTER_INFO=$(mem_kb "$TG_PID" VmRSS)
HWM=$(mem_kb "$TG_PID" VmHWM)

for name in versions info; do
    for f in rps p50 p90 p99 non2xx errors requests; do
        printf -v "W_${name}_$f" '%s' "$(python3 "$BENCH/wrkstats.py" "$WORK/wrk-$name.txt" "$f")"
    done
done

# ---------------------------------------------------------------- server health
ERRS=$(grep -ciE 'error|panic' "$WORK/tollgate.err" || true)
kill -0 "$TG_PID" 2>/dev/null || die "tollgate died during the benchmark"

# ---------------------------------------------------------------- summary
{
    echo
    echo "================================================================ tollgate rubygems (compact index) benchmark"
    echo "backend: sqlite + filesystem (temporary data directory)"
    echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM; the server and wrk share these cores"
    echo "data: $GEMS gems x $VERSIONS versions, pushed through POST /acme/gems/api/v1/gems in ${SEED_SECS}s"
    echo "      ($SEED_LINE)"
    echo "      /versions body = $VERSIONS_BYTES bytes ($VERSIONS_GEMS gems); /info/$(gem_name 0) body = $INFO_BYTES bytes ($INFO_LINES versions)"
    echo
    echo "load: wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION --latency, HTTP Basic with the org token, after a $WARMUP warm-up each"
    printf '  %-28s %10s %10s %10s %10s %10s %10s %8s\n' "endpoint" "requests" "req/s" "p50 ms" "p90 ms" "p99 ms" "non-2xx" "sockerr"
    for name in versions info; do
        r="W_${name}_rps" p50="W_${name}_p50" p90="W_${name}_p90" p99="W_${name}_p99" n="W_${name}_non2xx" e="W_${name}_errors" q="W_${name}_requests"
        label="GET /versions"
        [ "$name" = info ] && label="GET /info/NAME ($GEMS names)"
        printf '  %-28s %10s %10s %10s %10s %10s %10s %8s\n' "$label" "${!q}" "${!r}" "${!p50}" "${!p90}" "${!p99}" "${!n}" "${!e}"
    done
    echo
    echo "tollgate RSS at start:              $(mib "$RSS_START")"
    echo "tollgate RSS right after pushing:   $(mib "$RSS_SEEDED"); after ${IDLE_SECS}s idle $(mib "$RSS_IDLE")"
    echo "tollgate RSS after wrk /versions:   $(mib "$RSS_AFTER_VERSIONS")"
    echo "tollgate RSS after wrk /info:       $(mib "$RSS_AFTER_INFO") (peak $(mib "$HWM"))"
    echo
    echo "server log lines with error/panic (RUST_LOG=warn): $ERRS"
    echo "total time: $((SECONDS - STARTED))s"
}
