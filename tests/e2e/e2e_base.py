"""Shared set-up for end-to-end tests: a scratch dir, the DO simulator, and an environment
that points scalectl at loopback only (API, metadata DMI file, state dir, HOME)."""

import http.server
import json
import os
import signal
import subprocess
import threading
import time
import unittest
from pathlib import Path

from support.fixtures import (DEFAULT_TOKEN, run_scalectl, scalectl_path, scratch_dir,
                              start_simulator)

DOWN = "s-2vcpu-4gb"
UP = "s-8vcpu-16gb"


class ScalectlTestCase(unittest.TestCase):
    """Starts a simulator per test; self.env() is the environment scalectl runs with."""

    action_seconds = 0.3
    start_sim = True

    def setUp(self):
        self.tmp = Path(scratch_dir(self))
        self.home = self.tmp / "home"
        self.home.mkdir()
        self.state_dir = self.tmp / "state"
        self.dmi = self.tmp / "sys_vendor"
        self.dmi.write_text("QEMU\n")  # not DigitalOcean: the self-check sends no traffic
        if self.start_sim:
            self.sim = start_simulator(self.tmp, action_seconds=self.action_seconds)
            self.addCleanup(self.sim.stop)

    def env(self, **extra):
        env = {
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "DIGITALOCEAN_TOKEN": DEFAULT_TOKEN,
            "SCALECTL_STATE_DIR": str(self.state_dir),
            "SCALECTL_DROPLET_DMI_PATH": str(self.dmi),
            "SCALECTL_DROPLET_METADATA_URL": "http://127.0.0.1:9/metadata/v1/id",
        }
        if self.start_sim:
            env["DIGITALOCEAN_API_URL"] = self.sim.url
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def scalectl(self, *args, env=None, timeout=120, **extra_env):
        result = run_scalectl(list(args), env=env or self.env(**extra_env), timeout=timeout)
        self._last = result
        return result

    def popen(self, *args, env=None, **extra_env):
        """Start scalectl in the background (its own process group); killed at cleanup."""
        full_env = {k: os.environ[k] for k in ("PATH", "LANG", "TMPDIR") if k in os.environ}
        full_env.update(env or self.env(**extra_env))
        out = open(self.tmp / ("bg-%d.out" % time.monotonic_ns()), "w+")
        proc = subprocess.Popen([str(scalectl_path())] + [str(a) for a in args], env=full_env,
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        self.addCleanup(self._reap, proc, out)
        return proc

    @staticmethod
    def _reap(proc, out):
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        out.close()

    def serve(self, routes, host="127.0.0.1", hits=None, delay=0.0):
        """Serve GET and POST on `host` for the test and return the server's base URL.

        `routes` maps a path prefix to a body: bytes or str as they are, anything else as JSON;
        an unknown path answers 404 (after `delay` seconds, every answer). Each request's (method,
        path, Authorization) is appended to `hits` when given."""

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self):
                if hits is not None:
                    hits.append((self.command, self.path, self.headers.get("Authorization")))
                time.sleep(delay)
                path = self.path.split("?")[0]
                body = next((b for p, b in routes.items() if path.startswith(p)), None)
                if body is None:
                    status, data = 404, b'{"id": "not_found", "message": "not here"}'
                elif isinstance(body, (bytes, str)):
                    status, data = 200, body.encode() if isinstance(body, str) else body
                else:
                    status, data = 200, json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = answer  # noqa: N815 (http.server's naming)
            do_POST = answer  # noqa: N815

            def log_message(self, *args):
                pass

        server = http.server.HTTPServer((host, 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        return "http://%s:%d" % (host, server.server_address[1])

    def start_metadata_server(self, droplet_id):
        """Serve DigitalOcean's metadata id endpoint on loopback, answering `droplet_id`; returns its URL."""
        return self.serve({"/metadata/v1/id": str(droplet_id)}) + "/metadata/v1/id"

    def assertExit(self, result, code):
        self.assertEqual(result.returncode, code,
                         "exit %d, wanted %d\nstdout:\n%s\nstderr:\n%s" % (
                             result.returncode, code, result.stdout, result.stderr))

    def assertOneErrorLine(self, result):
        lines = [l for l in result.stderr.splitlines() if l.startswith("scalectl: error: ")]
        self.assertEqual(len(lines), 1, result.stderr)
        return lines[0]

    def json_out(self, result):
        try:
            return json.loads(result.stdout)
        except ValueError:
            self.fail("stdout is not JSON:\n%s\nstderr:\n%s" % (result.stdout, result.stderr))

    def wait_for(self, predicate, timeout=30.0, what="condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.05)
        self.fail("timed out after %.0fs waiting for %s" % (timeout, what))

    # --- simulator views -------------------------------------------------------------
    def actions_of(self, droplet_id, kind=None):
        return [a for a in self.sim.actions()
                if str(a.get("droplet_id")) == str(droplet_id) and (kind is None or a.get("type") == kind)]

    def posts(self):
        return [r for r in self.sim.requests() if r["method"] != "GET"]
