"""Helpers for scalectl's end-to-end tests (standard library only).

Every helper that starts a process returns an object with stop(); tests
register it with addCleanup. Processes still alive when the interpreter exits
are killed as a safety net. Every wait is bounded and fails with the tail of
the process's log.

    tmp = scratch_dir(self)                      # kept (and printed) on failure
    sim = start_simulator(tmp, action_seconds=0.2); self.addCleanup(sim.stop)
    droplet = sim.seed_droplet(name="web-1", size_slug="s-2vcpu-4gb")
    prism = start_prism(sim.url, tmp); self.addCleanup(prism.stop)
    result = run_scalectl(["droplet", "resize", ...], env={...})
"""

import atexit
import json as jsonlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SIM_SCRIPT = REPO_ROOT / "tests" / "sim" / "do_sim.py"
CONTRACT_DIR = REPO_ROOT / "tests" / "contract"
PRISM_BIN = CONTRACT_DIR / "node_modules" / ".bin" / "prism"
INSTALL_PRISM = CONTRACT_DIR / "install-prism.sh"
DEFAULT_TOKEN = "sim-token"
LOOPBACK = "127.0.0.1"

# Loopback only: never let an http_proxy/https_proxy variable route test
# traffic off this machine.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

_live_processes = set()
_live_lock = threading.Lock()
_counter = [0]


# Sanitizer runs: the build-asan ctest sets SCALECTL_SANITIZED=1 (tests/CMakeLists.txt). ASan and
# UBSan make every scalectl process several times slower to start and run, so race and load
# tests use fewer processes there (through scaled()); release-build runs keep their full sizes.
SANITIZED = os.environ.get("SCALECTL_SANITIZED") == "1"


def scaled(full, sanitized):
    """Return `full` in a release run and `sanitized` under the sanitizers (fewer processes,
    longer waits)."""
    return sanitized if SANITIZED else full


class FixtureError(RuntimeError):
    """A helper could not start or talk to what it manages."""


# --------------------------------------------------------------- utilities

