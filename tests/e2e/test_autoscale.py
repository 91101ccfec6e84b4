"""End to end: `scalectl autoscale plan|apply|status` with the real binary.

The metric comes from a real redis-server (lists, sets, hashes, streams), a real command or a
loopback HTTP server; the state lives in real files or a real Redis. The do-app target runs
against the DigitalOcean API simulator.

No Docker engine or Kubernetes cluster runs here. For the docker-compose and kubernetes targets
the tests put recording stand-ins for `docker` and `kubectl` first on PATH: small Python scripts
in the scratch directory that append their argv to a file and print canned `ps -q` / `get`
output from a count they keep. The tests assert the exact argv scalectl ran.

Cooldowns and stabilization windows are short (2 s) where a test waits for them to pass; every
wait is bounded and no assertion depends on how long something took.
"""

import http.server
import json
import os
import stat
import threading
import time
import unittest

from e2e_base import ScalectlTestCase
from support.fixtures import http_request, scaled, start_redis, start_simulator

STAND_IN = r'''#!/usr/bin/env python3
# Recording stand-in for `{name}`: appends argv to {name}.argv, keeps a count in {name}.count.
import json, os, sys
here = os.path.dirname(os.path.abspath(__file__))
args = sys.argv[1:]
with open(os.path.join(here, "{name}.argv"), "a") as f:
    f.write(json.dumps(args) + "\n")
count_file = os.path.join(here, "{name}.count")
count = int(open(count_file).read()) if os.path.exists(count_file) else 0
def save(n):
    with open(count_file, "w") as f:
        f.write(str(n))
if "{name}" == "docker":
    if "ps" in args:
        print("\n".join("c0ffee%04d" % i for i in range(count)))
    elif "up" in args:
        save(int(args[args.index("--scale") + 1].split("=", 1)[1]))
else:
    if args[0] == "get":
        sys.stdout.write(str(count))
    elif args[0] == "scale":
        save(int([a for a in args if a.startswith("--replicas=")][0].split("=", 1)[1]))
        print("deployment.apps/%s scaled" % args[1].split("/", 1)[1])
'''


class AutoscaleTestCase(ScalectlTestCase):
    start_sim = False

    def setUp(self):
        super().setUp()
        self.config = self.tmp / "config.toml"
        self.bin = self.tmp / "bin"
        self.bin.mkdir()

    def write_config(self, text):
        self.config.write_text(text)

    def env(self, **extra):
        env = super().env(**extra)
        env["SCALECTL_CONFIG"] = str(self.config)
        env.setdefault("PATH", "%s:%s" % (self.bin, os.environ.get("PATH", "/usr/bin:/bin")))
        return env

    def stand_in(self, name, count):
        path = self.bin / name
        path.write_text(STAND_IN.replace("{name}", name))
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
        (self.bin / (name + ".count")).write_text(str(count))

    def recorded_argv(self, name):
        path = self.bin / (name + ".argv")
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    def stand_in_count(self, name):
        return int((self.bin / (name + ".count")).read_text())

    def apply(self, *args, code=0, **extra):
        r = self.scalectl("autoscale", "apply", *args, "-o", "json", **extra)
        self.assertExit(r, code)
        return self.json_out(r) if code == 0 else r

    def plan(self, *args, code=0):
        r = self.scalectl("autoscale", "plan", *args, "-o", "json")
        self.assertExit(r, code)
        return self.json_out(r)

    def status(self, policy):
        r = self.scalectl("autoscale", "status", "--policy", policy, "-o", "json")
        self.assertExit(r, 0)
        return self.json_out(r)["policies"][0]

    @staticmethod
    def codes(report):
        return [r["code"] for r in report["plan"]["reasons"]] if "plan" in report else \
            [r["code"] for r in report["reasons"]]


