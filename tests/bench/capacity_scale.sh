#!/usr/bin/env bash
# Issue 13: the cost of allocate+release against Redis with 10, 1,000, 10,000 and 100,000 live
# leases in the pool. Prints a table for the issue notes; asserts nothing.
#  - "pair": wall time of one allocate+release from one process (bench_capacity, in-process);
#  - "script": Redis' own time per lease-script call (INFO commandstats, usec_per_call of
#    evalsha), which is what blocks every other client.
# The live leases are taken by one process (bench_capacity --populate), never by N processes.
#
# usage: tests/bench/capacity_scale.sh [path/to/build] [cycles] [sizes...]
set -euo pipefail

build=$(realpath "${1:-build}")
cycles=${2:-2000}
shift $(( $# > 2 ? 2 : $# ))
sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(10 1000 10000 100000)
bench=$build/tests/bench/bench_capacity
[[ -x $bench ]] || { echo "capacity_scale.sh: '$bench' is missing; build the bench_capacity target" >&2; exit 2; }
for tool in redis-server redis-cli python3; do
  command -v "$tool" >/dev/null || { echo "capacity_scale.sh: $tool is required" >&2; exit 2; }
done

source "$(dirname "${BASH_SOURCE[0]}")/throwaway_redis.sh"
bench_start_redis "$bench_work/redis"
port=$bench_redis_port
url=$bench_redis_url

printf '%-14s %-22s %-26s %s\n' "live leases" "pair (ms, 1 process)" "script (us per call)" "populate"
for n in "${sizes[@]}"; do
  redis-cli -p "$port" flushall >/dev/null
  filled=$("$bench" --redis-url "$url" 0 --populate "$n")
  redis-cli -p "$port" config resetstat >/dev/null
  line=$("$bench" --redis-url "$url" "$cycles" --keep)
  pair=$(sed -n 's/.*(\([0-9.]*\) ms per cycle).*/\1/p' <<<"$line")
  script=$(redis-cli -p "$port" info commandstats | tr -d '\r' |
           sed -n 's/^cmdstat_evalsha:calls=\([0-9]*\),usec=[0-9]*,usec_per_call=\([0-9.]*\).*/\2 (\1 calls)/p')
  printf '%-14s %-22s %-26s %s\n' "$n" "$pair" "$script" "${filled#populated }"
done
