#!/usr/bin/env bash
# Benchmark: `citeguard check --distributed` with 1, 2 and 4 worker
# processes against a local `citeguard check`, in the same run, on the
# corpus of bench/check (5,000 pages on 20 loopback hosts served by nginx,
# cited from 200 posts x 50 links), with the queue in the PostgreSQL of
# .ci/setup-postgres (a fresh database per run).
#
#   bench/fleet/run.sh            # limits off, then 10/host 50 ms, then
#                                 # workers that keep copies
#   POLITE=0 bench/fleet/run.sh   # without the 10/host 50 ms runs
#   STORE=0 bench/fleet/run.sh    # without the runs that keep copies
#   NOSTORE=0 bench/fleet/run.sh  # without the runs that keep nothing
#   WORKERS="1 2" bench/fleet/run.sh   # these numbers of workers
#   PERF=1 bench/fleet/run.sh     # the first worker's profile (perf record)
#   CG_BEFORE=path/to/citeguard bench/fleet/run.sh
#                                 # the runs that keep copies with that
#                                 # build too, side by side in one run
#
# Prints requests/s and the PostgreSQL statements per source (counted by
# the workers themselves: the queue's and, for workers that keep copies,
# the store's; the coordinator adds ~5 a second while it waits) side by
# side. The runs that keep copies put the index in PostgreSQL and the
# copies on the S3 server of .ci/setup-s3 (moto, a bucket per run), and
# count the S3 requests per source from that server's log; they compare
# with a local `check` on an embedded store (a fresh directory per run).
# The runs that keep copies also give the CPU seconds (user + sys) of the
# citeguard processes (coordinator and workers, from /usr/bin/time), of
# the PostgreSQL server (its postmaster and backends, from /proc) and of
# the S3 server. PostgreSQL and moto are the bench's own (ports 54349 and
# 54350 unless CITEGUARD_PG_PORT / CITEGUARD_S3_PORT say otherwise), so
# that other users of the test servers do not count.
# bench/README.md keeps the figures of a run.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
WORK=${WORK:-$ROOT/target/bench-fleet}
CORPUS=$WORK/corpus
# Its own port, so that it can run beside bench/check's nginx.
PORT=${PORT:-8091}
WORKER_CONCURRENCY=${WORKER_CONCURRENCY:-64}
mkdir -p "$WORK"

