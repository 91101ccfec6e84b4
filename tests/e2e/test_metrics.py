"""End to end: --metrics-file / [metrics] textfile writes a node_exporter textfile, atomically,
with the droplet's size, memory and vCPUs and every command's last run; runs of other commands
are kept. The format is checked by a strict parser (and promtool when it is installed)."""

import os
import shutil
import subprocess
import time
import unittest

import prom_text
from e2e_base import DOWN, UP, ScalectlTestCase
from support.fixtures import scalectl_path

GIB = 1024 ** 3


class PromTextParserTests(unittest.TestCase):
    """The parser itself must reject what node_exporter rejects, or it proves nothing."""

    GOOD = '# HELP m_x help\n# TYPE m_x gauge\nm_x{a="1",b="q\\"\\\\\\n"} 1.5e3\nm_x 2\n'

    def test_accepts_valid_text(self):
        parsed = prom_text.parse(self.GOOD)
        self.assertEqual(parsed["samples"][0], ("m_x", {"a": "1", "b": 'q"\\\n'}, 1500.0))

    def test_rejects_broken_text(self):
        bad = {
            "duplicate series": self.GOOD + "m_x 3\n",
            "bad escape": '# TYPE m gauge\nm{a="\\t"} 1\n',
            "bad value": "# TYPE m gauge\nm 1,5\n",
            "no TYPE": "m 1\n",
            "split family": "# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na{x=\"1\"} 2\n",
            "second TYPE": "# TYPE a gauge\n# TYPE a gauge\na 1\n",
            "bad label name": '# TYPE a gauge\na{1x="1"} 1\n',
            "reserved label": '# TYPE a gauge\na{__x="1"} 1\n',
            "duplicate label": '# TYPE a gauge\na{x="1",x="2"} 1\n',
            "no final newline": "# TYPE a gauge\na 1",
            "blank line": "# TYPE a gauge\n\na 1\n",
            "bad type": "# TYPE a gauges\na 1\n",
        }
        for what, text in bad.items():
            with self.subTest(what):
                with self.assertRaises(prom_text.FormatError):
                    prom_text.parse(text)


