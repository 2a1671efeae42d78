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
# shellcheck source=bench/archive/serve.sh
. "$(dirname "$0")/serve.sh"
compare_setup recheck

echo "run A (a first run, new store) of each binary: cpu_s wall_s peak_MB, and the store's bytes"
for i in "${!BINS[@]}"; do
  a=$(timed "a$i" "$CORPUS" "${BINS[$i]}" check posts --store "$WORK/store-$i" "${CG_ARGS[@]}")
  printf "  %-28s %s %s\n" "$(label "${BINS[$i]}")" "$a" "$(du -sb "$WORK/store-$i" | cut -f1)"
  timed "b$i" "$CORPUS" "${BINS[$i]}" check posts --store "$WORK/store-$i" "${CG_ARGS[@]}" >/dev/null
done

declare -A cpu wall rss
for r in $(seq "$ROUNDS"); do
  for i in "${!BINS[@]}"; do
    rm -rf "$WORK/copy"
    cp -a "$WORK/store-$i" "$WORK/copy"
    read -r c w m < <(timed "b$i-$r" "$CORPUS" "${BINS[$i]}" check posts --store "$WORK/copy" "${CG_ARGS[@]}")
    cpu[$i]+="$c "; wall[$i]+="$w "; rss[$i]+="$m "
  done
  read -r c w m < <(timed "n-$r" "$CORPUS" "${BINS[0]}" check posts --no-store "${CG_ARGS[@]}")
  cpu[n]+="$c "; wall[n]+="$w "; rss[n]+="$m "
done
rm -rf "$WORK/copy"

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-28s %-44s %6s %-40s %6s %s\n" binary "B cpu_s, in run order" median "wall_s, in run order" median peak_MB
row() { # NAME KEY
  printf "%-28s %-44s %6s %-40s %6s %s\n" "$1" "${cpu[$2]}" "$(median <<<"${cpu[$2]}")" \
    "${wall[$2]}" "$(median <<<"${wall[$2]}")" "${rss[$2]}"
}
for i in "${!BINS[@]}"; do row "$(label "${BINS[$i]}")" "$i"; done
row "no store" n
