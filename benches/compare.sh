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
# a file of unique lines (every line its own template), and compressed
# input (gzip, zstd). Wall times are hyperfine means; CPU times (user+sys)
# are given too, which a busy machine skews less.
#
# Files are handled one at a time: made (unless given), measured, and, with
# CLEAN=1, deleted before the next one is made, so the run needs room for
# one file, its appended copy and its compressed copies at a time.
#
# Usage: benches/compare.sh [SIZE] [DIR] [HL]
#   SIZE  file size (default 1GiB)        DIR  data directory (default target/bench-data)
#   HL    path of an hl binary built from github.com/pamburus/hl (or env HL);
#         hl's rows are skipped, with a note, when it is absent. hl reads
#         benches/hl-lvl.toml, so it takes gen.py's `lvl` field as the level.
# Environment:
#   GEN_PY   path of gen.py (default ../shared/bench/gen.py); its files are
#            skipped, with a note, when it is absent.
#   GENLOG, PLAIN, JSON, UNIQUE   existing files to use instead of making them.
#   BASE     another velos binary: its rows are printed next to this build's.
#   RUNS     hyperfine runs per command (default 5).
#   ONLY     space-separated subset of: genlog plain json unique.
#   CLEAN=1  delete the files this run made once they are measured.
# Needs: hyperfine, ripgrep, gzip, zstd, python3 (apt-get install -y hyperfine ripgrep zstd).
set -euo pipefail
cd "$(dirname "$0")/.."

size="${1:-1GiB}"
dir="${2:-target/bench-data}"
hl="${3:-${HL:-}}"
gen_py="${GEN_PY:-../shared/bench/gen.py}"
runs="${RUNS:-5}"
base="${BASE:-}"
only="${ONLY:-genlog plain json unique}"
hl_config="$PWD/benches/hl-lvl.toml"
mkdir -p "$dir"

for tool in hyperfine rg gzip zcat zstd python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y hyperfine ripgrep zstd python3" >&2; exit 1; }
done
if [ -n "$hl" ] && [ ! -x "$hl" ]; then
  echo "note: hl not found at $hl; its rows are skipped" >&2
  hl=""
fi
[ -n "$hl" ] || echo "note: no hl given (third argument or HL=path); hl's rows are skipped"
if [ -n "$base" ] && [ ! -x "$base" ]; then
  echo "note: BASE=$base is not an executable; its rows are skipped" >&2
  base=""
fi

cargo build --release --quiet
velos="$PWD/target/release/velos"
echo "velos: $velos ($(git rev-parse --short HEAD 2>/dev/null || echo '?'))${base:+, base: $base}"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# Files this run made, deleted with CLEAN=1.
made=()
clean_made() {
  if [ "${CLEAN:-}" = 1 ] && [ "${#made[@]}" -gt 0 ]; then
    rm -f "${made[@]}"
  fi
  made=()
}

# Makes (unless given) the file of kind $1; sets `path` to it.
make_file() {
  local kind=$1
  case $kind in
    genlog)
      path="${GENLOG:-$dir/genlog-$size.log}"
      if [ ! -s "$path" ]; then
        cargo build --release --quiet --example genlog
        target/release/examples/genlog --size "$size" --format plain --seed 42 -o "$path"
        made+=("$path")
      fi ;;
    plain)
      path="${PLAIN:-$dir/genpy-plain-$size.log}"
      if [ ! -s "$path" ]; then
        python3 "$gen_py" --size "$size" -o "$path"
        made+=("$path")
      fi ;;
    json)
      path="${JSON:-$dir/genpy-json-$size.log}"
      if [ ! -s "$path" ]; then
        python3 "$gen_py" --size "$size" --format json -o "$path"
        made+=("$path")
      fi ;;
    unique)
      path="${UNIQUE:-$dir/unique-$size.log}"
      if [ ! -s "$path" ]; then
        made+=("$path")
        # Every line its own template: words of letters, no digits.
        python3 - "$path" "$size" <<'PY'
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
      fi ;;
  esac
}

