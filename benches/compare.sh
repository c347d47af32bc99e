#!/usr/bin/env bash
# Times `velos logs` next to ripgrep on the same generated 1 GiB log, in the
# same run, in two page-cache states:
#   cached   - the file written in one go, then read once (large page-cache folios);
#   appended - the same bytes written in 4 KiB appends, the way a live log grows.
# Also reports velos's peak anonymous memory (RssAnon, not the mapped file),
# and compressed input: `velos logs F.gz --summary` next to `zcat F.gz` and
# `zcat F.gz | velos logs - --summary` (and the same with zstd), with the
# CPU time each takes (user+sys), which a busy machine does not skew.
#
# Usage: benches/compare.sh [SIZE] [DIR]    (defaults: 1GiB, target/bench-data)
# Needs: hyperfine, ripgrep, gzip, zstd (apt-get install -y hyperfine ripgrep zstd).
set -euo pipefail
cd "$(dirname "$0")/.."

size="${1:-1GiB}"
dir="${2:-target/bench-data}"
mkdir -p "$dir"
cached="$dir/gen-$size.log"
appended="$dir/gen-$size-appended.log"

for tool in hyperfine rg gzip zcat zstd; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y hyperfine ripgrep zstd" >&2; exit 1; }
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

# Compressed input: decoded on its own thread, pipelined with the analysis.
gz="$cached.gz"
zst="$cached.zst"
[ -s "$gz" ] && [ "$gz" -nt "$cached" ] || gzip -6 -c "$cached" > "$gz"
[ -s "$zst" ] && [ "$zst" -nt "$cached" ] || zstd -q -3 -c "$cached" > "$zst"
echo
echo "## compressed: $gz ($(( $(stat -L -c %s "$gz") / 1048576 )) MiB), $zst ($(( $(stat -L -c %s "$zst") / 1048576 )) MiB)"
hyperfine --style basic --warmup 1 --runs 5 --export-markdown "$dir/compare-compressed.md" \
  -n "zcat F.gz > /dev/null" "zcat $gz" \
  -n "zcat F.gz | velos logs - --summary" "zcat $gz | $velos logs - --summary" \
  -n "velos logs F.gz --summary" "$velos logs $gz --summary" \
  -n "zstd -dc F.zst > /dev/null" "zstd -dc $zst" \
  -n "zstd -dc F.zst | velos logs - --summary" "zstd -dc $zst | $velos logs - --summary" \
  -n "velos logs F.zst --summary" "$velos logs $zst --summary" \
  --output null > /dev/null
cat "$dir/compare-compressed.md"
# CPU seconds (user+sys) of each command, children included.
cpu() {
  local t
  t=$( { TIMEFORMAT='%U %S'; time "$@" > /dev/null 2>&1; } 2>&1 )
  awk -v t="$t" 'BEGIN { split(t, a, " "); printf "%.2f", a[1] + a[2] }'
}
echo "CPU s, zcat F.gz | velos logs - --summary: $(cpu sh -c "zcat $gz | $velos logs - --summary")"
echo "CPU s, velos logs F.gz --summary:          $(cpu "$velos" logs "$gz" --summary)"
echo "CPU s, zstd -dc F.zst | velos logs - --summary: $(cpu sh -c "zstd -dc $zst | $velos logs - --summary")"
echo "CPU s, velos logs F.zst --summary:              $(cpu "$velos" logs "$zst" --summary)"
echo "peak RssAnon, velos logs F.gz --summary: $(peak_anon "$velos" logs "$gz" --summary) KiB"
