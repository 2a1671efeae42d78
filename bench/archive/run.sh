#!/usr/bin/env bash
# Benchmark: archiving every cited page. `citeguard check --store` (a first
# run, then a second on the same store with nothing changed) against
# `wget --warc-file` on the same URL list, over bench/check's corpus of
# 5,000 pages on 20 loopback hosts (127.0.0.10-29:8080) served by nginx.
#
#   bench/archive/run.sh
#
# Installs nginx, wget and /usr/bin/time (apt, as root) when missing, and
# warcio through .ci/setup-archive. Measures wall time and peak RSS
# (/usr/bin/time -v), bytes added to disk (du -sb), and, from nginx's access
# log, the requests served and the body bytes sent. Checks both WARCs with
# `warcio check`. Two reference rows follow: the same check with --no-store,
# and run A with its store on tmpfs (/dev/shm), where fsync costs nothing.
# Prints a table, then the ratios issue 12 sets as targets (first run
# against wget, recheck against --no-store, bytes against wget's WARC,
# peak memory), each with "met" or "NOT met"; the first run's ratio is of
# the medians of FIRST_ROUNDS (default 3) further A and wget runs, the
# recheck's of RECHECK_ROUNDS (default 7) further B and --no-store runs,
# each pair alternated; peaks are the highest of all runs. bench/README.md keeps the figures of a run.
#
# WORK (default target/bench-archive) holds the nginx files and TMP (the
# stores and WARCs, kept for a look after the run); CHECK_WORK (default
# target/bench-check, shared with bench/check/run.sh) holds the corpus.
# BIG=0 skips the last row, run A's peak memory at 100,000 unique URLs
# (bench/check's memory corpus: 100,000 URLs that answer 404, each
# archived as its response and request records). CITEGUARD=path runs that
# binary instead of building one (an earlier build, for a before/after
# pair in one sitting).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
WORK=${WORK:-$ROOT/target/bench-archive}
CHECK_WORK=${CHECK_WORK:-$ROOT/target/bench-check}
TMP=$WORK/tmp
PYTOOLS=${CITEGUARD_PYTOOLS:-$HOME/.cache/citeguard/pytools}