command -v nginx >/dev/null || { apt-get update -qq && apt-get install -y -qq nginx-light; }
# CG=target/debug/citeguard measures another build.
CG=${CG:-$ROOT/target/release/citeguard}
[ -x "$CG" ] || cargo build --release --bin citeguard
CG=$(realpath "$CG")
if [ -n "${CG_BEFORE:-}" ]; then CG_BEFORE=$(realpath "$CG_BEFORE"); fi
export CITEGUARD_PG_PORT=${CITEGUARD_PG_PORT:-54349} CITEGUARD_S3_PORT=${CITEGUARD_S3_PORT:-54350}
PG=$(bash .ci/setup-postgres)
S3=$(bash .ci/setup-s3)
PG_DATA=${CITEGUARD_PG_DATA:-/var/tmp/citeguard-pg/$CITEGUARD_PG_PORT}
TICK=$(getconf CLK_TCK)
S3_PID=$(pgrep -f "moto_server -H 127.0.0.1 -p $CITEGUARD_S3_PORT" | head -1 || true)
S3_LOG=${TMPDIR:-/tmp}/citeguard-s3-${S3##*:}.log
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1

if [ ! -f "$CORPUS/.complete" ]; then
  rm -rf "$CORPUS"
  python3 bench/check/gen.py --out "$CORPUS"
  sed -i "s/:8080\//:$PORT\//g" "$CORPUS"/posts/*.html "$CORPUS/urls.txt"
  touch "$CORPUS/.complete"
fi

# One nginx, one server block per loopback host.
. bench/check/serve.sh
serve_corpus "$WORK" "$CORPUS" $PORT

cd "$CORPUS"
N=$(wc -l <urls.txt)
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# CPU ticks of a process (user + sys, with its reaped children when
# CHILDREN=1), from /proc/PID/stat (the fields after the command's ")").
ticks() { # PID [CHILDREN]
  [ -r "/proc/$1/stat" ] || { echo 0; return; }
  sed 's/^.*) //' "/proc/$1/stat" | awk -v c="${2:-0}" '{ print $12 + $13 + (c ? $14 + $15 : 0) }'
}
# The PostgreSQL server's CPU ticks so far: the postmaster with the
# backends it reaped, and the live ones.
pg_ticks() {
  local pm; pm=$(head -1 "$PG_DATA/postmaster.pid")
  local t; t=$(ticks "$pm" 1)
  for kid in $(pgrep -P "$pm"); do t=$((t + $(ticks "$kid"))); done
  echo "$t"
}
s3_ticks() { if [ -n "$S3_PID" ]; then ticks "$S3_PID" 1; else echo 0; fi; }
cpu_of() { awk -v t="$1" -v k="$TICK" 'BEGIN { printf "%.2f", t / k }'; }
# The user + sys seconds /usr/bin/time wrote into these files, summed.
timed_cpu() { cat "$@" 2>/dev/null | awk '{ s += $1 + $2 } END { printf "%.2f", s }'; }
TIMED=(/usr/bin/time -f "%U %S" -o)

# A fresh queue: a database of its own on the test server.
fresh_queue() {
  local name="bench_fleet_$$_${1//-/_}"
  psql -X -q -v ON_ERROR_STOP=1 "$PG" -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >&2
  echo "${PG%/*}/$name"
}

local_run() { # NAME FLAGS... → "wall_s"
  local name=$1; shift
  local t0; t0=$(now)
  "$CG" check posts --no-store --no-memento --format json --quiet "$@" >"$WORK/$name.json" 2>"$WORK/$name.err" || true
  secs "$t0" "$(now)"
}

# Runs a distributed check and WORKERS workers to their ends: the
# coordinator with CHECK_ARGS..., each worker with WORKER_FLAG Q. Sets
# ELAPSED (the coordinator's wall time) and STMTS (the workers' PostgreSQL
# statements).
drive() { # NAME WORKERS WORKER_FLAG Q CHECK_ARGS...
  local name=$1 workers=$2 worker_flag=$3 q=$4; shift 4
  # A previous run's line must not be taken for this one's.
  rm -f "$WORK/$name.err" "$WORK/$name"-w*.err "$WORK/$name"*.time
  local t0; t0=$(now)
  "${TIMED[@]}" "$WORK/$name.time" "$CG" check posts --distributed --no-memento --format json "$@" \
    >"$WORK/$name.json" 2>"$WORK/$name.err" &
  local check=$!
  # Workers that exit when idle start once the run is queued.
  until grep -q "sources queued" "$WORK/$name.err" 2>/dev/null; do
    kill -0 "$check" 2>/dev/null || break
    sleep 0.02
  done
  local pids=()
  for w in $(seq 1 "$workers"); do
    local perf=()
    # PERF=1: the first worker's profile, for `perf report -i`.
    [ "${PERF:-0}" = 1 ] && [ "$w" = 1 ] && perf=(perf record -q -F 499 --call-graph dwarf,16384 -o "$WORK/$name-w1.perf")
    "${perf[@]}" "${TIMED[@]}" "$WORK/$name-w$w.time" "$CG" worker "$worker_flag" "$q" --name "$name-$w" --concurrency "$WORKER_CONCURRENCY" --exit-when-idle \
      2>"$WORK/$name-w$w.err" &
    pids+=($!)
  done
  wait "$check" || true
  ELAPSED=$(secs "$t0" "$(now)")
  for p in "${pids[@]}"; do wait "$p" || true; done
  CPU=$(timed_cpu "$WORK/$name"*.time)
  STMTS=$(cat "$WORK/$name"-w*.err | sed -n 's/.* \([0-9]*\) statements to PostgreSQL.*/\1/p' | awk '{s += $1} END {print s + 0}')
  psql -X -q "$PG" -c "DROP DATABASE IF EXISTS ${q##*/}" || true
}

fleet_run() { # NAME WORKERS FLAGS... → "wall_s statements"
  local name=$1 workers=$2; shift 2
  local q; q=$(fresh_queue "$name")
  drive "$name" "$workers" --queue "$q" --queue "$q" --no-store "$@"
  echo "$ELAPSED $STMTS"
}

store_local_run() { # NAME FLAGS... → "wall_s": a local check on an embedded store of its own
  local name=$1; shift
  rm -rf "$WORK/$name.store"
  local t0; t0=$(now)
  "${TIMED[@]}" "$WORK/$name.time" "$CG" check posts --store "$WORK/$name.store" --no-memento --format json --quiet "$@" \
    >"$WORK/$name.json" 2>"$WORK/$name.err" || true
  echo "$(secs "$t0" "$(now)") $(timed_cpu "$WORK/$name.time")"
}

