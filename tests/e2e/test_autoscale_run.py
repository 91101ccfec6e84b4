"""End to end: `scalectl autoscale run`, the long-running mode, with the real binary.

The metric comes from a real redis-server or a fixed value; the target is a `command` target whose
shell command records its arguments to a file. The state lives in real files, shared with cron
`autoscale apply` runs started next to the daemon. The HTTP endpoint is exercised over loopback
only; a non-loopback --listen is refused before anything binds. Periods are short (1 s) and every
wait is bounded; no assertion depends on how long something took.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import unittest
from pathlib import Path

import prom_text
from support.fixtures import free_port, http_request, scalectl_path, start_redis
from test_autoscale import AutoscaleTestCase

TOKEN = "s3cret-token-for-tests"


class AutoscaleRunTestCase(AutoscaleTestCase):

    def setUp(self):
        super().setUp()
        self.log = self.tmp / "scaled.log"

    def start_daemon(self, *args, binary=None):
        """Start `autoscale run` with its stderr in a file; killed at cleanup if still running."""
        env = {k: os.environ[k] for k in ("LANG", "TMPDIR") if k in os.environ}
        env.update(self.env())
        err_path = self.tmp / ("daemon-%d.err" % time.monotonic_ns())
        err = open(err_path, "w+")
        proc = subprocess.Popen([str(binary or scalectl_path()), "autoscale", "run"] + [str(a) for a in args],
                                env=env, stdout=subprocess.DEVNULL, stderr=err,
                                stdin=subprocess.DEVNULL, start_new_session=True)

        def reap():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            err.close()
        self.addCleanup(reap)
        proc.err_path = err_path
        return proc

    def start_http(self, *more, binary=None):
        """Start `autoscale run --listen` on a free loopback port and wait for /healthz."""
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        proc = self.start_daemon("--every", "1h", "--listen", "127.0.0.1:%d" % self.port, *more, binary=binary)

        def up():
            if proc.poll() is not None:
                self.fail("autoscale run exited %s:\n%s" % (proc.returncode, self.stderr_of(proc)))
            try:
                return http_request("GET", self.url + "/healthz", timeout=2)[0] == 200
            except OSError:
                return False
        self.wait_for(up, timeout=30, what="/healthz")
        return proc

    @staticmethod
    def stderr_of(proc):
        return proc.err_path.read_text()

    def stop(self, proc, sig=signal.SIGTERM, timeout=30):
        proc.send_signal(sig)
        return proc.wait(timeout=timeout)

    def scaled(self):
        """The (current, replicas) pairs the command target recorded, in order."""
        if not self.log.exists():
            return []
        return [tuple(int(x) for x in line.split()[1:3])
                for line in self.log.read_text().splitlines() if line.startswith("done")]

    def started(self):
        if not self.log.exists():
            return 0
        return sum(1 for line in self.log.read_text().splitlines() if line.startswith("start"))

    def write_policy(self, metric, extra="", sleep=0, cooldown="1s"):
        self.write_config('''
[autoscale.policies.queue]
metric = %s
units_per_worker = 10
min = 1
max = 4
scale_up_cooldown = "%s"
scale_down_cooldown = "%s"
scale_down_stabilization = "1s"
target = "command"
command = "echo start {current} {replicas} >> %s; sleep %s; echo done {current} {replicas} >> %s"
%s
''' % (metric, cooldown, cooldown, self.log, sleep, self.log, extra))

    def assertChainedWithoutDoubles(self):
        """Each change starts where the previous one ended: nothing was applied twice."""
        pairs = self.scaled()
        for before, after in zip(pairs, pairs[1:]):
            self.assertEqual(after[0], before[1], pairs)
        st = self.status("queue")
        ok = [e for e in st["events"] if e["result"] == "ok"]
        self.assertEqual([(e["from"], e["to"]) for e in ok], pairs)
        self.assertEqual(self.started(), len(pairs))


class ScheduleTests(AutoscaleRunTestCase):

    def setUp(self):
        super().setUp()
        self.redis = start_redis(self.tmp)
        self.addCleanup(self.redis.stop)

    def fill(self, n):
        self.redis.cli("del", "jobs")
        if n:
            self.redis.cli("rpush", "jobs", *["job-%d" % i for i in range(n)])

    def test_scales_up_then_down_as_the_redis_metric_changes(self):
        self.write_policy('{ redis = "jobs", redis_url = "%s" }' % self.redis.url)
        self.fill(38)  # 3.8 workers' worth: up to 4, one step per period (cooldown 1 s)
        proc = self.start_daemon("--every", "1s")
        self.wait_for(lambda: self.scaled() and self.scaled()[-1][1] == 4, timeout=60, what="4 workers")
        self.fill(0)
        self.wait_for(lambda: self.scaled()[-1][1] == 1, timeout=60, what="back to 1 worker")
        self.assertEqual(self.stop(proc), 0, self.stderr_of(proc))
        pairs = self.scaled()
        ups = [p for p in pairs if p[1] > p[0]]
        downs = [p for p in pairs if p[1] < p[0]]
        self.assertTrue(ups and downs, pairs)
        self.assertEqual(pairs[0][0], 1)  # a command target starts at min
        self.assertChainedWithoutDoubles()
        err = self.stderr_of(proc)
        self.assertIn("autoscale run started", err)
        self.assertIn("applied", err)
        self.assertIn("autoscale run stopped", err)

    def test_survives_a_failing_metric_and_recovers(self):
        self.write_policy('{ redis = "jobs", redis_url = "%s" }' % self.redis.url,
                          'on_metric_error = "fail"')
        self.redis.cli("set", "jobs", "a string is not a queue")
        proc = self.start_daemon("--every", "1s")
        self.wait_for(lambda: self.stderr_of(proc).count("error") >= 2, timeout=30, what="two logged failures")
        self.assertIsNone(proc.poll())  # still running
        self.fill(25)
        self.wait_for(lambda: self.scaled(), timeout=60, what="an apply once the metric reads")
        self.assertEqual(self.stop(proc), 0)
        self.assertIn("failures=", self.stderr_of(proc))
        self.assertChainedWithoutDoubles()

    def test_the_metrics_textfile_is_rewritten_after_each_apply(self):
        prom = self.tmp / "textfile" / "scalectl.prom"
        prom.parent.mkdir()
        self.write_policy('{ value = 25 }', '\n[metrics]\ntextfile = "%s"' % prom, cooldown="0s")
        proc = self.start_daemon("--every", "1s")
        # While the daemon runs (not only when it exits), the file follows the applies.
        self.wait_for(lambda: len(self.scaled()) >= 2 and prom.exists(), timeout=60, what="two applies")
        self.wait_for(lambda: prom_text.values(prom_text.parse(prom.read_text()), "scalectl_autoscale_current_replicas",
                                               policy="queue") == [float(self.scaled()[-1][1])],
                      timeout=30, what="the textfile to show the last apply")
        self.assertIsNone(proc.poll())
        self.assertEqual(self.stop(proc), 0)
        self.assertChainedWithoutDoubles()

    def test_json_log_lines(self):
        self.write_policy('{ value = 25 }')
        proc = self.start_daemon("--every", "1s", "--log-format", "json")
        self.wait_for(lambda: self.scaled(), timeout=30, what="an apply")
        self.assertEqual(self.stop(proc), 0)
        lines = self.stderr_of(proc).splitlines()
        self.assertTrue(lines)
        for line in lines:
            record = json.loads(line)
            self.assertTrue({"time", "level", "msg"} <= set(record), record)
        applied = [json.loads(l) for l in lines if json.loads(l)["msg"] == "applied"]
        self.assertEqual((applied[0]["policy"], applied[0]["from"], applied[0]["to"]), ("queue", 1, 2))


class SignalAndLockTests(AutoscaleRunTestCase):

    def test_sigterm_during_an_apply_finishes_it_and_exits_0(self):
        self.write_policy('{ value = 25 }', sleep=2, cooldown="0s")
        proc = self.start_daemon("--every", "1h")
        self.wait_for(lambda: self.started() == 1, timeout=30, what="the apply to start")
        self.assertEqual(self.stop(proc), 0, self.stderr_of(proc))
        # The apply in flight completed and was recorded once; the lock is free again.
        self.assertEqual(self.scaled(), [(1, 2)])
        st = self.status("queue")
        self.assertIsNone(st["lock"])
        self.assertEqual(st["state"]["serial"], 1)
        self.assertChainedWithoutDoubles()
        # A cron apply carries on from the recorded count.
        out = self.apply("--policy", "queue")
        self.assertEqual((out["from"], out["to"]), (2, 3))
        self.assertChainedWithoutDoubles()

    def test_a_concurrent_cron_apply_exits_75_and_nothing_is_applied_twice(self):
        self.write_policy('{ value = 25 }', sleep=3, cooldown="0s")
        proc = self.start_daemon("--every", "1h")
        self.wait_for(lambda: self.started() == 1, timeout=30, what="the daemon's apply to start")
        r = self.scalectl("autoscale", "apply", "--policy", "queue")
        self.assertExit(r, 75)
        self.assertOneErrorLine(r)
        self.wait_for(lambda: self.scaled(), timeout=30, what="the daemon's apply to finish")
        # A cron apply that waits for the lock runs after the daemon's, from its result.
        out = self.apply("--policy", "queue", "--wait-lock", "30s")
        self.assertEqual((out["from"], out["to"]), (2, 3))
        self.assertEqual(self.stop(proc), 0)
        self.assertChainedWithoutDoubles()


class HttpTests(AutoscaleRunTestCase):

    def setUp(self):
        super().setUp()
        self.token_file = self.tmp / "token"
        self.token_file.write_text(TOKEN + "\n")
        self.token_file.chmod(0o600)

    def test_status_trigger_metrics_and_healthz(self):
        self.write_policy('{ value = 25 }', cooldown="0s")
        proc = self.start_http("--token-file", self.token_file)
        self.wait_for(lambda: self.scaled(), timeout=30, what="the first apply")

        def settled():
            # The command has run; the apply is recorded a moment later (until then /status
            # answers at once from its last document, marked applying).
            status, _, body = http_request("GET", self.url + "/status")
            self.assertEqual(status, 200)
            doc = json.loads(body)
            return None if doc["applying"] else doc
        doc = self.wait_for(settled, timeout=30, what="/status after the first apply")
        for key in ("enabled", "currentWorkers", "metric", "utilizationPercent", "optimalWorkers", "config"):
            self.assertIn(key, doc)
        self.assertEqual((doc["enabled"], doc["currentWorkers"], doc["metric"], doc["optimalWorkers"]),
                         (True, 2, 25, 2))
        self.assertAlmostEqual(doc["utilizationPercent"], 125.0)
        self.assertEqual((doc["config"]["minWorkers"], doc["config"]["maxWorkers"],
                          doc["config"]["platform"], doc["config"]["checkIntervalMs"]), (1, 4, "command", 3600000))
        # The `autoscale status -o json` document is there too.
        self.assertEqual(doc["policies"][0]["policy"], "queue")
        self.assertEqual(doc["policies"][0]["state"]["serial"], 1)

        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            status, _, body = http_request("POST", self.url + "/trigger", headers=headers, data=b"")
            self.assertEqual(status, 401, headers)
            self.assertNotIn(TOKEN, body.decode())
        self.assertEqual(len(self.scaled()), 1)

        status, _, body = http_request("POST", self.url + "/trigger",
                                       headers={"Authorization": "Bearer " + TOKEN}, data=b"")
        self.assertEqual(status, 200, body)
        doc = json.loads(body)
        self.assertTrue(doc["success"])
        self.assertEqual(doc["decision"]["action"], "scale-up")
        self.assertEqual((doc["decision"]["currentWorkers"], doc["decision"]["targetWorkers"]), (2, 3))
        self.assertEqual(self.scaled(), [(1, 2), (2, 3)])

        status, headers, body = http_request("GET", self.url + "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/plain; version=0.0.4"))
        parsed = prom_text.parse(body.decode())
        self.assertEqual(prom_text.values(parsed, "scalectl_autoscale_current_replicas", policy="queue"), [3.0])
        self.assertEqual(prom_text.values(parsed, "scalectl_autoscale_desired_replicas", policy="queue"), [3.0])
        self.assertEqual(prom_text.values(parsed, "scalectl_autoscale_metric_value", policy="queue"), [25.0])

        self.assertEqual(self.stop(proc), 0)
        err = self.stderr_of(proc)
        self.assertNotIn(TOKEN, err)
        self.assertIn("path=/trigger status=401", err)
        # Nor in the state: records, locks, the audit log.
        for path in self.state_dir.rglob("*"):
            if path.is_file():
                self.assertNotIn(TOKEN.encode(), path.read_bytes(), path)
        self.assertChainedWithoutDoubles()

    def test_a_request_over_the_size_bound_is_rejected(self):
        self.write_policy('{ value = 5 }')
        proc = self.start_http("--token-file", self.token_file)
        big = b"x" * (256 * 1024)
        try:
            status, _, _ = http_request("POST", self.url + "/trigger", data=big, timeout=10,
                                        headers={"Authorization": "Bearer " + TOKEN})
            self.assertEqual(status, 413)
        except (ConnectionError, socket.timeout, OSError):
            pass  # the server closed the connection: rejected as well
        # Headers over the bound are refused too, and the server keeps serving.
        try:
            status, _, _ = http_request("GET", self.url + "/status", headers={"X-Big": "y" * 20000}, timeout=10)
            self.assertGreaterEqual(status, 400)
        except (ConnectionError, socket.timeout, OSError):
            pass
        self.assertEqual(http_request("GET", self.url + "/healthz")[0], 200)
        self.assertEqual(self.stop(proc), 0)

    def test_status_healthz_and_trigger_do_not_wait_for_a_long_apply(self):
        self.write_policy('{ value = 25 }', sleep=8, cooldown="0s")
        proc = self.start_http("--token-file", self.token_file)
        self.wait_for(lambda: self.started() == 1, timeout=30, what="the first apply to start")
        # Had /status waited for the apply, it would say "applying": false and show 2 workers.
        status, _, body = http_request("GET", self.url + "/status")
        self.assertEqual(status, 200)
        self.assertTrue(json.loads(body)["applying"])
        status, _, body = http_request("POST", self.url + "/trigger", data=b"",
                                       headers={"Authorization": "Bearer " + TOKEN})
        self.assertEqual(status, 409, body)
        self.assertTrue(json.loads(body)["busy"])
        self.assertEqual(http_request("GET", self.url + "/healthz")[0], 200)
        self.assertEqual(self.scaled(), [])  # all of that while the apply was still running
        self.wait_for(lambda: self.scaled(), timeout=60, what="the apply to end")
        doc = self.wait_for(lambda: (lambda d: None if d["applying"] else d)(
            json.loads(http_request("GET", self.url + "/status")[2])), timeout=30, what="/status once recorded")
        self.assertEqual(doc["currentWorkers"], 2)
        self.assertEqual(self.stop(proc), 0)
        self.assertEqual(self.started(), 1)  # the refused trigger applied nothing
        self.assertChainedWithoutDoubles()

    def test_connections_are_bounded_and_the_server_recovers(self):
        self.write_policy('{ value = 5 }')
        proc = self.start_http()

        def threads():
            status = Path("/proc/%d/status" % proc.pid).read_text()
            return int(next(l.split()[1] for l in status.splitlines() if l.startswith("Threads:")))
        before = threads()
        # 40 silent connections: 4 are being read, 16 wait in the queue, the rest in the kernel's
        # backlog. No thread is started for them.
        socks = []
        for _ in range(40):
            s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            socks.append(s)
        self.addCleanup(lambda: [s.close() for s in socks])
        time.sleep(1)
        self.assertEqual(threads(), before)
        for s in socks:
            s.close()
        # Once they are gone (or timed out), the server answers again.
        self.wait_for(lambda: http_request("GET", self.url + "/healthz", timeout=15)[0] == 200, timeout=60,
                      what="/healthz after the idle connections")
        self.assertEqual(self.stop(proc), 0)

    def test_trigger_is_disabled_without_a_token_file(self):
        self.write_policy('{ value = 5 }')
        proc = self.start_http()
        status, _, body = http_request("POST", self.url + "/trigger", data=b"")
        self.assertEqual(status, 403)
        self.assertIn("--token-file", json.loads(body)["error"])
        self.assertEqual(self.stop(proc), 0)

    def test_non_loopback_listen_is_refused_before_binding(self):
        self.write_policy('{ value = 5 }')
        port = free_port()
        for address in ("0.0.0.0:%d" % port, "[::]:%d" % port, "192.0.2.1:%d" % port):
            r = self.scalectl("autoscale", "run", "--listen", address, timeout=30)
            self.assertExit(r, 2)
            line = self.assertOneErrorLine(r)
            self.assertIn("--token-file", line)
        self.assertEqual(self.started(), 0)  # refused before any apply

    def test_bad_token_files_are_refused(self):
        self.write_policy('{ value = 5 }')
        self.token_file.chmod(0o644)
        r = self.scalectl("autoscale", "run", "--listen", "127.0.0.1:%d" % free_port(),
                          "--token-file", self.token_file, timeout=30)
        self.assertExit(r, 2)
        self.assertIn("chmod 600", self.assertOneErrorLine(r))
        self.assertNotIn(TOKEN, r.stderr)
        self.token_file.chmod(0o600)
        r = self.scalectl("autoscale", "run", "--listen", "127.0.0.1:%d" % free_port(),
                          "--token-file", self.tmp / "missing", timeout=30)
        self.assertExit(r, 2)
        self.assertEqual(self.started(), 0)


class HttpModuleTests(AutoscaleRunTestCase):
    """The HTTP server is the scalectl-http.so module: the executable does not link cpp-httplib,
    `autoscale run` maps it only when --listen is given, and finds it in the build tree, in an
    installed tree, or where SCALECTL_HTTP_MODULE says."""

    @staticmethod
    def mapped(proc):
        return Path("/proc/%d/maps" % proc.pid).read_text()

    def test_the_module_is_mapped_only_with_listen(self):
        self.write_policy('{ value = 5 }')
        proc = self.start_daemon("--every", "1h")
        self.wait_for(lambda: "autoscale run started" in self.stderr_of(proc), timeout=30, what="the start line")
        maps = self.mapped(proc)
        # Whatever the executable links is mapped from its start: cpp-httplib is not among it.
        for library in ("scalectl-http.so", "libcpp-httplib", "libbrotli"):
            self.assertNotIn(library, maps)
        self.assertEqual(self.stop(proc), 0)

        proc = self.start_http()
        maps = self.mapped(proc)
        self.assertIn(str(scalectl_path().parent.resolve() / "scalectl-http.so"), maps)
        self.assertIn("libcpp-httplib", maps)
        self.assertEqual(self.stop(proc), 0)

    def test_a_missing_or_broken_module_is_one_error_line_with_the_fix(self):
        self.write_policy('{ value = 25 }')
        missing = self.tmp / "nowhere" / "scalectl-http.so"
        broken = self.tmp / "broken.so"
        broken.write_bytes(b"not an ELF file\n")
        for module, words in ((missing, ("not there", str(missing))), (broken, ("cannot load", str(broken)))):
            with self.subTest(module=module.name):
                r = self.scalectl("autoscale", "run", "--every", "1h", "--listen", "127.0.0.1:%d" % free_port(),
                                  timeout=30, SCALECTL_HTTP_MODULE=module)
                self.assertExit(r, 1)
                line = self.assertOneErrorLine(r)
                for word in words + ("SCALECTL_HTTP_MODULE", "reinstall"):
                    self.assertIn(word, line)
        # Refused before the first apply; without --listen the variable is never looked at.
        self.assertEqual(self.started(), 0)
        proc = self.start_daemon("--every", "1h")
        self.wait_for(lambda: self.scaled(), timeout=30, what="an apply without --listen")
        self.assertEqual(self.stop(proc), 0)

    def test_an_installed_tree_finds_the_module_in_lib_scalectl(self):
        build = scalectl_path().parent
        if not (build / "cmake_install.cmake").is_file() or not shutil.which("cmake"):
            self.skipTest("not a CMake build tree, or cmake is not installed")
        prefix = self.tmp / "prefix"
        r = subprocess.run(["cmake", "--install", str(build), "--prefix", str(prefix)],
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        module = prefix / "lib" / "scalectl" / "scalectl-http.so"
        self.assertTrue(module.is_file())
        self.assertEqual(module.stat().st_mode & 0o777, 0o644)
        self.write_policy('{ value = 5 }')
        proc = self.start_http(binary=prefix / "bin" / "scalectl")
        self.assertIn(str(module.resolve()), self.mapped(proc))
        self.assertEqual(http_request("GET", self.url + "/status")[0], 200)
        self.assertEqual(self.stop(proc), 0)


if __name__ == "__main__":
    unittest.main()
