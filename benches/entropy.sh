#!/usr/bin/env bash
# `velos logs FILE --summary` time per MB on high-entropy input next to an
# ordinary log, in the same run:
#   random   - bytes from /dev/urandom (an encrypted or corrupt log);
#   unique   - text where every line is different (no two share a template);
#   generated - the realistic log of examples/genlog.
# Each at SIZE MB, plus random bytes at 4 × SIZE, which should take about
# four times as long (the analysis stays close to linear), and each with
# its peak resident memory. The goal: every file within 2× the generated
# log's CPU time per MiB, and 4 × SIZE of random bytes within 6× the time
# of SIZE.
#
# Usage: benches/entropy.sh [SIZE_MB] [DIR]    (defaults: 10, target/bench-data)
set -euo pipefail
cd "$(dirname "$0")/.."

mb="${1:-10}"
dir="${2:-target/bench-data}"
mkdir -p "$dir"
velos="${VELOS:-$PWD/target/release/velos}"
if [ -z "${VELOS:-}" ]; then
  cargo build --release --quiet
fi
cargo build --release --quiet --example genlog

random="$dir/random-${mb}M.bin"
random4="$dir/random-$((mb * 4))M.bin"
unique="$dir/unique-${mb}M.log"
generated="$dir/gen-${mb}M.log"
[ -s "$random" ] || head -c "${mb}M" /dev/urandom > "$random"
[ -s "$random4" ] || head -c "$((mb * 4))M" /dev/urandom > "$random4"
if [ ! -s "$unique" ]; then
  # Words made of the line's number in base 26: no two lines alike, no digits.
  awk -v bytes=$((mb * 1048576)) 'BEGIN {
    srand(7); n = 0; total = 0
    while (total < bytes) {
      line = ""
      for (w = 0; w < 8; w++) {
        x = int(rand() * 2147483647); word = ""
        for (k = 0; k < 6; k++) { word = word sprintf("%c", 97 + x % 26); x = int(x / 26) }
        line = line (w ? " " : "") word
      }
      print line; total += length(line) + 1; n++
    }
  }' > "$unique"
fi
[ -s "$generated" ] || target/release/examples/genlog --size "${mb}MiB" --seed 42 -o "$generated"

# Wall time depends on how busy the machine is; CPU time (user + system)
# is the figure to compare. The last column is the CPU time per MiB
# relative to the generated log's.
printf '%-28s %6s %8s %8s %12s %9s %10s\n' file MiB wall_s cpu_s "cpu s/MiB" "vs gen" "peak RSS"
rows=()
for f in "$random" "$random4" "$unique" "$generated"; do
  size=$(( $(stat -L -c %s "$f") / 1048576 ))
  cat "$f" > /dev/null
  out=$( { /usr/bin/time -f '%e %U %S %M' "$velos" logs "$f" --summary > /dev/null; } 2>&1 | tail -1)
  read -r wall user sys kb <<< "$out"
  cpu=$(echo "$user + $sys" | bc -l)
  rows+=("$(basename "$f") $size $wall $cpu $(echo "$cpu / $size" | bc -l) $((kb / 1024))")
done
gen_per_mib=$(echo "${rows[3]}" | awk '{print $5}')
for row in "${rows[@]}"; do
  read -r name size wall cpu per rss <<< "$row"
  printf '%-28s %6d %8.2f %8.2f %12.4f %8.1fx %7d MB\n' "$name" "$size" "$wall" "$cpu" "$per" \
    "$(echo "$per / $gen_per_mib" | bc -l)" "$rss"
done
cpu1=$(echo "${rows[0]}" | awk '{print $4}')
cpu4=$(echo "${rows[1]}" | awk '{print $4}')
printf 'random %d MB / %d MB CPU time: %.1fx (goal: at most 6x)\n' "$((mb * 4))" "$mb" \
  "$(echo "$cpu4 / $cpu1" | bc -l)"
