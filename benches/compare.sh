#!/usr/bin/env bash
# Prints every speed figure of `velos logs` next to its peer from the same
# run: ripgrep (line count, search), hl (level filter on JSON), zcat and
# zstd -dc (compressed input). For each of three generated logs:
#   genlog - the project's generator (examples/genlog, --seed 42);
#   plain  - ../shared/bench/gen.py (about 200 templates, traces, bursts);
#   json   - ../shared/bench/gen.py --format json;
# in two page-cache states:
#   cached   - the file written in one go, then read once (large folios);
#   appended - the same bytes written in 4 KiB appends, as a live log grows.
# Then -j1 against -j2 for each analysis command, peak anonymous memory
# (RssAnon, the mapped file excluded) of every command on every file and on
# a file of unique lines, and compressed input (gzip, zstd). Wall times are
# hyperfine means; CPU times (user+sys) are given too, which a busy machine
# skews less.
#
# Usage: benches/compare.sh [SIZE] [DIR] [HL]
#   SIZE  file size (default 1GiB)        DIR  data directory (default target/bench-data)
#   HL    path of an hl binary built from github.com/pamburus/hl (or env HL);
#         hl's rows are skipped, with a note, when it is absent.
#   GEN_PY  path of gen.py (default ../shared/bench/gen.py); its files are
#         skipped, with a note, when it is absent.
# Needs: hyperfine, ripgrep, gzip, zstd, python3 (apt-get install -y hyperfine ripgrep zstd).
set -euo pipefail
cd "$(dirname "$0")/.."

size="${1:-1GiB}"
dir="${2:-target/bench-data}"
hl="${3:-${HL:-}}"
gen_py="${GEN_PY:-../shared/bench/gen.py}"
runs="${RUNS:-5}"
mkdir -p "$dir"

for tool in hyperfine rg gzip zcat zstd python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y hyperfine ripgrep zstd python3" >&2; exit 1; }
done
if [ -n "$hl" ] && [ ! -x "$hl" ]; then
  echo "note: hl not found at $hl; its rows are skipped" >&2
  hl=""
fi
[ -n "$hl" ] || echo "note: no hl given (third argument or HL=path); hl's rows are skipped"

cargo build --release --quiet --example genlog
cargo build --release --quiet
velos="$PWD/target/release/velos"

# The files: name and path.
files=()
genlog="$dir/genlog-$size.log"
[ -s "$genlog" ] || target/release/examples/genlog --size "$size" --format plain --seed 42 -o "$genlog"
files+=("genlog:$genlog")
if [ -f "$gen_py" ]; then
  plain="$dir/genpy-plain-$size.log"
  json="$dir/genpy-json-$size.log"
  [ -s "$plain" ] || python3 "$gen_py" --size "$size" -o "$plain"
  [ -s "$json" ] || python3 "$gen_py" --size "$size" --format json -o "$json"
  files+=("plain:$plain" "json:$json")
else
  echo "note: $gen_py not found; the gen.py files are skipped (GEN_PY=path)"
fi

# A copy written in 4 KiB appends.
appended_copy() {
  local src=$1 dst="${1%.log}-appended.log"
  if [ ! -s "$dst" ] || [ "$dst" -ot "$src" ]; then
    rm -f "$dst"
    dd if="$src" of="$dst" bs=4096 oflag=append conv=notrunc status=none
  fi
  echo "$dst"
}

# Runs hyperfine on name/command pairs; prints mean wall and user+sys per command.
bench() {
  local json_out=$1
  shift
  hyperfine --style none --warmup 1 --runs "$runs" --export-json "$json_out" --output null "$@" > /dev/null
}

# Prints "ours: wall (CPU) = ratio x peer" lines from a hyperfine JSON export.
# Arguments: export, bytes, then triples "ours|peer|target" (target may be empty).
report() {
  python3 - "$@" <<'PY'
import json, sys
path, size = sys.argv[1], int(sys.argv[2])
rows = {r["command"]: r for r in json.load(open(path))["results"]}
def line(name):
    r = rows[name]
    return f"{r['mean']*1000:7.0f} ms wall, {(r['user']+r['system'])*1000:7.0f} ms CPU"
for name in rows:
    print(f"  {name:48} {line(name)}")
for triple in sys.argv[3:]:
    ours, peer, target = triple.split("|")
    if ours not in rows or peer not in rows:
        continue
    a, b = rows[ours], rows[peer]
    wall = a["mean"] / b["mean"]
    cpu = (a["user"] + a["system"]) / max(b["user"] + b["system"], 1e-9)
    goal = f" (target {target})" if target else ""
    print(f"  => {ours} / {peer}: {wall:.2f}x wall, {cpu:.2f}x CPU; {size/a['mean']/1e9:.2f} GB/s{goal}")
PY
}

