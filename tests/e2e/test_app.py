"""End to end: `scalectl app status|scale` against the DO simulator's App Platform endpoints."""

import json
import os
import signal
import time
import unittest

from e2e_base import ScalectlTestCase
from support.fixtures import decode_json, http_request, scaled

APP_ID = "4f6c71e2-1e90-4762-9fee-6cc4a0a9f2cf"

# The seed's app (.do/app.yaml, scenario 1) as App Platform returns it, written compactly the way
# the simulator serialises it, so the text itself can be compared with what scalectl sends back.
# Fields scalectl does not know, numbers with a spelling of their own and encrypted SECRET values
# must all come back byte for byte.
SPEC_TEXT = (
    '{"name":"shop","region":"fra",'
    '"x_future_block":{"ratio":1.50,"huge":123456789012345678901234567890,"exp":1e3,'
    '"nested":[{"k":"é ✓ \\"quoted\\""},null,true]},'
    '"envs":[{"key":"DATABASE_URL","value":"EV[1:c2VjcmV0:ZW5jcnlwdGVk]","type":"SECRET",'
    '"scope":"RUN_TIME"}],'
    '"services":[{"name":"backend","instance_count":1,"instance_size_slug":"apps-s-1vcpu-0.5gb",'
    '"http_port":8000,"image":{"registry_type":"DOCR","repository":"backend","tag":"v1"},'
    '"envs":[{"key":"SECRET_KEY","value":"EV[1:a2V5:dmFsdWU=]","type":"SECRET","scope":"RUN_TIME"},'
    '{"key":"WEB_CONCURRENCY","value":"1","scope":"RUN_TIME","type":"GENERAL"}],'
    '"x_unknown_service_field":{"weights":[0.25,0.75]}}],'
    '"workers":[{"name":"worker","instance_count":1,"instance_size_slug":"apps-s-1vcpu-1gb",'
    '"image":{"registry_type":"DOCR","repository":"worker","tag":"v1"}}],'
    '"jobs":[{"name":"migrate","kind":"PRE_DEPLOY","image":{"registry_type":"DOCR","repository":"m","tag":"v1"}}],'
    '"static_sites":[{"name":"docs","build_command":"make"}]}'
)