# A copy written in 4 KiB appends (made next to the data, always deleted
# with CLEAN=1); sets `appended` to it.
appended_copy() {
  local src=$1 dst
  dst="$dir/$(basename "${src%.log}")-appended.log"
  if [ ! -s "$dst" ] || [ "$dst" -ot "$src" ]; then
    rm -f "$dst"
    dd if="$src" of="$dst" bs=4096 oflag=append conv=notrunc status=none
  fi
  made+=("$dst")
  appended=$dst
}

# Runs hyperfine on name/command pairs into a JSON export.
bench() {
  local json_out=$1
  shift
  hyperfine -N --style none --warmup 1 --runs "$runs" --export-json "$json_out" --output null "$@" > /dev/null
}

# Prints every row of a hyperfine export, then "ours / peer" lines.
# Arguments: export, bytes, then triples "ours|peer|target" (target may be empty).
report() {
  python3 - "$@" <<'PY'
import json, sys
path, size = sys.argv[1], int(sys.argv[2])
rows = {r["command"]: r for r in json.load(open(path))["results"]}
def cpu(r):
    return r["user"] + r["system"]
for name, r in rows.items():
    print(f"  {name:44} {r['mean']*1000:7.0f} ms wall ± {r['stddev']*1000:4.0f}, {cpu(r)*1000:7.0f} ms CPU")
for triple in sys.argv[3:]:
    ours, peer, target = triple.split("|")
    if ours not in rows or peer not in rows:
        continue
    a, b = rows[ours], rows[peer]
    wall = a["mean"] / b["mean"]
    ratio = cpu(a) / max(cpu(b), 1e-9)
    goal = f" (target {target})" if target else ""
    print(f"  => {ours} / {peer}: {wall:.2f}x wall, {ratio:.2f}x CPU; {size/a['mean']/1e9:.2f} GB/s{goal}")
PY
}

# Peak RssAnon (KiB) of a command, sampled every 5 ms.
peak_anon() {
  "$@" > /dev/null 2>&1 &
  local pid=$! peak=0 v
  while kill -0 "$pid" 2>/dev/null; do
    v=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$v" ] && [ "$v" -gt "$peak" ] && peak=$v
    sleep 0.005
  done
  wait "$pid" || true
  echo "$peak"
}

# Prints peak RssAnon of every command on `file` (name $1, path $2).
memory() {
  local name=$1 file=$2 args kib worst=0
  echo
  echo "## $name: peak RssAnon (KiB, target < 65536)"
  for args in "--summary" "--dedupe" "--level error" "--grep timeout --level error" "--json -n 0 --level warn+" "-n 1000"; do
    # shellcheck disable=SC2086
    kib=$(peak_anon "$velos" logs "$file" $args)
    [ "$kib" -gt "$worst" ] && worst=$kib
    if [ -n "$base" ]; then
      # shellcheck disable=SC2086
      echo "  velos logs F $args: $kib (base: $(peak_anon "$base" logs "$file" $args))"
    else
      echo "  velos logs F $args: $kib"
    fi
  done
  echo "  => largest: $worst KiB ($(( worst / 1024 )) MiB; target < 64 MiB)"
}

