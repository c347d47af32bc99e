#!/usr/bin/env bash
# Measures the supervisor daemon: memory and idle CPU with 10 supervised
# processes, `velos list` round trip, capture throughput, and the same with
# Prometheus metrics and OTLP export on (to a local receiver in Python).
#
#   benches/daemon.sh                 # builds the release binary first
#   VELOS_BIN=path/to/velos benches/daemon.sh
#   LINES=5000000 benches/daemon.sh   # lines printed in the throughput runs
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
PLAIN_HOME="$VELOS_HOME"
export VELOS_HOME
FLEET_HOME="$(mktemp -d /tmp/velos-bench-fleet.XXXXXX)"
receiver_pid=""
cleanup() {
    VELOS_HOME="$PLAIN_HOME" "$VELOS_BIN" kill >/dev/null 2>&1 || true
    VELOS_HOME="$FLEET_HOME" "$VELOS_BIN" kill >/dev/null 2>&1 || true
    if [[ -n "$receiver_pid" ]]; then kill "$receiver_pid" 2>/dev/null || true; fi
    rm -rf "$PLAIN_HOME" "$FLEET_HOME"
}
trap cleanup EXIT

rss() { # resident memory of a pid, as "X.Y MiB (N KiB)"
    local kb
    kb=$(awk '/^VmRSS/ { print $2 }' "/proc/$1/status")
    echo "$((kb / 1024)).$(((kb % 1024) * 10 / 1024)) MiB ($kb KiB)"
}
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
t0=$(ticks "$daemon"); s0=$(now_ns)
"$VELOS_BIN" start --name burst --no-autorestart -- seq 1 "$LINES" >/dev/null
until "$VELOS_BIN" info burst --json | grep -q '"status": "stopped"'; do sleep 0.02; done
s1=$(now_ns); t1=$(ticks "$daemon")
captured=$(grep -c '"src":"stdout"' "$log")
awk -v ns="$((s1 - s0))" -v n="$LINES" -v c="$captured" -v b="$(stat -c %s "$log")" \
    'BEGIN { printf "captured %d of %d lines in %.2f s: %.0f lines/s, %.1f MiB/s of JSON\n", c, n, ns / 1e9, c / (ns / 1e9), b / 1048576 / (ns / 1e9) }'
echo "daemon CPU for the burst: $(((t1 - t0) * 1000 / hz)) ms"
last=$(grep '"src":"stdout"' "$log" | tail -n 1)
echo "last record: $last"
rss_kb=$(awk '/^VmRSS/ { print $2 }' "/proc/$daemon/status")
echo "daemon RSS after the burst: $((rss_kb / 1024)).$(((rss_kb % 1024) * 10 / 1024)) MiB"

echo "== the same with [metrics] and [export.otlp] on"
# An OTLP/HTTP receiver that accepts every request (keep-alive, HTTP/1.1).
python3 - >"$FLEET_HOME/receiver.port" <<'PY' &
import http.server
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
PY
receiver_pid=$!
until [[ -s "$FLEET_HOME/receiver.port" ]]; do sleep 0.05; done
receiver_port=$(cat "$FLEET_HOME/receiver.port")
metrics_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$VELOS_BIN" kill >/dev/null # the plain daemon
export VELOS_HOME="$FLEET_HOME"
printf '[logs]\nmax_size = "4GiB"\n[metrics]\nlisten = "127.0.0.1:%s"\n[export.otlp]\nendpoint = "http://127.0.0.1:%s"\n' \
    "$metrics_port" "$receiver_port" >"$VELOS_HOME/config.toml"
scrape() { curl -fsS "http://127.0.0.1:$metrics_port/metrics"; }
metric() { scrape | awk -v name="$1" '$1 == name { print $2 }'; }
for i in $(seq 1 10); do
    "$VELOS_BIN" start --name "tick$i" -- sh -c 'while true; do echo "tick $(date +%s) from worker"; sleep 1; done' >/dev/null
done
daemon=$(cat "$VELOS_HOME/velos.pid")
sleep 3
scrape >/dev/null
echo "daemon RSS (10 processes printing a line a second, exported; one scrape): $(rss "$daemon"), threads: $(awk '/^Threads/ { print $2 }' "/proc/$daemon/status")"
t0=$(ticks "$daemon"); s0=$(now_ns)
for _ in 1 2; do sleep 5; scrape >/dev/null; done
t1=$(ticks "$daemon"); s1=$(now_ns)
awk -v t="$((t1 - t0))" -v hz="$hz" -v ns="$((s1 - s0))" \
    'BEGIN { printf "daemon CPU (10 s: 100 records exported, 2 scrapes): %.2f %%\n", 100 * t / hz / (ns / 1e9) }'
echo "exported so far: $(metric velos_export_sent_records_total) records"
echo "daemon RSS after 10 s: $(rss "$daemon")"

echo "== capture throughput with export on: seq 1 $LINES"
log="$VELOS_HOME/logs/burst.log"
t0=$(ticks "$daemon"); s0=$(now_ns)
"$VELOS_BIN" start --name burst --no-autorestart -- seq 1 "$LINES" >/dev/null
until "$VELOS_BIN" info burst --json | grep -q '"status": "stopped"'; do sleep 0.02; done
s1=$(now_ns); t1=$(ticks "$daemon")
captured=$(grep -c '"src":"stdout"' "$log")
awk -v ns="$((s1 - s0))" -v n="$LINES" -v c="$captured" \
    'BEGIN { printf "captured %d of %d lines in %.2f s: %.0f lines/s (export on)\n", c, n, ns / 1e9, c / (ns / 1e9) }'
echo "daemon CPU for the burst (capture, queue, and the export thread encoding what it can): $(((t1 - t0) * 1000 / hz)) ms"
echo "daemon RSS right after the burst: $(rss "$daemon")"
echo "export queue: $(metric velos_export_queue_records) records; dropped while full: $(scrape | awk '/^velos_export_dropped_records_total\{reason="queue_full"\}/ { print $2 }')"
s0=$(now_ns)
until [[ "$(metric velos_export_queue_records)" == "0" ]]; do sleep 0.1; done
s1=$(now_ns)
awk -v ns="$((s1 - s0))" 'BEGIN { printf "queue drained %.2f s after the burst ended\n", ns / 1e9 }'
echo "exported: $(metric velos_export_sent_records_total) records; daemon RSS: $(rss "$daemon")"
