# Sourced by the bench scripts: a throwaway redis-server on loopback, removed with its work
# directory when the script exits.
#   bench_start_redis DIR  starts one with its files in DIR, waits for PING, and sets
#                          bench_redis_port and bench_redis_url (redis://127.0.0.1:PORT/0).
#   bench_work             a fresh temporary directory, removed (after the server stops) on exit.

bench_work=$(mktemp -d)
bench_redis_pid=
bench_cleanup() {
  [[ -n $bench_redis_pid ]] && kill "$bench_redis_pid" 2>/dev/null && wait "$bench_redis_pid" 2>/dev/null
  rm -rf "$bench_work"
}
trap bench_cleanup EXIT

bench_start_redis() {
  local dir=$1
  mkdir -p "$dir"
  bench_redis_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  redis-server --port "$bench_redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
    --daemonize no >"$dir/redis.log" 2>&1 &
  bench_redis_pid=$!
  for _ in $(seq 100); do
    redis-cli -p "$bench_redis_port" ping >/dev/null 2>&1 && break
    sleep 0.05
  done
  bench_redis_url="redis://127.0.0.1:$bench_redis_port/0"
}