store_fleet_run() { # NAME WORKERS FLAGS... → "wall_s statements s3_requests cpu pg_cpu s3_cpu"
  local name=$1 workers=$2; shift 2
  local q; q=$(fresh_queue "$name")
  local bucket; bucket="bench-${name//_/-}-$$"
  curl -sf -X PUT "$S3/$bucket" >/dev/null
  local pg0 s30; pg0=$(pg_ticks); s30=$(s3_ticks)
  drive "$name" "$workers" --store "$q" \
    --store "$q" --objects "s3://$bucket/c" --s3-endpoint "$S3" "$@"
  local pg1 s31; pg1=$(pg_ticks); s31=$(s3_ticks)
  local reqs; reqs=$(grep -c " /$bucket[/ ?]" "$S3_LOG" || true)
  echo "$ELAPSED $STMTS $reqs $CPU $(cpu_of $((pg1 - pg0))) $(cpu_of $((s31 - s30)))"
}

same_verdicts() { # A.json B.json → "yes"/"no"
  python3 - "$WORK/$1.json" "$WORK/$2.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
rows = lambda r: [(c["url"], c["verdict"], c["reason"]) for c in r["citations"]]
print("yes" if a["summary"] == b["summary"] and rows(a) == rows(b) else "no")
PY
}

rps() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
per() { awk -v a="$1" -v n="$2" 'BEGIN { printf "%.1f", a / n }'; }

row() { # LABEL NAME LOCAL_NAME WALL [STMTS]
  local same="-"
  [ "$2" != "$3" ] && same=$(same_verdicts "$2" "$3")
  local st="-"
  [ -n "${5:-}" ] && st=$(per "$5" "$N")
  printf "%-36s %8s %8s %12s %10s\n" "$1" "$4" "$(rps "$N" "$4")" "$st" "$same"
}

free=(--per-host 1000 --host-delay 0 --concurrency 256 --retries 0)
polite=(--per-host 10 --host-delay 50 --retries 0)

echo "unique URLs: $N; worker concurrency $WORKER_CONCURRENCY; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "citeguard $(realpath --relative-to="$ROOT" "$CG")${CG_BEFORE:+, before: $CG_BEFORE}"
WORKERS=${WORKERS:-1 2 4}

if [ "${NOSTORE:-1}" = 1 ]; then
printf "%-36s %8s %8s %12s %10s\n" run wall_s req/s stmts/source same_as_local
read -r l_free <<<"$(local_run local-free "${free[@]}")"
row "local check, limits off" local-free local-free "$l_free"
for w in $WORKERS; do
  read -r s st <<<"$(fleet_run "fleet$w-free" "$w" "${free[@]}")"
  row "$w worker(s), limits off" "fleet$w-free" local-free "$s" "$st"
done

if [ "${POLITE:-1}" = 1 ]; then
  read -r l_pol <<<"$(local_run local-polite "${polite[@]}")"
  row "local check, 10/host 50ms" local-polite local-polite "$l_pol"
  for w in $WORKERS; do
    read -r s st <<<"$(fleet_run "fleet$w-polite" "$w" "${polite[@]}")"
    row "$w worker(s), 10/host 50ms" "fleet$w-polite" local-polite "$s" "$st"
  done
fi
fi

if [ "${STORE:-1}" = 1 ]; then
  echo
  echo "keeping copies (index on PostgreSQL, copies on S3; local: embedded store)"
  echo "cpu_s: citeguard's processes (user + sys); pg_cpu_s, s3_cpu_s: the servers'"
  fmt="%-40s %7s %6s %6s %6s %8s %6s %6s %5s\n"
  # shellcheck disable=SC2059 # the format is ours
  printf "$fmt" run wall_s req/s cpu_s pg_cpu s3_cpu stmts/src s3/src same
  AFTER=$CG
  builds=("$CG")
  [ -n "${CG_BEFORE:-}" ] && builds=("$CG_BEFORE" "$CG")
  for b in "${builds[@]}"; do
    label=after
    [ "${#builds[@]}" = 2 ] && [ "$b" != "$AFTER" ] && label=before
    [ "${#builds[@]}" = 1 ] && label=""
    CG=$b
    read -r l_st l_cpu <<<"$(store_local_run "local-store$label" "${free[@]}")"
    # shellcheck disable=SC2059
    printf "$fmt" "${label:+$label: }local check, embedded store" "$l_st" "$(rps "$N" "$l_st")" "$l_cpu" - - - - -
    for w in $WORKERS; do
      read -r s st r cpu pgc s3c <<<"$(store_fleet_run "store$w$label" "$w" "${free[@]}")"
      # shellcheck disable=SC2059
      printf "$fmt" "${label:+$label: }$w storing worker(s)" "$s" "$(rps "$N" "$s")" "$cpu" "$pgc" "$s3c" \
        "$(per "$st" "$N")" "$(per "$r" "$N")" "$(same_verdicts "store$w$label" "local-store$label")"
    done
  done
  echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
fi
