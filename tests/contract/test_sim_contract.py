"""Contract test: every simulator response, proxied through Prism with
--errors, must satisfy DigitalOcean's OpenAPI spec.

Prism answers a violating request with its own 4xx and a violating response
with a 500, both as application/problem+json with an `sl-violations` header,
and logs the violation. Each call here checks that the status came from the
simulator (its request log recorded the same status) and that Prism neither
rewrote the response nor logged anything.

Run: python3 -m unittest discover -s tests/contract -p 'test_*.py' -v
(Prism is installed by tests/contract/install-prism.sh on first use.)
"""

import json
import shutil
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))

import fixtures  # noqa: E402
from fixtures import decode_json, http_request  # noqa: E402

TOKEN = "sim-token"
WEB_SPEC = {
    "name": "shop",
    "region": "nyc",
    "services": [{
        "name": "web",
        "instance_size_slug": "apps-s-1vcpu-1gb",
        "instance_count": 2,
        "http_port": 8080,
        "image": {"registry_type": "DOCR", "repository": "shop", "tag": "v1"},
        "x_unknown_future_field": {"kept": [1, "two", {"three": 3}]},
    }],
    "workers": [{"name": "jobs", "instance_size_slug": "apps-s-1vcpu-0.5gb",
                 "instance_count": 1,
                 "image": {"registry_type": "DOCR", "repository": "jobs", "tag": "v1"}}],
}


def scaled(count, **service_fields):
    spec = json.loads(json.dumps(WEB_SPEC))
    spec["services"][0]["instance_count"] = count
    spec["services"][0].update(service_fields)
    return spec


class SimContractTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        fixtures.find_openapi_spec()  # skips the module, saying how to provide the spec
        cls._tmp = Path(tempfile.mkdtemp(prefix="scalectl-contract-"))
        cls._keep = False
        cls.sim = fixtures.start_simulator(cls._tmp, action_seconds=0.2, deployment_seconds=1.0)
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
            sys.stderr.write("\n[scratch] kept %s (prism and simulator logs)\n" % cls._tmp)
        else:
            shutil.rmtree(cls._tmp, ignore_errors=True)

    def setUp(self):
        fixtures.bound_test_runtime(self, 180)
        self.sim.reset()
        # Pagination links must lead back through Prism, not around it.
        self.sim.configure(base_url=self.prism.url)
        self.log_start = self.prism.log_offset()
        self.addCleanup(self._note_failure)

    def _note_failure(self):
        if fixtures.outcome_failed(self):
            type(self)._keep = True

    # ------------------------------------------------------------- helpers
    def call(self, method, path_or_url, body=None, token=TOKEN, expect=None):
        """One request through Prism; assert the simulator produced the answer."""
        url = path_or_url if path_or_url.startswith("http") else self.prism.url + path_or_url
        headers = {"Authorization": "Bearer " + token} if token is not None else {}
        before = len(self.sim.requests())
        status, hdrs, raw = http_request(method, url, json=body, headers=headers)
        data = decode_json(raw)
        self.assertIsNone(hdrs.get("sl-violations"),
                          "Prism found violations for %s %s: %s" % (method, url,
                                                                   hdrs.get("sl-violations")))
        self.assertFalse((hdrs.get("Content-Type") or "").startswith("application/problem+json"),
                         "Prism answered %s %s itself: %d %s" % (method, url, status, data))
        seen = self.sim.requests()
        self.assertEqual(len(seen), before + 1, "request did not reach the simulator")
        self.assertEqual(seen[-1]["status"], status,
                         "Prism changed the simulator's status for %s %s" % (method, url))
        if expect is not None:
            self.assertEqual(status, expect, "%s %s -> %d %s" % (method, url, status, data))
        return status, hdrs, data

    def expect_error(self, method, path, body, status, error_id, message=None, token=TOKEN):
        got, hdrs, data = self.call(method, path, body, token=token, expect=status)
        self.assertEqual(data["id"], error_id)
        self.assertTrue(data["request_id"])
        if message is not None:
            self.assertEqual(data["message"], message)
        return hdrs, data

    def assert_no_violations(self):
        time.sleep(0.3)  # Prism may log just after it has answered
        self.assertEqual(self.prism.violations(since=self.log_start), [],
                         "Prism logged violations; log: %s" % self.prism._process.log_path)

    def wait_action(self, action_id, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            action = self.call("GET", "/v2/actions/%d" % action_id, expect=200)[2]["action"]
            if action["status"] != "in-progress":
                return action
            time.sleep(0.05)
        self.fail("action %d still in progress after %d s" % (action_id, timeout))

    def act(self, droplet_id, **body):
        return self.call("POST", "/v2/droplets/%d/actions" % droplet_id, body,
                         expect=201)[2]["action"]

    def wait_deployment(self, app_id, dep_id, phases, timeout=15):
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            dep = self.call("GET", "/v2/apps/%s/deployments/%s" % (app_id, dep_id),
                            expect=200)[2]["deployment"]
            if not seen or seen[-1] != dep["phase"]:
                seen.append(dep["phase"])
            if dep["phase"] in phases:
                return dep, seen
            time.sleep(0.05)
        self.fail("deployment %s never reached %s (saw %s)" % (dep_id, phases, seen))

    # --------------------------------------------------------------- tests
    def test_droplet_flow(self):
        self.sim.seed_droplet(id=101, name="web-1", size_slug="s-2vcpu-4gb", tags=["web"])
        self.sim.seed_droplet(id=102, name="web-2", size_slug="s-1vcpu-1gb", backups=True)
        self.call("GET", "/v2/account", expect=200)
        by_name = self.call("GET", "/v2/droplets?name=web-1", expect=200)[2]
        self.assertEqual([d["id"] for d in by_name["droplets"]], [101])
        self.call("GET", "/v2/droplets?tag_name=web&per_page=5", expect=200)
        self.call("GET", "/v2/droplets/102", expect=200)

        done = self.wait_action(self.act(101, type="shutdown")["id"])
        self.assertEqual(done["status"], "completed")
        self.assertEqual(self.call("GET", "/v2/droplets/101", expect=200)[2]["droplet"]["status"],
                         "off")
        resize = self.act(101, type="resize", size="s-8vcpu-16gb", disk=True)
        self.assertEqual(self.wait_action(resize["id"])["status"], "completed")
        droplet = self.call("GET", "/v2/droplets/101", expect=200)[2]["droplet"]
        self.assertEqual((droplet["size_slug"], droplet["memory"], droplet["vcpus"],
                          droplet["disk"]), ("s-8vcpu-16gb", 16384, 8, 320))
        self.wait_action(self.act(101, type="power_on")["id"])
        self.assertEqual(self.call("GET", "/v2/droplets/101", expect=200)[2]["droplet"]["status"],
                         "active")
        self.call("GET", "/v2/droplets/101/actions?per_page=2", expect=200)
        self.call("GET", "/v2/droplets/101/actions/%d" % resize["id"], expect=200)
        self.call("GET", "/v2/actions", expect=200)

        # The guest ignores shutdown: the action errors, power_off then works.
        self.sim.inject(ignore_shutdown={"droplet_id": 102})
        self.assertEqual(self.wait_action(self.act(102, type="shutdown")["id"])["status"],
                         "errored")
        self.assertEqual(self.wait_action(self.act(102, type="power_off")["id"])["status"],
                         "completed")

        # Sizes: follow links.pages.next (it points back at Prism).
        page = self.call("GET", "/v2/sizes", expect=200)[2]
        slugs = [s["slug"] for s in page["sizes"]]
        pages = 1
        while page["links"]["pages"].get("next"):
            page = self.call("GET", page["links"]["pages"]["next"], expect=200)[2]
            slugs += [s["slug"] for s in page["sizes"]]
            pages += 1
        self.assertEqual(pages, 2)
        self.assertEqual(len(slugs), page["meta"]["total"])
        self.call("GET", "/v2/regions", expect=200)
        self.assert_no_violations()

    def test_tag_flow(self):
        """Tags as the spec describes them: create, tag and untag a droplet, list by tag_name,
        and a resize the simulator is told to refuse as too large to fit."""
        self.sim.seed_droplet(id=201, name="batch-1", size_slug="s-2vcpu-4gb", status="off")
        tag = self.call("POST", "/v2/tags", {"name": "scalectl:resized:s-8vcpu-16gb"}, expect=201)[2]
        self.assertEqual(tag["tag"]["name"], "scalectl:resized:s-8vcpu-16gb")
        body = {"resources": [{"resource_id": "201", "resource_type": "droplet"}]}
        self.call("POST", "/v2/tags/scalectl:resized:s-8vcpu-16gb/resources", body, expect=204)
        listed = self.call("GET", "/v2/droplets?tag_name=scalectl:resized:s-8vcpu-16gb&per_page=200",
                           expect=200)[2]
        self.assertEqual([d["id"] for d in listed["droplets"]], [201])
        self.assertIn("scalectl:resized:s-8vcpu-16gb", listed["droplets"][0]["tags"])
        self.call("DELETE", "/v2/tags/scalectl:resized:s-8vcpu-16gb/resources", body, expect=204)
        listed = self.call("GET", "/v2/droplets?tag_name=scalectl:resized:s-8vcpu-16gb", expect=200)[2]
        self.assertEqual(listed["droplets"], [])
        self.expect_error("POST", "/v2/tags", {"name": "no spaces"}, 422, "unprocessable_entity")
        self.sim.inject(refuse_size={"size": "s-8vcpu-16gb"})
        self.expect_error("POST", "/v2/droplets/201/actions", {"type": "resize", "size": "s-8vcpu-16gb"},
                          422, "unprocessable_entity", "Size is too large to fit on your droplet's server.")
        self.assert_no_violations()

    def test_error_statuses_pass_through(self):
        self.sim.seed_droplet(id=201, size_slug="s-2vcpu-4gb")
        self.sim.seed_droplet(id=202, size_slug="s-2vcpu-4gb", status="off")
        self.expect_error("GET", "/v2/droplets/201", None, 401, "unauthorized",
                          "Unable to authenticate you", token="not-the-token")
        self.expect_error("GET", "/v2/droplets/999999", None, 404, "not_found")
        self.expect_error("GET", "/v2/actions/12345", None, 404, "not_found")
        self.expect_error("POST", "/v2/droplets/999999/actions", {"type": "power_on"},
                          404, "not_found")
        self.expect_error("GET", "/v2/apps/no-such-app", None, 404, "not_found")
        self.expect_error("POST", "/v2/droplets/201/actions",
                          {"type": "resize", "size": "s-4vcpu-8gb", "disk": False},
                          422, "unprocessable_entity",
                          "Droplet is currently on. Please power it off to run this event.")
        self.expect_error("POST", "/v2/droplets/202/actions",
                          {"type": "resize", "size": "s-99vcpu-1tb", "disk": False},
                          422, "unprocessable_entity")
        self.expect_error("POST", "/v2/droplets/202/actions",
                          {"type": "resize", "size": "s-1vcpu-1gb", "disk": False},
                          422, "unprocessable_entity",
                          "Size can not decrease size of Droplet's disk image")
        self.act(202, type="power_on")
        self.expect_error("POST", "/v2/droplets/202/actions", {"type": "power_off"},
                          422, "unprocessable_entity", "Droplet already has a pending event.")

        self.sim.inject(path_regex=r"^/v2/droplets/\d+/actions$", method="POST", count=1,
                        status=429, retry_after=2)
        hdrs, _ = self.expect_error("POST", "/v2/droplets/201/actions", {"type": "reboot"},
                                    429, "too_many_requests")
        self.assertEqual(hdrs.get("retry-after"), "2")
        self.sim.inject(path_regex="^/v2/sizes$", status=503)
        self.expect_error("GET", "/v2/sizes", None, 503, "service_unavailable")
        self.sim.inject(path_regex="^/v2/droplets/201$", status=500)
        self.expect_error("GET", "/v2/droplets/201", None, 500, "server_error")
        self.assert_no_violations()

    def test_app_flow(self):
        app = self.sim.seed_app(WEB_SPEC, id="4f6c71e2-1e90-4762-9fee-6cc4a0a9f2cf")
        app_id = app["id"]
        got = self.call("GET", "/v2/apps/%s" % app_id, expect=200)[2]["app"]
        self.assertEqual(got["spec"], WEB_SPEC)
        self.call("GET", "/v2/apps", expect=200)
        sizes = self.call("GET", "/v2/apps/tiers/instance_sizes", expect=200)[2]
        self.assertTrue(all(isinstance(s["memory_bytes"], str) for s in sizes["instance_sizes"]))
        self.call("GET", "/v2/apps/tiers/instance_sizes/apps-d-1vcpu-1gb", expect=200)

        updated = self.call("PUT", "/v2/apps/%s" % app_id,
                            {"spec": scaled(3), "update_all_source_versions": False},
                            expect=200)[2]["app"]
        dep_id = updated["in_progress_deployment"]["id"]
        # Prism needs 1-3 s to validate each app response, so phases in
        # between may be skipped here; test_simulator.py checks the walk.
        dep, _ = self.wait_deployment(app_id, dep_id, ("ACTIVE",))
        self.assertEqual(dep["progress"]["success_steps"], dep["progress"]["total_steps"])
        self.call("GET", "/v2/apps/%s/deployments" % app_id, expect=200)
        after = self.call("GET", "/v2/apps/%s" % app_id, expect=200)[2]["app"]
        self.assertEqual(after["active_deployment"]["id"], dep_id)

        # Autoscaling on a dedicated size, then the spec's rule violations.
        autoscaled = scaled(2, instance_size_slug="apps-d-1vcpu-1gb",
                            autoscaling={"min_instance_count": 2, "max_instance_count": 4,
                                         "metrics": {"cpu": {"percent": 70}}})
        del autoscaled["services"][0]["instance_count"]
        self.call("PUT", "/v2/apps/%s" % app_id, {"spec": autoscaled}, expect=200)
        both = scaled(2, instance_size_slug="apps-d-1vcpu-1gb",
                      autoscaling={"min_instance_count": 1, "max_instance_count": 3})
        self.expect_error("PUT", "/v2/apps/%s" % app_id, {"spec": both}, 400, "invalid_argument")
        shared = scaled(2, autoscaling={"min_instance_count": 1, "max_instance_count": 3})
        del shared["services"][0]["instance_count"]
        self.expect_error("PUT", "/v2/apps/%s" % app_id, {"spec": shared}, 400, "invalid_argument")

        self.sim.inject(fail_next_deployment={"app_id": app_id, "phase": "ERROR", "step": "deploy"})
        failing = self.call("PUT", "/v2/apps/%s" % app_id, {"spec": scaled(5)},
                            expect=200)[2]["app"]["in_progress_deployment"]["id"]
        dep, _ = self.wait_deployment(app_id, failing, ("ERROR",))
        self.assertGreaterEqual(dep["progress"]["error_steps"], 1)

        pending = self.call("PUT", "/v2/apps/%s" % app_id, {"spec": scaled(6)},
                            expect=200)[2]["app"]["in_progress_deployment"]["id"]
        canceled = self.call("POST", "/v2/apps/%s/deployments/%s/cancel" % (app_id, pending),
                             expect=200)[2]["deployment"]
        self.assertEqual(canceled["phase"], "CANCELED")
        self.call("GET", "/v2/apps/%s/deployments/%s" % (app_id, pending), expect=200)
        self.expect_error("GET", "/v2/apps/%s/deployments/nope" % app_id, None, 404, "not_found")
        self.assert_no_violations()

    def test_prism_catches_violations(self):
        """Self-check of the harness: violations are visible, not swallowed."""
        # A bad request: Prism rejects it without forwarding.
        status, hdrs, _ = http_request("GET", self.prism.url + "/v2/droplets/not-a-number",
                                       headers={"Authorization": "Bearer " + TOKEN})
        self.assertEqual(status, 422)
        self.assertTrue(hdrs["Content-Type"].startswith("application/problem+json"))
        # No Authorization header at all: Prism answers 401 itself.
        status, hdrs, _ = http_request("GET", self.prism.url + "/v2/sizes")
        self.assertEqual(status, 401)
        self.assertTrue(hdrs["Content-Type"].startswith("application/problem+json"))
        self.assertEqual(self.sim.requests(), [])
        # A bad response: the control API does not validate seeds, so an app
        # whose name breaks the spec's pattern gets through to Prism.
        self.sim.seed_app({"name": "Not_Valid"}, id="bad-app")
        status, hdrs, data = http_request("GET", self.prism.url + "/v2/apps/bad-app",
                                          headers={"Authorization": "Bearer " + TOKEN})
        self.assertEqual(status, 500)
        self.assertIn("app.spec.name", hdrs["sl-violations"])
        time.sleep(0.3)
        found = self.prism.violations(since=self.log_start)
        self.assertEqual(len(found), 3, found)
        self.assertTrue(any("#VIOLATIONS" in line for line in found), found)


if __name__ == "__main__":
    unittest.main()