def free_port(host=LOOPBACK):
    """Return a TCP port on host that was free a moment ago."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


OPENAPI_MISSING = "DigitalOcean OpenAPI spec not found"


def find_openapi_spec():
    """Path of DigitalOcean's OpenAPI spec.

    $SCALECTL_DO_OPENAPI wins (a FixtureError when it names no file); otherwise
    shared/do-openapi.yaml beside the repository (<repo>/../shared/do-openapi.yaml) or
    beside one of its parents. Raises unittest.SkipTest with one line saying how to
    provide it when there is none, so ctest reports the contract tests as skipped.
    """
    env = os.environ.get("SCALECTL_DO_OPENAPI")
    if env:
        path = Path(env)
        if not path.is_file():
            raise FixtureError("SCALECTL_DO_OPENAPI=%s is not a file" % env)
        return path
    for directory in [REPO_ROOT, *REPO_ROOT.parents]:
        candidate = directory / "shared" / "do-openapi.yaml"
        if candidate.is_file():
            return candidate
    raise unittest.SkipTest(
        "%s: set SCALECTL_DO_OPENAPI=/path/to/do-openapi.yaml or put it at %s "
        "(DigitalOcean publishes it as DigitalOcean-public.v2.yaml)"
        % (OPENAPI_MISSING, REPO_ROOT.parent / "shared" / "do-openapi.yaml"))


def outcome_failed(test):
    """True if this unittest.TestCase has failed or errored so far (usable in cleanups)."""
    outcome = getattr(test, "_outcome", None)
    if outcome is None:
        return False
    if not getattr(outcome, "success", True):
        return True
    result = getattr(outcome, "result", None)
    for kind in ("failures", "errors"):
        for case, _ in getattr(result, kind, []) or []:
            if case is test or getattr(case, "test_case", None) is test:
                return True
    return False


def scratch_dir(test, prefix=None):
    """Make a scratch directory for a unittest.TestCase and return its Path.

    Call it before starting processes so its cleanup runs last. It is removed
    when the test passes and kept, with its path printed to stderr, when the
    test fails (or when SCALECTL_KEEP_SCRATCH=1).
    """
    name = prefix or test.id().split(".")[-1]
    path = Path(tempfile.mkdtemp(prefix="scalectl-%s-" % name))

    def cleanup():
        if outcome_failed(test) or os.environ.get("SCALECTL_KEEP_SCRATCH") == "1":
            sys.stderr.write("\n[scratch] %s kept its scratch directory: %s\n"
                             % (test.id(), path))
        else:
            shutil.rmtree(path, ignore_errors=True)

    test.addCleanup(cleanup)
    return path


class TestTimeout(AssertionError):
    """Raised in the main thread when a test outlives bound_test_runtime()."""


def bound_test_runtime(test, seconds):
    """Fail `test` with TestTimeout if it runs longer than `seconds` (SIGALRM).

    Call it first thing in setUp; cleanups (process stops) still run.
    """
    def on_alarm(signum, frame):
        raise TestTimeout("%s exceeded its %d s time limit" % (test.id(), seconds))

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(int(seconds))

    def cancel():
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)

    test.addCleanup(cancel)


def _next_name(kind):
    with _live_lock:
        _counter[0] += 1
        return "%s-%d" % (kind, _counter[0])


def _tail(path, limit=3000):
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return "(no log at %s)" % path
    return text[-limit:]


def http_request(method, url, json=None, headers=None, data=None, timeout=30):
    """Send one HTTP request (no proxies); return (status, headers, body bytes)."""
    body = data
    hdrs = dict(headers or {})
    if json is not None:
        body = jsonlib.dumps(json).encode("utf-8")
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=body, headers=hdrs, method=method)
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.headers, err.read()


def decode_json(body):
    """Parse a JSON body (bytes); None for an empty one."""
    return jsonlib.loads(body.decode("utf-8")) if body else None


class _ManagedProcess:
    """A child process in its own session, killed (group-wide) on stop()."""

    def __init__(self, name, args, log_path, env=None, cwd=None, merge_stderr=True,
                 stdout_path=None):
        self.name = name
        self.log_path = Path(log_path)
        self._log = open(self.log_path, "wb")
        self._stdout = open(stdout_path, "wb") if stdout_path else None
        self.proc = subprocess.Popen(
            [str(a) for a in args],
            stdin=subprocess.DEVNULL,
            stdout=self._stdout or self._log,
            stderr=self._log if (merge_stderr or self._stdout) else subprocess.DEVNULL,
            env=env, cwd=cwd, start_new_session=True)
        with _live_lock:
            _live_processes.add(self)

    def alive(self):
        return self.proc.poll() is None

    def stop(self, grace=5.0):
        """SIGTERM the process group, then SIGKILL after `grace` seconds."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=5)
        else:
            # The leader is gone; make sure nothing it started lingers.
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for fh in (self._log, self._stdout):
            if fh and not fh.closed:
                fh.close()
        with _live_lock:
            _live_processes.discard(self)

    def log_text(self):
        """Everything the process has logged so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


@atexit.register
def _kill_leftovers():
    with _live_lock:
        leftovers = list(_live_processes)
    for proc in leftovers:
        proc.stop(grace=1.0)


def _wait(predicate, timeout, what, process):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if not process.alive():
            raise FixtureError("%s exited (code %s) before %s; log %s:\n%s" % (
                process.name, process.proc.returncode, what, process.log_path,
                _tail(process.log_path)))
        time.sleep(0.02)
    if predicate():
        return
    process.stop()
    raise FixtureError("%s did not %s within %.0f s; log %s:\n%s" % (
        process.name, what, timeout, process.log_path, _tail(process.log_path)))


# --------------------------------------------------------------- simulator

class SimulatorProcess:
    """A running tests/sim/do_sim.py. `url` is http://127.0.0.1:PORT."""

    def __init__(self, process, port, token, tmpdir):
        self._process = process
        self.port = port
        self.url = "http://%s:%d" % (LOOPBACK, port)
        self.token = token
        self.tmpdir = tmpdir

    # control API (/_sim, no auth)
    def control(self, method, path, json=None, check=True):
        """Call a /_sim control endpoint; return its JSON (FixtureError on >= 400)."""
        if not path.startswith("/"):
            path = "/" + path
        if not path.startswith("/_sim"):
            path = "/_sim" + path
        status, _, body = http_request(method, self.url + path, json=json)
        data = decode_json(body)
        if check and status >= 400:
            raise FixtureError("simulator control %s %s -> %d: %s" % (method, path, status, data))
        return data

    def api(self, method, path, json=None, token=None, base_url=None):
        """Call a /v2 endpoint with the bearer token; return (status, headers, json)."""
        headers = {"Authorization": "Bearer %s" % (self.token if token is None else token)}
        status, hdrs, body = http_request(method, (base_url or self.url) + path, json=json,
                                          headers=headers)
        return status, hdrs, decode_json(body)

    def requests(self):
        """Every /v2 request received so far (method, path, query, headers, body, status, t)."""
        return self.control("GET", "/requests")

    def clear_requests(self):
        self.control("DELETE", "/requests")

    def actions(self):
        """Every Droplet action created (type, droplet_id, params, status, ...)."""
        return self.control("GET", "/actions")

    def deployments(self):
        return self.control("GET", "/deployments")

    def droplet_state(self, droplet_id):
        """Raw simulator state of a Droplet (status, size_slug, disk_resized_to, locked...)."""
        return self.control("GET", "/droplets/%s" % droplet_id)

    def seed_droplet(self, **fields):
        """Create a Droplet (id, name, size_slug, status, region, tags, ...); return it."""
        return self.control("POST", "/droplets", json=fields)

    def seed_app(self, spec, **fields):
        """Create an app with this spec (and an ACTIVE deployment); return the app."""
        body = dict(fields)
        body["spec"] = spec
        return self.control("POST", "/apps", json=body)

    def configure(self, **config):
        """POST /_sim/config (action_seconds, action_seconds_by_type, deployment_seconds...)."""
        return self.control("POST", "/config", json=config)["config"]

    def inject(self, **fault):
        """POST /_sim/faults with these fields; return the fault table."""
        return self.control("POST", "/faults", json=fault)

    def reset(self):
        self.control("POST", "/reset")

    def log_text(self):
        return self._process.log_text()

    def stop(self):
        self._process.stop()


