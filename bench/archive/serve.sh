# Sourced by bench/archive/run.sh and recheck.sh: the archive benches'
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