need_apt=()
command -v nginx >/dev/null || need_apt+=(nginx-light)
command -v wget >/dev/null || need_apt+=(wget)
[ -x /usr/bin/time ] || need_apt+=(time)
if [ ${#need_apt[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "run as root to install: ${need_apt[*]}" >&2; exit 1; }
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}"
fi
CITEGUARD_PYTOOLS=$PYTOOLS .ci/setup-archive
WARCIO=$PYTOOLS/bin/warcio
if [ -n "${CITEGUARD:-}" ]; then
  CG=$CITEGUARD
else
  cargo build --release --bin citeguard
  CG=$ROOT/target/release/citeguard
fi

# The corpus, generated exactly as bench/check/run.sh does (and shared with it).
CORPUS=$CHECK_WORK/corpus
if [ ! -f "$CORPUS/.complete" ]; then
  rm -rf "$CORPUS"
  python3 bench/check/gen.py --out "$CORPUS"
  touch "$CORPUS/.complete"
fi

BIG_CORPUS=$CHECK_WORK/big
if [ "${BIG:-1}" != 0 ] && [ ! -f "$BIG_CORPUS/.complete" ]; then
  rm -rf "$BIG_CORPUS"
  python3 bench/check/gen.py --out "$BIG_CORPUS" --missing-only 100000
  touch "$BIG_CORPUS/.complete"
fi

rm -rf "$TMP"
mkdir -p "$WORK" "$TMP"
# shellcheck source=bench/archive/serve.sh
. bench/archive/serve.sh
serve_archive "$WORK" "$CORPUS"

# measure NAME DIR COMMAND... : runs COMMAND in DIR under /usr/bin/time -v;
# leaves NAME.{out,err,time,rc,log} in $TMP (NAME.log: the access-log lines
# of the run) and sets M_WALL (s), M_RSS (MB), M_CPU (user+sys s),
# M_REQS and M_SENT (body bytes).
measure() {
  local name=$1 dir=$2; shift 2
  local before rc=0
  before=$(wc -l <"$WORK/access.log")
  (cd "$dir" && /usr/bin/time -v -o "$TMP/$name.time" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err") || rc=$?
  echo "$rc" >"$TMP/$name.rc"
  tail -n +"$((before + 1))" "$WORK/access.log" >"$TMP/$name.log"
  M_WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {
             n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]
             printf "%.2f", s }' "$TMP/$name.time")
  M_RSS=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$TMP/$name.time")
  M_CPU=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.2f", u + s }' "$TMP/$name.time")
  M_REQS=$(wc -l <"$TMP/$name.log")
  M_SENT=$(awk '{ s += $3 } END { printf "%.0f", s }' "$TMP/$name.log")
}
bytes() { du -sb "$@" | awk '{ s += $1 } END { printf "%.0f", s }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
statuses() { awk '{ n[$2]++ } END { for (s in n) printf "%s×%d ", s, n[s] }' "$1"; }

N=$(wc -l <"$CORPUS/urls.txt")

# A: the first run; every page is new to the store.
measure cg-a "$CORPUS" "$CG" check posts --store "$TMP/store-1" "${CG_ARGS[@]}"
a=("$M_WALL" "$M_RSS" "$M_CPU" "$M_REQS" "$M_SENT")
a_bytes=$(bytes "$TMP/store-1")

# B: the same store again, nothing changed: conditional requests, 304s.
measure cg-b "$CORPUS" "$CG" check posts --store "$TMP/store-1" "${CG_ARGS[@]}"
b=("$M_WALL" "$M_RSS" "$M_CPU" "$M_REQS" "$M_SENT")
b_bytes=$(($(bytes "$TMP/store-1") - a_bytes))

# C: wget, one process: it fetches the list one URL after the other and has
# no option to do otherwise (-q also keeps its log out of the WARC's size).
measure wget "$TMP" wget -q -O /dev/null --warc-file="$TMP/wget" -i "$CORPUS/urls.txt"
c=("$M_WALL" "$M_RSS" "$M_CPU" "$M_REQS" "$M_SENT")
c_bytes=$(bytes "$TMP"/wget.warc.gz)

# References, to tell the store's cost from the fetching's: the same check
# keeping nothing, and run A with its store on tmpfs, where fsync is free.
measure cg-nostore "$CORPUS" "$CG" check posts --no-store "${CG_ARGS[@]}"
n=("$M_WALL" "$M_RSS" "$M_CPU" "$M_REQS" "$M_SENT")
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  SHM=$(mktemp -d /dev/shm/citeguard-archive.XXXXXX)
  trap 'rm -rf "$SHM"; stop_archive_nginx "$WORK"' EXIT
  measure cg-shm "$CORPUS" "$CG" check posts --store "$SHM/store" "${CG_ARGS[@]}"
  t=("$M_WALL" "$M_RSS" "$M_CPU" "$M_REQS" "$M_SENT")
  t_bytes=$(bytes "$SHM/store")
  rm -rf "$SHM"
fi

# The first run against wget, alternated FIRST_ROUNDS times (default 3),
# each on a new store and a new WARC: one run of each varies as the
# recheck's do, so the target is judged on the medians too. Peak memory:
# the highest of all runs A.
a_walls=""
w_walls=""
a_peak=${a[1]}
for r in $(seq "${FIRST_ROUNDS:-3}"); do
  measure "cg-a$r" "$CORPUS" "$CG" check posts --store "$TMP/store-a$r" "${CG_ARGS[@]}"
  a_walls+="$M_WALL "
  [ "$M_RSS" -le "$a_peak" ] || a_peak=$M_RSS
  rm -rf "$TMP/store-a$r"
  measure "wget$r" "$TMP" wget -q -O /dev/null --warc-file="$TMP/wget$r" -i "$CORPUS/urls.txt"
  w_walls+="$M_WALL "
  rm -f "$TMP/wget$r.warc.gz"
done

# The recheck against the no-store check, alternated RECHECK_ROUNDS times
# (default 7), each B on a fresh copy of the store after A and B: one run
# of each is a sub-second figure that varies by a third between sittings,
# so the target is judged on the medians.
b_walls=""
n_walls=""
b_peak=${b[1]}
for r in $(seq "${RECHECK_ROUNDS:-7}"); do
  rm -rf "$TMP/copy"
  cp -a "$TMP/store-1" "$TMP/copy"
  measure "cg-b$r" "$CORPUS" "$CG" check posts --store "$TMP/copy" "${CG_ARGS[@]}"
  b_walls+="$M_WALL "
  [ "$M_RSS" -le "$b_peak" ] || b_peak=$M_RSS
  measure "cg-n$r" "$CORPUS" "$CG" check posts --no-store "${CG_ARGS[@]}"
  n_walls+="$M_WALL "
done
rm -rf "$TMP/copy"

# Memory at scale: run A on 100,000 unique URLs (all 404s: every one
# archived, none with a page to extract).
if [ "${BIG:-1}" != 0 ]; then
  measure cg-big "$BIG_CORPUS" "$CG" check posts --store "$TMP/store-big" "${CG_ARGS[@]}"
  g=("$M_WALL" "$M_RSS" "$M_CPU" "$M_REQS" "$M_SENT")
  g_bytes=$(bytes "$TMP/store-big")
  rm -rf "$TMP/store-big"
fi

# The WARCs: citeguard's whole store exported as one file, and wget's.
/usr/bin/time -f %e -o "$TMP/export.time" "$CG" export --warc "$TMP/cg.warc.gz" --store "$TMP/store-1" >"$TMP/export.out" 2>&1
export_s=$(tail -n 1 "$TMP/export.time")
warc_check() { # FILE → "valid" or "INVALID"; the details in FILE.check
  if "$WARCIO" check -v "$1" >"$1.check" 2>&1; then echo valid; else echo INVALID; fi
}
cg_valid=$(warc_check "$TMP/cg.warc.gz")
wget_valid=$(warc_check "$TMP/wget.warc.gz")
records() { # FILE → "N response, N request, ..." by WARC-Type
  "$PYTOOLS/bin/python" - "$1" <<'PY'
import collections, sys
from warcio.archiveiterator import ArchiveIterator
n = collections.Counter()
with open(sys.argv[1], "rb") as f:
    for r in ArchiveIterator(f):
        n[r.rec_type] += 1
print(", ".join(f"{v} {k}" for k, v in n.most_common()))
PY
}

echo
echo "unique URLs: $N ($(grep -c /missing- "$CORPUS/urls.txt") answer 404, $(grep -c /r/ "$CORPUS/urls.txt") a 301)"
echo "exit codes: citeguard A $(cat "$TMP/cg-a.rc"), B $(cat "$TMP/cg-b.rc"); wget $(cat "$TMP/wget.rc") (8: some 404s)"
echo "statuses served: A: $(statuses "$TMP/cg-a.log")| B: $(statuses "$TMP/cg-b.log")| wget: $(statuses "$TMP/wget.log")"
echo "headers+body sent: A $(mb "$(awk '{ s += $4 } END { print s }' "$TMP/cg-a.log")"), B $(mb "$(awk '{ s += $4 } END { print s }' "$TMP/cg-b.log")"), wget $(mb "$(awk '{ s += $4 } END { print s }' "$TMP/wget.log")")"
echo "citeguard store after A and B: $(find "$TMP/store-1/objects" -type f | wc -l) objects, WARCs $(mb "$(bytes "$TMP"/store-1/warc)"), index $(mb "$(bytes "$TMP"/store-1/index.sqlite*)")"
echo "citeguard export: ${export_s} s, $(mb "$(bytes "$TMP/cg.warc.gz")"): $(records "$TMP/cg.warc.gz")"
echo "wget WARC: $(mb "$c_bytes"): $(records "$TMP/wget.warc.gz")"
echo
printf "%-10s %-14s %8s %8s %8s %13s %9s %13s %10s\n" tool run wall_s cpu_s peak_MB bytes_written requests bytes_sent WARC
row() { printf "%-10s %-14s %8s %8s %8s %13s %9s %13s %10s\n" "$@"; }
row citeguard "A: first" "${a[0]}" "${a[2]}" "${a[1]}" "$a_bytes" "${a[3]}" "${a[4]}" "$cg_valid"
row citeguard "B: unchanged" "${b[0]}" "${b[2]}" "${b[1]}" "$b_bytes" "${b[3]}" "${b[4]}" "$cg_valid"
row wget "C: -i list" "${c[0]}" "${c[2]}" "${c[1]}" "$c_bytes" "${c[3]}" "${c[4]}" "$wget_valid"
row citeguard "ref: no store" "${n[0]}" "${n[2]}" "${n[1]}" 0 "${n[3]}" "${n[4]}" -
[ -z "${t[0]:-}" ] || row citeguard "ref: A, tmpfs" "${t[0]}" "${t[2]}" "${t[1]}" "$t_bytes" "${t[3]}" "${t[4]}" -
[ -z "${g[0]:-}" ] || row citeguard "A: 100k URLs" "${g[0]}" "${g[2]}" "${g[1]}" "$g_bytes" "${g[3]}" "${g[4]}" -
echo "(citeguard's WARC column: its store after A and B, exported; bytes_written for B: what the store grew by)"

# The targets of issue 12, as ratios of this run's own figures.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
verdict() { # VALUE OP LIMIT -> met / NOT met
  awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
    ok = (op == ">=") ? (v >= l) : (op == "<=") ? (v <= l) : (v < l)
    print (ok ? "met" : "NOT met") }'
}
speed_once=$(ratio "${c[0]}" "${a[0]}")
a_median=$(median <<<"$a_walls")
w_median=$(median <<<"$w_walls")
speed=$(ratio "$w_median" "$a_median")
recheck_once=$(ratio "${b[0]}" "${n[0]}")
b_median=$(median <<<"$b_walls")
n_median=$(median <<<"$n_walls")
recheck=$(ratio "$b_median" "$n_median")
size=$(ratio "$a_bytes" "$c_bytes")
echo
echo "targets (issue 12), $N URLs:"
printf "  %-44s %8s  %-10s %s\n" "first run, wget's time / citeguard's" "${speed}x" "(>= 3)" "$(verdict "$speed" ">=" 3)"
echo "    (medians of ${FIRST_ROUNDS:-3} alternated runs: A $a_median s [$a_walls], wget $w_median s [$w_walls]; the table's single runs: ${speed_once}x)"
printf "  %-44s %8s  %-10s %s\n" "recheck time / check --no-store time" "${recheck}x" "(<= 1.5)" "$(verdict "$recheck" "<=" 1.5)"
echo "    (medians of ${RECHECK_ROUNDS:-7} alternated runs: B $b_median s [$b_walls], no store $n_median s [$n_walls]; the table's single runs: ${recheck_once}x)"
printf "  %-44s %8s  %-10s %s\n" "bytes written (A) / wget's WARC" "${size}x" "(<= 1.5)" "$(verdict "$size" "<=" 1.5)"
printf "  %-44s %8s  %-10s %s\n" "peak memory of A (MB), highest of its runs" "$a_peak" "(< 100)" "$(verdict "$a_peak" "<" 100)"
printf "  %-44s %8s  %-10s %s\n" "peak memory of B (MB), highest of its runs" "$b_peak" "(< 100)" "$(verdict "$b_peak" "<" 100)"
[ -z "${g[1]:-}" ] || printf "  %-44s %8s  %-10s %s\n" "peak memory of A, 100,000 URLs (MB)" "${g[1]}" "(< 150)" "$(verdict "${g[1]}" "<" 150)"
