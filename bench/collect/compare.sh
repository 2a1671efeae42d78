#!/usr/bin/env bash
# Two builds of citeguard and lychee on bench/collect's corpus, in one
# sitting: each round runs `lychee --dump`, then the two builds' `collect
# --format jsonl` one after the other, their order swapped every round, and
# prints CPU seconds (user + system) and wall time of each from
# /usr/bin/time -v, with the load average. It also checks that both builds
# wrote the same JSON lines in every round.
#
#   bench/collect/compare.sh BEFORE AFTER [ROUNDS]      # binaries' paths
#   POSTS=1000 bench/collect/compare.sh ...
#   ALL_LINKS=1 bench/collect/compare.sh ...            # --all-links instead
#
# The corpus and lychee are set up as run.sh sets them up (run it once).
set -euo pipefail
cd "$(dirname "$0")/../.."

BEFORE=$(realpath "$1")
AFTER=$(realpath "$2")
ROUNDS=${3:-6}
POSTS=${POSTS:-10000}
WORK=${WORK:-target/bench-collect}
CORPUS="$WORK/corpus-$POSTS"
[ -f "$CORPUS/.complete" ] || { echo "no corpus in $CORPUS: run bench/collect/run.sh first" >&2; exit 2; }
LYCHEE_VENV=${LYCHEE_VENV:-$HOME/.cache/citeguard/lychee}
command -v lychee >/dev/null 2>&1 || PATH=$LYCHEE_VENV/bin:$PATH
LYCHEE=$(command -v lychee) || { echo "no lychee: run bench/collect/run.sh first" >&2; exit 2; }
FLAGS=(collect --format jsonl)
[ -n "${ALL_LINKS:-}" ] && FLAGS=(collect --all-links --format jsonl)

find "$CORPUS" -name '*.html' -exec cat {} + >/dev/null

# time_of NAME OUT COMMAND...: "cpu wall rss_mb" of one run
time_of() {
    local name=$1 out=$2
    shift 2
    /usr/bin/time -v "$@" >"$out" 2>"$WORK/$name.time" || true
    awk -F': ' '
        /User time/ {u=$2} /System time/ {s=$2}
        /Elapsed \(wall clock\)/ {n=split($2,a,":"); w=(n==3)?a[1]*3600+a[2]*60+a[3]:a[1]*60+a[2]}
        /Maximum resident/ {r=$2/1024}
        END {printf "%.2f %.2f %.0f", u+s, w, r}' "$WORK/$name.time"
}

echo "corpus: $CORPUS   flags: ${FLAGS[*]}"
echo "before: $BEFORE"
echo "after:  $AFTER"
printf '%-6s %-6s %-22s %-22s %-22s %8s %8s\n' round load "lychee cpu/wall/MB" "before cpu/wall/MB" "after cpu/wall/MB" "a/l cpu" "b/l cpu"
for r in $(seq 1 "$ROUNDS"); do
    load=$(cut -d' ' -f1 /proc/loadavg)
    read -r lc lw lm <<<"$(time_of lychee "$WORK/lychee.txt" "$LYCHEE" --dump --no-progress "$CORPUS")"
    if [ $((r % 2)) -eq 1 ]; then
        read -r bc bw bm <<<"$(time_of before "$WORK/before.jsonl" "$BEFORE" "${FLAGS[@]}" "$CORPUS")"
        read -r ac aw am <<<"$(time_of after "$WORK/after.jsonl" "$AFTER" "${FLAGS[@]}" "$CORPUS")"
    else
        read -r ac aw am <<<"$(time_of after "$WORK/after.jsonl" "$AFTER" "${FLAGS[@]}" "$CORPUS")"
        read -r bc bw bm <<<"$(time_of before "$WORK/before.jsonl" "$BEFORE" "${FLAGS[@]}" "$CORPUS")"
    fi
    same=same
    cmp -s "$WORK/before.jsonl" "$WORK/after.jsonl" || same=DIFFERENT
    printf '%-6s %-6s %-22s %-22s %-22s %8.2f %8.2f  %s (%s lines)\n' "$r" "$load" \
        "$lc/$lw/$lm" "$bc/$bw/$bm" "$ac/$aw/$am" \
        "$(awk -v a="$ac" -v l="$lc" 'BEGIN{print a/l}')" \
        "$(awk -v b="$bc" -v l="$lc" 'BEGIN{print b/l}')" "$same" "$(wc -l <"$WORK/after.jsonl")"
done
