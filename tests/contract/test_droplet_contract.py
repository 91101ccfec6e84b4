"""Contract test: the real scalectl binary runs the whole droplet flow through Prism in proxy
mode with --errors, in front of the simulator. No request scalectl sends and no response the
simulator returns may violate DigitalOcean's OpenAPI spec (../shared/do-openapi.yaml)."""

import json
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.fixtures import (DEFAULT_TOKEN, find_openapi_spec, run_scalectl, scratch_dir,  # noqa: E402
                              start_prism, start_simulator)

UP = "s-8vcpu-16gb"
DOWN = "s-2vcpu-4gb"


class DropletContractTest(unittest.TestCase):
    def setUp(self):
        find_openapi_spec()  # skips, saying how to provide the spec, when it is absent
        self.tmp = Path(scratch_dir(self))
        (self.tmp / "home").mkdir()
        self.sim = start_simulator(self.tmp, action_seconds=0.3)
        self.addCleanup(self.sim.stop)
        self.prism = start_prism(self.sim.url, self.tmp)
        self.addCleanup(self.prism.stop)
        (self.tmp / "sys_vendor").write_text("QEMU\n")

    def scalectl(self, *args, token=DEFAULT_TOKEN):
        env = {"HOME": str(self.tmp / "home"), "DIGITALOCEAN_TOKEN": token,
               "DIGITALOCEAN_API_URL": self.prism.url,
               "SCALECTL_STATE_DIR": str(self.tmp / "state"),
               "SCALECTL_DROPLET_DMI_PATH": str(self.tmp / "sys_vendor")}
        return run_scalectl(list(args), env=env, timeout=180)

    def test_droplet_flow_has_no_spec_violations(self):
        droplet = self.sim.seed_droplet(name="pdf-worker", size_slug=DOWN)
        did = str(droplet["id"])
        steps = [
            (["droplet", "status", "--droplet", "pdf-worker", "-o", "json"], 0),
            (["droplet", "up", "--droplet", did, "--dry-run"], 0),
            (["droplet", "up", "--droplet", did], 0),
            (["droplet", "up", "--droplet", did], 0),          # already at size
            (["droplet", "down", "--droplet", did], 0),
            (["droplet", "status", "--droplet", "424242"], 1),  # 404 through Prism
            (["droplet", "up", "--droplet", did, "--size", "nope-size"], 2),
        ]
        for args, code in steps:
            with self.subTest(args=args):
                r = self.scalectl(*args)
                self.assertEqual(r.returncode, code, r.stderr)
        # Error paths the simulator produces: retries after 503, a failed resize, a 401.
        self.sim.inject(path_regex=r"^/v2/droplets/\d+/actions$", method="POST", count=1, status=503)
        self.sim.inject(fail_next_action={"type": "resize", "droplet_id": int(did)})
        r = self.scalectl("droplet", "up", "--droplet", did)
        self.assertEqual(r.returncode, 1, r.stderr)
        r = self.scalectl("droplet", "status", "--droplet", did, token="not-the-token")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("401", r.stderr)

        self.assertEqual(self.prism.violations(), [], self.prism.log_text()[-4000:])
        # Every request really went through Prism to the simulator.
        paths = {(q["method"], q["path"].split("?")[0].rstrip("0123456789")) for q in self.sim.requests()}
        for expected in [("GET", "/v2/droplets/"), ("GET", "/v2/sizes"), ("POST", "/v2/droplets/%s/actions" % did),
                         ("GET", "/v2/actions/"), ("GET", "/v2/droplets")]:
            self.assertIn(expected, paths)
        statuses = {q["status"] for q in self.sim.requests()}
        self.assertTrue({200, 201, 401, 404, 503} <= statuses, statuses)
        final = self.sim.droplet_state(did)
        self.assertEqual((final["status"], final["size_slug"]), ("active", DOWN))


if __name__ == "__main__":
    unittest.main()