for entry in "${files[@]}"; do
  name=${entry%%:*}
  cached=${entry#*:}
  appended=$(appended_copy "$cached")
  bytes=$(stat -L -c %s "$cached")
  # A word of the file's error records to search for.
  word=timeout
  for state in cached appended; do
    file=$cached
    [ "$state" = appended ] && file=$appended
    cat "$file" > /dev/null
    echo
    echo "## $name, $state page cache: $file ($(( bytes / 1048576 )) MiB, $(wc -l < "$file") lines)"
    cmds=(
      -n "rg -c ''" "rg -c '' $file"
      -n "velos --summary" "$velos logs $file --summary"
      -n "velos --dedupe" "$velos logs $file --dedupe"
      -n "rg $word" "rg $word $file"
      -n "velos --grep $word --level error" "$velos logs $file --grep $word --level error"
      -n "velos --level error" "$velos logs $file --level error"
    )
    if [ "$name" = json ] && [ -n "$hl" ]; then
      cmds+=(-n "hl --level error" "$hl -P --color never --level error $file")
    fi
    bench "$dir/compare-$name-$state.json" "${cmds[@]}"
    report "$dir/compare-$name-$state.json" "$bytes" \
      "velos --summary|rg -c ''|<= 1.5x" \
      "velos --dedupe|rg -c ''|<= 1.5x" \
      "velos --grep $word --level error|rg $word|<= 1.0x" \
      "velos --level error|hl --level error|<= 0.1x"
    if [ "$name" = json ] && [ -z "$hl" ]; then
      echo "  (hl --level error skipped: no hl binary given)"
    fi
  done

  echo
  echo "## $name: one worker thread against two (cached file)"
  bench "$dir/compare-$name-threads.json" \
    -n "velos --summary -j1" "$velos logs $cached --summary -j1" \
    -n "velos --summary -j2" "$velos logs $cached --summary -j2" \
    -n "velos --dedupe -j1" "$velos logs $cached --dedupe -j1" \
    -n "velos --dedupe -j2" "$velos logs $cached --dedupe -j2" \
    -n "velos --level error -j1" "$velos logs $cached --level error -j1" \
    -n "velos --level error -j2" "$velos logs $cached --level error -j2"
  report "$dir/compare-$name-threads.json" "$bytes" \
    "velos --summary -j2|velos --summary -j1|<= 0.56x (1.8x speed-up)" \
    "velos --dedupe -j2|velos --dedupe -j1|<= 0.56x (1.8x speed-up)" \
    "velos --level error -j2|velos --level error -j1|<= 0.56x (1.8x speed-up)"
done

# Peak RssAnon (KiB) of a command, sampled every 5 ms.
peak_anon() {
  "$@" > /dev/null 2>&1 &
  local pid=$! peak=0 v
  while kill -0 "$pid" 2>/dev/null; do
    v=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ -n "$v" ] && [ "$v" -gt "$peak" ] && peak=$v
    sleep 0.005
  done
  wait "$pid" || true
  echo "$peak"
}

# A file of unique lines: every line its own template (letters, no digits).
unique="$dir/unique-$size.log"
if [ ! -s "$unique" ]; then
  python3 - "$unique" "$size" <<'PY'
import sys, random, string
path, size = sys.argv[1], sys.argv[2]
units = {"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}
n = next((int(float(size[:-len(u)]) * m) for u, m in units.items() if size.endswith(u)), None) or int(size)
rnd = random.Random(7)
letters = string.ascii_lowercase
with open(path, "w") as f:
    written = 0
    while written < n:
        words = " ".join("".join(rnd.choice(letters) for _ in range(rnd.randint(3, 9))) for _ in range(8))
        line = f"2026-01-10T00:00:00.000Z INFO {words}\n"
        f.write(line)
        written += len(line)
PY
fi

echo
echo "## peak RssAnon (KiB, target < 65536)"
for entry in "${files[@]}" "unique:$unique"; do
  name=${entry%%:*}
  file=${entry#*:}
  for args in "--summary" "--dedupe" "--level error" "--grep timeout --level error" "--json -n 0 --level warn+" "-n 1000"; do
    # shellcheck disable=SC2086
    echo "  $name, velos logs F $args: $(peak_anon "$velos" logs "$file" $args)"
  done
done

# Compressed input: decoded on its own thread, pipelined with the analysis.
for entry in "${files[@]}"; do
  name=${entry%%:*}
  file=${entry#*:}
  gz="$file.gz"
  zst="$file.zst"
  [ -s "$gz" ] && [ "$gz" -nt "$file" ] || gzip -6 -c "$file" > "$gz"
  [ -s "$zst" ] && [ "$zst" -nt "$file" ] || zstd -q -3 -c "$file" > "$zst"
  echo
  echo "## $name compressed: $gz ($(( $(stat -L -c %s "$gz") / 1048576 )) MiB), $zst ($(( $(stat -L -c %s "$zst") / 1048576 )) MiB)"
  bench "$dir/compare-$name-compressed.json" \
    -n "zcat F.gz" "zcat $gz" \
    -n "velos logs F.gz --summary" "$velos logs $gz --summary" \
    -n "zcat F.gz | velos logs - --summary" "zcat $gz | $velos logs - --summary" \
    -n "zstd -dc F.zst" "zstd -dc $zst" \
    -n "velos logs F.zst --summary" "$velos logs $zst --summary" \
    -n "zstd -dc F.zst | velos logs - --summary" "zstd -dc $zst | $velos logs - --summary"
  report "$dir/compare-$name-compressed.json" "$(stat -L -c %s "$file")" \
    "velos logs F.gz --summary|zcat F.gz|<= 1.2x" \
    "velos logs F.zst --summary|zstd -dc F.zst|<= 1.2x"
  echo "  peak RssAnon, velos logs F.gz --summary: $(peak_anon "$velos" logs "$gz" --summary) KiB"
done
