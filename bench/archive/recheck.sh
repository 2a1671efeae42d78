#!/usr/bin/env bash
# Benchmark: the recheck (run B of run.sh: every source answers 304) of
# one or more citeguard binaries against `check --no-store`, alternated in
# one sitting, for before/after pairs on a loaded machine.
#
#   CITEGUARDS="path/to/before path/to/after" ROUNDS=5 bench/archive/recheck.sh
#
# Each binary first makes its own store (run A, then one B, so that its
# index is in the shape its own B leaves it); then, ROUNDS times, each
# binary's B runs on a fresh copy of its store, followed by one
# `--no-store` check (with the first binary). Prints CPU seconds
# (user+sys) and wall seconds of every run, in run order, and the medians.
# Uses run.sh's nginx configuration and corpus (CHECK_WORK, default
# target/bench-check); WORK (default target/bench-recheck) holds the
# stores. Needs nginx and /usr/bin/time (run.sh installs them). On a
# machine where another nginx holds 127.0.0.x:8080, run it in a network
# namespace of its own (as root):
#   unshare -n sh -c 'ip link set lo up; bench/archive/recheck.sh'
set -euo pipefail
# The binaries as given, relative to where the script was started: the
# runs happen in the corpus's directory.
read -r -a BINS <<<"${CITEGUARDS:?CITEGUARDS: the binaries to compare, space-separated}"
for i in "${!BINS[@]}"; do BINS[i]=$(realpath "${BINS[i]}"); done
cd "$(dirname "$0")/../.."
ROOT=$PWD
WORK=${WORK:-$ROOT/target/bench-recheck}
CHECK_WORK=${CHECK_WORK:-$ROOT/target/bench-check}
CORPUS=$CHECK_WORK/corpus
ROUNDS=${ROUNDS:-5}
[ -f "$CORPUS/.complete" ] || { echo "no corpus in $CORPUS: run bench/archive/run.sh once" >&2; exit 1; }

rm -rf "$WORK"
mkdir -p "$WORK"
# shellcheck source=bench/archive/serve.sh
. bench/archive/serve.sh
serve_archive "$WORK" "$CORPUS"

# timed NAME COMMAND... : prints "cpu wall" of COMMAND run in the corpus.
timed() {
  local name=$1; shift
  (cd "$CORPUS" && /usr/bin/time -v -o "$WORK/$name.time" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err") || true
  awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 }
    /Elapsed \(wall clock\)/ { n = split($2, t, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + t[i] }
    /Maximum resident/ { m = $2 / 1024 }
    END { printf "%.2f %.2f %.0f\n", u + s, w, m }' "$WORK/$name.time"
}

label() { echo "$(basename "$(dirname "$1")")/$(basename "$1")"; }
echo "run A (a first run, new store) of each binary: cpu_s wall_s peak_MB, and the store's bytes"
for i in "${!BINS[@]}"; do
  a=$(timed "a$i" "${BINS[$i]}" check posts --store "$WORK/store-$i" "${CG_ARGS[@]}")
  printf "  %-28s %s %s\n" "$(label "${BINS[$i]}")" "$a" "$(du -sb "$WORK/store-$i" | cut -f1)"
  timed "b$i" "${BINS[$i]}" check posts --store "$WORK/store-$i" "${CG_ARGS[@]}" >/dev/null
done

declare -A cpu wall rss
for r in $(seq "$ROUNDS"); do
  for i in "${!BINS[@]}"; do
    rm -rf "$WORK/copy"
    cp -a "$WORK/store-$i" "$WORK/copy"
    read -r c w m < <(timed "b$i-$r" "${BINS[$i]}" check posts --store "$WORK/copy" "${CG_ARGS[@]}")
    cpu[$i]+="$c "; wall[$i]+="$w "; rss[$i]+="$m "
  done
  read -r c w m < <(timed "n-$r" "${BINS[0]}" check posts --no-store "${CG_ARGS[@]}")
  cpu[n]+="$c "; wall[n]+="$w "; rss[n]+="$m "
done
rm -rf "$WORK/copy"

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-28s %-44s %6s %-40s %6s %s\n" binary "B cpu_s, in run order" median "wall_s, in run order" median peak_MB
row() { # NAME KEY
  printf "%-28s %-44s %6s %-40s %6s %s\n" "$1" "${cpu[$2]}" "$(median <<<"${cpu[$2]}")" \
    "${wall[$2]}" "$(median <<<"${wall[$2]}")" "${rss[$2]}"
}
for i in "${!BINS[@]}"; do row "$(label "${BINS[$i]}")" "$i"; done
row "no store" n
