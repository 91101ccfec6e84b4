"""`-q` for cron: every verb that can succeed prints nothing on stdout or stderr and says it with
exit 0; a failure is still exactly one error line on stderr; `-o json` output is unchanged."""

import json
import os
import unittest

from e2e_base import DOWN, UP, ScalectlTestCase
from support.fixtures import http_request

APP_ID = "0b0c6f3e-3f0e-4a43-9d4b-6a0f1a2b3c4d"
APP_SPEC = {
    "name": "quiet", "region": "fra",
    "services": [{"name": "web", "instance_count": 1, "instance_size_slug": "apps-s-1vcpu-0.5gb",
                  "http_port": 8000, "image": {"registry_type": "DOCR", "repository": "web", "tag": "v1"}}],
    "workers": [{"name": "worker", "instance_count": 1, "instance_size_slug": "apps-s-1vcpu-1gb",
                 "image": {"registry_type": "DOCR", "repository": "worker", "tag": "v1"}}],
}

CONFIG = """
[capacity]
max_cpu = 8
max_ram_gb = 16
reserved_cpu_percent = 20
reserved_ram_percent = 20

[capacity.worker_types.ocr]
cpu = 1
ram_gb = 0.5

[autoscale.policies.w]
metric = { value = %(metric)s }
units_per_worker = 1000
min = 1
max = 10
target = "command"
command = "true"
"""


class QuietTests(ScalectlTestCase):
    action_seconds = 0.2

    def setUp(self):
        super().setUp()
        self.sim.configure(deployment_seconds=0.3)
        self.config = self.tmp / "scalectl.toml"
        self.write_config(metric=500)

    def write_config(self, metric):
        self.config.write_text(CONFIG % {"metric": metric})

    def env(self, **extra):
        merged = {"SCALECTL_CONFIG": str(self.config)}
        merged.update(extra)
        return super().env(**merged)

    def assertQuiet(self, *args, **extra_env):
        """Runs `scalectl -q ARGS` and checks it succeeded without a byte of output."""
        r = self.scalectl("-q", *args, **extra_env)
        self.assertExit(r, 0)
        self.assertEqual(r.stdout, "", "stdout of -q %s" % " ".join(map(str, args)))
        self.assertEqual(r.stderr, "", "stderr of -q %s" % " ".join(map(str, args)))
        return r

    def seed_app(self):
        body = json.dumps({"id": APP_ID, "spec": APP_SPEC}).encode("utf-8")
        status, _, data = http_request("POST", self.sim.url + "/_sim/apps", data=body,
                                       headers={"Content-Type": "application/json"})
        self.assertEqual(status, 201, data)

    def test_droplet_verbs(self):
        did = self.sim.seed_droplet(name="pdf-worker", size_slug=DOWN, status="active")["id"]
        self.assertQuiet("droplet", "status", "--droplet", did)
        self.assertQuiet("droplet", "up", "--droplet", did)
        self.assertEqual(self.sim.droplet_state(did)["size_slug"], UP)  # it did the work
        self.assertQuiet("droplet", "up", "--droplet", did)  # "already at ...; nothing to do"
        # The README's and the man page's nightly cron line, as written there.
        self.assertQuiet("droplet", "down", "--wait-lock", "10m", DROPLET_ID=did)
        self.assertEqual(self.sim.droplet_state(did)["size_slug"], DOWN)
        self.assertQuiet("droplet", "down", "--droplet", did)
        self.assertQuiet("droplet", "cost", "--droplet", did)
        # A quiet run that fails: one error line, nothing on stdout.
        r = self.scalectl("-q", "droplet", "up", "--droplet", "no-such-droplet")
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(r.stdout, "")
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        self.assertTrue(r.stderr.startswith("scalectl: error: "), r.stderr)

    def test_app_verbs(self):
        self.seed_app()
        self.assertQuiet("app", "status", APP_ID)
        self.assertQuiet("app", "scale", APP_ID, "--component", "worker", "--count", "2")
        self.assertEqual(self.sim.control("GET", "/apps/%s" % APP_ID)["app"]["spec"]["workers"][0]
                         ["instance_count"], 2)
        self.assertQuiet("app", "scale", APP_ID, "--component", "worker", "--count", "2")

    def test_capacity_verbs(self):
        self.assertQuiet("capacity", "check", "ocr")
        self.assertQuiet("capacity", "allocate", "ocr", "--id", "w1")
        self.assertQuiet("capacity", "renew", "w1", "--ttl", "2m")  # the README's worker wrapper
        self.assertQuiet("capacity", "status")
        self.assertQuiet("capacity", "plan")
        self.assertQuiet("capacity", "release", "w1")
        self.assertQuiet("capacity", "release", "w1")
        status = self.json_out(self.scalectl("capacity", "status", "-o", "json"))
        self.assertEqual(status["leases"], [])

    def test_autoscale_config_log_and_completion(self):
        self.assertQuiet("autoscale", "plan", "--policy", "w")
        self.write_config(metric=2500)
        self.assertQuiet("autoscale", "apply", "--policy", "w", "--current", "1")
        self.assertQuiet("autoscale", "status", "--policy", "w")
        self.assertQuiet("config", "show")
        self.assertQuiet("log")
        self.assertQuiet("completion", "bash")

    def test_json_output_is_unaffected(self):
        did = self.sim.seed_droplet(name="pdf-worker", size_slug=DOWN, status="active")["id"]
        quiet = self.scalectl("-q", "droplet", "status", "--droplet", did, "-o", "json")
        loud = self.scalectl("droplet", "status", "--droplet", did, "-o", "json")
        self.assertExit(quiet, 0)
        self.assertEqual(quiet.stdout, loud.stdout)
        self.assertIsInstance(self.json_out(quiet), dict)
        self.assertEqual(quiet.stderr, "")


if __name__ == "__main__":
    unittest.main()
