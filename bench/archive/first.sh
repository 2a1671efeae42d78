#!/usr/bin/env bash
# Benchmark: the first archiving run (run A of run.sh: `check --store` into
# a new store) of one or more citeguard binaries against `wget --warc-file`,
# alternated in one sitting, for before/after pairs on a loaded machine.
#
#   CITEGUARDS="path/to/before path/to/after" ROUNDS=5 bench/archive/first.sh
#
# ROUNDS times: each binary's run A into a new store (on disk), then one
# wget over the same URL list. Prints CPU seconds (user+sys), wall seconds
# and peak memory of every run, in run order, with the medians, the bytes
# each store took and wget's WARC, and the ratios issue 12 sets (wget's
# wall / A's wall, A's bytes / wget's WARC) from the medians. Uses run.sh's
# nginx configuration and corpus (CHECK_WORK, default target/bench-check);
# WORK (default target/bench-first) holds the stores. Needs nginx, wget
# and /usr/bin/time (run.sh installs them). On a machine where another
# nginx holds 127.0.0.x:8080, run it in a network namespace of its own
# (as root):
#   unshare -n sh -c 'ip link set lo up; bench/archive/first.sh'
set -euo pipefail
# The binaries as given, relative to where the script was started: the
# runs happen in the corpus's directory.
read -r -a BINS <<<"${CITEGUARDS:?CITEGUARDS: the binaries to compare, space-separated}"
for i in "${!BINS[@]}"; do BINS[i]=$(realpath "${BINS[i]}"); done
cd "$(dirname "$0")/../.."
ROOT=$PWD
WORK=${WORK:-$ROOT/target/bench-first}
CHECK_WORK=${CHECK_WORK:-$ROOT/target/bench-check}
CORPUS=$CHECK_WORK/corpus
ROUNDS=${ROUNDS:-5}
[ -f "$CORPUS/.complete" ] || { echo "no corpus in $CORPUS: run bench/archive/run.sh once" >&2; exit 1; }

rm -rf "$WORK"
mkdir -p "$WORK"
# shellcheck source=bench/archive/serve.sh
. bench/archive/serve.sh
serve_archive "$WORK" "$CORPUS"

# timed NAME DIR COMMAND... : prints "cpu wall peak_MB" of COMMAND run in DIR.
timed() {
  local name=$1 dir=$2; shift 2
  (cd "$dir" && /usr/bin/time -v -o "$WORK/$name.time" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err") || true
  awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 }
    /Elapsed \(wall clock\)/ { n = split($2, t, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + t[i] }
    /Maximum resident/ { m = $2 / 1024 }
    END { printf "%.2f %.2f %.0f\n", u + s, w, m }' "$WORK/$name.time"
}

label() { echo "$(basename "$(dirname "$1")")/$(basename "$1")"; }
declare -A cpu wall rss bytes
for r in $(seq "$ROUNDS"); do
  for i in "${!BINS[@]}"; do
    rm -rf "$WORK/store"
    read -r c w m < <(timed "a$i-$r" "$CORPUS" "${BINS[$i]}" check posts --store "$WORK/store" "${CG_ARGS[@]}")
    cpu[$i]+="$c "; wall[$i]+="$w "; rss[$i]+="$m "
    bytes[$i]+="$(du -sb "$WORK/store" | cut -f1) "
  done
  rm -f "$WORK/wget.warc.gz"
  read -r c w m < <(timed "wget-$r" "$WORK" wget -q -O /dev/null --warc-file="$WORK/wget" -i "$CORPUS/urls.txt")
  cpu[w]+="$c "; wall[w]+="$w "; rss[w]+="$m "
  bytes[w]+="$(du -sb "$WORK/wget.warc.gz" | cut -f1) "
done
rm -rf "$WORK/store"

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-28s %-40s %6s %-40s %6s %-22s %s\n" binary "A cpu_s, in run order" median "wall_s, in run order" median peak_MB "bytes (median)"
row() { # NAME KEY
  printf "%-28s %-40s %6s %-40s %6s %-22s %s\n" "$1" "${cpu[$2]}" "$(median <<<"${cpu[$2]}")" \
    "${wall[$2]}" "$(median <<<"${wall[$2]}")" "${rss[$2]}" "$(median <<<"${bytes[$2]}")"
}
for i in "${!BINS[@]}"; do row "$(label "${BINS[$i]}")" "$i"; done
row "wget --warc-file" w
echo "ratios from the medians: wget's wall / A's wall (target >= 3), A's bytes / wget's WARC (<= 1.5)"
ww=$(median <<<"${wall[w]}"); wb=$(median <<<"${bytes[w]}")
for i in "${!BINS[@]}"; do
  awk -v n="$(label "${BINS[$i]}")" -v ww="$ww" -v aw="$(median <<<"${wall[$i]}")" \
    -v wb="$wb" -v ab="$(median <<<"${bytes[$i]}")" \
    'BEGIN { printf "  %-28s %.2fx  %.3fx\n", n, ww / aw, ab / wb }'
done
