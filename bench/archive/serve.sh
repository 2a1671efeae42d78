# Sourced by bench/archive/run.sh, first.sh and recheck.sh: the archive benches'
# nginx over gen.py's corpus (bench/archive/nginx.conf: 127.0.0.10-29:8080,
# an access log with each request's status and body bytes), and the flags
# every citeguard run of them takes.
#
# serve_archive WORK CORPUS: starts nginx with its files in WORK, stops it
# when the script exits, and reads every page once so that no tool pays
# for a cold page cache. Sets CONF.
serve_archive() {
  local work=$1 corpus=$2
  CONF=$work/nginx.conf
  sed -e "s|@WORK@|$work|g" -e "s|@WWW@|$corpus/www|g" bench/archive/nginx.conf >"$CONF"
  stop_archive_nginx
  : >"$work/access.log"
  nginx -c "$CONF"
  # shellcheck disable=SC2064 # the paths are fixed now, on purpose
  trap "stop_archive_nginx '$work'" EXIT
  cat "$corpus"/www/*/p/* >/dev/null
}

# stop_archive_nginx [WORK]: stops the nginx serve_archive started, if any.
stop_archive_nginx() {
  local work=${1:-$(dirname "$CONF")}
  if [ -s "$work/nginx.pid" ]; then
    nginx -s stop -c "$work/nginx.conf" 2>/dev/null || true
    # -s stop returns at once; wait for the ports to be free again.
    for _ in $(seq 50); do [ -s "$work/nginx.pid" ] || break; sleep 0.1; done
  fi
}

# Politeness off, as bench/check's limits-off run; no Memento look-ups
# (they would leave the loopback).
# shellcheck disable=SC2034 # read by the scripts that source this one
CG_ARGS=(--format json --no-memento --per-host 1000 --host-delay 0 --concurrency 256 --retries 0 -q)

# For the scripts that alternate several builds in one sitting (first.sh,
# recheck.sh): the rest of this file.
#
# compare_setup NAME: reads CITEGUARDS (the binaries, relative to where
# the script was started: made absolute, since the runs happen in the
# corpus's directory), moves to the repository, sets ROOT, WORK (default
# target/bench-NAME, emptied), CHECK_WORK, CORPUS and ROUNDS (default 5),
# and starts nginx over the corpus.
compare_setup() {
  read -r -a BINS <<<"${CITEGUARDS:?CITEGUARDS: the binaries to compare, space-separated}"
  for i in "${!BINS[@]}"; do BINS[i]=$(realpath "${BINS[i]}"); done
  cd "$(dirname "${BASH_SOURCE[0]}")/../.."
  ROOT=$PWD
  WORK=${WORK:-$ROOT/target/bench-$1}
  CHECK_WORK=${CHECK_WORK:-$ROOT/target/bench-check}
  CORPUS=$CHECK_WORK/corpus
  ROUNDS=${ROUNDS:-5}
  [ -f "$CORPUS/.complete" ] || { echo "no corpus in $CORPUS: run bench/archive/run.sh once" >&2; exit 1; }
  rm -rf "$WORK"
  mkdir -p "$WORK"
  serve_archive "$WORK" "$CORPUS"
}

# timed NAME DIR COMMAND... : prints "cpu wall peak_MB" of COMMAND run in
# DIR, its output and time kept in WORK.
timed() {
  local name=$1 dir=$2; shift 2
  (cd "$dir" && /usr/bin/time -v -o "$WORK/$name.time" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err") || true
  awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 }
    /Elapsed \(wall clock\)/ { n = split($2, t, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + t[i] }
    /Maximum resident/ { m = $2 / 1024 }
    END { printf "%.2f %.2f %.0f\n", u + s, w, m }' "$WORK/$name.time"
}

# label BINARY: its directory's name and its own, for the tables.
label() { echo "$(basename "$(dirname "$1")")/$(basename "$1")"; }

# median: of the space-separated numbers on standard input.
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
