"""doctl's --format COL,... and --no-header on the listing commands: `capacity status` (its lease
table) and `log`. Runs the real binary against a file state directory; no network."""

import unittest

from e2e_base import ScalectlTestCase

CONFIG = """
[capacity]
max_cpu = 8
max_ram_gb = 16

[capacity.worker_types.ocr]
cpu = 1
ram_gb = 0.5
"""


class ColumnTests(ScalectlTestCase):
    start_sim = False

    def setUp(self):
        super().setUp()
        self.cfg = self.tmp / "c.toml"
        self.cfg.write_text(CONFIG)
        for lease in ("job-1", "job-2"):
            self.assertExit(self.scalectl("--config", self.cfg, "capacity", "allocate", "ocr", "--id", lease), 0)

    def assertExit(self, result, code):
        self.assertEqual(result.returncode, code, "stdout:\n%s\nstderr:\n%s" % (result.stdout, result.stderr))

    def test_capacity_status_prints_only_the_named_columns(self):
        r = self.scalectl("--config", self.cfg, "capacity", "status", "--format", "id,Type,pid")
        self.assertExit(r, 0)
        rows = [line.split() for line in r.stdout.splitlines()]
        self.assertEqual(rows[0], ["ID", "TYPE", "PID"])
        self.assertEqual(sorted(row[0] for row in rows[1:]), ["job-1", "job-2"])
        self.assertTrue(all(row[1] == "ocr" and row[2].isdigit() for row in rows[1:]), r.stdout)

    def test_no_header_leaves_only_the_rows(self):
        r = self.scalectl("--config", self.cfg, "capacity", "status", "--format", "ID", "--no-header")
        self.assertExit(r, 0)
        self.assertEqual(sorted(r.stdout.split()), ["job-1", "job-2"])
        r = self.scalectl("--config", self.cfg, "capacity", "status", "--no-header")
        self.assertExit(r, 0)
        self.assertEqual(len(r.stdout.splitlines()), 2)
        self.assertTrue(all(line.split()[0] in ("job-1", "job-2") for line in r.stdout.splitlines()))

    def test_log_columns(self):
        r = self.scalectl("--config", self.cfg, "log", "--format", "what,result,resource")
        self.assertExit(r, 0)
        rows = [line.split() for line in r.stdout.splitlines()]
        self.assertEqual(rows[0], ["WHAT", "RESULT", "RESOURCE"])
        self.assertEqual([row[:2] for row in rows[1:]], [["capacity.allocate", "ok"]] * 2)
        self.assertEqual([row[2] for row in rows[1:]], ["pool-server/job-1", "pool-server/job-2"])
        r = self.scalectl("--config", self.cfg, "log", "--format", "result", "--no-header")
        self.assertExit(r, 0)
        self.assertEqual(r.stdout.split(), ["ok", "ok"])

    def test_an_unknown_column_is_one_usage_error(self):
        r = self.scalectl("--config", self.cfg, "capacity", "status", "--format", "ID,NOPE")
        self.assertExit(r, 2)
        self.assertEqual(r.stdout, "")
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        self.assertIn("unknown column 'NOPE'; the columns are ID,TYPE,CPU,RAM,HOST,PID,AGE,EXPIRES", r.stderr)
        r = self.scalectl("--config", self.cfg, "log", "--format", "")
        self.assertExit(r, 0)  # an empty --format is every column, as if it was not given


if __name__ == "__main__":
    unittest.main()
