# Sourced by the bench scripts that check gen.py's corpus: one nginx, one
# server block per loopback host (127.0.0.10-29), `/r/…` a 301 to `/p/…`,
# stopped when the script exits.
#
# serve_corpus WORK CORPUS PORT
serve_corpus() {
  local work=$1 corpus=$2 port=$3
  local conf=$work/nginx.conf
  {
    echo "worker_processes 1; pid $work/nginx.pid; error_log $work/nginx-error.log;"
    echo "events { worker_connections 4096; }"
    echo "http { access_log off; keepalive_requests 100000;"
    for i in $(seq 10 29); do
      local h=127.0.0.$i
      mkdir -p "$corpus/www/$h"
      echo "server { listen $h:$port; root $corpus/www/$h; location /r/ { rewrite ^/r/(.*)\$ /p/\$1 permanent; } }"
    done
    echo "}"
  } >"$conf"
  nginx -s stop -c "$conf" 2>/dev/null || true
  nginx -c "$conf"
  # shellcheck disable=SC2064 # the path is fixed now, on purpose
  trap "nginx -s stop -c '$conf' 2>/dev/null || true" EXIT
}
