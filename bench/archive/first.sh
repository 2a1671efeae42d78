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
# shellcheck source=bench/archive/serve.sh
. "$(dirname "$0")/serve.sh"
compare_setup first

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