class MetricsTests(ScalectlTestCase):

    def setUp(self):
        super().setUp()
        self.prom_dir = self.tmp / "textfile"
        self.prom_dir.mkdir()
        self.prom = self.prom_dir / "scalectl.prom"

    def seed(self, size=DOWN, name="pdf-worker"):
        return self.sim.seed_droplet(name=name, size_slug=size, status="active", disk=80)["id"]

    def read(self):
        text = self.prom.read_text()
        parsed = prom_text.parse(text)
        promtool = shutil.which("promtool")
        if promtool:
            r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True,
                               timeout=60)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        for name in parsed["families"]:
            self.assertTrue(name.startswith("scalectl_"), name)
        return parsed

    def assertOnlyTextfileFiles(self):
        names = sorted(p.name for p in self.prom_dir.iterdir())
        self.assertEqual(names, ["scalectl.prom", "scalectl.prom.json", "scalectl.prom.lock"])
        self.assertEqual(self.prom.stat().st_mode & 0o777, 0o644)

    def test_droplet_status_up_and_down_write_their_series(self):
        did = self.seed()
        r = self.scalectl("--metrics-file", self.prom, "droplet", "status", "--droplet", did)
        self.assertExit(r, 0)
        m = self.read()
        self.assertEqual(prom_text.values(m, "scalectl_droplet_info", droplet_id=did, size=DOWN, name="pdf-worker"),
                         [1.0])
        self.assertEqual(prom_text.values(m, "scalectl_droplet_memory_bytes", droplet_id=did), [4 * GIB])
        self.assertEqual(prom_text.values(m, "scalectl_droplet_vcpus", droplet_id=did), [2])
        self.assertEqual(prom_text.values(m, "scalectl_last_run_success", command="droplet status"), [1])
        stamp = prom_text.values(m, "scalectl_last_run_timestamp_seconds", command="droplet status")[0]
        self.assertLess(abs(stamp - time.time()), 300)
        self.assertOnlyTextfileFiles()

        # The global option may also follow the subcommand.
        self.assertExit(self.scalectl("droplet", "up", "--droplet", did, "--metrics-file", self.prom), 0)
        m = self.read()
        # One info series per droplet: the size label moved, the old one is gone.
        info = [l for n, l, v in m["samples"] if n == "scalectl_droplet_info"]
        self.assertEqual(info, [{"droplet_id": str(did), "name": "pdf-worker", "size": UP}])
        self.assertEqual(prom_text.values(m, "scalectl_droplet_memory_bytes", droplet_id=did), [16 * GIB])
        self.assertEqual(prom_text.values(m, "scalectl_droplet_vcpus", droplet_id=did), [8])
        self.assertEqual(prom_text.values(m, "scalectl_droplet_price_monthly_dollars", droplet_id=did), [96])
        # The status run is still there next to the up run.
        self.assertEqual(prom_text.values(m, "scalectl_last_run_success", command="droplet status"), [1])
        self.assertEqual(prom_text.values(m, "scalectl_last_run_success", command="droplet up"), [1])
        self.assertGreater(prom_text.values(m, "scalectl_last_run_duration_seconds", command="droplet up")[0], 0)

    def test_a_failed_run_records_success_0_and_keeps_other_series(self):
        did = self.seed()
        self.assertExit(self.scalectl("droplet", "status", "--droplet", did, SCALECTL_METRICS_TEXTFILE=self.prom), 0)
        self.sim.inject(fail_next_action={"type": "resize", "droplet_id": did})
        r = self.scalectl("droplet", "up", "--droplet", did, SCALECTL_METRICS_TEXTFILE=self.prom)
        self.assertExit(r, 1)
        m = self.read()
        self.assertEqual(prom_text.values(m, "scalectl_last_run_success", command="droplet up"), [0])
        self.assertEqual(prom_text.values(m, "scalectl_last_run_exit_code", command="droplet up"), [1])
        self.assertEqual(prom_text.values(m, "scalectl_last_run_success", command="droplet status"), [1])
        self.assertEqual(prom_text.values(m, "scalectl_droplet_info", droplet_id=did, size=DOWN), [1])

        # A usage error (exit 2) is a run too.
        r = self.scalectl("droplet", "down", SCALECTL_METRICS_TEXTFILE=self.prom)
        self.assertExit(r, 2)
        self.assertEqual(prom_text.values(self.read(), "scalectl_last_run_exit_code", command="droplet down"), [2])

    def test_config_key_and_inspection_commands(self):
        cfg = self.tmp / "m.toml"
        cfg.write_text('[metrics]\ntextfile = "%s"\n' % self.prom)
        self.assertExit(self.scalectl("--config", cfg, "log"), 0)
        self.assertExit(self.scalectl("--config", cfg, "config", "show"), 0)
        self.assertFalse(self.prom.exists())  # log and config show inspect scalectl itself
        did = self.seed(size=UP)
        self.assertExit(self.scalectl("--config", cfg, "droplet", "up", "--droplet", did), 0)  # a noop run
        m = self.read()
        self.assertEqual(prom_text.values(m, "scalectl_last_run_success", command="droplet up"), [1])
        self.assertEqual(prom_text.values(m, "scalectl_droplet_info", droplet_id=did, size=UP), [1])
        r = self.scalectl("--config", cfg, "config", "show")
        self.assertIn('metrics.textfile = "%s"' % self.prom, r.stdout)
        r = self.scalectl("--config", cfg, "config", "show", "--metrics-file", "/elsewhere.prom")
        self.assertIn('(flag --metrics-file) metrics.textfile = "/elsewhere.prom"', r.stdout)

    def test_concurrent_runs_keep_every_series_and_leave_no_temp_files(self):
        count = 16
        ids = [self.seed(name="w%d" % i) for i in range(count)]
        env = {k: os.environ[k] for k in ("PATH", "LANG", "TMPDIR") if k in os.environ}
        env.update(self.env(SCALECTL_METRICS_TEXTFILE=self.prom))
        procs = [subprocess.Popen([str(scalectl_path()), "droplet", "status", "--droplet", str(did)], env=env,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True) for did in ids]
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            self.assertEqual(proc.returncode, 0, err)
            self.assertNotIn("warning", err)
        m = self.read()
        self.assertEqual(sorted(int(l["droplet_id"]) for n, l, v in m["samples"] if n == "scalectl_droplet_info"),
                         sorted(ids))
        self.assertOnlyTextfileFiles()

    def test_an_unwritable_textfile_is_one_warning_and_changes_nothing_else(self):
        did = self.seed(size=UP)
        missing = self.tmp / "no-such-dir" / "scalectl.prom"
        r = self.scalectl("droplet", "up", "--droplet", did, "--metrics-file", missing)
        self.assertExit(r, 0)
        warnings = [l for l in r.stderr.splitlines() if l.startswith("scalectl: warning:")]
        self.assertEqual(len(warnings), 1, r.stderr)
        self.assertIn("could not write the metrics file %s" % missing, warnings[0])
        self.assertIn("already", r.stdout)


class AutoscaleMetricsTests(ScalectlTestCase):
    start_sim = False

    def test_autoscale_apply_writes_current_desired_and_the_metric(self):
        prom = self.tmp / "scalectl.prom"
        cfg = self.tmp / "autoscale.toml"
        cfg.write_text('[autoscale.policies.w]\nmetric = { value = 850 }\nunits_per_worker = 1000\n'
                       'min = 1\nmax = 10\ntarget = "manual"\n')
        r = self.scalectl("--config", cfg, "--metrics-file", prom, "autoscale", "apply", "--policy", "w")
        self.assertExit(r, 0)
        m = prom_text.parse(prom.read_text())
        self.assertEqual(prom_text.values(m, "scalectl_autoscale_current_replicas", policy="w"), [1])
        self.assertEqual(prom_text.values(m, "scalectl_autoscale_desired_replicas", policy="w"), [2])
        self.assertEqual(prom_text.values(m, "scalectl_autoscale_metric_value", policy="w"), [850])
        self.assertEqual(prom_text.values(m, "scalectl_last_run_success", command="autoscale apply"), [1])
        # A dry run changes nothing, so it records no autoscale series change.
        cfg.write_text(cfg.read_text().replace("850", "1950"))
        r = self.scalectl("--config", cfg, "--metrics-file", prom, "autoscale", "apply", "--policy", "w",
                          "--dry-run")
        self.assertExit(r, 0)
        m = prom_text.parse(prom.read_text())
        self.assertEqual(prom_text.values(m, "scalectl_autoscale_metric_value", policy="w"), [850])


if __name__ == "__main__":
    unittest.main()