class RedisMetricTests(AutoscaleTestCase):

    def setUp(self):
        super().setUp()
        self.redis = start_redis(self.tmp)
        self.addCleanup(self.redis.stop)

    def test_cron_loop_against_a_redis_list(self):
        """A cron-like loop of `autoscale apply`: the queue grows and drains; after each run the
        count, the cooldown and the recorded history match the rules."""
        self.write_config('''
[state]
redis_url = "%s"

[autoscale.policies.queue]
metric = { redis = "jobs" }
units_per_worker = 10
min = 1
max = 4
scale_up_cooldown = "2s"
scale_down_cooldown = "2s"
scale_down_stabilization = "2s"
''' % self.redis.url)
        applies = 0

        def fill(n):
            self.redis.cli("del", "jobs")
            if n:
                self.redis.cli("rpush", "jobs", *["job-%d" % i for i in range(n)])

        def run():
            nonlocal applies
            out = self.apply("--policy", "queue")
            applies += 1
            st = self.status("queue")
            self.assertEqual(st["current"], out["to"])
            self.assertEqual(st["state"]["serial"], applies)
            self.assertEqual(st["last_metric"]["source"], out["plan"]["inputs"]["metric"]["source"])
            plan = out["plan"]
            if out["result"] == "changed":
                up = out["to"] > out["from"]
                event = st["events"][-1]
                self.assertEqual((event["from"], event["to"], event["direction"], event["result"]),
                                 (out["from"], out["to"], "up" if up else "down", "ok"))
                self.assertEqual(event["reasons"], out["reasons"])
                # The cooldown now runs from this event, in both directions.
                self.assertIsNotNone(st["cooldown"]["scale_up_until"])
            for reason in plan["reasons"]:
                if reason["code"] == "InCooldown":
                    self.assertEqual(out["result"], "noop")
                    self.assertRegex(reason["text"], r"^InCooldown until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
            return out

        def run_until(count, reason_codes_allowed_meanwhile, limit=30.0):
            deadline = time.monotonic() + limit
            while True:
                out = run()
                if out["to"] == count:
                    return out
                if out["result"] == "changed":
                    # One step of a longer way: it must head for `count`.
                    self.assertLess(abs(count - out["to"]), abs(count - out["from"]), out["reasons"])
                else:
                    self.assertEqual(out["result"], "noop", out["reasons"])
                    self.assertTrue(set(self.codes(out)) & set(reason_codes_allowed_meanwhile), out["reasons"])
                self.assertLess(time.monotonic(), deadline, "count never reached %d" % count)
                time.sleep(0.3)

        fill(5)  # 50 % of one worker: inside the thresholds
        out = run()
        self.assertEqual((out["from"], out["to"], out["result"]), (1, 1, "noop"))
        self.assertEqual(self.codes(out), ["WithinThresholds", "NoChange"])
        self.assertEqual(out["plan"]["inputs"]["metric"]["source"], "redis LLEN jobs (list)")

        fill(9)  # 90 %: one more worker
        out = run()
        self.assertEqual((out["from"], out["to"], out["result"]), (1, 2, "changed"))
        self.assertEqual(self.codes(out), ["ScaleUpThreshold", "ScaleUp"])

        fill(18)  # 90 % of two: up again once the 2 s cooldown has passed
        run_until(3, ["InCooldown"])
        fill(40)  # 133 % of three: up to max 4
        out = run_until(4, ["InCooldown"])
        fill(40)  # 100 % of four, but max is 4 (and the cooldown may still run)
        out = run()
        self.assertEqual((out["to"], out["result"]), (4, "noop"))
        self.assertTrue({"TooManyReplicas", "InCooldown"} & set(self.codes(out)), out["reasons"])

        fill(12)  # 30 % of four: down to 3 once the stabilization window forgets the 4s
        run_until(3, ["ScaleDownStabilized", "InCooldown"])
        self.redis.cli("del", "jobs")  # a missing key is an empty queue
        out = run_until(1, ["ScaleDownStabilized", "InCooldown"])
        self.assertEqual(out["plan"]["inputs"]["metric"]["value"], 0)
        self.assertEqual(out["plan"]["inputs"]["metric"]["source"], "redis key jobs (missing: 0)")
        time.sleep(0.1)
        out = run()
        self.assertEqual(out["to"], 1)  # min
        st = self.status("queue")
        self.assertEqual([(e["from"], e["to"]) for e in st["events"]],
                         [(1, 2), (2, 3), (3, 4), (4, 3), (3, 2), (2, 1)])
        for e in st["events"]:
            self.assertTrue(e["reasons"])
        r = self.scalectl("autoscale", "status", "--policy", "queue")
        self.assertExit(r, 0)
        self.assertIn("current      1", r.stdout)
        self.assertRegex(r.stdout, r"2 -> 1  down ok  ScaleDown")

    def test_redis_key_types_and_a_policy_url(self):
        """metric.redis_url points at another Redis than the (file) state; each type is measured
        with its own command; a string key is a clear metric error."""
        self.redis.cli("rpush", "l", "a", "b", "c")
        self.redis.cli("zadd", "z", "1", "a", "2", "b")
        self.redis.cli("sadd", "s", "a", "b", "c", "d")
        self.redis.cli("hset", "h", "a", "1")
        self.redis.cli("xadd", "x", "*", "f", "v")
        self.redis.cli("set", "str", "5")
        expected = {"l": (3, "LLEN"), "z": (2, "ZCARD"), "s": (4, "SCARD"), "h": (1, "HLEN"),
                    "x": (1, "XLEN")}
        for key, (value, command) in expected.items():
            with self.subTest(key=key):
                self.write_config('''
[autoscale.policies.q]
metric = { redis = "%s", redis_url = "%s" }
units_per_worker = 10
min = 1
max = 4
''' % (key, self.redis.url))
                out = self.plan("--policy", "q")
                self.assertEqual(out["inputs"]["metric"]["value"], value)
                self.assertTrue(out["inputs"]["metric"]["source"].startswith("redis %s %s" % (command, key)))
        self.write_config('''
[autoscale.policies.q]
metric = { redis = "str", redis_url = "%s" }
units_per_worker = 10
min = 1
max = 4
''' % self.redis.url)
        r = self.scalectl("autoscale", "plan", "--policy", "q")
        self.assertExit(r, 1)
        line = self.assertOneErrorLine(r)
        self.assertIn("is a string, which has no length", line)
        self.assertIn("nothing was changed", line)


class TargetTests(AutoscaleTestCase):

    def policy(self, target_lines, extra=""):
        self.write_config('''
[autoscale.policies.warmup]
metric = { value = 850 }
units_per_worker = 1000
min = 1
max = 100
scale_up_cooldown = "1h"
%s
%s
''' % (target_lines, extra))

    def test_docker_compose_target_runs_exactly_these_commands(self):
        self.stand_in("docker", 1)
        compose = self.tmp / "compose.yml"
        self.policy('target = "docker-compose"\ncompose_project = "warmup"\ncompose_service = "worker"\n'
                    'compose_file = "%s"' % compose)
        out = self.apply("--policy", "warmup")
        self.assertEqual((out["from"], out["to"], out["result"]), (1, 2, "changed"))
        base = ["compose", "-p", "warmup", "-f", str(compose)]
        self.assertEqual(self.recorded_argv("docker"), [
            base + ["ps", "-q", "worker"],
            base + ["up", "-d", "--no-recreate", "--scale", "worker=2", "worker"],
        ])
        self.assertEqual(self.stand_in_count("docker"), 2)
        self.assertEqual(out["plan"]["inputs"]["current"]["source"], "docker compose ps -q")
        # The next run reads 2 from `docker compose ps` and, in cooldown, changes nothing.
        out = self.apply("--policy", "warmup", "--metric", "1900")
        self.assertEqual((out["from"], out["to"], out["result"]), (2, 2, "noop"))
        self.assertIn("InCooldown", self.codes(out))
        self.assertEqual(self.recorded_argv("docker")[-1], base + ["ps", "-q", "worker"])
        self.assertEqual(self.status("warmup")["current"], 2)
        # Each apply left one autoscale.apply event in the audit log of the (file) state store.
        audit = [json.loads(line) for line in (self.state_dir / "logs" / "audit.jsonl").read_text().splitlines()]
        self.assertEqual([(a["resource"], a["from"], a["to"], a["result"]) for a in audit
                          if a["what"] == "autoscale.apply"],
                         [("policy-warmup", "1", "2", "ok"), ("policy-warmup", "2", "2", "noop")])

    def test_kubernetes_target_runs_exactly_these_commands(self):
        self.stand_in("kubectl", 3)
        self.policy('target = "kubernetes"\nk8s_deployment = "warmup-workers"\nk8s_namespace = "mail"\n'
                    'k8s_context = "prod"')
        # 850 on three workers is 28 %: one fewer (43 %) is safe.
        out = self.apply("--policy", "warmup")
        self.assertEqual((out["from"], out["to"], out["result"]), (3, 2, "changed"))
        self.assertEqual(out["note"], "deployment.apps/warmup-workers scaled")
        self.assertEqual(self.recorded_argv("kubectl"), [
            ["get", "deployment", "warmup-workers", "-n", "mail", "--context", "prod", "-o",
             "jsonpath={.spec.replicas}"],
            ["scale", "deployment/warmup-workers", "--replicas=2", "-n", "mail", "--context", "prod"],
        ])
        self.assertEqual(self.stand_in_count("kubectl"), 2)

    def test_command_target_gets_replicas_and_current(self):
        log = self.tmp / "scaled.log"
        self.policy('target = "command"\ncommand = "echo {current} {replicas} $SCALECTL_POLICY '
                    '$SCALECTL_REPLICAS >> %s"' % log)
        out = self.apply("--policy", "warmup", "--current", "1")
        self.assertEqual((out["from"], out["to"]), (1, 2))
        self.assertEqual(log.read_text(), "1 2 warmup 2\n")
        # The count is kept in the state: the next plan starts from 2.
        out = self.plan("--policy", "warmup")
        self.assertEqual(out["inputs"]["current"], {"value": 2, "source": "the last applied count in the state"})

    def test_dry_run_changes_nothing(self):
        self.stand_in("docker", 1)
        self.policy('target = "docker-compose"\ncompose_project = "warmup"\ncompose_service = "worker"')
        out = self.apply("--policy", "warmup", "--dry-run")
        self.assertEqual((out["from"], out["to"], out["result"]), (1, 2, "dry_run"))
        self.assertEqual([a[3:] for a in self.recorded_argv("docker")], [["ps", "-q", "worker"]])
        self.assertEqual(self.stand_in_count("docker"), 1)
        st = self.status("warmup")
        self.assertEqual(st["state"]["serial"], 0)
        self.assertEqual(st["events"], [])
        r = self.scalectl("autoscale", "apply", "--policy", "warmup", "--dry-run")
        self.assertExit(r, 0)
        self.assertIn("dry run: would scale 1 -> 2; nothing was changed", r.stdout)


class AppTargetTests(AutoscaleTestCase):

    def setUp(self):
        super().setUp()
        self.sim = start_simulator(self.tmp, deployment_seconds=0.5)
        self.addCleanup(self.sim.stop)

    def env(self, **extra):
        env = super().env(**extra)
        env["DIGITALOCEAN_API_URL"] = self.sim.url
        return env

    def test_do_app_changes_only_instance_count(self):
        spec = {
            "name": "mail",
            "region": "fra",
            "services": [{"name": "web", "instance_count": 2, "instance_size_slug": "apps-s-1vcpu-1gb",
                          "http_port": 8080, "envs": [{"key": "A", "value": "1"}]}],
            "workers": [{"name": "warmup", "instance_count": 1, "instance_size_slug": "apps-s-1vcpu-1gb",
                         "run_command": "node worker.js"}],
        }
        app = self.sim.seed_app(spec)
        self.write_config('''
[autoscale.policies.warmup]
metric = { value = 1800 }
units_per_worker = 1000
min = 1
max = 10
target = "do-app"
app = "mail"
component = "warmup"
''')
        self.sim.clear_requests()
        out = self.apply("--policy", "warmup")
        self.assertEqual((out["from"], out["to"], out["result"]), (1, 2, "changed"))
        self.assertTrue(out["note"].startswith("deployment "), out["note"])
        puts = [r for r in self.sim.requests() if r["method"] == "PUT"]
        self.assertEqual(len(puts), 1)
        body = json.loads(puts[0]["body"]) if isinstance(puts[0]["body"], str) else puts[0]["body"]
        self.assertIs(body["update_all_source_versions"], False)
        expected = json.loads(json.dumps(spec))
        expected["workers"][0]["instance_count"] = 2
        self.assertEqual(body["spec"], expected)
        self.assertEqual(puts[0]["path"], "/v2/apps/%s" % app["id"])
        self.assertEqual(self.status("warmup")["current"], 2)

        # A component with App Platform autoscaling is refused: the two would fight.
        spec["workers"][0].pop("instance_count")
        spec["workers"][0]["instance_size_slug"] = "apps-d-1vcpu-1gb"
        spec["workers"][0]["autoscaling"] = {"min_instance_count": 1, "max_instance_count": 3,
                                             "metrics": {"cpu": {"percent": 80}}}
        self.sim.seed_app(dict(spec, name="auto"))
        self.config.write_text(self.config.read_text().replace('app = "mail"', 'app = "auto"'))
        r = self.scalectl("autoscale", "apply", "--policy", "warmup")
        self.assertExit(r, 2)
        self.assertIn("uses App Platform autoscaling", self.assertOneErrorLine(r))

    # An app spec as App Platform returns it, compact as the simulator serialises it: fields
    # scalectl does not know, numbers with a spelling of their own, non-ASCII text and an
    # encrypted SECRET must come back byte for byte.
    RAW_SPEC = (
        '{"name":"raw","region":"fra",'
        '"x_future_block":{"ratio":1.50,"huge":123456789012345678901234567890,"exp":1e3,'
        '"nested":[{"k":"é ✓ \\"quoted\\""},null,true]},'
        '"envs":[{"key":"DATABASE_URL","value":"EV[1:c2VjcmV0:ZW5jcnlwdGVk]","type":"SECRET",'
        '"scope":"RUN_TIME"}],'
        '"services":[{"name":"web","instance_count":2,"instance_size_slug":"apps-s-1vcpu-1gb",'
        '"http_port":8080,"x_unknown_service_field":{"weights":[0.25,0.75]}}],'
        '"workers":[{"name":"warmup","instance_count":1,"instance_size_slug":"apps-s-1vcpu-1gb",'
        '"x_cpu_share":0.50,"run_command":"node worker.js"}]}'
    )
    RAW_APP_ID = "0b7d1c59-2f0e-4e3a-9a6c-3d4b5e6f7a8b"
    RAW_POLICY = '''
[autoscale.policies.warmup]
metric = { value = %d }
units_per_worker = 1000
min = 1
max = 10
target = "do-app"
app = "raw"
component = "warmup"
'''

    def seed_raw_app(self):
        body = ('{"id":"%s","spec":%s}' % (self.RAW_APP_ID, self.RAW_SPEC)).encode("utf-8")
        status, _, data = http_request("POST", self.sim.url + "/_sim/apps", data=body,
                                       headers={"Content-Type": "application/json"})
        self.assertEqual(status, 201, data)

    def puts(self):
        return [r for r in self.sim.requests() if r["method"] == "PUT"]

    def test_do_app_put_keeps_unknown_fields_and_number_spelling_byte_for_byte(self):
        self.seed_raw_app()
        self.write_config(self.RAW_POLICY % 1800)
        self.sim.clear_requests()
        out = self.apply("--policy", "warmup")
        self.assertEqual((out["from"], out["to"], out["result"]), (1, 2, "changed"))
        expected = self.RAW_SPEC.replace('"name":"warmup","instance_count":1,',
                                         '"name":"warmup","instance_count":2,')
        self.assertNotEqual(expected, self.RAW_SPEC)
        puts = self.puts()
        self.assertEqual(len(puts), 1)
        self.assertEqual(puts[0]["path"], "/v2/apps/%s" % self.RAW_APP_ID)
        self.assertEqual(puts[0]["raw_body"], '{"spec":%s,"update_all_source_versions":false}' % expected)

    def test_apply_exits_75_while_app_scale_holds_the_app_lock(self):
        self.seed_raw_app()
        self.write_config(self.RAW_POLICY % 4000)
        # `app scale` holds app-<id> until its deployment is live, this long after its PUT: the
        # `autoscale apply` below must start and reach the lock within it (ASan is slower).
        self.sim.configure(deployment_seconds=scaled(6, 20))
        self.sim.clear_requests()
        first = self.popen("app", "scale", "raw", "--component", "warmup", "--count", "2")
        self.wait_for(lambda: self.puts(), timeout=30, what="the app scale's PUT")
        r = self.scalectl("autoscale", "apply", "--policy", "warmup")
        self.assertExit(r, 75)
        line = self.assertOneErrorLine(r)
        self.assertIn("app-%s is locked by pid %d" % (self.RAW_APP_ID, first.pid), line)
        self.assertIn("app scale", line)
        self.assertEqual(len(self.puts()), 1)
        st = self.status("warmup")  # nothing was changed, so nothing was recorded
        self.assertEqual((st["state"]["serial"], st["events"]), (0, []))

        self.assertEqual(first.wait(timeout=60), 0)
        out = self.apply("--policy", "warmup")
        self.assertEqual((out["from"], out["to"], out["result"]), (2, 3, "changed"))
        puts = self.puts()
        self.assertEqual(len(puts), 2)
        self.assertIn('"name":"warmup","instance_count":3,', puts[1]["raw_body"])


class MetricHandler(http.server.BaseHTTPRequestHandler):
    seen = []

    def do_GET(self):
        MetricHandler.seen.append(dict(self.headers))
        body = json.dumps({"queue": {"depth": 2500}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class MetricSourceTests(AutoscaleTestCase):

    def write_policy(self, metric, extra=""):
        self.write_config('''
[autoscale.policies.w]
metric = %s
units_per_worker = 1000
min = 1
max = 10
%s
''' % (metric, extra))

    def test_http_metric_reads_a_json_pointer_and_never_gets_the_token(self):
        server = http.server.HTTPServer(("127.0.0.1", 0), MetricHandler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        MetricHandler.seen = []
        self.write_policy('{ http = "http://127.0.0.1:%d/stats", json_pointer = "/queue/depth" }'
                          % server.server_address[1])
        out = self.plan("--policy", "w", "--current", "2")
        self.assertEqual(out["inputs"]["metric"]["value"], 2500)
        self.assertEqual(out["desired"], 3)
        self.assertEqual(len(MetricHandler.seen), 1)
        self.assertNotIn("authorization", {k.lower() for k in MetricHandler.seen[0]})

    def test_failing_metric_never_scales_down(self):
        """With an unreadable metric: fail exits 1 and records nothing, keep keeps, a fallback
        count below the current one is not applied, one above it is."""
        self.write_policy('{ value = 1500 }')
        out = self.apply("--policy", "w", "--current", "3")  # 50 %: records 3 workers
        self.assertEqual((out["to"], out["serial"]), (3, 1))
        failing = '{ command = "echo db down >&2; exit 3" }'

        self.write_policy(failing)
        r = self.scalectl("autoscale", "apply", "--policy", "w")
        self.assertExit(r, 1)
        line = self.assertOneErrorLine(r)
        self.assertIn("cannot read the metric of policy w", line)
        self.assertIn('metric command exited 3: "db down"', line)
        self.assertIn("nothing was changed", line)
        st = self.status("w")
        self.assertEqual((st["current"], st["state"]["serial"]), (3, 1))

        self.write_policy(failing, 'on_metric_error = "keep"')
        out = self.apply("--policy", "w")
        self.assertEqual((out["from"], out["to"], out["result"]), (3, 3, "noop"))
        self.assertEqual(self.codes(out), ["MetricUnavailable", "MetricErrorKeep", "NoChange"])

        self.write_policy(failing, "on_metric_error = { replicas = 1 }")
        out = self.apply("--policy", "w")
        self.assertEqual((out["from"], out["to"], out["result"]), (3, 3, "noop"))
        self.assertIn("never scaling down without a metric", " ".join(out["reasons"]))

        self.write_policy('{ command = "echo lots" }', "on_metric_error = { replicas = 5 }")
        out = self.apply("--policy", "w")
        self.assertEqual((out["from"], out["to"], out["result"]), (3, 5, "changed"))
        self.assertIn('must be a single number, got \\"lots\\"', json.dumps(out["reasons"]))
        st = self.status("w")
        self.assertIsNone(st["last_metric"]["value"])
        self.assertIn("single number", st["last_metric"]["error"])

    def test_capacity_type_limits_a_scale_up(self):
        self.write_config('''
[capacity]
max_cpu = 4
max_ram_gb = 8
reserved_cpu_percent = 0
reserved_ram_percent = 0
[capacity.worker_types.ocr]
cpu = 1
ram_gb = 1

[autoscale.policies.w]
metric = { value = 100 }
units_per_worker = 10
min = 1
max = 10
step = 6
capacity_type = "ocr"
''')
        out = self.plan("--policy", "w")
        self.assertEqual((out["current"], out["desired"]), (1, 5))
        self.assertEqual(out["inputs"]["capacity"],
                         {"worker_type": "ocr", "additional_fit": 4, "detail": "Insufficient CPU (need 5, available 4)"})
        capacity = out["stages"][5]
        self.assertEqual((capacity["stage"], capacity["from"], capacity["to"]), ("capacity", 7, 5))
        self.assertEqual(capacity["reasons"][0]["text"],
                         "CapacityLimit only 4 more ocr workers fit: Insufficient CPU (need 5, available 4)")

    def test_capacity_type_agrees_with_capacity_check_next_to_a_held_lease(self):
        # No max_cpu/max_ram_gb: both commands size the pool from this host.
        self.write_config('''
[capacity.worker_types.ocr]
cpu = 0.25
ram_gb = 0.25

[autoscale.policies.w]
metric = { value = 1000000 }
units_per_worker = 1
min = 1
max = 100000
step = 100000
capacity_type = "ocr"
''')
        self.assertExit(self.scalectl("capacity", "allocate", "ocr", "--id", "held"), 0)
        r = self.scalectl("capacity", "check", "ocr", "-o", "json")
        check = self.json_out(r)
        self.assertEqual((check["allocated"]["millicores"], check["allocated"]["mib"]), (250, 256))
        fit = min(check["available"]["millicores"] // 250, check["available"]["mib"] // 256)
        self.assertExit(self.scalectl("capacity", "check", "ocr", "--count", str(fit)), 0)
        r = self.scalectl("capacity", "check", "ocr", "--count", str(fit + 1), "-o", "json")
        self.assertExit(r, 3)
        reason = self.json_out(r)["reason"]

        out = self.plan("--policy", "w")
        self.assertEqual(out["inputs"]["capacity"], {"worker_type": "ocr", "additional_fit": fit, "detail": reason})
        self.assertEqual((out["current"], out["desired"]), (1, 1 + fit))
        capacity = out["stages"][5]
        self.assertEqual((capacity["stage"], capacity["to"]), ("capacity", 1 + fit))
        self.assertGreater(capacity["from"], capacity["to"])
        self.assertEqual(capacity["reasons"][0]["text"],
                         "CapacityLimit only %d more ocr worker%s fit: %s" % (fit, "" if fit == 1 else "s", reason))

    def test_seed_env_names_configure_the_policy(self):
        self.write_config("")
        env = dict(AUTO_SCALER_MAILBOXES_PER_WORKER="1000", AUTO_SCALER_MIN_WORKERS="1",
                   AUTO_SCALER_MAX_WORKERS="100", AUTO_SCALER_SCALE_UP_THRESHOLD="0.8",
                   AUTO_SCALER_SCALE_DOWN_THRESHOLD="0.3", AUTO_SCALER_SCALE_UP_COOLDOWN_MS="300000",
                   AUTO_SCALER_PLATFORM="manual")
        r = self.scalectl("autoscale", "plan", "--policy", "warmup", "--metric", "850", "-o", "json", **env)
        self.assertExit(r, 0)
        out = self.json_out(r)
        self.assertEqual((out["current"], out["desired"]), (1, 2))
        self.assertEqual(out["settings"]["scale_up_cooldown_ms"], 300000)
        r = self.scalectl("autoscale", "plan", "--policy", "warmup", "--metric", "850",
                          **dict(env, AUTO_SCALER_SCALE_DOWN_THRESHOLD="0.9"))
        self.assertExit(r, 2)
        self.assertIn("must be below scale_up_threshold", self.assertOneErrorLine(r))


class PlanFileTests(AutoscaleTestCase):

    def write_policy(self, metric=850, target='target = "manual"', extra=""):
        self.write_config('''
[autoscale.policies.w]
metric = { value = %s }
units_per_worker = 1000
min = 1
max = 10
scale_up_cooldown = "1s"
%s
%s
''' % (metric, target, extra))

    def test_detailed_exitcode_and_stable_json(self):
        self.write_policy(metric=500)
        r = self.scalectl("autoscale", "plan", "--policy", "w", "--detailed-exitcode")
        self.assertExit(r, 0)
        self.assertIn("desired      1 (no change)", r.stdout)
        self.write_policy(metric=850)
        r = self.scalectl("autoscale", "plan", "--policy", "w", "--detailed-exitcode", "-o", "json")
        self.assertExit(r, 4)
        out = self.json_out(r)
        self.assertEqual([s["stage"] for s in out["stages"]],
                         ["recommendation", "stabilization", "cooldown", "rate_limit", "bounds", "capacity"])
        for key in ("policy", "policy_digest", "target", "settings", "inputs", "utilisation", "recommendation",
                    "current", "desired", "change", "decision", "reasons", "state", "created_at", "expires_at"):
            self.assertIn(key, out)
        self.assertEqual(out["decision"], "scale_up")
        r = self.scalectl("autoscale", "plan", "--policy", "w")
        self.assertExit(r, 0)  # without --detailed-exitcode a proposed change is still 0
        self.assertRegex(r.stdout, r"recommendation\s+1 -> 2\s+ScaleUpThreshold utilisation 85% >= 80%")

    def test_saved_plan_applies_once_and_goes_stale(self):
        self.write_policy()
        plan = self.tmp / "plan.json"
        r = self.scalectl("autoscale", "plan", "--policy", "w", "--out", plan, "--detailed-exitcode")
        self.assertExit(r, 4)
        saved = json.loads(plan.read_text())
        self.assertEqual((saved["observed"], saved["desired"], saved["state"]), (1, 2, {"lineage": "", "serial": 0}))
        self.assertEqual([p.name for p in self.tmp.iterdir() if p.name.startswith(".plan")], [])

        out = self.apply(plan)
        self.assertEqual((out["from"], out["to"], out["result"], out["serial"]), (1, 2, "changed", 1))
        # The same file again: the first apply bumped the serial, so it is stale.
        r = self.scalectl("autoscale", "apply", plan)
        self.assertExit(r, 5)
        line = self.assertOneErrorLine(r)
        self.assertIn("saved plan is stale: another apply ran since the plan was made (serial 0 is now 1)", line)
        st = self.status("w")
        self.assertEqual((st["current"], st["state"]["serial"], len(st["events"])), (2, 1, 1))

        # Another apply between plan and apply makes it stale too.
        self.scalectl("autoscale", "plan", "--policy", "w", "--out", plan)
        self.apply("--policy", "w")
        self.assertExit(self.scalectl("autoscale", "apply", plan), 5)

        # So does a change to the policy.
        self.scalectl("autoscale", "plan", "--policy", "w", "--out", plan)
        self.write_policy(extra="max_scale_up = 2")
        r = self.scalectl("autoscale", "apply", plan)
        self.assertExit(r, 5)
        self.assertIn("policy w changed since the plan was made", self.assertOneErrorLine(r))

        # And the plan's expiry.
        self.write_policy(extra='plan_ttl = "1s"')
        self.scalectl("autoscale", "plan", "--policy", "w", "--out", plan)
        expires = json.loads(plan.read_text())["expires_at_ms"] / 1000.0
        self.wait_for(lambda: time.time() > expires + 0.1, timeout=10, what="the plan to expire")
        r = self.scalectl("autoscale", "apply", plan)
        self.assertExit(r, 5)
        self.assertIn("it expired at", self.assertOneErrorLine(r))

        # A fresh plan still applies (with the default plan_ttl again: 1 s can pass between plan
        # and apply on a loaded machine, more under ASan).
        self.write_policy()
        self.scalectl("autoscale", "plan", "--policy", "w", "--out", plan)
        self.assertExit(self.scalectl("autoscale", "apply", plan), 0)

    def test_saved_plan_is_stale_when_the_observed_count_moved(self):
        self.stand_in("docker", 1)
        self.write_policy(target='target = "docker-compose"\ncompose_project = "p"\ncompose_service = "w"')
        plan = self.tmp / "plan.json"
        self.assertExit(self.scalectl("autoscale", "plan", "--policy", "w", "--out", plan), 0)
        (self.bin / "docker.count").write_text("2")  # someone scaled by hand meanwhile
        r = self.scalectl("autoscale", "apply", plan)
        self.assertExit(r, 5)
        self.assertIn("now has 2 replicas; the plan saw 1", self.assertOneErrorLine(r))
        self.assertFalse([a for a in self.recorded_argv("docker") if "up" in a])

    def test_two_concurrent_applies_one_exits_75(self):
        started = self.tmp / "started"
        self.write_policy(target='target = "command"\ncommand = "touch %s; sleep 3"' % started)
        first = self.popen("autoscale", "apply", "--policy", "w")
        self.wait_for(started.exists, timeout=30, what="the first apply to reach its target command")
        r = self.scalectl("autoscale", "apply", "--policy", "w")
        self.assertExit(r, 75)
        self.assertIn("autoscale-w", self.assertOneErrorLine(r))
        self.assertEqual(first.wait(timeout=60), 0)
        st = self.status("w")
        self.assertEqual((st["current"], st["state"]["serial"], len(st["events"])), (2, 1, 1))


if __name__ == "__main__":
    unittest.main()


class BehaviourTests(AutoscaleTestCase):
    """Issue 14: the HPA's rate policies across separate runs, and several metrics with one failing."""

    def write_policy(self, metric_value, period="2s"):
        (self.bin / "load").write_text("#!/bin/sh\necho %d\n" % metric_value)
        (self.bin / "load").chmod(0o755)
        self.write_config('''
[autoscale.policies.q]
mode = "target"
target_utilisation = 1.0
units_per_worker = 100
min = 1
max = 50
scale_up_cooldown = "0s"
scale_down_cooldown = "0s"
scale_down_stabilization = "0s"
metrics = [{ command = "%s/load", name = "load" }, { command = "exit 3", name = "broken" }]
[autoscale.policies.q.scale_up]
policies = [{ pods = 4, period = "%s" }]
''' % (self.bin, period))

    def test_rate_policy_periods_hold_across_runs_and_a_failing_metric_blocks_scale_down(self):
        self.write_policy(4000)
        settings = self.plan("--policy", "q", "--current", "2")["settings"]
        self.assertEqual(settings["scale_up"]["policies"], [{"pods": 4, "period_ms": 2000}])
        self.assertEqual(settings["scale_down"]["policies"], [{"percent": 100, "period_ms": 15000}])
        self.assertEqual((settings["scale_down"]["stabilization_ms"], settings["scale_up"]["select"]), (0, "max"))
        first = self.apply("--policy", "q", "--current", "2")
        self.assertEqual((first["from"], first["to"], first["result"]), (2, 6, "changed"))
        self.assertIn("ScaleUpLimit", self.codes(first))
        self.assertIn("MetricUnavailable", self.codes(first))
        # A second process inside the period: the recorded 2 -> 6 still counts.
        second = self.apply("--policy", "q")
        self.assertEqual((second["from"], second["to"], second["result"]), (6, 6, "noop"))
        self.assertIn("ScaleUpLimit", self.codes(second))
        time.sleep(2.2)
        third = self.apply("--policy", "q")
        self.assertEqual((third["from"], third["to"]), (6, 10))
        # The load drops, but "broken" cannot be read: nothing scales down.
        self.write_policy(100)
        fourth = self.apply("--policy", "q")
        self.assertEqual((fourth["from"], fourth["to"], fourth["result"]), (10, 10, "noop"))
        self.assertIn("NoScaleDownWithoutMetric", self.codes(fourth))

    def test_bad_behaviour_values_exit_2(self):
        self.write_policy(100)
        self.config.write_text(self.config.read_text() + 'select = "fastest"\n')
        r = self.scalectl("autoscale", "plan", "--policy", "q")
        self.assertExit(r, 2)
        self.assertIn("scale_up.select", r.stderr)
