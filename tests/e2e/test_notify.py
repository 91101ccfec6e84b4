"""End to end: webhook notifications of scaling events against local receivers (127.0.0.1):
one JSON or Slack body per event, bounded retries, and a failing or hanging receiver never
changes the command's outcome or exit code."""

import http.server
import json
import os
import threading
import time
import unittest

from e2e_base import DOWN, UP, ScalectlTestCase
from support.fixtures import DEFAULT_TOKEN

SECRET_PATH = "/services/T0SECRET/B0SECRET/XXSECRETXX"


class Receiver:
    """An HTTP server on 127.0.0.1 recording every POST; `status` is what it answers and
    `hang` makes it sleep before answering (still bounded, so the thread ends). `first`, a list
    of (status, headers), is answered to the first POSTs before `status` takes over."""

    def __init__(self, status=200, hang=0.0, first=()):
        received = self.received = []
        self.status = status
        self.hang = hang
        self.first = list(first)
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                received.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if receiver.hang:
                    time.sleep(receiver.hang)
                status, headers = receiver.first.pop(0) if receiver.first else (receiver.status, {})
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def bodies(self):
        return [json.loads(r["body"]) for r in self.received]


class NotifyTests(ScalectlTestCase):

    def receiver(self, **kw):
        r = Receiver(**kw)
        self.addCleanup(r.stop)
        return r

    def config(self, text):
        path = self.tmp / "notify.toml"
        path.write_text(text)
        return path

    def seed(self, size=DOWN, name="pdf-worker"):
        # disk 80 GB: the disk of DOWN, so a droplet seeded at UP can still go down
        return self.sim.seed_droplet(name=name, size_slug=size, status="active", disk=80)["id"]

    def test_json_event_per_resize_with_who_what_and_result(self):
        hook = self.receiver()
        cfg = self.config('[notify]\nwebhooks = ["%s/hook"]\n' % hook.url)
        did = self.seed()
        r = self.scalectl("--config", cfg, "droplet", "up", "--droplet", did)
        self.assertExit(r, 0)
        bodies = hook.bodies()
        self.assertEqual(len(bodies), 1)
        b = bodies[0]
        self.assertEqual((b["what"], b["resource"], b["from"], b["to"], b["reason"], b["result"]),
                         ("droplet.resize", "droplet-%d" % did, DOWN, UP, "up", "ok"))
        for key in ("user", "host", "pid", "time", "duration_ms", "command", "summary"):
            self.assertIn(key, b)
        self.assertGreater(b["duration_ms"], 0)
        self.assertEqual(b["details"]["memory_after_mb"], 16384)
        request = hook.received[0]
        self.assertEqual(request["path"], "/hook")
        self.assertEqual(request["headers"].get("Content-Type"), "application/json")
        # The DigitalOcean token never goes to a webhook.
        self.assertNotIn("Authorization", request["headers"])
        self.assertNotIn(DEFAULT_TOKEN, request["body"].decode())

        # Already at size: a noop is audited but not notified.
        self.assertExit(self.scalectl("--config", cfg, "droplet", "up", "--droplet", did), 0)
        self.assertEqual(len(hook.received), 1)

    def test_a_429_is_retried_after_its_retry_after_and_a_too_long_one_is_not_waited(self):
        polite = self.receiver(first=[(429, {"Retry-After": "1"})])
        busy = self.receiver(status=429, first=[(429, {"Retry-After": "120"})])
        cfg = self.config('[notify]\nwebhooks = ["%s/a", "%s/b"]\nretries = 2\n' % (polite.url, busy.url))
        did = self.seed()
        r = self.scalectl("--config", cfg, "droplet", "up", "--droplet", did)
        self.assertExit(r, 0)
        self.assertEqual(len(polite.received), 2)  # the 429, then the retry that was taken
        self.assertEqual(polite.received[0]["body"], polite.received[1]["body"])
        self.assertEqual(len(busy.received), 1)  # 120 s is more than a webhook waits
        warnings = [l for l in r.stderr.splitlines() if "could not notify" in l]
        self.assertEqual(warnings, ["scalectl: warning: could not notify webhook %s/... of the droplet.resize "
                                    "event: HTTP 429 (not retried: the receiver asked to wait 2m)" % busy.url])

    def test_slack_format_and_several_webhooks(self):
        slack = self.receiver()
        other = self.receiver()
        cfg = self.config('[notify]\nwebhooks = ["%s%s", "%s/b"]\nformat = "slack"\n'
                          % (slack.url, SECRET_PATH, other.url))
        did = self.seed(size=UP)
        r = self.scalectl("--config", cfg, "droplet", "down", "--droplet", did)
        self.assertExit(r, 0)
        for hook in (slack, other):
            bodies = hook.bodies()
            self.assertEqual(len(bodies), 1)
            self.assertEqual(list(bodies[0]), ["text"])
            self.assertRegex(bodies[0]["text"],
                             r"^scalectl: droplet\.resize droplet-%d: %s -> %s ok in \S+ \(down\) by \S+@\S+$"
                             % (did, UP, DOWN))
        self.assertEqual(slack.received[0]["path"], SECRET_PATH)

    def test_receiver_answering_500_is_one_warning_and_the_exit_code_stands(self):
        hook = self.receiver(status=500)
        cfg = self.config('[notify]\nwebhooks = ["%s%s"]\nretries = 2\n' % (hook.url, SECRET_PATH))
        did = self.seed()
        r = self.scalectl("--config", cfg, "droplet", "up", "--droplet", did)
        self.assertExit(r, 0)
        self.assertEqual(len(hook.received), 3)  # the first try and 2 retries
        warnings = [l for l in r.stderr.splitlines() if "could not notify" in l]
        self.assertEqual(warnings, ["scalectl: warning: could not notify webhook %s/... of the droplet.resize "
                                    "event: HTTP 500 after 3 attempts" % hook.url])
        self.assertNotIn("SECRET", r.stderr)
        self.assertEqual(self.sim.droplet_state(did)["size_slug"], UP)

        # A failed command keeps its own exit code too.
        self.sim.inject(fail_next_action={"type": "resize", "droplet_id": did})
        r = self.scalectl("--config", cfg, "droplet", "down", "--droplet", did)
        self.assertExit(r, 1)
        self.assertEqual(len([l for l in r.stderr.splitlines() if l.startswith("scalectl: error: ")]), 1)
        self.assertEqual(json.loads(hook.received[-1]["body"])["result"], "failed")

    def test_unreachable_and_hanging_receivers_are_bounded_by_the_timeout(self):
        hang = self.receiver(hang=8.0)
        # A port nothing listens on: connection refused.
        closed = Receiver()
        dead_url = closed.url
        closed.stop()
        cfg = self.config('[notify]\nwebhooks = ["%s/slow", "%s/dead"]\ntimeout = "1s"\nretries = 1\n'
                          % (hang.url, dead_url))
        did = self.seed()
        started = time.monotonic()
        r = self.scalectl("--config", cfg, "droplet", "up", "--droplet", did, timeout=60)
        self.assertExit(r, 0)
        self.assertLess(time.monotonic() - started, 60)
        self.assertEqual(len(hook_paths(hang)), 2)
        warnings = [l for l in r.stderr.splitlines() if "could not notify" in l]
        self.assertEqual(len(warnings), 2, r.stderr)
        self.assertIn("%s/... of the droplet.resize event: timed out after 2 attempts" % hang.url, warnings[0])
        self.assertIn("%s/... of the droplet.resize event: could not connect after 2 attempts" % dead_url,
                      warnings[1])

    def test_no_webhooks_no_traffic_and_bad_urls_are_skipped(self):
        cfg = self.config('[notify]\nwebhooks = ["ftp://user:pw@example.invalid/x"]\n')
        os.chmod(cfg, 0o600)  # a password inside a URL makes the file a secret (issue 11)
        did = self.seed()
        r = self.scalectl("--config", cfg, "droplet", "up", "--droplet", did)
        self.assertExit(r, 0)
        self.assertIn("ftp://example.invalid/... is not an http:// or https:// URL; it is skipped", r.stderr)
        self.assertNotIn("pw", r.stderr.replace("power", ""))

    def test_autoscale_apply_is_notified(self):
        hook = self.receiver()
        cfg = self.config('[notify]\nwebhooks = ["%s/a"]\n[autoscale.policies.w]\nmetric = { value = 850 }\n'
                          'units_per_worker = 1000\nmin = 1\nmax = 10\ntarget = "manual"\n' % hook.url)
        r = self.scalectl("--config", cfg, "autoscale", "apply", "--policy", "w")
        self.assertExit(r, 0)
        bodies = hook.bodies()
        self.assertEqual(len(bodies), 1)
        self.assertEqual((bodies[0]["what"], bodies[0]["resource"], bodies[0]["from"], bodies[0]["to"],
                          bodies[0]["result"]), ("autoscale.apply", "policy-w", "1", "2", "ok"))


def hook_paths(receiver):
    return [r["path"] for r in receiver.received]


if __name__ == "__main__":
    unittest.main()
