#!/usr/bin/env bash
# Measures the CPU used by `velos monit` watching 20 supervised processes
# (each printing a line a second) at the default refresh interval.
#
#   benches/monit.sh                  # builds the release binary first
#   VELOS_BIN=path/to/velos benches/monit.sh
#   SECONDS_MEASURED=60 INTERVAL=1s benches/monit.sh
#
# The monitor runs in a pseudo-terminal made by script(1), 80×24; its CPU
# time (all threads, user + system) is read from /proc before and after.
# Prints figures only; the target is ≤ 2 % of one core.
set -euo pipefail

cd "$(dirname "$0")/.."
if [[ -z "${VELOS_BIN:-}" ]]; then
    cargo build --release --quiet --bin velos
    VELOS_BIN="$PWD/target/release/velos"
fi
SECONDS_MEASURED="${SECONDS_MEASURED:-30}"
INTERVAL="${INTERVAL:-}"
PROCESSES="${PROCESSES:-20}"

VELOS_HOME="$(mktemp -d /tmp/velos-bench.XXXXXX)"
export VELOS_HOME
script_pid=""
cleanup() {
    if [[ -n "$script_pid" ]]; then
        kill "$script_pid" 2>/dev/null || true
    fi
    "$VELOS_BIN" kill >/dev/null 2>&1 || true
    rm -rf "$VELOS_HOME"
}
trap cleanup EXIT

ticks() { # utime + stime of a pid (all its threads), in clock ticks
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}
now_ns() { date +%s%N; }
hz=$(getconf CLK_TCK)

for i in $(seq 1 "$PROCESSES"); do
    "$VELOS_BIN" start --name "svc$i" -- sh -c 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 1; done' >/dev/null
done
sleep 2

args=""
if [[ -n "$INTERVAL" ]]; then
    args="--interval $INTERVAL"
fi
script -qfc "stty rows 24 cols 80; exec $VELOS_BIN monit $args" /dev/null </dev/null >/dev/null 2>&1 &
script_pid=$!

monit=""
for _ in $(seq 1 100); do
    monit=$(pgrep -P "$script_pid" || true)
    if [[ -n "$monit" ]] && grep -q monit "/proc/$monit/cmdline" 2>/dev/null; then
        break
    fi
    sleep 0.05
done
if [[ -z "$monit" ]]; then
    echo "velos monit did not start" >&2
    exit 1
fi
sleep 3 # first poll, first health scores

t0=$(ticks "$monit"); s0=$(now_ns)
sleep "$SECONDS_MEASURED"
t1=$(ticks "$monit"); s1=$(now_ns)
rss_kb=$(awk '/^VmRSS/ { print $2 }' "/proc/$monit/status")
threads=$(awk '/^Threads/ { print $2 }' "/proc/$monit/status")
awk -v t="$((t1 - t0))" -v hz="$hz" -v ns="$((s1 - s0))" -v n="$PROCESSES" -v i="${INTERVAL:-2s (default)}" \
    'BEGIN { printf "velos monit CPU, %d processes, interval %s, over %.0f s: %.2f %% of one core (%d ticks)\n", n, i, ns / 1e9, 100 * t / hz / (ns / 1e9), t }'
echo "velos monit RSS: $((rss_kb / 1024)).$(((rss_kb % 1024) * 10 / 1024)) MiB, threads: $threads"
