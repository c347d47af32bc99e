#!/usr/bin/env bash
# Capture with size rotation, `[logs] compress` off and on, in the same run:
# time until the last line is captured, time until every rotated part is
# gzipped, and the bytes left under logs/. Compression runs on its own thread,
# so the capture time should not depend on it; the peer is the same capture
# without compression.
#
#   benches/rotation.sh                   # builds the release binary first
#   VELOS_BIN=path/to/velos LINES=500000 MAX_SIZE=1MiB benches/rotation.sh
#
# Prints figures only; nothing is asserted.
set -euo pipefail

cd "$(dirname "$0")/.."
if [[ -z "${VELOS_BIN:-}" ]]; then
    cargo build --release --quiet --bin velos
    VELOS_BIN="$PWD/target/release/velos"
fi
LINES="${LINES:-500000}"
MAX_SIZE="${MAX_SIZE:-1MiB}"
work="$(mktemp -d)"
trap 'for h in "$work"/home-*; do VELOS_HOME="$h" "$VELOS_BIN" kill >/dev/null 2>&1 || true; done; rm -rf "$work"' EXIT

now() { date +%s.%N; }
for compress in false true; do
    home="$work/home-$compress"
    mkdir -p "$home"
    printf '[logs]\nmax_size = "%s"\nkeep = 100000\ncompress = %s\n' "$MAX_SIZE" "$compress" >"$home/config.toml"
    export VELOS_HOME="$home"
    "$VELOS_BIN" daemon >/dev/null
    start=$(now)
    "$VELOS_BIN" start --name cap -- sh -c "awk 'BEGIN{for(i=1;i<=$LINES;i++) print \"line \" i \" of the rotation benchmark with some padding text\"}'; echo done; exec sleep 600" >/dev/null
    until grep -q '"msg":"done"' "$home/logs/cap.log" 2>/dev/null; do sleep 0.01; done
    captured=$(now)
    while [[ $compress == true ]] && ls "$home/logs" | grep -qE '^cap\.log\.[0-9]+$'; do sleep 0.01; done
    compressed=$(now)
    parts=$(ls "$home/logs" | grep -c '^cap\.log\.' || true)
    bytes=$(du -sb "$home/logs" | cut -f1)
    printf 'compress=%-5s  captured %s lines in %.2f s  parts done after %.2f s  %d parts  %d bytes in logs/\n' \
        "$compress" "$LINES" "$(echo "$captured - $start" | bc)" "$(echo "$compressed - $start" | bc)" "$parts" "$bytes"
    "$VELOS_BIN" kill >/dev/null
done
