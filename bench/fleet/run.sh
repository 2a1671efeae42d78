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
#
# Prints requests/s and the PostgreSQL statements per source (counted by
# the workers themselves: the queue's and, for workers that keep copies,
# the store's; the coordinator adds ~5 a second while it waits) side by
# side. The runs that keep copies put the index in PostgreSQL and the
# copies on the S3 server of .ci/setup-s3 (moto, a bucket per run), and
# count the S3 requests per source from that server's log; they compare
# with a local `check` on an embedded store (a fresh directory per run).
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
PG=$(bash .ci/setup-postgres)
S3=$(bash .ci/setup-s3)
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
  rm -f "$WORK/$name.err" "$WORK/$name"-w*.err
  local t0; t0=$(now)
  "$CG" check posts --distributed --no-memento --format json "$@" \
    >"$WORK/$name.json" 2>"$WORK/$name.err" &
  local check=$!
  # Workers that exit when idle start once the run is queued.
  until grep -q "sources queued" "$WORK/$name.err" 2>/dev/null; do
    kill -0 "$check" 2>/dev/null || break
    sleep 0.02
  done
  local pids=()
  for w in $(seq 1 "$workers"); do
    "$CG" worker "$worker_flag" "$q" --name "$name-$w" --concurrency "$WORKER_CONCURRENCY" --exit-when-idle \
      2>"$WORK/$name-w$w.err" &
    pids+=($!)
  done
  wait "$check" || true
  ELAPSED=$(secs "$t0" "$(now)")
  for p in "${pids[@]}"; do wait "$p" || true; done
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
  "$CG" check posts --store "$WORK/$name.store" --no-memento --format json --quiet "$@" \
    >"$WORK/$name.json" 2>"$WORK/$name.err" || true
  secs "$t0" "$(now)"
}

store_fleet_run() { # NAME WORKERS FLAGS... → "wall_s statements s3_requests"
  local name=$1 workers=$2; shift 2
  local q; q=$(fresh_queue "$name")
  local bucket; bucket="bench-${name//_/-}-$$"
  curl -sf -X PUT "$S3/$bucket" >/dev/null
  drive "$name" "$workers" --store "$q" \
    --store "$q" --objects "s3://$bucket/c" --s3-endpoint "$S3" "$@"
  local reqs; reqs=$(grep -c " /$bucket[/ ?]" "$S3_LOG" || true)
  echo "$ELAPSED $STMTS $reqs"
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

echo "unique URLs: $N; worker concurrency $WORKER_CONCURRENCY; $(nproc) cores"
printf "%-36s %8s %8s %12s %10s\n" run wall_s req/s stmts/source same_as_local

read -r l_free <<<"$(local_run local-free "${free[@]}")"
row "local check, limits off" local-free local-free "$l_free"
for w in 1 2 4; do
  read -r s st <<<"$(fleet_run "fleet$w-free" "$w" "${free[@]}")"
  row "$w worker(s), limits off" "fleet$w-free" local-free "$s" "$st"
done

if [ "${POLITE:-1}" = 1 ]; then
  read -r l_pol <<<"$(local_run local-polite "${polite[@]}")"
  row "local check, 10/host 50ms" local-polite local-polite "$l_pol"
  for w in 1 2 4; do
    read -r s st <<<"$(fleet_run "fleet$w-polite" "$w" "${polite[@]}")"
    row "$w worker(s), 10/host 50ms" "fleet$w-polite" local-polite "$s" "$st"
  done
fi

if [ "${STORE:-1}" = 1 ]; then
  echo
  echo "keeping copies (index on PostgreSQL, copies on S3; local: embedded store)"
  printf "%-36s %8s %8s %12s %10s %10s\n" run wall_s req/s stmts/source s3/source same_as_local
  read -r l_st <<<"$(store_local_run local-store "${free[@]}")"
  row "local check, embedded store" local-store local-store "$l_st"
  for w in 1 2 4; do
    read -r s st r <<<"$(store_fleet_run "store$w" "$w" "${free[@]}")"
    printf "%-36s %8s %8s %12s %10s %10s\n" "$w storing worker(s), limits off" "$s" "$(rps "$N" "$s")" \
      "$(per "$st" "$N")" "$(per "$r" "$N")" "$(same_verdicts "store$w" local-store)"
  done
fi
