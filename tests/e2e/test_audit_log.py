"""End to end: the audit log. Every change appends one JSON line (file backend) or stream entry
(Redis); `scalectl log` shows it; many processes appending at once lose nothing."""

import json
import subprocess
import time
import unittest

from e2e_base import DOWN, UP, ScalectlTestCase
from support.fixtures import scalectl_path, start_redis


class AuditLogTests(ScalectlTestCase):

    def seed(self, size=DOWN, name="pdf-worker"):
        return self.sim.seed_droplet(name=name, size_slug=size, status="active")["id"]

    def audit_lines(self):
        path = self.state_dir / "logs" / "audit.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()]

    def run_concurrently(self, argv_list, env, timeout=240):
        """Start every argv at once; return their CompletedProcess-like (code, stdout, stderr)."""
        procs = [subprocess.Popen([str(scalectl_path())] + [str(a) for a in argv], env=env,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
                 for argv in argv_list]
        deadline = time.monotonic() + timeout
        results = []
        try:
            for proc in procs:
                out, err = proc.communicate(timeout=max(1, deadline - time.monotonic()))
                results.append((proc.returncode, out, err, proc.pid))
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(timeout=10)
        return results

    def full_env(self, **extra):
        import os
        env = {k: os.environ[k] for k in ("PATH", "LANG", "TMPDIR") if k in os.environ}
        env.update(self.env(**extra))
        return env

    def test_a_resize_is_one_line_with_who_what_and_result(self):
        did = self.seed()
        r = self.scalectl("droplet", "up", "--droplet", did)
        self.assertExit(r, 0)
        lines = self.audit_lines()
        self.assertEqual(len(lines), 1)
        e = lines[0]
        self.assertEqual((e["what"], e["resource"], e["from"], e["to"], e["result"], e["reason"]),
                         ("droplet.resize", "droplet-%d" % did, DOWN, UP, "ok", "up"))
        for key in ("time", "time_ms", "user", "host", "pid", "command", "duration_ms"):
            self.assertIn(key, e)
        self.assertIn("droplet up --droplet %d" % did, e["command"])
        self.assertGreater(e["duration_ms"], 0)
        mode = (self.state_dir / "logs" / "audit.jsonl").stat().st_mode & 0o777
        self.assertEqual(mode, 0o600)

    def test_secrets_in_the_command_line_are_redacted(self):
        did = self.seed(size=UP)
        r = self.scalectl("droplet", "up", "--droplet", did, "--redis-url",
                          "redis://:hunter2@127.0.0.1:1/0", "--state-dir", self.state_dir,
                          SCALECTL_STATE_BACKEND="file")
        self.assertExit(r, 0)
        text = (self.state_dir / "logs" / "audit.jsonl").read_text()
        self.assertNotIn("hunter2", text)
        self.assertIn("redis://:<redacted>@127.0.0.1:1/0", text)

    def test_log_shows_filters_and_prints_json(self):
        a = self.seed(name="a")
        b = self.seed(name="b")
        self.assertExit(self.scalectl("droplet", "up", "--droplet", a), 0)
        self.assertExit(self.scalectl("droplet", "up", "--droplet", b), 0)
        self.assertExit(self.scalectl("droplet", "down", "--droplet", a), 0)

        r = self.scalectl("log")
        self.assertExit(r, 0)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 3, r.stdout)
        # WHO is padded to the widest entry: pids of other lengths widen the gap after it.
        self.assertRegex(lines[0], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ  \S+@\S+\[\d+\] +droplet\.resize  "
                                   r"droplet-%d\s+%s -> %s  ok\s+\S+  up$" % (a, DOWN, UP))
        self.assertIn("%s -> %s" % (UP, DOWN), lines[2])

        out = self.json_out(self.scalectl("log", "-o", "json", "--resource", "droplet-%d" % a))
        self.assertEqual(out["count"], 2)
        self.assertEqual([e["reason"] for e in out["entries"]], ["up", "down"])

        out = self.json_out(self.scalectl("log", "-o", "json", "-n", "1"))
        self.assertEqual(out["count"], 1)
        self.assertEqual(out["entries"][0]["resource"], "droplet-%d" % a)
        self.assertEqual(out["entries"][0]["to"], DOWN)

        # --since: a duration back, or a time; both exclude everything older.
        self.assertEqual(self.json_out(self.scalectl("log", "-o", "json", "--since", "1h"))["count"], 3)
        r = self.scalectl("log", "--since", "2200-01-01T00:00:00Z")
        self.assertExit(r, 0)
        self.assertIn("no audit entries", r.stdout)
        r = self.scalectl("log", "--since", "yesterday")
        self.assertExit(r, 2)
        self.assertIn("--since", self.assertOneErrorLine(r))

    def test_failures_are_logged_but_guards_that_never_started_are_not(self):
        did = self.seed()
        self.sim.inject(fail_next_action={"type": "resize", "droplet_id": did})
        r = self.scalectl("droplet", "up", "--droplet", did)
        self.assertExit(r, 1)
        entries = self.json_out(self.scalectl("log", "-o", "json"))["entries"]
        self.assertEqual([e["result"] for e in entries], ["failed"])
        self.assertIn("resize", entries[0]["reason"])
        # A dry run changes nothing and logs nothing.
        self.assertExit(self.scalectl("droplet", "down", "--droplet", did, "--dry-run"), 0)
        self.assertEqual(self.json_out(self.scalectl("log", "-o", "json"))["count"], 1)

    def test_audit_can_be_turned_off(self):
        did = self.seed(size=UP)
        self.assertExit(self.scalectl("droplet", "up", "--droplet", did, SCALECTL_AUDIT_ENABLED="false"), 0)
        self.assertFalse((self.state_dir / "logs" / "audit.jsonl").exists())

    def test_many_processes_appending_at_once_lose_nothing(self):
        # 2 x 40 processes at once, each a real `droplet up` on its own droplet already at size:
        # each emits one noop event, so each appends exactly one audit line.
        count = 40
        ids = [self.seed(size=UP, name="w%d" % i) for i in range(2 * count)]
        env = self.full_env()
        # Create the state directory first so the racers only race on the log itself.
        self.assertExit(self.scalectl("log"), 0)
        results = self.run_concurrently(
            [["droplet", "up", "--droplet", did] for did in ids], env)
        for code, out, err, _ in results:
            self.assertEqual(code, 0, err)
        raw = (self.state_dir / "logs" / "audit.jsonl").read_text()
        self.assertTrue(raw.endswith("\n"))
        lines = self.audit_lines()  # every line parses: no torn or interleaved writes
        self.assertEqual(len(lines), 2 * count)
        self.assertEqual(sorted(e["resource"] for e in lines), sorted("droplet-%d" % i for i in ids))
        self.assertEqual({e["pid"] for e in lines}, {pid for _, _, _, pid in results})
        self.assertEqual({e["result"] for e in lines}, {"noop"})
        out = self.json_out(self.scalectl("log", "-o", "json"))
        self.assertEqual(out["count"], 2 * count)

    @unittest.skipUnless(__import__("shutil").which("redis-server"), "redis-server is not installed")
    def test_redis_backend_is_a_stream_and_loses_nothing(self):
        redis = start_redis(self.tmp)
        self.addCleanup(redis.stop)
        count = 30
        ids = [self.seed(size=UP, name="r%d" % i) for i in range(count)]
        env = self.full_env(SCALECTL_REDIS_URL=redis.url)
        results = self.run_concurrently([["droplet", "up", "--droplet", did] for did in ids], env)
        for code, out, err, _ in results:
            self.assertEqual(code, 0, err)
        self.assertEqual(redis.cli("XLEN", "scalectl:{log}:audit"), str(count))
        self.assertFalse((self.state_dir / "logs" / "audit.jsonl").exists())
        r = self.scalectl("log", "-o", "json", SCALECTL_REDIS_URL=redis.url)
        self.assertExit(r, 0)
        out = self.json_out(r)
        self.assertEqual(out["count"], count)
        self.assertEqual(sorted(e["resource"] for e in out["entries"]), sorted("droplet-%d" % i for i in ids))


if __name__ == "__main__":
    unittest.main()
