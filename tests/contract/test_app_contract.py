"""Contract test: `scalectl app status|scale` through Prism (--errors) in front of the simulator.

Every request scalectl sends and every answer it reads must satisfy DigitalOcean's OpenAPI spec:
Prism logs a violation (and answers 4xx/5xx) otherwise. Prism takes 1-3 s to validate each app
request, so deployments here last several seconds and timeouts are generous.

Run: python3 -m unittest -v test_app_contract   (from tests/contract, PYTHONPATH=..)
"""

import json
import shutil
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))

import fixtures  # noqa: E402

TOKEN = "sim-token"
APP_ID = "7a1c2e3f-4b5d-4c6e-8f70-9a8b7c6d5e4f"
SPEC = {
    "name": "shop",
    "region": "fra",
    "envs": [{"key": "DATABASE_URL", "value": "EV[1:c2VjcmV0:ZW5j]", "type": "SECRET", "scope": "RUN_TIME"}],
    "services": [{
        "name": "backend",
        "instance_size_slug": "apps-s-1vcpu-1gb",
        "instance_count": 1,
        "http_port": 8000,
        "image": {"registry_type": "DOCR", "repository": "backend", "tag": "v1"},
        "envs": [{"key": "WEB_CONCURRENCY", "value": "1", "scope": "RUN_TIME", "type": "GENERAL"}],
    }],
    "workers": [{"name": "worker", "instance_size_slug": "apps-s-1vcpu-1gb", "instance_count": 1,
                 "image": {"registry_type": "DOCR", "repository": "worker", "tag": "v1"}}],
}


class AppContractTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        fixtures.find_openapi_spec()  # skips the module, saying how to provide the spec
        cls._tmp = Path(tempfile.mkdtemp(prefix="scalectl-app-contract-"))
        cls._keep = False
        cls.sim = fixtures.start_simulator(cls._tmp, deployment_seconds=6.0)
        try:
            cls.prism = fixtures.start_prism(cls.sim.url, cls._tmp)
        except Exception:
            cls.sim.stop()
            sys.stderr.write("\n[scratch] kept %s\n" % cls._tmp)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.prism.stop()
        cls.sim.stop()
        if cls._keep:
            sys.stderr.write("\n[scratch] kept %s (prism, simulator and scalectl logs)\n" % cls._tmp)
        else:
            shutil.rmtree(cls._tmp, ignore_errors=True)

    def setUp(self):
        fixtures.bound_test_runtime(self, 600)
        self.sim.reset()
        self.sim.configure(base_url=self.prism.url, deployment_seconds=6.0)
        self.log_start = self.prism.log_offset()
        self.addCleanup(self._note_failure)

    def _note_failure(self):
        if fixtures.outcome_failed(self):
            type(self)._keep = True

    def scalectl(self, *args, timeout=300):
        env = {
            "HOME": str(self._tmp),
            "XDG_CONFIG_HOME": str(self._tmp / "config"),
            "DIGITALOCEAN_TOKEN": TOKEN,
            "DIGITALOCEAN_API_URL": self.prism.url,
            "SCALECTL_STATE_DIR": str(self._tmp / "state"),
        }
        result = fixtures.run_scalectl(list(args), env=env, timeout=timeout)
        with open(self._tmp / "scalectl.log", "a") as log:
            log.write("$ scalectl %s -> %d\n%s%s\n" % (" ".join(map(str, args)), result.returncode,
                                                      result.stdout, result.stderr))
        return result

    def assertExit(self, result, code):
        self.assertEqual(result.returncode, code, "exit %d, wanted %d\nstdout:\n%s\nstderr:\n%s" % (
            result.returncode, code, result.stdout, result.stderr))

    def assert_no_violations(self):
        self.assertEqual(self.prism.violations(since=self.log_start), [],
                         "Prism logged violations; log: %s" % self.prism._process.log_path)

    def api_statuses(self):
        """Status of every /v2 request the simulator answered (all came through Prism)."""
        return [(r["method"], r["path"], r["status"]) for r in self.sim.requests()]

    def test_status_scale_and_dry_run_through_prism(self):
        self.sim.seed_app(SPEC, id=APP_ID)
        # A second page of apps: the next link must lead back through Prism.
        for i in range(101):
            self.sim.seed_app({"name": "filler-%03d" % i, "services": [{"name": "web", "instance_count": 1}]},
                              deployed=False)

        r = self.scalectl("app", "status", "shop", "-o", "json")
        self.assertExit(r, 0)
        out = json.loads(r.stdout)
        self.assertEqual(out["app"]["id"], APP_ID)
        self.assertEqual(out["monthly_cost_usd"], {"min": 24.0, "max": 24.0})

        r = self.scalectl("app", "scale", APP_ID, "--component", "backend", "--size", "apps-s-1vcpu-2gb",
                          "--workers", "auto", "--dry-run")
        self.assertExit(r, 0)
        self.assertIn("monthly cost: $12.00 -> $25.00", r.stdout)
        self.assertFalse([s for s in self.api_statuses() if s[0] != "GET"])

        r = self.scalectl("app", "scale", APP_ID, "--component", "backend", "--size", "apps-s-1vcpu-2gb",
                          "--workers", "auto", "-o", "json")
        self.assertExit(r, 0)
        out = json.loads(r.stdout)
        self.assertEqual(out["result"], "changed")
        self.assertEqual(out["deployment"]["phase"], "ACTIVE")
        self.assertEqual(out["after"]["web_concurrency"], "4")

        r = self.scalectl("app", "scale", APP_ID, "--component", "backend", "--size", "apps-d-1vcpu-2gb",
                          "--autoscale", "1:3", "--no-wait")
        self.assertExit(r, 0)

        r = self.scalectl("app", "scale", APP_ID, "--component", "backend", "--size", "apps-d-1vcpu-2gb",
                          "--autoscale", "1:3")
        self.assertExit(r, 0)  # already at target: waits for the running deployment, no second PUT
        self.assertIn("already at", r.stdout)
        self.assertEqual(len([s for s in self.api_statuses() if s[0] == "PUT"]), 2)

        r = self.scalectl("app", "status", "shop")
        self.assertExit(r, 0)
        self.assertIn("auto 1-3 @80%", r.stdout)

        self.sim.inject(fail_next_deployment={"app_id": APP_ID, "phase": "ERROR", "step": "deploy",
                                              "component": "worker"})
        r = self.scalectl("app", "scale", APP_ID, "--component", "worker", "--count", "2")
        self.assertExit(r, 1)
        self.assertIn("deploy > worker > wait", r.stderr)

        statuses = self.api_statuses()
        self.assertTrue(statuses)
        self.assertEqual([s for s in statuses if s[2] >= 400], [])
        self.assert_no_violations()


if __name__ == "__main__":
    unittest.main()