class AppTests(ScalectlTestCase):
    deployment_seconds = 0.6

    def setUp(self):
        super().setUp()
        self.sim.configure(deployment_seconds=self.deployment_seconds)

    # --- helpers ------------------------------------------------------------------------------
    def seed_text(self, text=SPEC_TEXT, app_id=APP_ID):
        body = ('{"id":%s,"spec":%s}' % (json.dumps(app_id), text)).encode("utf-8")
        status, _, data = http_request("POST", self.sim.url + "/_sim/apps", data=body,
                                       headers={"Content-Type": "application/json"})
        self.assertEqual(status, 201, data)
        return app_id

    def spec(self, app_id=APP_ID):
        return self.sim.control("GET", "/apps/%s" % app_id)["app"]["spec"]

    def spec_text(self, app_id=APP_ID):
        """The spec exactly as the API serves it."""
        _, _, body = http_request("GET", "%s/v2/apps/%s" % (self.sim.url, app_id),
                                  headers={"Authorization": "Bearer %s" % self.sim.token})
        text = body.decode("utf-8")
        start = text.index('"spec":') + len('"spec":')
        depth = 0
        in_string = escaped = False
        for i in range(start, len(text)):
            c = text[i]
            if in_string:
                if escaped:
                    escaped = False
                elif c == "\\":
                    escaped = True
                elif c == '"':
                    in_string = False
            elif c == '"':
                in_string = True
            elif c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    return text[start:i + 1]
        self.fail("no spec in %s" % text[:200])

    def component(self, name, app_id=APP_ID):
        spec = self.spec(app_id)
        for kind in ("services", "workers", "jobs"):
            for item in spec.get(kind, []):
                if item["name"] == name:
                    return item
        self.fail("no component %s" % name)

    def puts(self):
        return [r for r in self.sim.requests() if r["method"] == "PUT"]

    def web_concurrency(self, name):
        values = [e["value"] for e in self.component(name).get("envs", []) if e["key"] == "WEB_CONCURRENCY"]
        return values

    def deployments(self, app_id=APP_ID):
        return [d for d in self.sim.deployments() if d["app_id"] == app_id]

    # --- scale ----------------------------------------------------------------------------------
    def test_size_change_with_workers_auto(self):
        self.seed_text()
        self.sim.clear_requests()
        r = self.scalectl("app", "scale", APP_ID, "--component", "backend", "--size", "apps-s-1vcpu-2gb",
                          "--workers", "auto")
        self.assertExit(r, 0)
        backend = self.component("backend")
        self.assertEqual(backend["instance_size_slug"], "apps-s-1vcpu-2gb")
        self.assertEqual(self.web_concurrency("backend"), ["4"])  # 1 worker per 512 MB
        puts = self.puts()
        self.assertEqual(len(puts), 1)
        self.assertIs(puts[0]["body"]["update_all_source_versions"], False)
        self.assertIn("ACTIVE", r.stdout)
        self.assertIn("WEB_CONCURRENCY 1 -> 4", r.stdout)
        self.assertIn("$5.00 -> $25.00", r.stdout)
        self.assertEqual(self.deployments()[-1]["phase"], "ACTIVE")
        self.assertRegex(r.stderr, r"deployment [0-9a-f]{8}: ACTIVE \(\d+/\d+ steps\)")

    def test_count_change(self):
        self.seed_text()
        r = self.scalectl("app", "scale", APP_ID, "--component", "worker", "--count", "3", "-o", "json")
        self.assertExit(r, 0)
        out = self.json_out(r)
        self.assertEqual(out["result"], "changed")
        self.assertEqual(out["before"]["instance_count"], 1)
        self.assertEqual(out["after"]["instance_count"], 3)
        self.assertEqual(out["deployment"]["phase"], "ACTIVE")
        self.assertEqual(out["monthly_cost_usd_before"], {"min": 12.0, "max": 12.0})
        self.assertEqual(out["monthly_cost_usd_after"], {"min": 36.0, "max": 36.0})
        self.assertEqual([c["path"] for c in out["changes"]], ["workers[worker].instance_count"])
        self.assertEqual(self.component("worker")["instance_count"], 3)
        self.assertEqual(self.component("backend")["instance_count"], 1)

    def test_switch_to_autoscaling_and_back(self):
        self.seed_text()
        r = self.scalectl("app", "scale", APP_ID, "--component", "backend", "--size", "apps-d-1vcpu-1gb",
                          "--autoscale", "2:4", "--cpu-percent", "70")
        self.assertExit(r, 0)
        backend = self.component("backend")
        self.assertNotIn("instance_count", backend)
        self.assertEqual(backend["autoscaling"], {"min_instance_count": 2, "max_instance_count": 4,
                                                  "metrics": {"cpu": {"percent": 70}}})
        r = self.scalectl("app", "scale", APP_ID, "--component", "backend", "--no-autoscale")
        self.assertExit(r, 0)
        backend = self.component("backend")
        self.assertNotIn("autoscaling", backend)
        self.assertEqual(backend["instance_count"], 2)  # the autoscaling minimum
        r = self.scalectl("app", "scale", APP_ID, "--component", "backend", "--autoscale", "1:3")
        self.assertExit(r, 0)
        self.assertEqual(self.component("backend")["autoscaling"]["metrics"]["cpu"]["percent"], 80)
        r = self.scalectl("app", "scale", APP_ID, "--component", "backend", "--count", "3")
        self.assertExit(r, 0)
        backend = self.component("backend")
        self.assertNotIn("autoscaling", backend)
        self.assertEqual(backend["instance_count"], 3)
        self.assertEqual(len(self.puts()), 4)

    def test_each_scale_leaves_one_audit_event(self):
        self.seed_text()
        self.assertExit(self.scalectl("app", "scale", APP_ID, "--component", "worker", "--count", "2"), 0)
        self.assertExit(self.scalectl("app", "scale", APP_ID, "--component", "worker", "--count", "2"), 0)
        self.assertExit(self.scalectl("app", "scale", APP_ID, "--component", "worker", "--count", "3",
                                      "--dry-run"), 0)
        self.sim.inject(fail_next_deployment={"app_id": APP_ID, "phase": "ERROR", "step": "build"})
        self.assertExit(self.scalectl("app", "scale", APP_ID, "--component", "worker", "--count", "3"), 1)
        audit = [json.loads(line) for line in (self.state_dir / "logs" / "audit.jsonl").read_text().splitlines()]
        self.assertEqual([(a["what"], a["resource"], a["result"]) for a in audit],
                         [("app.scale", "app-%s/worker" % APP_ID, "ok"),
                          ("app.scale", "app-%s/worker" % APP_ID, "noop"),
                          ("app.scale", "app-%s/worker" % APP_ID, "failed")])
        self.assertEqual((audit[0]["from"], audit[0]["to"]),
                         ("apps-s-1vcpu-1gb x 1, WEB_CONCURRENCY unset", "apps-s-1vcpu-1gb x 2, WEB_CONCURRENCY unset"))

    def test_already_at_target_makes_no_put(self):
        self.seed_text()
        self.sim.clear_requests()
        r = self.scalectl("app", "scale", APP_ID, "--component", "backend", "--count", "1",
                          "--size", "apps-s-1vcpu-0.5gb", "--workers", "auto")
        self.assertExit(r, 0)
        self.assertIn("already at apps-s-1vcpu-0.5gb x 1, WEB_CONCURRENCY 1; nothing to do", r.stdout)
        self.assertEqual([x for x in self.sim.requests() if x["method"] != "GET"], [])
        self.assertEqual(len(self.deployments()), 1)

    def test_unknown_fields_and_secrets_survive_byte_for_byte(self):
        self.seed_text()
        self.assertEqual(self.spec_text(), SPEC_TEXT)  # the simulator serves the text as seeded
        self.sim.clear_requests()
        r = self.scalectl("app", "scale", APP_ID, "--component", "backend", "--size", "apps-s-1vcpu-1gb",
                          "--workers", "auto")
        self.assertExit(r, 0)
        expected = (SPEC_TEXT
                    .replace('"instance_size_slug":"apps-s-1vcpu-0.5gb","http_port"',
                             '"instance_size_slug":"apps-s-1vcpu-1gb","http_port"')
                    .replace('{"key":"WEB_CONCURRENCY","value":"1"', '{"key":"WEB_CONCURRENCY","value":"2"'))
        self.assertNotEqual(expected, SPEC_TEXT)
        puts = self.puts()
        self.assertEqual(len(puts), 1)
        self.assertEqual(puts[0]["raw_body"],
                         '{"spec":%s,"update_all_source_versions":false}' % expected)
        self.assertEqual(self.spec_text(), expected)

    def test_deployment_error_exits_1_naming_the_step(self):
        self.seed_text()
        self.sim.inject(fail_next_deployment={"app_id": APP_ID, "phase": "ERROR", "step": "deploy",
                                              "component": "backend"})
        r = self.scalectl("app", "scale", APP_ID, "--component", "backend", "--size", "apps-s-1vcpu-1gb")
        self.assertExit(r, 1)
        line = self.assertOneErrorLine(r)
        self.assertIn("ended ERROR at step deploy > backend > wait", line)
        self.assertIn("DeployHealthChecksFailed", line)
        status = self.json_out(self.scalectl("app", "status", APP_ID, "-o", "json"))
        self.assertEqual(status["last_scale"]["result"], "failed")
        self.assertEqual(status["active_deployment"]["phase"], "ACTIVE")  # the old one still serves

    def test_canceled_build_exits_1(self):
        self.seed_text()
        self.sim.inject(fail_next_deployment={"app_id": APP_ID, "phase": "CANCELED", "step": "build"})
        r = self.scalectl("app", "scale", APP_ID, "--component", "worker", "--count", "2")
        self.assertExit(r, 1)
        self.assertIn("ended CANCELED at step build >", self.assertOneErrorLine(r))

    def test_concurrent_run_exits_75_and_wait_lock_waits(self):
        self.seed_text()
        self.sim.configure(deployment_seconds=scaled(4, 15))  # the lock is held this long (ASan is slower)
        first = self.popen("app", "scale", APP_ID, "--component", "worker", "--count", "2")
        self.wait_for(lambda: self.puts(), timeout=30, what="the first run's PUT")
        r = self.scalectl("app", "scale", APP_ID, "--component", "worker", "--count", "3")
        self.assertExit(r, 75)
        line = self.assertOneErrorLine(r)
        self.assertIn(str(first.pid), line)
        self.assertEqual(len(self.puts()), 1)
        r = self.scalectl("app", "scale", APP_ID, "--component", "worker", "--count", "3", "--wait-lock", "60s")
        self.assertExit(r, 0)
        self.assertEqual(first.wait(timeout=60), 0)
        self.assertEqual(self.component("worker")["instance_count"], 3)
        self.assertEqual(len(self.puts()), 2)

    def test_dry_run_sends_nothing(self):
        self.seed_text()
        self.sim.clear_requests()
        r = self.scalectl("app", "scale", APP_ID, "--component", "backend", "--size", "apps-s-1vcpu-1gb",
                          "--workers", "auto", "--dry-run")
        self.assertExit(r, 0)
        self.assertIn('services[backend].instance_size_slug: "apps-s-1vcpu-0.5gb" -> "apps-s-1vcpu-1gb"', r.stdout)
        self.assertIn('services[backend].envs[WEB_CONCURRENCY].value: "1" -> "2"', r.stdout)
        self.assertIn("monthly cost: $5.00 -> $12.00", r.stdout)
        self.assertEqual([x for x in self.sim.requests() if x["method"] != "GET"], [])
        self.assertEqual(self.spec_text(), SPEC_TEXT)
        r = self.scalectl("app", "scale", APP_ID, "--component", "worker", "--autoscale", "1:3",
                          "--size", "apps-d-1vcpu-1gb", "--dry-run", "-o", "json")
        self.assertExit(r, 0)
        out = self.json_out(r)
        self.assertEqual(out["result"], "dry_run")
        self.assertEqual(out["monthly_cost_usd_after"], {"min": 34.0, "max": 102.0})
        self.assertEqual([x for x in self.sim.requests() if x["method"] != "GET"], [])

    def test_bad_slug_and_ranges_exit_2(self):
        self.seed_text()
        self.sim.clear_requests()
        cases = [
            (["--size", "apps-s-9vcpu-99gb"], "unknown instance size 'apps-s-9vcpu-99gb'"),
            (["--count", "0"], "--count must be between 1 and 250"),
            (["--count", "251"], "--count must be between 1 and 250"),
            (["--autoscale", "5:2", "--size", "apps-d-1vcpu-1gb"], "the minimum is greater than the maximum"),
            (["--autoscale", "1:3"], "autoscaling needs a dedicated instance size"),
            (["--count", "2", "--autoscale", "1:3"], "--count and --autoscale cannot be combined"),
            (["--autoscale", "two:3"], "--autoscale takes MIN:MAX"),
            (["--workers", "many"], "--workers takes a number"),
            (["--count", "2"], "runs a single instance only"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                r = self.scalectl("app", "scale", APP_ID, "--component", "backend", *args)
                self.assertExit(r, 2)
                self.assertIn(message, self.assertOneErrorLine(r))
        r = self.scalectl("app", "scale", APP_ID, "--component", "docs", "--count", "2")
        self.assertExit(r, 2)
        self.assertIn("is a static site", self.assertOneErrorLine(r))
        r = self.scalectl("app", "scale", APP_ID, "--component", "nope", "--count", "2")
        self.assertExit(r, 2)
        self.assertIn("backend (service), worker (worker), migrate (job), docs (static site)",
                      self.assertOneErrorLine(r))
        self.assertEqual(self.puts(), [])

    def test_from_file_yaml_and_json(self):
        self.seed_text()
        app_yaml = self.tmp / "app.yaml"
        app_yaml.write_text(
            "# .do/app.yaml, scenario 4 of the seed\n"
            "name: shop\n"
            "services:\n"
            "  - name: backend\n"
            "    instance_size_slug: apps-d-1vcpu-1gb  # 1GB\n"
            "    envs:\n"
            "      - key: WEB_CONCURRENCY\n"
            "        value: \"2\"  # 2 workers per container\n"
            "    autoscaling:\n"
            "      min_instance_count: 2\n"
            "      max_instance_count: 5\n"
            "      metrics:\n"
            "        cpu:\n"
            "          percent: 75\n"
            "workers:\n"
            "  - name: worker\n"
            "    instance_count: 1\n")
        r = self.scalectl("app", "scale", "shop", "--component", "backend", "--from-file", app_yaml)
        self.assertExit(r, 0)
        backend = self.component("backend")
        self.assertEqual(backend["instance_size_slug"], "apps-d-1vcpu-1gb")
        self.assertNotIn("instance_count", backend)
        self.assertEqual(backend["autoscaling"], {"min_instance_count": 2, "max_instance_count": 5,
                                                  "metrics": {"cpu": {"percent": 75}}})
        self.assertEqual(self.web_concurrency("backend"), ["2"])
        self.assertEqual(backend["image"]["tag"], "v1")  # not in the file: untouched

        app_json = self.tmp / "spec.json"
        app_json.write_text(json.dumps({"spec": {"name": "shop", "workers": [
            {"name": "worker", "instance_count": 2, "instance_size_slug": "apps-s-1vcpu-2gb"}]}}))
        r = self.scalectl("app", "scale", "shop", "--component", "worker", "--from-file", app_json, "-o", "json")
        self.assertExit(r, 0)
        self.assertEqual(self.json_out(r)["result"], "changed")
        worker = self.component("worker")
        self.assertEqual((worker["instance_count"], worker["instance_size_slug"]), (2, "apps-s-1vcpu-2gb"))
        r = self.scalectl("app", "scale", "shop", "--component", "worker", "--from-file", app_json, "--count", "3")
        self.assertExit(r, 2)

    def test_no_wait_returns_the_deployment_id(self):
        self.seed_text()
        self.sim.configure(deployment_seconds=30)
        r = self.scalectl("app", "scale", APP_ID, "--component", "worker", "--count", "2", "--no-wait",
                          "-o", "json")
        self.assertExit(r, 0)
        out = self.json_out(r)
        self.assertEqual(out["result"], "submitted")
        ids = [d["id"] for d in self.deployments()]
        self.assertEqual(out["deployment"]["id"], ids[-1])
        status = self.json_out(self.scalectl("app", "status", APP_ID, "-o", "json"))
        self.assertEqual(status["in_progress_deployment"]["id"], ids[-1])
        self.assertEqual(status["last_scale"]["result"], "submitted")

    def test_timeout_exits_6(self):
        self.seed_text()
        self.sim.configure(deployment_seconds=60)
        r = self.scalectl("app", "scale", APP_ID, "--component", "worker", "--count", "2", "--timeout", "1s")
        self.assertExit(r, 6)
        self.assertIn("still", self.assertOneErrorLine(r))

    def test_sigint_exits_130_and_a_rerun_waits_without_a_new_put(self):
        self.seed_text()
        self.sim.configure(deployment_seconds=scaled(4, 15))  # the lock is held this long (ASan is slower)
        proc = self.popen("app", "scale", APP_ID, "--component", "worker", "--count", "2")
        self.wait_for(lambda: self.puts(), timeout=30, what="the PUT")
        time.sleep(0.3)
        os.killpg(proc.pid, signal.SIGINT)
        self.assertEqual(proc.wait(timeout=30), 130)
        r = self.scalectl("app", "scale", APP_ID, "--component", "worker", "--count", "2", "-o", "json")
        self.assertExit(r, 0)
        out = self.json_out(r)
        self.assertEqual(out["result"], "noop")
        self.assertEqual(out["deployment"]["phase"], "ACTIVE")
        self.assertEqual(len(self.puts()), 1)

    # --- status and resolution -----------------------------------------------------------------
    def test_state_lost_after_the_spec_was_sent_names_the_deployment_and_says_rerun_converges(self):
        import subprocess
        from support.fixtures import scalectl_path, start_redis
        redis = start_redis(self.tmp)
        self.addCleanup(redis.stop)
        self.sim.configure(deployment_seconds=scaled(3, 10))
        self.seed_text()
        env = {k: os.environ[k] for k in ("PATH", "LANG", "TMPDIR") if k in os.environ}
        env.update(self.env(SCALECTL_REDIS_URL=redis.url))
        proc = subprocess.Popen([str(scalectl_path()), "app", "scale", APP_ID, "--component", "worker",
                                 "--count", "2"], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            self.wait_for(lambda: any(r["method"] == "PUT" for r in self.sim.requests()), timeout=30,
                          what="the spec update")
            redis.stop()  # the state store goes away while the deployment runs
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        deployment = self.sim.deployments()[-1]["id"]
        # The record writes warn, naming the deployment; the lock then cannot be renewed, and the
        # one error line names the deployment and how a rerun picks it up.
        self.assertIn("the spec update of component worker (deployment %s) was submitted" % deployment, err)
        self.assertIn("rerunning the same command converges", err)
        self.assertEqual(proc.returncode, 1, err)
        errors = [line for line in err.splitlines() if line.startswith("scalectl: error:")]
        self.assertEqual(len(errors), 1, err)
        self.assertIn(deployment, errors[0])
        self.assertIn("rerunning the same `scalectl app scale`", errors[0])
        self.assertEqual(self.component("worker")["instance_count"], 2)

    def test_status_human_and_json(self):
        self.seed_text()
        self.assertExit(self.scalectl("app", "scale", APP_ID, "--component", "worker", "--count", "2"), 0)
        r = self.scalectl("app", "status", APP_ID)
        self.assertExit(r, 0)
        self.assertRegex(r.stdout, r"backend\s+service\s+apps-s-1vcpu-0.5gb\s+1\s+1 \[rule 1: ok\]\s+\$5.00")
        self.assertRegex(r.stdout, r"worker\s+worker\s+apps-s-1vcpu-1gb\s+2\s+unset \[rule 2\]\s+\$24.00")
        self.assertRegex(r.stdout, r"migrate\s+job\s+apps-s-1vcpu-0.5gb\*")
        self.assertRegex(r.stdout, r"total\s+\$34.00")
        self.assertRegex(r.stdout, r"active\s+\S+ ACTIVE")
        self.assertIn("last scale   worker: apps-s-1vcpu-1gb x 1 -> apps-s-1vcpu-1gb x 2: ok", r.stdout)
        self.assertIn("lock         free", r.stdout)
        out = self.json_out(self.scalectl("app", "status", APP_ID, "-o", "json", "--component", "backend"))
        self.assertEqual([c["name"] for c in out["components"]], ["backend"])
        c = out["components"][0]
        self.assertEqual((c["size"], c["instance_count"], c["web_concurrency"], c["rule_workers"],
                          c["workers_match"]), ("apps-s-1vcpu-0.5gb", 1, "1", 1, True))
        self.assertEqual(c["memory_bytes"], 536870912)
        self.assertEqual(c["monthly_cost_usd"], {"min": 5.0, "max": 5.0})
        self.assertIsNone(out["in_progress_deployment"])

    def test_status_flags_a_workers_mismatch_and_autoscaling_range(self):
        spec = json.loads(SPEC_TEXT)
        backend = spec["services"][0]
        del backend["instance_count"]
        backend["instance_size_slug"] = "apps-d-1vcpu-2gb"
        backend["autoscaling"] = {"min_instance_count": 2, "max_instance_count": 5,
                                  "metrics": {"cpu": {"percent": 75}}}
        self.sim.seed_app(spec, id=APP_ID)
        r = self.scalectl("app", "status", APP_ID, "--component", "backend")
        self.assertExit(r, 0)
        self.assertRegex(r.stdout, r"auto 2-5 @75%\s+1 \[rule 4: MISMATCH\]\s+\$78.00-\$195.00")
        self.assertIn("--workers auto", r.stderr)

    def test_app_resolved_by_name_across_pages(self):
        for i in range(105):
            self.sim.seed_app({"name": "filler-%03d" % i,
                               "services": [{"name": "web", "instance_count": 1}]})
        self.seed_text(app_id="9d1f0a3e-5b7c-4e2a-8f6d-0c1b2a3d4e5f")
        self.sim.clear_requests()
        r = self.scalectl("app", "status", "shop", "-o", "json")
        self.assertExit(r, 0)
        self.assertEqual(self.json_out(r)["app"]["id"], "9d1f0a3e-5b7c-4e2a-8f6d-0c1b2a3d4e5f")
        pages = [x["query"].get("page") for x in self.sim.requests() if x["path"] == "/v2/apps"]
        self.assertEqual(pages, [None, "2"])
        r = self.scalectl("app", "status", "no-such-app")
        self.assertExit(r, 1)
        self.assertIn("no app is named 'no-such-app' among the 106 apps", self.assertOneErrorLine(r))
        r = self.scalectl("app", "status", SCALECTL_APP_ID="shop")
        self.assertExit(r, 0)
        self.assertIn("shop (9d1f0a3e-5b7c-4e2a-8f6d-0c1b2a3d4e5f)", r.stdout)


if __name__ == "__main__":
    unittest.main()
