#!/usr/bin/env bash
# API requests and wall-time overhead of one `scalectl app scale` against the DO simulator, whose
# deployments take a known time (default 3 s): overhead = wall time - deployment time. Alternates
# the worker count 1 -> 2 -> 1 ... so every run PUTs and waits. Prints figures; asserts nothing.
#
# usage: tests/bench/app_scale.sh [path/to/scalectl] [runs] [deployment_seconds]
set -euo pipefail

bin=${1:-build/scalectl}
runs=${2:-10}
deployment_seconds=${3:-3}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ ! -x $bin ]]; then
  echo "app_scale.sh: '$bin' is not an executable; build first or pass the scalectl path" >&2
  exit 2
fi

SCALECTL_BIN="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")" \
PYTHONPATH="$here/.." python3 - "$runs" "$deployment_seconds" <<'EOF'
import os, statistics, sys, tempfile, time
from pathlib import Path
from support.fixtures import run_scalectl, start_simulator

runs, seconds = int(sys.argv[1]), float(sys.argv[2])
tmp = Path(tempfile.mkdtemp(prefix="scalectl-bench-app-"))
sim = start_simulator(tmp, deployment_seconds=seconds)
try:
    app_id = "3c9e1a52-7f4b-4d2e-9a61-0b8c7d6e5f4a"
    sim.seed_app({"name": "bench", "workers": [{"name": "worker", "instance_size_slug": "apps-s-1vcpu-1gb",
                                                "instance_count": 1}]}, id=app_id)
    env = {"HOME": str(tmp), "DIGITALOCEAN_TOKEN": sim.token, "DIGITALOCEAN_API_URL": sim.url,
           "SCALECTL_STATE_DIR": str(tmp / "state")}
    for label, app in (("by id", app_id), ("by name", "bench")):
        walls, requests = [], []
        for i in range(runs):
            sim.clear_requests()
            count = 2 if i % 2 == 0 else 1
            started = time.monotonic()
            r = run_scalectl(["app", "scale", app, "--component", "worker", "--count", str(count)], env=env,
                             timeout=seconds + 60)
            walls.append(time.monotonic() - started)
            if r.returncode != 0:
                sys.exit("app scale failed (%d): %s" % (r.returncode, r.stderr))
            log = sim.requests()
            requests.append(len(log))
            if i == 0:
                kinds = ", ".join("%s %s" % (x["method"], x["path"].replace(app_id, "{id}")) for x in log)
        overhead = [w - seconds for w in walls]
        print("app scale %s, deployment %.1f s, %d runs: API requests median %d (min %d, max %d); wall %.2f s "
              "median; overhead median %.0f ms (min %.0f, max %.0f)"
              % (label, seconds, runs, statistics.median(requests), min(requests), max(requests),
                 statistics.median(walls), statistics.median(overhead) * 1000, min(overhead) * 1000,
                 max(overhead) * 1000))
        print("  requests of the first run: %s" % kinds)
finally:
    sim.stop()
    import shutil
    shutil.rmtree(tmp, ignore_errors=True)
EOF
