#!/usr/bin/env bash
# `velos logs FILE --summary` time per MB on high-entropy input next to an
# ordinary log, in the same run:
#   random   - bytes from /dev/urandom (an encrypted or corrupt log);
#   unique   - text where every line is different (no two share a template);
#   generated - the realistic log of examples/genlog.
# Each at SIZE MB, plus random bytes at 4 × SIZE, which should take about
# four times as long (the analysis stays close to linear), and each with
# its peak resident memory.
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

printf '%-28s %8s %9s %10s %10s\n' file MiB seconds "s per MiB" "peak RSS"
for f in "$random" "$random4" "$unique" "$generated"; do
  size=$(( $(stat -L -c %s "$f") / 1048576 ))
  cat "$f" > /dev/null
  out=$( { /usr/bin/time -f '%e %M' "$velos" logs "$f" --summary > /dev/null; } 2>&1 | tail -1)
  secs=${out% *}
  kb=${out#* }
  printf '%-28s %8d %9.2f %10.3f %8d MB\n' "$(basename "$f")" "$size" "$secs" \
    "$(echo "$secs / $size" | bc -l)" "$((kb / 1024))"
done