def start_simulator(tmpdir, token=DEFAULT_TOKEN, action_seconds=None, deployment_seconds=None,
                    state=None, base_url=None, host=LOOPBACK, port=0, extra_args=(),
                    timeout=20.0):
    """Start tests/sim/do_sim.py as a subprocess and wait for its port file.

    Logs go to TMPDIR/sim-N.log (stderr: access log) and sim-N.stdout.
    """
    tmpdir = Path(tmpdir)
    name = _next_name("sim")
    port_file = tmpdir / ("%s.port" % name)
    args = [sys.executable, SIM_SCRIPT, "--host", host, "--port", port,
            "--port-file", port_file, "--token", token]
    if action_seconds is not None:
        args += ["--action-seconds", action_seconds]
    if deployment_seconds is not None:
        args += ["--deployment-seconds", deployment_seconds]
    if state is not None:
        args += ["--state", state]
    if base_url is not None:
        args += ["--base-url", base_url]
    args += list(extra_args)
    process = _ManagedProcess(name, args, tmpdir / ("%s.log" % name),
                              stdout_path=tmpdir / ("%s.stdout" % name))
    _wait(port_file.exists, timeout, "write its port file", process)
    port_number = int(port_file.read_text().strip())
    return SimulatorProcess(process, port_number, token, tmpdir)


# ------------------------------------------------------------------- redis

