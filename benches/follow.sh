#!/usr/bin/env bash
# Measures `velos logs --follow`: latency from a write to the record being
# printed, and CPU use of an idle follow.
#
#   benches/follow.sh                 # builds the release binary first
#   VELOS_BIN=path/to/velos benches/follow.sh
#   WRITES=200 IDLE=20 benches/follow.sh
#
# Latency: WRITES records appended one at a time at random intervals
# (0–100 ms); each carries its write time, and a reader stamps each printed
# line on arrival. Twice: JSON lines (the daemon's log: a record is whole at
# its line end) and plain timestamped lines (a record is whole when the next
# one starts or after 1 s of silence, as continuation lines may follow).
# Idle: CPU time of a follow on a file nobody writes, over IDLE seconds.
#
# Prints figures only; nothing is asserted. Targets: latency <= 250 ms,
# idle CPU about 0 %.
set -euo pipefail

cd "$(dirname "$0")/.."
if [[ -z "${VELOS_BIN:-}" ]]; then
    cargo build --release --quiet --bin velos
    VELOS_BIN="$PWD/target/release/velos"
fi
WRITES="${WRITES:-200}"
IDLE="${IDLE:-20}"

work="$(mktemp -d /tmp/velos-follow-bench.XXXXXX)"
follower=""
cleanup() {
    if [[ -n "$follower" ]]; then kill "$follower" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# The follow writes into a FIFO; a reader stamps each line on arrival.
reader=""
start_follow() { # file, stamped output
    rm -f "$work/fifo"
    mkfifo "$work/fifo"
    while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done <"$work/fifo" >"$2" &
    reader=$!
    "$VELOS_BIN" logs "$1" --follow --lines 0 --no-color >"$work/fifo" 2>/dev/null &
    follower=$!
    sleep 0.5
}

stop_follow() {
    kill -INT "$follower" 2>/dev/null || true
    wait "$follower" 2>/dev/null || true
    wait "$reader" 2>/dev/null || true
    follower=""
}

latency() { # kind: json | plain
    local kind=$1 file="$work/$1.log" out="$work/$1.out"
    : >"$file"
    start_follow "$file" "$out"
    for i in $(seq 1 "$WRITES"); do
        now=$EPOCHREALTIME
        if [[ $kind == json ]]; then
            printf '{"ts":%s,"lvl":"info","pid":1,"msg":"w %s %s","src":"stdout"}\n' \
                "${now/./}" "$now" "$i" | cut -c1-200 >>"$file"
        else
            printf '%s INFO w %s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$now" "$i" >>"$file"
        fi
        sleep "0.$(printf '%03d' $((RANDOM % 100)))"
    done
    sleep 1.5
    stop_follow
    # Each printed line: <arrival> ... w <written> <i>
    awk '{ for (f = 2; f < NF; f++) if ($f == "w") { printf "%.3f\n", ($1 - $(f + 1)) * 1000; break } }' \
        "$out" | sort -n >"$work/$kind.ms"
    awk -v n="$WRITES" -v kind="$kind" '
        { d[NR] = $1 }
        END {
            if (NR == 0) { print kind ": no lines printed"; exit }
            p50 = d[int((NR + 1) / 2)]; i99 = int(NR * 0.99); if (i99 < NR * 0.99) i99++
            printf "%s lines: %d/%d printed; write -> printed: median %.1f ms, p99 %.1f ms, max %.1f ms\n", kind, NR, n, p50, d[i99], d[NR]
        }' "$work/$kind.ms"
}

echo "== latency ($WRITES writes, random 0-100 ms apart)"
latency json
latency plain

echo "== idle follow (${IDLE} s)"
idle="$work/idle.log"
printf 'one\ntwo\n' >"$idle"
"$VELOS_BIN" logs "$idle" --follow >/dev/null 2>&1 &
follower=$!
sleep 1
ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
t0=$(ticks "$follower"); s0=$EPOCHREALTIME
sleep "$IDLE"
t1=$(ticks "$follower"); s1=$EPOCHREALTIME
wakeups=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$follower/status")
awk -v t="$((t1 - t0))" -v hz="$hz" -v s0="$s0" -v s1="$s1" \
    'BEGIN { printf "idle follow CPU: %.3f %% (%d ticks in %.1f s)\n", 100 * t / hz / (s1 - s0), t, s1 - s0 }'
echo "main thread voluntary context switches since start: $wakeups"
kill -INT "$follower"
wait "$follower" 2>/dev/null || true
follower=""