# Speed against rg and hl, both page-cache states.
speed() {
  local name=$1 cached=$2 bytes word=timeout state file
  appended_copy "$cached"
  bytes=$(stat -L -c %s "$cached")
  for state in cached appended; do
    file=$cached
    [ "$state" = appended ] && file=$appended
    cat "$file" > /dev/null
    echo
    echo "## $name, $state page cache: $file ($(( bytes / 1048576 )) MiB, $(wc -l < "$file") lines)"
    local cmds=(
      -n "rg -c ''" "rg -c '' $file"
      -n "velos --summary" "$velos logs $file --summary"
      -n "velos --dedupe" "$velos logs $file --dedupe"
      -n "rg $word" "rg $word $file"
      -n "velos --grep $word --level error" "$velos logs $file --grep $word --level error"
      -n "velos --level error" "$velos logs $file --level error"
    )
    if [ -n "$base" ]; then
      cmds+=(
        -n "base --summary" "$base logs $file --summary"
        -n "base --dedupe" "$base logs $file --dedupe"
        -n "base --level error" "$base logs $file --level error"
      )
    fi
    if [ "$name" = json ] && [ -n "$hl" ]; then
      # -r prints the records as they are: hl's fastest output.
      cmds+=(-n "hl -r --level e" "$hl --config $hl_config -P -r --level e $file")
    fi
    bench "$dir/compare-$name-$state.json" "${cmds[@]}"
    report "$dir/compare-$name-$state.json" "$bytes" \
      "velos --summary|rg -c ''|<= 1.5x" \
      "velos --dedupe|rg -c ''|<= 1.5x" \
      "velos --grep $word --level error|rg $word|<= 1.0x" \
      "velos --level error|hl -r --level e|<= 0.1x" \
      "velos --summary|base --summary|" \
      "velos --dedupe|base --dedupe|" \
      "velos --level error|base --level error|"
    if [ "$name" = json ] && [ -z "$hl" ]; then
      echo "  (hl skipped: no hl binary given)"
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
}

# Compressed input: decoded on its own thread, pipelined with the analysis.
compressed() {
  local name=$1 file=$2 gz zst
  gz="$dir/$(basename "$file").gz"
  zst="$dir/$(basename "$file").zst"
  { [ -s "$gz" ] && [ "$gz" -nt "$file" ]; } || gzip -6 -c "$file" > "$gz"
  { [ -s "$zst" ] && [ "$zst" -nt "$file" ]; } || zstd -q -3 -c "$file" > "$zst"
  made+=("$gz" "$zst")
  echo
  echo "## $name compressed: $gz ($(( $(stat -L -c %s "$gz") / 1048576 )) MiB), $zst ($(( $(stat -L -c %s "$zst") / 1048576 )) MiB)"
  local cmds=(
    -n "zcat F.gz" "zcat $gz"
    -n "velos logs F.gz --summary" "$velos logs $gz --summary"
    -n "zstd -dc F.zst" "zstd -dc $zst"
    -n "velos logs F.zst --summary" "$velos logs $zst --summary"
    -n "velos logs F --summary" "$velos logs $file --summary"
  )
  if [ -n "$base" ]; then
    cmds+=(
      -n "base logs F.gz --summary" "$base logs $gz --summary"
      -n "base logs F.zst --summary" "$base logs $zst --summary"
    )
  fi
  bench "$dir/compare-$name-compressed.json" "${cmds[@]}"
  report "$dir/compare-$name-compressed.json" "$(stat -L -c %s "$file")" \
    "velos logs F.gz --summary|zcat F.gz|<= 1.2x" \
    "velos logs F.zst --summary|zstd -dc F.zst|<= 1.2x" \
    "velos logs F.gz --summary|base logs F.gz --summary|" \
    "velos logs F.zst --summary|base logs F.zst --summary|"
  echo "  peak RssAnon (KiB): velos logs F.gz --summary $(peak_anon "$velos" logs "$gz" --summary)," \
    "--dedupe $(peak_anon "$velos" logs "$gz" --dedupe), F.zst --dedupe $(peak_anon "$velos" logs "$zst" --dedupe)"
}

for kind in $only; do
  given=""
  case $kind in
    plain) given="${PLAIN:-}" ;;
    json) given="${JSON:-}" ;;
  esac
  if { [ "$kind" = plain ] || [ "$kind" = json ]; } && [ -z "$given" ] && [ ! -f "$gen_py" ]; then
    echo "note: $gen_py not found; the $kind file is skipped (GEN_PY=path)"
    continue
  fi
  make_file "$kind"
  if [ "$kind" = unique ]; then
    memory "$kind" "$path"
  else
    speed "$kind" "$path"
    memory "$kind" "$path"
    compressed "$kind" "$path"
  fi
  clean_made
done
