#!/usr/bin/env bash
# Start-up cost of `scalectl --version` for two builds side by side (issue 14: the HTTP server
# must not be linked into the executable): wall time and peak RSS from GNU time over RUNS runs
# (median, min, max), the hyperfine median, and which HTTP libraries each maps. Typical use:
# the main branch's binary against this branch's. Prints figures for notes; asserts nothing.
#
# usage: tests/bench/startup_http_module.sh BASELINE_SCALECTL [CANDIDATE_SCALECTL] [runs]
set -euo pipefail

base=${1:?usage: startup_http_module.sh BASELINE_SCALECTL [CANDIDATE_SCALECTL] [runs]}
cand=${2:-build/scalectl}
runs=${3:-20}
for bin in "$base" "$cand"; do
  if [[ ! -x $bin ]]; then
    echo "startup_http_module.sh: '$bin' is not an executable" >&2
    exit 2
  fi
done
[[ -x /usr/bin/time ]] || { echo "startup_http_module.sh: GNU time (/usr/bin/time) is required" >&2; exit 2; }

# Median / min / max of `runs` runs of `/usr/bin/time -f '%e %M' BIN --version`.
gnu_time() {
  local bin=$1 i
  for ((i = 0; i < runs; i++)); do
    /usr/bin/time -f '%e %M' "$bin" --version 2>&1 >/dev/null | tail -n 1
  done | python3 -c '
import statistics, sys
rows = [line.split() for line in sys.stdin if line.strip()]
wall = [float(r[0]) * 1000 for r in rows]
rss = [int(r[1]) / 1024 for r in rows]
print("wall %.1f ms median (min %.1f, max %.1f; GNU time has 10 ms steps)   RSS %.2f MB median (min %.2f, max %.2f)"
      % (statistics.median(wall), min(wall), max(wall), statistics.median(rss), min(rss), max(rss)))'
}

hyper() {
  if ! command -v hyperfine >/dev/null; then
    echo "hyperfine not installed"
    return
  fi
  local json
  json=$(mktemp)
  hyperfine -N --warmup 5 --runs 100 --export-json "$json" --style none "$1 --version" >/dev/null 2>&1
  python3 - "$json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print("hyperfine median %.2f ms (mean %.2f +- %.2f ms, 100 runs)" % (r["median"] * 1000, r["mean"] * 1000, r["stddev"] * 1000))
PY
  rm -f "$json"
}

for bin in "$base" "$cand"; do
  echo "$bin --version ($runs runs)"
  echo "  $(gnu_time "$bin")"
  echo "  $(hyper "$bin")"
  http=$(ldd "$bin" | grep -Ec 'httplib|brotli|libz\.so' || true)
  echo "  HTTP server libraries linked (cpp-httplib, brotli, zlib): $http"
done