class RedisProcess:
    """A running redis-server on loopback. `url` is redis://127.0.0.1:PORT/0."""

    def __init__(self, process, port):
        self._process = process
        self.port = port
        self.url = "redis://%s:%d/0" % (LOOPBACK, port)

    def cli(self, *args, timeout=10):
        """Run redis-cli against this server; return its stdout, stripped."""
        result = subprocess.run(
            ["redis-cli", "-h", LOOPBACK, "-p", str(self.port)] + [str(a) for a in args],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise FixtureError("redis-cli %s failed (%d): %s" % (
                " ".join(map(str, args)), result.returncode, result.stderr.strip()))
        return result.stdout.strip()

    def log_text(self):
        return self._process.log_text()

    def stop(self):
        self._process.stop()


def start_redis(tmpdir, timeout=15.0):
    """Start a throwaway redis-server (no persistence) on a free loopback port."""
    if not shutil.which("redis-server") or not shutil.which("redis-cli"):
        raise FixtureError("redis-server/redis-cli not found (Debian: apt-get install -y redis-server)")
    tmpdir = Path(tmpdir)
    last_error = None
    for _ in range(3):  # the free port can be taken before redis binds it
        name = _next_name("redis")
        data_dir = tmpdir / name
        data_dir.mkdir()
        port = free_port()
        process = _ManagedProcess(name, [
            "redis-server", "--port", port, "--bind", LOOPBACK, "--save", "",
            "--appendonly", "no", "--dir", data_dir, "--daemonize", "no",
        ], tmpdir / ("%s.log" % name))
        redis = RedisProcess(process, port)

        def ready():
            try:
                return redis.cli("ping", timeout=2) == "PONG"
            except (FixtureError, subprocess.TimeoutExpired):
                return False
        try:
            _wait(ready, timeout, "answer PING", process)
            return redis
        except FixtureError as exc:
            process.stop()
            last_error = exc
    raise last_error


# ------------------------------------------------------------------- prism

VIOLATION_MARKERS = ("Violation:", "Request terminated with error", "✖  error", "⚠  warning")


class PrismProcess:
    """A running `prism proxy` in front of an upstream. `url` is its address."""

    def __init__(self, process, port, listening_offset):
        self._process = process
        self.port = port
        self.url = "http://%s:%d" % (LOOPBACK, port)
        self._start = listening_offset

    def log_text(self):
        return self._process.log_text()

    def log_offset(self):
        """Current end of the log; pass it to violations(since=...)."""
        return len(self.log_text())

    def violations(self, since=None):
        """Log lines after start-up (or after `since`) that report a violation or error.

        Prism 5 logs `[VALIDATOR] ✖ error Violation: <where> <message>` (or
        `⚠ warning Violation: ...`) for every request/response that breaks the
        spec, and with --errors also `[HTTP SERVER] ... ✖ error Request
        terminated with error: https://stoplight.io/prism/errors#...`.
        """
        text = self.log_text()[self._start if since is None else since:]
        return [line for line in text.splitlines()
                if any(marker in line for marker in VIOLATION_MARKERS)]

    def stop(self):
        self._process.stop()


def ensure_prism(timeout=900):
    """Run tests/contract/install-prism.sh if Prism is not installed yet."""
    if PRISM_BIN.exists():
        return PRISM_BIN
    try:
        result = subprocess.run(["bash", str(INSTALL_PRISM)], stdin=subprocess.DEVNULL,
                                capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise FixtureError("install-prism.sh took more than %d s" % timeout)
    if result.returncode != 0 or not PRISM_BIN.exists():
        raise FixtureError("install-prism.sh failed (%d):\n%s\n%s" % (
            result.returncode, result.stdout[-2000:], result.stderr[-3000:]))
    return PRISM_BIN


def start_prism(upstream_url, tmpdir, spec=None, errors=True, timeout=120.0):
    """Start `prism proxy SPEC UPSTREAM --errors` on a free loopback port.

    Waits (at most `timeout` s) for "Prism is listening"; installs Prism first
    if needed. The log is TMPDIR/prism-N.log.
    """
    ensure_prism()
    spec = Path(spec) if spec else find_openapi_spec()
    tmpdir = Path(tmpdir)
    last_error = None
    for _ in range(2):
        name = _next_name("prism")
        port = free_port()
        args = [PRISM_BIN, "proxy", spec, upstream_url, "-h", LOOPBACK, "-p", port]
        if errors:
            args.append("--errors")
        env = dict(os.environ, NO_COLOR="1", FORCE_COLOR="0", SCARF_ANALYTICS="false",
                   DO_NOT_TRACK="1")
        for key in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy",
                    "ALL_PROXY"):
            env.pop(key, None)
        process = _ManagedProcess(name, args, tmpdir / ("%s.log" % name), env=env,
                                  cwd=CONTRACT_DIR)
        marker = "Prism is listening"
        try:
            _wait(lambda: marker in process.log_text(), timeout, "print '%s'" % marker, process)
        except FixtureError as exc:
            process.stop()
            last_error = exc
            if "EADDRINUSE" in str(exc):
                continue
            raise
        text = process.log_text()
        offset = text.index(marker)
        offset = text.find("\n", offset) + 1 or len(text)
        return PrismProcess(process, port, offset)
    raise last_error


# ---------------------------------------------------------------- scalectl

def scalectl_path():
    """The scalectl binary: $SCALECTL_BIN, else build/scalectl in the repo."""
    return Path(os.environ.get("SCALECTL_BIN") or REPO_ROOT / "build" / "scalectl")


def run_scalectl(args, env=None, timeout=60, input=None, cwd=None, inherit_env=False):
    """Run scalectl with args; return the CompletedProcess (text, captured).

    `env` is added to a minimal environment (PATH, HOME, LANG, TMPDIR) unless
    inherit_env=True, so a developer's DIGITALOCEAN_TOKEN or config cannot leak
    in. The run is always bounded by `timeout` seconds (TimeoutExpired on overrun).
    """
    binary = scalectl_path()
    if not binary.exists():
        raise FixtureError("scalectl binary not found at %s (build it or set SCALECTL_BIN)"
                           % binary)
    if inherit_env:
        full_env = dict(os.environ)
    else:
        full_env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR")
                    if k in os.environ}
    full_env.update({k: str(v) for k, v in (env or {}).items()})
    return subprocess.run([str(binary)] + [str(a) for a in args], env=full_env,
                          input=input, capture_output=True, text=True,
                          timeout=timeout, cwd=cwd,
                          stdin=None if input is not None else subprocess.DEVNULL)
