"""End to end: `scalectl droplet cost` prices the recorded resize history with GET /v2/sizes:
hours per size, actual cost, the cost of staying at up_size, and the saving, to the cent."""

import json
import math
import os
import unittest

from e2e_base import DOWN, UP, ScalectlTestCase
from sim.sim_catalog import SIZES_BY_SLUG

MS_PER_HOUR = 3_600_000


def ms(text):
    from datetime import datetime
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def cents(dollars):
    return math.floor(dollars * 100 + 0.5)


class DropletCostTests(ScalectlTestCase):

    def seed(self, size=DOWN, name="pdf-worker"):
        return self.sim.seed_droplet(name=name, size_slug=size, status="active", disk=80)["id"]

    def write_history(self, entries):
        self.assertExit(self.scalectl("log"), 0)  # creates the state directory, mode 0700
        logs = self.state_dir / "logs"
        logs.mkdir(mode=0o700, exist_ok=True)
        path = logs / "droplet-resizes.jsonl"
        with open(path, "a") as f:
            for e in entries:
                f.write(json.dumps(e) + "\n")
        os.chmod(path, 0o600)

    def test_a_recorded_month_to_the_cent(self):
        did = self.seed()
        other = did + 1000
        history = [
            ("2025-09-20T00:00:00Z", DOWN, UP, did),      # before the window: ignored
            ("2025-09-21T00:00:00Z", UP, DOWN, did),
            ("2025-10-10T00:00:00Z", DOWN, UP, did),
            ("2025-10-10T10:00:00Z", UP, DOWN, did),
            ("2025-10-15T00:00:00Z", DOWN, UP, other),    # another droplet: ignored
            ("2025-10-20T00:00:00Z", DOWN, UP, did),
            ("2025-10-20T05:30:00Z", UP, DOWN, did),
        ]
        self.write_history([{"time_ms": ms(t), "droplet_id": d, "action_id": i, "from": f, "to": to,
                             "disk": False} for i, (t, f, to, d) in enumerate(history)])
        args = ["droplet", "cost", "--droplet", did, "--since", "2025-10-01T00:00:00Z",
                "--until", "2025-11-01T00:00:00Z"]
        out = self.json_out(self.scalectl(*args, "-o", "json"))
        self.assertEqual(out["window"]["hours"], 744)
        self.assertEqual(out["resizes"], 4)
        self.assertEqual(out["start_size"], DOWN)
        rows = {r["size"]: r for r in out["sizes"]}
        self.assertEqual(set(rows), {DOWN, UP})
        self.assertAlmostEqual(rows[UP]["hours"], 15.5)
        self.assertEqual(rows[UP]["cost_cents"], 221)          # 15.5 h x $0.14286
        self.assertAlmostEqual(rows[DOWN]["hours"], 728.5)
        self.assertEqual(rows[DOWN]["cost_cents"], 2400)       # 728.5 h x $0.03571 = 26.01 > $24 cap
        self.assertTrue(rows[DOWN]["capped"])
        self.assertEqual(out["actual_cents"], 2621)
        self.assertEqual(out["actual_cost"], 26.21)
        self.assertEqual(out["baseline"]["size"], UP)
        self.assertEqual(out["baseline"]["cost_cents"], 9600)  # 744 h x $0.14286 = 106.29 > $96 cap
        self.assertEqual(out["saving_cents"], 6979)
        self.assertEqual(out["saving"], 69.79)
        self.assertEqual(out["warnings"], [])
        self.assertIn("calendar month", out["billing"])

        r = self.scalectl(*args)
        self.assertExit(r, 0)
        lines = r.stdout.splitlines()
        self.assertIn("744.00 hours, 4 resizes", lines[0])
        self.assertRegex(r.stdout, r"%s\s+728\.50\s+0\.03571\s+24\.00\s+24\.00  monthly cap" % DOWN)
        self.assertRegex(r.stdout, r"%s\s+15\.50\s+0\.14286\s+96\.00\s+2\.21\n" % UP)
        self.assertRegex(r.stdout, r"actual cost\s+26\.21\n")
        self.assertRegex(r.stdout, r"at %s all the time\s+96\.00  monthly cap\n" % UP)
        self.assertRegex(r.stdout, r"saving\s+69\.79\n")

        # up_size from the config is the baseline.
        out = self.json_out(self.scalectl(*args, "-o", "json", SCALECTL_DROPLET_UP_SIZE="s-4vcpu-8gb"))
        self.assertEqual(out["baseline"]["cost_cents"], 4800)
        self.assertEqual(out["saving_cents"], 4800 - 2621)

    def test_history_recorded_by_real_up_and_down_runs(self):
        did = self.seed()
        self.assertExit(self.scalectl("droplet", "up", "--droplet", did), 0)
        self.assertExit(self.scalectl("droplet", "down", "--droplet", did), 0)
        log = [json.loads(l) for l in (self.state_dir / "logs" / "droplet-resizes.jsonl").read_text().splitlines()]
        self.assertEqual([(e["droplet_id"], e["from"], e["to"]) for e in log], [(did, DOWN, UP), (did, UP, DOWN)])

        out = self.json_out(self.scalectl("droplet", "cost", "--droplet", did, "--since", "2h", "-o", "json"))
        start, end = out["window"]["start_ms"], out["window"]["end_ms"]
        self.assertEqual(end - start, 2 * MS_PER_HOUR)
        self.assertEqual(out["resizes"], 2)
        self.assertEqual(out["start_size"], DOWN)
        up_hours = (log[1]["time_ms"] - log[0]["time_ms"]) / MS_PER_HOUR
        down_hours = 2 - up_hours
        price = {slug: SIZES_BY_SLUG[slug]["price_hourly"] for slug in (DOWN, UP)}
        rows = {r["size"]: r for r in out["sizes"]}
        self.assertAlmostEqual(rows[UP]["hours"], up_hours, places=9)
        self.assertAlmostEqual(rows[DOWN]["hours"], down_hours, places=9)
        expected_actual = cents(up_hours * price[UP]) + cents(down_hours * price[DOWN])
        self.assertEqual(out["actual_cents"], expected_actual)
        # The window may straddle a month boundary; price the baseline per month as DO does.
        self.assertEqual(out["baseline"]["cost_cents"], baseline_cents(start, end, price[UP]))
        self.assertEqual(out["saving_cents"], out["baseline"]["cost_cents"] - expected_actual)

    def test_no_history_means_the_current_size_all_the_window(self):
        did = self.seed(size=UP)
        out = self.json_out(self.scalectl("droplet", "cost", "--droplet", did, "--since", "24h", "-o", "json"))
        self.assertEqual(out["resizes"], 0)
        self.assertEqual([r["size"] for r in out["sizes"]], [UP])
        self.assertEqual(out["saving_cents"], 0)

    def test_bad_windows_are_usage_errors(self):
        did = self.seed()
        for args, word in ((["--since", "2h", "--until", "3h"], "window is empty"),
                           (["--until", "2200-01-01"], "future"),
                           (["--since", "last week"], "--since")):
            with self.subTest(args=args):
                r = self.scalectl("droplet", "cost", "--droplet", did, *args)
                self.assertExit(r, 2)
                self.assertIn(word, self.assertOneErrorLine(r))


def baseline_cents(start, end, hourly):
    from datetime import datetime, timezone
    total = 0
    t = start
    while t < end:
        d = datetime.fromtimestamp(t / 1000, tz=timezone.utc)
        nxt = datetime(d.year + (d.month == 12), d.month % 12 + 1, 1, tzinfo=timezone.utc)
        until = min(end, int(nxt.timestamp() * 1000))
        total += cents((until - t) / MS_PER_HOUR * hourly)
        t = until
    return total


if __name__ == "__main__":
    unittest.main()
