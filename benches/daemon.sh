#!/usr/bin/env bash
# Measures the supervisor daemon: memory and idle CPU with 10 supervised
# processes, `velos list` round trip, and capture throughput.
#
#   benches/daemon.sh                 # builds the release binary first
#   VELOS_BIN=path/to/velos benches/daemon.sh
#   LINES=5000000 benches/daemon.sh   # lines printed in the throughput run
#
# Prints figures only; nothing is asserted.
set -euo pipefail

cd "$(dirname "$0")/.."
if [[ -z "${VELOS_BIN:-}" ]]; then
    cargo build --release --quiet --bin velos
    VELOS_BIN="$PWD/target/release/velos"
fi
LINES="${LINES:-5000000}"

VELOS_HOME="$(mktemp -d /tmp/velos-bench.XXXXXX)"
export VELOS_HOME
cleanup() {
    "$VELOS_BIN" kill >/dev/null 2>&1 || true
    rm -rf "$VELOS_HOME"
}
trap cleanup EXIT

ticks() { # utime + stime of a pid, in clock ticks
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}
now_ns() { date +%s%N; }
hz=$(getconf CLK_TCK)

printf '[logs]\nmax_size = "4GiB"\n' >"$VELOS_HOME/config.toml"

echo "== 10 idle processes"
for i in $(seq 1 10); do
    "$VELOS_BIN" start --name "idle$i" -- sh -c 'while true; do sleep 1; done' >/dev/null
done
daemon=$(cat "$VELOS_HOME/velos.pid")
sleep 3
rss_kb=$(awk '/^VmRSS/ { print $2 }' "/proc/$daemon/status")
threads=$(awk '/^Threads/ { print $2 }' "/proc/$daemon/status")
echo "daemon RSS: $((rss_kb / 1024)).$(((rss_kb % 1024) * 10 / 1024)) MiB ($rss_kb KiB), threads: $threads"

t0=$(ticks "$daemon"); s0=$(now_ns)
sleep 10
t1=$(ticks "$daemon"); s1=$(now_ns)
awk -v t="$((t1 - t0))" -v hz="$hz" -v ns="$((s1 - s0))" \
    'BEGIN { printf "daemon CPU while children idle (10 s, metrics sampled each second): %.2f %%\n", 100 * t / hz / (ns / 1e9) }'

echo "== velos list round trip (10 processes, whole command: exec + connect + reply + print)"
runs=200
s0=$(now_ns)
for _ in $(seq 1 $runs); do "$VELOS_BIN" list >/dev/null; done
s1=$(now_ns)
awk -v ns="$((s1 - s0))" -v n="$runs" 'BEGIN { printf "velos list: %.2f ms per call (mean of %d)\n", ns / n / 1e6, n }'
s0=$(now_ns)
for _ in $(seq 1 $runs); do "$VELOS_BIN" list --json >/dev/null; done
s1=$(now_ns)
awk -v ns="$((s1 - s0))" -v n="$runs" 'BEGIN { printf "velos list --json: %.2f ms per call (mean of %d)\n", ns / n / 1e6, n }'
"$VELOS_BIN" list

echo "== capture throughput: seq 1 $LINES, as fast as it can print"
s0=$(now_ns)
seq 1 "$LINES" >/dev/null
s1=$(now_ns)
awk -v ns="$((s1 - s0))" -v n="$LINES" 'BEGIN { printf "seq alone to /dev/null: %.0f lines/s\n", n / (ns / 1e9) }'
log="$VELOS_HOME/logs/burst.log"
s0=$(now_ns)
"$VELOS_BIN" start --name burst --no-autorestart -- seq 1 "$LINES" >/dev/null
until "$VELOS_BIN" info burst --json | grep -q '"status": "stopped"'; do sleep 0.02; done
s1=$(now_ns)
captured=$(grep -c '"src":"stdout"' "$log")
awk -v ns="$((s1 - s0))" -v n="$LINES" -v c="$captured" -v b="$(stat -c %s "$log")" \
    'BEGIN { printf "captured %d of %d lines in %.2f s: %.0f lines/s, %.1f MiB/s of JSON\n", c, n, ns / 1e9, c / (ns / 1e9), b / 1048576 / (ns / 1e9) }'
last=$(grep '"src":"stdout"' "$log" | tail -n 1)
echo "last record: $last"
rss_kb=$(awk '/^VmRSS/ { print $2 }' "/proc/$daemon/status")
echo "daemon RSS after the burst: $((rss_kb / 1024)).$(((rss_kb % 1024) * 10 / 1024)) MiB"
