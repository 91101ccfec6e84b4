"""Tests of the DigitalOcean API simulator, driven over HTTP with urllib.

Run: python3 -m unittest discover -s tests/sim -p 'test_*.py' -v
"""

import http.client
import json
import os
import signal
import subprocess
import sys
import time
import unittest
import urllib.error
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))

import fixtures  # noqa: E402
from fixtures import decode_json, http_request  # noqa: E402

ACTION_SECONDS = 0.2
DEPLOYMENT_SECONDS = 1.0
MSG_PENDING = "Droplet already has a pending event."
MSG_ACTIVE = "Droplet is currently on. Please power it off to run this event."
MSG_DISK = "Size can not decrease size of Droplet's disk image"


def wait_until(predicate, timeout=10.0, interval=0.02, what="condition"):
    """Poll predicate until it returns a truthy value; fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(interval)


class SimTestCase(unittest.TestCase):
    """One simulator subprocess per class; state reset before each test."""

    @classmethod
    def setUpClass(cls):
        cls._tmp = Path(fixtures.tempfile.mkdtemp(prefix="scalectl-simtest-"))
        cls._keep = False
        cls.sim = fixtures.start_simulator(cls._tmp, action_seconds=ACTION_SECONDS,
                                           deployment_seconds=DEPLOYMENT_SECONDS)

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()
        if cls._keep:
            sys.stderr.write("\n[scratch] kept %s\n" % cls._tmp)
        else:
            fixtures.shutil.rmtree(cls._tmp, ignore_errors=True)

    def setUp(self):
        fixtures.bound_test_runtime(self, 60)
        self.sim.reset()
        self.addCleanup(self._note_failure)

    def _note_failure(self):
        if fixtures.outcome_failed(self):
            type(self)._keep = True

    # helpers ------------------------------------------------------------
    def api(self, method, path, body=None, token="sim-token"):
        headers = {}
        if token is not None:
            headers["Authorization"] = "Bearer " + token
        status, hdrs, raw = http_request(method, self.sim.url + path, json=body, headers=headers)
        return status, hdrs, decode_json(raw)

    def ok(self, method, path, body=None, expect=200):
        status, _, data = self.api(method, path, body)
        self.assertEqual(status, expect, "%s %s -> %s %s" % (method, path, status, data))
        return data

    def act(self, droplet_id, **body):
        return self.ok("POST", "/v2/droplets/%d/actions" % droplet_id, body, 201)["action"]

    def wait_action(self, action_id, timeout=5.0):
        def done():
            action = self.ok("GET", "/v2/actions/%d" % action_id)["action"]
            return action if action["status"] != "in-progress" else None
        return wait_until(done, timeout, what="action %d" % action_id)

    def assert_error(self, status_and_data, status, error_id, message=None):
        got_status, _, data = status_and_data
        self.assertEqual(got_status, status, data)
        self.assertEqual(data["id"], error_id)
        self.assertIsInstance(data["request_id"], str)
        self.assertTrue(data["request_id"])
        if message is not None:
            self.assertEqual(data["message"], message)


class CliTest(unittest.TestCase):
    def setUp(self):
        fixtures.bound_test_runtime(self, 60)

    def test_listening_line_port_file_and_sigterm(self):
        tmp = fixtures.scratch_dir(self)
        sim = fixtures.start_simulator(tmp)
        self.addCleanup(sim.stop)
        stdout_file = tmp / ("%s.stdout" % sim._process.name)
        stdout = wait_until(stdout_file.read_text, 5, what="stdout")
        self.assertEqual(stdout, "listening on 127.0.0.1:%d\n" % sim.port)
        self.assertEqual(sim.control("GET", "/health")["port"], sim.port)
        os.kill(sim._process.proc.pid, signal.SIGTERM)
        self.assertEqual(sim._process.proc.wait(timeout=10), 0)

    def test_refuses_non_loopback_host(self):
        result = subprocess.run(
            [sys.executable, str(fixtures.SIM_SCRIPT), "--host", "0.0.0.0"],
            capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
        self.assertEqual(result.returncode, 2)
        self.assertIn("loopback", result.stderr)

    def test_state_file_survives_restart(self):
        tmp = fixtures.scratch_dir(self)
        state = tmp / "state.json"
        sim = fixtures.start_simulator(tmp, state=state)
        sim.seed_droplet(id=7, name="kept", size_slug="s-1vcpu-2gb")
        sim.stop()
        again = fixtures.start_simulator(tmp, state=state)
        self.addCleanup(again.stop)
        status, _, data = again.api("GET", "/v2/droplets/7")
        self.assertEqual(status, 200)
        self.assertEqual(data["droplet"]["name"], "kept")

    def test_in_process_simulator(self):
        sys.path.insert(0, str(fixtures.SIM_SCRIPT.parent))
        import do_sim
        sim = do_sim.Simulator(port=0, action_seconds=0.05).start()
        self.addCleanup(sim.stop)
        self.assertTrue(sim.url.startswith("http://127.0.0.1:"))
        status, _, body = http_request("GET", sim.url + "/v2/sizes",
                                       headers={"Authorization": "Bearer sim-token"})
        self.assertEqual(status, 200)
        self.assertEqual(len(decode_json(body)["sizes"]), 20)


class AuthAndErrorsTest(SimTestCase):
    def test_missing_and_wrong_token_get_401(self):
        self.sim.seed_droplet(id=1)
        for token in (None, "wrong"):
            result = self.api("GET", "/v2/droplets/1", token=token)
            self.assert_error(result, 401, "unauthorized", "Unable to authenticate you")
            self.assertEqual(result[1]["ratelimit-limit"], "5000")

    def test_unknown_resources_get_404(self):
        msg = "The resource you were accessing could not be found."
        self.assert_error(self.api("GET", "/v2/droplets/424242"), 404, "not_found", msg)
        self.assert_error(self.api("GET", "/v2/actions/1"), 404, "not_found", msg)
        self.assert_error(self.api("GET", "/v2/droplets/424242/actions"), 404, "not_found")
        self.assert_error(self.api("POST", "/v2/droplets/424242/actions", {"type": "power_on"}),
                          404, "not_found")
        self.assert_error(self.api("GET", "/v2/apps/nope"), 404, "not_found")
        self.assert_error(self.api("GET", "/v2/nothing-here"), 404, "not_found")

    def test_ratelimit_headers_count_down(self):
        first = self.api("GET", "/v2/sizes")[1]
        second = self.api("GET", "/v2/sizes")[1]
        self.assertEqual(first["ratelimit-limit"], "5000")
        self.assertEqual(int(first["ratelimit-remaining"]) - 1, int(second["ratelimit-remaining"]))
        self.assertGreater(int(first["ratelimit-reset"]), time.time())

    def test_exhausted_ratelimit_gives_429(self):
        self.sim.configure(ratelimit_remaining=1)
        self.assertEqual(self.api("GET", "/v2/sizes")[0], 200)
        result = self.api("GET", "/v2/sizes")
        self.assert_error(result, 429, "too_many_requests")
        self.assertEqual(result[1]["ratelimit-remaining"], "0")
        self.assertGreaterEqual(int(result[1]["retry-after"]), 1)

    def test_bad_json_body_is_400(self):
        self.sim.seed_droplet(id=1)
        status, _, raw = http_request("POST", self.sim.url + "/v2/droplets/1/actions",
                                      data=b"{not json", headers={
                                          "Authorization": "Bearer sim-token",
                                          "Content-Type": "application/json"})
        self.assertEqual(status, 400)
        self.assertEqual(decode_json(raw)["id"], "bad_request")


class DropletTest(SimTestCase):
    def test_droplet_has_every_required_field(self):
        self.sim.seed_droplet(id=1, name="web-1", size_slug="s-2vcpu-4gb", tags=["web"])
        droplet = self.ok("GET", "/v2/droplets/1")["droplet"]
        for field in ("id", "name", "memory", "vcpus", "disk", "locked", "status",
                      "created_at", "features", "backup_ids", "next_backup_window",
                      "snapshot_ids", "image", "volume_ids", "size", "size_slug",
                      "networks", "region", "tags"):
            self.assertIn(field, droplet)
        self.assertEqual((droplet["memory"], droplet["vcpus"], droplet["disk"]), (4096, 2, 80))
        self.assertIs(droplet["locked"], False)
        self.assertEqual(droplet["status"], "active")
        self.assertRegex(droplet["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        size = droplet["size"]
        self.assertEqual(size["price_monthly"], 24.0)
        self.assertEqual(size["price_hourly"], 0.03571)
        for field in ("available", "disk", "memory", "price_hourly", "price_monthly",
                      "regions", "slug", "transfer", "vcpus", "description"):
            self.assertIn(field, size)
        for field in ("available", "features", "name", "sizes", "slug"):
            self.assertIn(field, droplet["region"])

    def test_full_flow_shutdown_resize_power_on(self):
        self.sim.seed_droplet(id=1, name="web-1", size_slug="s-2vcpu-4gb")
        action = self.act(1, type="shutdown")
        self.assertEqual(action["status"], "in-progress")
        self.assertIsNone(action["completed_at"])
        self.assertEqual((action["resource_id"], action["resource_type"]), (1, "droplet"))
        self.assertEqual(action["region_slug"], "nyc3")
        self.assertGreater(action["id"], 2 ** 31)
        self.assertIs(self.ok("GET", "/v2/droplets/1")["droplet"]["locked"], True)
        done = self.wait_action(action["id"])
        self.assertEqual(done["status"], "completed")
        self.assertIsNotNone(done["completed_at"])
        droplet = self.ok("GET", "/v2/droplets/1")["droplet"]
        self.assertEqual((droplet["status"], droplet["locked"]), ("off", False))

        resize = self.act(1, type="resize", size="s-8vcpu-16gb", disk=True)
        self.assertEqual(self.wait_action(resize["id"])["status"], "completed")
        droplet = self.ok("GET", "/v2/droplets/1")["droplet"]
        self.assertEqual(droplet["size_slug"], "s-8vcpu-16gb")
        self.assertEqual((droplet["memory"], droplet["vcpus"], droplet["disk"]), (16384, 8, 320))
        self.assertEqual(droplet["size"]["price_hourly"], 0.14286)
        self.assertEqual(droplet["status"], "off")

        power = self.act(1, type="power_on")
        self.assertEqual(self.wait_action(power["id"])["status"], "completed")
        self.assertEqual(self.ok("GET", "/v2/droplets/1")["droplet"]["status"], "active")

        listed = self.ok("GET", "/v2/droplets/1/actions")
        self.assertEqual([a["type"] for a in listed["actions"]], ["power_on", "resize", "shutdown"])
        self.assertEqual(listed["meta"]["total"], 3)
        one = self.ok("GET", "/v2/droplets/1/actions/%d" % resize["id"])["action"]
        self.assertEqual(one["type"], "resize")
        recorded = self.sim.actions()
        self.assertEqual([(a["type"], a["droplet_id"]) for a in recorded],
                         [("shutdown", 1), ("resize", 1), ("power_on", 1)])
        self.assertEqual(recorded[1]["params"], {"size": "s-8vcpu-16gb", "disk": True})

    def test_power_off_turns_droplet_off(self):
        self.sim.seed_droplet(id=2)
        self.wait_action(self.act(2, type="power_off")["id"])
        self.assertEqual(self.sim.droplet_state(2)["status"], "off")

    def test_pending_event_422(self):
        self.sim.seed_droplet(id=1)
        self.act(1, type="shutdown")
        for body in ({"type": "power_off"}, {"type": "shutdown"}, {"type": "power_on"}):
            self.assert_error(self.api("POST", "/v2/droplets/1/actions", body),
                              422, "unprocessable_entity", MSG_PENDING)

    def test_resize_while_active_422(self):
        self.sim.seed_droplet(id=1, size_slug="s-1vcpu-1gb")
        self.assert_error(self.api("POST", "/v2/droplets/1/actions",
                                   {"type": "resize", "size": "s-2vcpu-4gb", "disk": False}),
                          422, "unprocessable_entity", MSG_ACTIVE)

    def test_unknown_size_422(self):
        self.sim.seed_droplet(id=1, status="off")
        status, _, data = self.api("POST", "/v2/droplets/1/actions",
                                   {"type": "resize", "size": "s-99vcpu-1tb"})
        self.assertEqual((status, data["id"]), (422, "unprocessable_entity"))
        self.assertIn("s-99vcpu-1tb", data["message"])

    def test_disk_cannot_shrink_after_disk_resize(self):
        self.sim.seed_droplet(id=1, size_slug="s-2vcpu-4gb", status="off")
        self.wait_action(self.act(1, type="resize", size="s-8vcpu-16gb", disk=True)["id"])
        self.assertEqual(self.sim.droplet_state(1)["disk_resized_to"], 320)
        for disk in (True, False):
            self.assert_error(self.api("POST", "/v2/droplets/1/actions",
                                       {"type": "resize", "size": "s-4vcpu-8gb", "disk": disk}),
                              422, "unprocessable_entity", MSG_DISK)

    def test_cpu_only_resize_can_go_back_down(self):
        self.sim.seed_droplet(id=1, size_slug="s-2vcpu-4gb", status="off")
        self.wait_action(self.act(1, type="resize", size="s-4vcpu-8gb", disk=False)["id"])
        droplet = self.ok("GET", "/v2/droplets/1")["droplet"]
        self.assertEqual((droplet["size_slug"], droplet["disk"], droplet["memory"]),
                         ("s-4vcpu-8gb", 80, 8192))
        back = self.act(1, type="resize", size="s-2vcpu-4gb", disk=False)
        self.assertEqual(self.wait_action(back["id"])["status"], "completed")

    def test_ignored_shutdown_errors_and_power_off_works(self):
        self.sim.seed_droplet(id=1)
        self.sim.inject(ignore_shutdown={"droplet_id": 1})
        action = self.wait_action(self.act(1, type="shutdown")["id"])
        self.assertEqual(action["status"], "errored")
        self.assertEqual(self.ok("GET", "/v2/droplets/1")["droplet"]["status"], "active")
        power_off = self.wait_action(self.act(1, type="power_off")["id"])
        self.assertEqual(power_off["status"], "completed")
        self.assertEqual(self.ok("GET", "/v2/droplets/1")["droplet"]["status"], "off")

    def test_ignored_shutdown_can_complete_without_effect(self):
        self.sim.seed_droplet(id=1, ignore_shutdown="completed")
        action = self.wait_action(self.act(1, type="shutdown")["id"])
        self.assertEqual(action["status"], "completed")
        self.assertEqual(self.ok("GET", "/v2/droplets/1")["droplet"]["status"], "active")

    def test_fail_next_action(self):
        self.sim.seed_droplet(id=1, status="off", size_slug="s-1vcpu-1gb")
        self.sim.inject(fail_next_action={"type": "resize", "droplet_id": 1})
        failed = self.wait_action(self.act(1, type="resize", size="s-2vcpu-4gb")["id"])
        self.assertEqual(failed["status"], "errored")
        self.assertEqual(self.sim.droplet_state(1)["size_slug"], "s-1vcpu-1gb")
        again = self.wait_action(self.act(1, type="resize", size="s-2vcpu-4gb")["id"])
        self.assertEqual(again["status"], "completed")

    def test_per_type_action_seconds(self):
        self.sim.configure(action_seconds=0.05, action_seconds_by_type={"resize": 0.6})
        self.sim.seed_droplet(id=1, status="off")
        started = time.monotonic()
        self.wait_action(self.act(1, type="resize", size="s-2vcpu-4gb")["id"])
        self.assertGreaterEqual(time.monotonic() - started, 0.55)
        started = time.monotonic()
        self.wait_action(self.act(1, type="power_on")["id"])
        self.assertLess(time.monotonic() - started, 0.5)

    def test_list_by_name_and_pagination(self):
        for i in range(25):
            self.sim.seed_droplet(id=100 + i, name="node-%d" % i, tags=["even"] if i % 2 == 0 else [])
        self.sim.seed_droplet(id=500, name="node-3")
        named = self.ok("GET", "/v2/droplets?name=node-3")
        self.assertEqual(sorted(d["id"] for d in named["droplets"]), [103, 500])
        self.assertEqual(named["meta"]["total"], 2)
        page1 = self.ok("GET", "/v2/droplets")
        self.assertEqual((len(page1["droplets"]), page1["meta"]["total"]), (20, 26))
        page2 = self.ok("GET", "/v2/droplets?page=2")
        self.assertEqual(len(page2["droplets"]), 6)
        tagged = self.ok("GET", "/v2/droplets?tag_name=even&per_page=100")
        self.assertEqual(len(tagged["droplets"]), 13)

    def test_requests_are_logged_with_auth_and_body(self):
        self.sim.seed_droplet(id=1)
        self.sim.clear_requests()
        self.act(1, type="power_off")
        log = self.sim.requests()
        self.assertEqual(len(log), 1)
        entry = log[0]
        self.assertEqual((entry["method"], entry["path"], entry["status"]),
                         ("POST", "/v2/droplets/1/actions", 201))
        self.assertEqual(entry["body"], {"type": "power_off"})
        auth = {k.lower(): v for k, v in entry["headers"].items()}["authorization"]
        self.assertEqual(auth, "Bearer sim-token")

    def test_concurrent_clients(self):
        import concurrent.futures
        for i in range(10):
            self.sim.seed_droplet(id=300 + i)

        def hit(i):
            first = self.api("POST", "/v2/droplets/%d/actions" % (300 + i), {"type": "power_off"})
            second = self.api("POST", "/v2/droplets/%d/actions" % (300 + i), {"type": "power_off"})
            return first[0], second[0], self.api("GET", "/v2/sizes")[0]
        with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
            results = list(pool.map(hit, range(10)))
        self.assertEqual(results, [(201, 422, 200)] * 10)
        self.assertEqual(len({a["id"] for a in self.sim.actions()}), 10)

    def test_keep_alive_connection_is_reused(self):
        self.sim.seed_droplet(id=1)
        conn = http.client.HTTPConnection("127.0.0.1", self.sim.port, timeout=10)
        self.addCleanup(conn.close)
        for _ in range(3):
            conn.request("GET", "/v2/droplets/1", headers={"Authorization": "Bearer sim-token"})
            resp = conn.getresponse()
            body = resp.read()
            self.assertEqual(resp.status, 200)
            self.assertEqual(int(resp.getheader("Content-Length")), len(body))
        conn.request("POST", "/v2/droplets/1/actions", body=json.dumps({"type": "reboot"}),
                     headers={"Authorization": "Bearer sim-token",
                              "Content-Type": "application/json"})
        self.assertEqual(conn.getresponse().status, 201)


class SizesTest(SimTestCase):
    def test_pagination_links_point_back_at_host(self):
        data = self.ok("GET", "/v2/sizes")
        self.assertEqual(len(data["sizes"]), 20)
        total = data["meta"]["total"]
        self.assertGreaterEqual(total, 25)
        self.assertLessEqual(total, 40)
        base = "http://127.0.0.1:%d/v2/sizes" % self.sim.port
        self.assertEqual(data["links"]["pages"]["next"], base + "?page=2&per_page=20")
        self.assertEqual(data["links"]["pages"]["last"], base + "?page=2&per_page=20")
        page2 = self.ok("GET", "/v2/sizes?page=2&per_page=20")
        self.assertEqual(len(page2["sizes"]), total - 20)
        self.assertNotIn("next", page2["links"]["pages"])
        self.assertEqual(page2["links"]["pages"]["first"], base + "?page=1&per_page=20")
        slugs = {s["slug"] for s in data["sizes"] + page2["sizes"]}
        for slug in ("s-1vcpu-1gb", "s-1vcpu-2gb", "s-2vcpu-2gb", "s-2vcpu-4gb", "s-4vcpu-8gb",
                     "s-8vcpu-16gb", "g-2vcpu-8gb", "c-2"):
            self.assertIn(slug, slugs)
        self.assertNotIn("s-8vcpu-32gb", slugs)  # not a real slug

    def test_prices_and_shapes(self):
        sizes = {s["slug"]: s for s in self.ok("GET", "/v2/sizes?per_page=200")["sizes"]}
        expect = {"s-1vcpu-1gb": 6, "s-1vcpu-2gb": 12, "s-2vcpu-2gb": 18, "s-2vcpu-4gb": 24,
                  "s-4vcpu-8gb": 48, "s-8vcpu-16gb": 96}
        for slug, monthly in expect.items():
            self.assertEqual(sizes[slug]["price_monthly"], monthly)
            self.assertEqual(sizes[slug]["price_hourly"], round(monthly / 672, 5))
        s = sizes["s-2vcpu-4gb"]
        self.assertEqual((s["memory"], s["vcpus"], s["disk"]), (4096, 2, 80))
        s = sizes["s-8vcpu-16gb"]
        self.assertEqual((s["memory"], s["vcpus"], s["disk"], s["price_hourly"]),
                         (16384, 8, 320, 0.14286))
        for size in sizes.values():
            self.assertIs(size["available"], True)
            self.assertTrue(size["regions"])
            self.assertEqual(size["memory"] % 8, 0)


class FaultTest(SimTestCase):
    def test_429_with_retry_after_for_count_requests(self):
        self.sim.seed_droplet(id=1)
        self.sim.inject(path_regex=r"^/v2/droplets/\d+/actions$", method="POST", count=2,
                        status=429, retry_after=1, ratelimit_reset=1234567890)
        # GETs and other paths are not affected.
        self.assertEqual(self.api("GET", "/v2/droplets/1")[0], 200)
        for _ in range(2):
            result = self.api("POST", "/v2/droplets/1/actions", {"type": "power_off"})
            self.assert_error(result, 429, "too_many_requests")
            self.assertEqual(result[1]["retry-after"], "1")
            self.assertEqual(result[1]["ratelimit-reset"], "1234567890")
        self.assertEqual(self.api("POST", "/v2/droplets/1/actions", {"type": "power_off"})[0], 201)
        statuses = [r["status"] for r in self.sim.requests()]
        self.assertEqual(statuses, [200, 429, 429, 201])

    def test_503_and_500(self):
        self.sim.inject(path_regex="^/v2/sizes$", status=503)
        self.assert_error(self.api("GET", "/v2/sizes"), 503, "service_unavailable")
        self.sim.inject(status=500, message="boom")
        self.assert_error(self.api("GET", "/v2/sizes"), 500, "server_error", "boom")
        self.assertEqual(self.api("GET", "/v2/sizes")[0], 200)

    def test_delay(self):
        self.sim.inject(path_regex="^/v2/sizes$", delay_seconds=0.5)
        started = time.monotonic()
        self.assertEqual(self.api("GET", "/v2/sizes")[0], 200)
        self.assertGreaterEqual(time.monotonic() - started, 0.45)
        started = time.monotonic()
        self.api("GET", "/v2/sizes")
        self.assertLess(time.monotonic() - started, 0.4)

    def test_drop_connection(self):
        self.sim.inject(path_regex="^/v2/sizes$", drop_connection=True)
        with self.assertRaises((http.client.RemoteDisconnected, urllib.error.URLError,
                                ConnectionError)):
            self.api("GET", "/v2/sizes")
        self.assertEqual(self.api("GET", "/v2/sizes")[0], 200)
        self.assertEqual(self.sim.requests()[0]["status"], 0)

    def test_skip_and_unlimited_count(self):
        self.sim.inject(path_regex="^/v2/account$", status=502, skip=1, count=-1)
        self.assertEqual(self.api("GET", "/v2/account")[0], 200)
        for _ in range(3):
            self.assertEqual(self.api("GET", "/v2/account")[0], 502)
        self.sim.control("DELETE", "/faults")
        self.assertEqual(self.api("GET", "/v2/account")[0], 200)

    def test_bad_fault_is_rejected(self):
        with self.assertRaises(fixtures.FixtureError):
            self.sim.inject(path_regex="^/v2/sizes$")


WEB_SPEC = {
    "name": "shop",
    "region": "nyc",
    "services": [{
        "name": "web",
        "instance_size_slug": "apps-s-1vcpu-1gb",
        "instance_count": 2,
        "http_port": 8080,
        "image": {"registry_type": "DOCR", "repository": "shop", "tag": "v1"},
    }],
    "workers": [{"name": "jobs", "instance_size_slug": "apps-s-1vcpu-0.5gb", "instance_count": 1,
                 "image": {"registry_type": "DOCR", "repository": "jobs", "tag": "v1"}}],
}


def scaled(spec, count):
    new = json.loads(json.dumps(spec))
    new["services"][0]["instance_count"] = count
    return new


class AppTest(SimTestCase):
    def seed(self, spec=WEB_SPEC, app_id="11111111-2222-3333-4444-555555555555"):
        return self.sim.seed_app(spec, id=app_id)

    def test_seeded_app_has_active_deployment(self):
        app = self.seed()
        got = self.ok("GET", "/v2/apps/%s" % app["id"])["app"]
        self.assertEqual(got["spec"], WEB_SPEC)
        self.assertEqual(got["active_deployment"]["phase"], "ACTIVE")
        self.assertNotIn("in_progress_deployment", got)
        self.assertEqual(got["region"]["slug"], "nyc")
        listed = self.ok("GET", "/v2/apps")
        self.assertEqual(listed["meta"]["total"], 1)
        self.assertEqual(listed["apps"][0]["id"], app["id"])

    def test_update_walks_phases_to_active(self):
        app = self.seed()
        old_dep = app["active_deployment"]["id"]
        updated = self.ok("PUT", "/v2/apps/%s" % app["id"],
                          {"spec": scaled(WEB_SPEC, 4), "update_all_source_versions": False})["app"]
        self.assertEqual(updated["spec"]["services"][0]["instance_count"], 4)
        dep = updated["in_progress_deployment"]
        self.assertEqual(dep["phase"], "PENDING_BUILD")
        self.assertEqual(updated["pending_deployment"]["id"], dep["id"])
        self.assertEqual(updated["active_deployment"]["id"], old_dep)
        self.assertEqual(dep["progress"]["total_steps"], 2 + 2 + 2 * 2 + 1)
        seen = []

        def active():
            d = self.ok("GET", "/v2/apps/%s/deployments/%s" % (app["id"], dep["id"]))["deployment"]
            if not seen or seen[-1] != d["phase"]:
                seen.append(d["phase"])
            return d if d["phase"] == "ACTIVE" else None
        final = wait_until(active, 10, interval=0.01, what="deployment ACTIVE")
        self.assertEqual(seen[0], "PENDING_BUILD")
        order = ["PENDING_BUILD", "BUILDING", "PENDING_DEPLOY", "DEPLOYING", "ACTIVE"]
        self.assertEqual(seen, sorted(seen, key=order.index))
        self.assertIn("BUILDING", seen)
        self.assertIn("DEPLOYING", seen)
        progress = final["progress"]
        self.assertEqual(progress["success_steps"], progress["total_steps"])
        self.assertEqual(progress["error_steps"], 0)
        self.assertEqual(final["spec"]["services"][0]["instance_count"], 4)
        got = self.ok("GET", "/v2/apps/%s" % app["id"])["app"]
        self.assertEqual(got["active_deployment"]["id"], dep["id"])
        self.assertNotIn("in_progress_deployment", got)
        old = self.ok("GET", "/v2/apps/%s/deployments/%s" % (app["id"], old_dep))["deployment"]
        self.assertEqual(old["phase"], "SUPERSEDED")
        deps = self.ok("GET", "/v2/apps/%s/deployments" % app["id"])
        self.assertEqual([d["id"] for d in deps["deployments"]], [dep["id"], old_dep])

    def test_deployment_error_names_failing_step(self):
        app = self.seed()
        self.sim.inject(fail_next_deployment={"app_id": app["id"], "phase": "ERROR",
                                              "step": "deploy"})
        dep = self.ok("PUT", "/v2/apps/%s" % app["id"],
                      {"spec": scaled(WEB_SPEC, 3)})["app"]["in_progress_deployment"]
        final = wait_until(lambda: (lambda d: d if d["phase"] in ("ERROR", "ACTIVE") else None)(
            self.ok("GET", "/v2/apps/%s/deployments/%s" % (app["id"], dep["id"]))["deployment"]),
            10, what="deployment end")
        self.assertEqual(final["phase"], "ERROR")
        progress = final["progress"]
        self.assertGreaterEqual(progress["error_steps"], 1)
        failed = [s for s in progress["steps"] if s["status"] == "ERROR"]
        self.assertEqual([s["name"] for s in failed], ["deploy"])
        build = [s for s in progress["steps"] if s["name"] == "build"][0]
        self.assertEqual(build["status"], "SUCCESS")
        got = self.ok("GET", "/v2/apps/%s" % app["id"])["app"]
        self.assertEqual(got["active_deployment"]["id"], app["active_deployment"]["id"])
        self.assertEqual(got["active_deployment"]["spec"]["services"][0]["instance_count"], 2)

    def test_deployment_build_error_and_canceled(self):
        app = self.seed()
        self.sim.inject(fail_next_deployment={"phase": "ERROR", "step": "build"})
        dep = self.ok("PUT", "/v2/apps/%s" % app["id"],
                      {"spec": scaled(WEB_SPEC, 3)})["app"]["in_progress_deployment"]
        path = "/v2/apps/%s/deployments/%s" % (app["id"], dep["id"])
        final = wait_until(lambda: (lambda d: d if d["phase"] == "ERROR" else None)(
            self.ok("GET", path)["deployment"]), 10, what="build error")
        build = final["progress"]["steps"][0]
        self.assertEqual((build["name"], build["status"]), ("build", "ERROR"))
        self.assertEqual(final["progress"]["steps"][1]["status"], "PENDING")
        self.sim.inject(fail_next_deployment={"phase": "CANCELED"})
        dep = self.ok("PUT", "/v2/apps/%s" % app["id"],
                      {"spec": scaled(WEB_SPEC, 5)})["app"]["in_progress_deployment"]
        path = "/v2/apps/%s/deployments/%s" % (app["id"], dep["id"])
        wait_until(lambda: self.ok("GET", path)["deployment"]["phase"] == "CANCELED", 10,
                   what="canceled")

    def test_cancel_through_api(self):
        app = self.seed()
        dep = self.ok("PUT", "/v2/apps/%s" % app["id"],
                      {"spec": scaled(WEB_SPEC, 3)})["app"]["in_progress_deployment"]
        canceled = self.ok("POST", "/v2/apps/%s/deployments/%s/cancel" % (app["id"], dep["id"]))
        self.assertEqual(canceled["deployment"]["phase"], "CANCELED")

    def test_update_validation(self):
        app = self.seed()
        both = scaled(WEB_SPEC, 2)
        both["services"][0].update({"instance_size_slug": "apps-d-1vcpu-1gb",
                                    "autoscaling": {"min_instance_count": 1,
                                                    "max_instance_count": 3}})
        status, _, data = self.api("PUT", "/v2/apps/%s" % app["id"], {"spec": both})
        self.assertEqual((status, data["id"]), (400, "invalid_argument"))
        self.assertIn("mutually exclusive", data["message"])
        shared = json.loads(json.dumps(both))
        del shared["services"][0]["instance_count"]
        shared["services"][0]["instance_size_slug"] = "apps-s-1vcpu-1gb"
        status, _, data = self.api("PUT", "/v2/apps/%s" % app["id"], {"spec": shared})
        self.assertEqual(status, 400)
        self.assertIn("dedicated", data["message"])
        good = json.loads(json.dumps(shared))
        good["services"][0]["instance_size_slug"] = "apps-d-1vcpu-1gb"
        self.assertEqual(self.api("PUT", "/v2/apps/%s" % app["id"], {"spec": good})[0], 200)
        bad_size = scaled(WEB_SPEC, 2)
        bad_size["services"][0]["instance_size_slug"] = "apps-x-huge"
        self.assertEqual(self.api("PUT", "/v2/apps/%s" % app["id"], {"spec": bad_size})[0], 400)
        fixed = scaled(WEB_SPEC, 2)
        fixed["services"][0]["instance_size_slug"] = "apps-s-1vcpu-0.5gb"
        status, _, data = self.api("PUT", "/v2/apps/%s" % app["id"], {"spec": fixed})
        self.assertEqual(status, 400)
        self.assertIn("single instance", data["message"])

    def test_instance_sizes_use_string_numbers(self):
        sizes = self.ok("GET", "/v2/apps/tiers/instance_sizes")["instance_sizes"]
        by_slug = {s["slug"]: s for s in sizes}
        for slug in ("apps-s-1vcpu-0.5gb", "apps-s-1vcpu-1gb-fixed", "apps-s-1vcpu-1gb",
                     "apps-s-1vcpu-2gb", "apps-s-2vcpu-4gb", "apps-d-1vcpu-0.5gb",
                     "apps-d-1vcpu-1gb", "apps-d-1vcpu-2gb", "apps-d-1vcpu-4gb",
                     "apps-d-2vcpu-4gb", "apps-d-2vcpu-8gb", "apps-d-4vcpu-8gb",
                     "apps-d-4vcpu-16gb", "apps-d-8vcpu-32gb"):
            self.assertIn(slug, by_slug)
        for size in sizes:
            for field in ("memory_bytes", "cpus", "usd_per_month", "usd_per_second",
                          "bandwidth_allowance_gib"):
                self.assertIsInstance(size[field], str, (size["slug"], field))
            self.assertIn(size["cpu_type"], ("SHARED", "DEDICATED"))
            self.assertEqual(size["cpu_type"] == "DEDICATED", size["slug"].startswith("apps-d-"))
        self.assertEqual(by_slug["apps-s-1vcpu-0.5gb"]["usd_per_month"], "5.00")
        self.assertEqual(by_slug["apps-s-1vcpu-0.5gb"]["memory_bytes"], str(512 * 1024 ** 2))
        self.assertEqual(by_slug["apps-s-1vcpu-1gb"]["usd_per_month"], "12.00")
        self.assertEqual(by_slug["apps-s-1vcpu-1gb"]["memory_bytes"], str(1024 ** 3))
        self.assertEqual(by_slug["apps-s-1vcpu-2gb"]["usd_per_month"], "25.00")
        one = self.ok("GET", "/v2/apps/tiers/instance_sizes/apps-d-2vcpu-8gb")["instance_size"]
        self.assertEqual(one["cpus"], "2")

    def test_unknown_spec_fields_survive_byte_for_byte(self):
        extra = ('{"x_custom":{"b":1.50,"a":[1e3,-0,12345678901234567890,"\u00e9",null,true],'
                 '"nested":{"z":0.10,"y":{}}},"x_list":[{"k":2.0}]}')
        fragment = extra[1:-1]
        spec_text = ('{"name":"shop","region":"nyc","services":[{"name":"web",'
                     '"instance_size_slug":"apps-s-1vcpu-1gb","instance_count":1,'
                     '"future_field":{"q":3.14159265358979323846}}],' + fragment + '}')
        status, _, raw = http_request("POST", self.sim.url + "/_sim/apps",
                                      data=('{"id":"a-1","spec":%s}' % spec_text).encode(),
                                      headers={"Content-Type": "application/json"})
        self.assertEqual(status, 201, raw)
        status, _, raw = http_request("GET", self.sim.url + "/v2/apps/a-1",
                                      headers={"Authorization": "Bearer sim-token"})
        self.assertEqual(status, 200)
        text = raw.decode("utf-8")
        self.assertIn('"spec":' + spec_text, text)
        # And through an update: the stored spec is the PUT body's spec.
        put = '{"spec":%s,"update_all_source_versions":false}' % spec_text.replace(
            '"instance_count":1', '"instance_count":2')
        status, _, raw = http_request("PUT", self.sim.url + "/v2/apps/a-1", data=put.encode(),
                                      headers={"Authorization": "Bearer sim-token",
                                               "Content-Type": "application/json"})
        self.assertEqual(status, 200, raw)
        text = raw.decode("utf-8")
        self.assertIn('"services":[{"name":"web","instance_size_slug":"apps-s-1vcpu-1gb",'
                      '"instance_count":2,"future_field":{"q":3.14159265358979323846}}],'
                      + fragment, text)


if __name__ == "__main__":
    unittest.main()
