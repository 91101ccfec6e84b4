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

# `runs` rounds of `/usr/bin/time -f '%e %U %S %M' BIN --version`, the two builds alternating in
# each round so that load from elsewhere falls on both alike; prints median / min / max of the
# wall time, of the CPU time (user + system: less sensitive to a busy machine) and of the RSS.
gnu_time() {
  local i bin
  for ((i = 0; i < runs; i++)); do
    for bin in "$base" "$cand"; do
      printf '%s ' "$bin"
      /usr/bin/time -f '%e %U %S %M' "$bin" --version 2>&1 >/dev/null | tail -n 1
    done
  done | python3 -c '
import statistics, sys
rows = {}
for line in sys.stdin:
    bin, wall, user, system, rss = line.split()
    rows.setdefault(bin, []).append((float(wall) * 1000, (float(user) + float(system)) * 1000, int(rss) / 1024))
def stat(values, unit, digits):
    f = "%%.%df" % digits
    return (f + " %s median (min " + f + ", max " + f + ")") % (statistics.median(values), unit, min(values), max(values))
for bin, r in rows.items():
    print("%s --version, %d runs (GNU time, 10 ms steps)" % (bin, len(r)))
    print("  wall %s" % stat([x[0] for x in r], "ms", 0))
    print("  CPU  %s" % stat([x[1] for x in r], "ms", 0))
    print("  RSS  %s" % stat([x[2] for x in r], "MB", 2))
'
}

hyper() {
  if ! command -v hyperfine >/dev/null; then
    echo "hyperfine not installed"
    return
  fi
  local json
  json=$(mktemp)
  hyperfine -N --warmup 5 --runs 100 --export-json "$json" --style none "$* --version" >/dev/null 2>&1
  python3 - "$json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print("hyperfine median %.2f ms (mean %.2f +- %.2f ms, 100 runs)" % (r["median"] * 1000, r["mean"] * 1000, r["stddev"] * 1000))
PY
  rm -f "$json"
}

gnu_time
for bin in "$base" "$cand"; do
  echo "$bin --version: $(hyper "$bin")"
  http=$(ldd "$bin" | grep -Ec 'httplib|brotli|libz\.so' || true)
  echo "  HTTP server libraries linked (cpp-httplib, brotli, zlib): $http"
done
# For reference, what linking cpp-httplib into the executable cost (the unmerged branch i14b): the
# candidate with the library preloaded, so that it and its dependencies are mapped and initialised.
httplib=$(ldconfig -p | awk '/libcpp-httplib\.so/ { print $NF; exit }')
if [[ -n $httplib ]]; then
  echo "$cand --version with LD_PRELOAD=$httplib (about i14b's link):"
  echo "  $(hyper env LD_PRELOAD="$httplib" "$cand")"
  echo "  RSS $(/usr/bin/time -f '%M' env LD_PRELOAD="$httplib" "$cand" --version 2>&1 >/dev/null | tail -n 1) kB (one run)"
fi
