#!/usr/bin/env python3
"""Benchmark: wall time of `scalectl droplet up` against simulator actions of known duration,
the overhead above the sum of the action times, the number of API requests, and peak RSS.
Prints figures; asserts nothing. Usage: droplet_up.py [SCALECTL_BIN] [ACTION_SECONDS] [RUNS]"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support.fixtures import DEFAULT_TOKEN, start_simulator  # noqa: E402


def main():
    binary = Path(sys.argv[1] if len(sys.argv) > 1 else "build/scalectl").resolve()
    action_seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    time_bin = "/usr/bin/time" if os.path.exists("/usr/bin/time") else None
    with tempfile.TemporaryDirectory(prefix="scalectl-bench-") as tmp:
        tmp = Path(tmp)
        sim = start_simulator(tmp, action_seconds=action_seconds)
        try:
            (tmp / "vendor").write_text("QEMU\n")
            walls, overheads, requests, rss = [], [], [], []
            for i in range(runs):
                droplet = sim.seed_droplet(name="bench-%d" % i, size_slug="s-2vcpu-4gb")
                sim.clear_requests()
                env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp),
                       "DIGITALOCEAN_TOKEN": DEFAULT_TOKEN, "DIGITALOCEAN_API_URL": sim.url,
                       "SCALECTL_STATE_DIR": str(tmp / "state"), "SCALECTL_DROPLET_DMI_PATH": str(tmp / "vendor")}
                cmd = [str(binary), "-q", "droplet", "up", "--droplet", str(droplet["id"])]
                if time_bin:
                    cmd = [time_bin, "-f", "%M", "-o", str(tmp / "rss")] + cmd
                start = time.monotonic()
                r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
                wall = time.monotonic() - start
                if r.returncode != 0:
                    sys.exit("droplet up failed: %s" % r.stderr)
                actions = [a for a in sim.actions() if a.get("droplet_id") == droplet["id"]]
                action_time = len(actions) * action_seconds
                walls.append(wall)
                overheads.append(wall - action_time)
                requests.append(len(sim.requests()))
                if time_bin:
                    rss.append(int((tmp / "rss").read_text().split()[-1]))
            print("droplet up: %d runs, %d actions of %.1f s each (sum %.1f s)"
                  % (runs, len(actions), action_seconds, action_time))
            print("  wall time   median %.2f s, min %.2f s, max %.2f s"
                  % (statistics.median(walls), min(walls), max(walls)))
            print("  overhead    median %.2f s above the sum of action times (%.2f s per action)"
                  % (statistics.median(overheads), statistics.median(overheads) / max(1, len(actions))))
            print("  requests    %s per run" % sorted(set(requests)))
            if rss:
                print("  peak RSS    median %.1f MB" % (statistics.median(rss) / 1024.0))
        finally:
            sim.stop()


if __name__ == "__main__":
    main()
