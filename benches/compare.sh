#!/usr/bin/env bash
# Times `velos logs` next to ripgrep on the same generated 1 GiB log, in the
# same run, in two page-cache states:
#   cached   - the file written in one go, then read once (large page-cache folios);
#   appended - the same bytes written in 4 KiB appends, the way a live log grows.
# Also reports velos's peak anonymous memory (RssAnon, not the mapped file).
#
# Usage: benches/compare.sh [SIZE] [DIR]    (defaults: 1GiB, target/bench-data)
# Needs: hyperfine, ripgrep (apt-get install -y hyperfine ripgrep).
set -euo pipefail
cd "$(dirname "$0")/.."

size="${1:-1GiB}"
dir="${2:-target/bench-data}"
mkdir -p "$dir"
cached="$dir/gen-$size.log"
appended="$dir/gen-$size-appended.log"

for tool in hyperfine rg; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y hyperfine ripgrep" >&2; exit 1; }
done

cargo build --release --quiet --example genlog
cargo build --release --quiet
velos="$PWD/target/release/velos"

if [ ! -s "$cached" ]; then
  echo "generating $cached ($size)…"
  target/release/examples/genlog --size "$size" --format plain --seed 42 -o "$cached"
fi
if [ ! -s "$appended" ] || [ "$appended" -ot "$cached" ]; then
  echo "writing $appended in 4 KiB appends…"
  rm -f "$appended"
  dd if="$cached" of="$appended" bs=4096 oflag=append conv=notrunc status=none
fi

# Six hours before the file's last record.
last_ms=$("$velos" logs "$cached" -n 1 --json | sed -E 's/^\{"ts":([0-9]+).*/\1/')
since=$(date -u -d "@$(( last_ms / 1000 - 6 * 3600 ))" +%Y-%m-%dT%H:%M:%SZ)
bytes=$(stat -L -c %s "$cached")

# Peak RssAnon (KiB) of a command, sampled every 5 ms.
peak_anon() {
  "$@" > /dev/null &
  local pid=$! peak=0 v
  while kill -0 "$pid" 2>/dev/null; do
    v=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ -n "$v" ] && [ "$v" -gt "$peak" ] && peak=$v
    sleep 0.005
  done
  wait "$pid" || true
  echo "$peak"
}

for state in cached appended; do
  file=$cached
  [ "$state" = appended ] && file=$appended
  cat "$file" > /dev/null
  echo
  echo "## $state page cache: $file ($(( bytes / 1048576 )) MiB, $(wc -l < "$file") lines)"
  hyperfine --style basic --warmup 2 --runs 10 --export-markdown "$dir/compare-$state.md" \
    -n "rg timeout" "rg timeout $file" \
    -n "velos --grep timeout --level error" "$velos logs $file --grep timeout --level error" \
    -n "rg -c -i error-or-fatal" "rg -c -i 'error|fatal' $file" \
    -n "velos --level error" "$velos logs $file --level error" \
    -n "velos --level error --since (6h before end)" "$velos logs $file --level error --since $since" \
    -n "velos --summary" "$velos logs $file --summary" \
    -n "velos --dedupe" "$velos logs $file --dedupe" \
    -n "rg -c (count lines)" "rg -c '' $file" \
    --output null > /dev/null
  cat "$dir/compare-$state.md"
  python3 - "$dir/compare-$state.md" "$bytes" <<'PY'
import sys, re
path, size = sys.argv[1], int(sys.argv[2])
rows = {}
for line in open(path):
    m = re.match(r"\|\s*`?(.+?)`?\s*\|\s*([\d.]+)\s*±", line)
    if m:
        rows[m.group(1)] = float(m.group(2)) / 1000
def ratio(a, b):
    if a in rows and b in rows:
        print(f"  {a}: {rows[a]*1000:.0f} ms = {rows[a]/rows[b]:.2f}x {b} ({size/rows[a]/1e9:.2f} GB/s)")
ratio("velos --grep timeout --level error", "rg timeout")
ratio("velos --level error", "rg -c -i error-or-fatal")
ratio("velos --level error --since (6h before end)", "rg -c -i error-or-fatal")
ratio("velos --summary", "rg -c (count lines)")
ratio("velos --dedupe", "rg -c (count lines)")
PY
done

echo
echo "peak RssAnon, velos logs --level error: $(peak_anon "$velos" logs "$cached" --level error) KiB"
echo "peak RssAnon, velos logs --json -n 0 --level warn+: $(peak_anon "$velos" logs "$cached" --json -n 0 --level warn+) KiB"
echo "peak RssAnon, velos logs -n 1000: $(peak_anon "$velos" logs "$cached" -n 1000) KiB"
echo "peak RssAnon, velos logs --summary: $(peak_anon "$velos" logs "$cached" --summary) KiB"
echo "peak RssAnon, velos logs --dedupe: $(peak_anon "$velos" logs "$cached" --dedupe) KiB"
