#!/usr/bin/env bash
# Capacity benchmark. Prints figures for the issue notes; asserts nothing.
#  1. allocate+release cycles per second from one process (bench_capacity, in-process), against
#     the file backend and a throwaway redis-server;
#  2. wall time of one `scalectl capacity allocate` process against Redis, next to one
#     `redis-cli EVALSHA` of a trivial script (the floor: one process, one round trip), and
#     against the file backend; with and without the audit event (a second write);
#  3. peak RSS of those processes (/usr/bin/time -f %M).
#
# usage: tests/bench/capacity.sh [path/to/scalectl] [runs] [cycles]
set -euo pipefail

bin=$(realpath "${1:-build/scalectl}")
runs=${2:-100}
cycles=${3:-2000}
bench=$(dirname "$bin")/tests/bench/bench_capacity
rss_runs=20

[[ -x $bin ]] || { echo "capacity.sh: '$bin' is not an executable; build first" >&2; exit 2; }
[[ -x $bench ]] || { echo "capacity.sh: '$bench' is missing; build the bench_capacity target" >&2; exit 2; }
for tool in hyperfine redis-server redis-cli python3; do
  command -v "$tool" >/dev/null || { echo "capacity.sh: $tool is required" >&2; exit 2; }
done
[[ -x /usr/bin/time ]] || { echo "capacity.sh: /usr/bin/time (GNU time) is required" >&2; exit 2; }

source "$(dirname "${BASH_SOURCE[0]}")/throwaway_redis.sh"
work=$bench_work
bench_start_redis "$work/redis"
port=$bench_redis_port
url=$bench_redis_url

cat >"$work/config.toml" <<'TOML'
[capacity]
max_cpu = 8
max_ram_gb = 16

[capacity.worker_types.tenth]
cpu = 0.1
ram_gb = 0.125
TOML
export HOME=$work XDG_CONFIG_HOME=$work/.config SCALECTL_CONFIG=$work/config.toml

echo "in-process (bench_capacity, $cycles cycles of one 0.1 vCPU lease, TTL 5m):"
"$bench" --state-dir "$work/state-inproc" "$cycles" | sed 's/^/  /'
"$bench" --redis-url "$url" "$cycles" | sed 's/^/  /'
echo "  filesystem of the state dir: $(df -T "$work" | awk 'NR == 2 { print $2 }')"

# Median wall time of `runs` runs (hyperfine -N, 5 warm-ups), in milliseconds.
median_ms() {
  local name=$1 prepare=$2; shift 2
  local args=(-N --warmup 5 --runs "$runs" --export-json "$work/$name.json" --style none)
  [[ -n $prepare ]] && args+=(--prepare "$prepare")
  hyperfine "${args[@]}" "$*" >/dev/null 2>&1
  python3 - "$work/$name.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
ms = {k: r[k] * 1000 for k in ("median", "mean", "stddev", "min")}
print("{median:.2f} ms (mean {mean:.2f} +- {stddev:.2f}, min {min:.2f})".format(**ms))
PY
}

# Median peak RSS of `rss_runs` runs, in MB (GNU time's %M, KiB), each after `prepare`.
peak_rss() {
  local prepare=$1; shift
  local samples=()
  for ((i = 0; i < rss_runs; i++)); do
    [[ -n $prepare ]] && $prepare >/dev/null 2>&1
    samples+=("$(/usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -n 1)")
  done
  printf '%s\n' "${samples[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f MB", v[int((NR + 1) / 2)] / 1024 }'
}

row() {
  local label=$1 name=$2 prepare=$3; shift 3
  printf '  %-58s %s, peak RSS %s\n' "$label" "$(median_ms "$name" "$prepare" "$@")" "$(peak_rss "$prepare" "$@")"
}

sha=$(redis-cli -p "$port" SCRIPT LOAD "return 1")
release_redis="env SCALECTL_REDIS_URL=$url $bin -q capacity release w"
release_file="env SCALECTL_STATE_DIR=$work/state $bin -q capacity release w"

echo
echo "one process each: median of $runs runs after 5 warm-ups (hyperfine -N); peak RSS median of $rss_runs runs"
row "redis-cli EVALSHA <return 1> 0 (floor: process + round trip)" evalsha "" \
  redis-cli -p "$port" EVALSHA "$sha" 0
row "scalectl capacity allocate (Redis, with audit event)" alloc_redis "$release_redis" \
  env SCALECTL_REDIS_URL="$url" "$bin" capacity allocate tenth --id w
row "scalectl capacity allocate (Redis, audit off)" alloc_redis_noaudit "$release_redis" \
  env SCALECTL_REDIS_URL="$url" SCALECTL_AUDIT_ENABLED=false "$bin" capacity allocate tenth --id w
row "scalectl capacity check (Redis, read only)" check_redis "" \
  env SCALECTL_REDIS_URL="$url" "$bin" capacity check tenth
row "scalectl capacity allocate (file, with audit event)" alloc_file "$release_file" \
  env SCALECTL_STATE_DIR="$work/state" "$bin" capacity allocate tenth --id w
row "scalectl capacity allocate (file, audit off)" alloc_file_noaudit "$release_file" \
  env SCALECTL_STATE_DIR="$work/state" SCALECTL_AUDIT_ENABLED=false "$bin" capacity allocate tenth --id w
row "scalectl --version (start-up floor)" version "" "$bin" --version
