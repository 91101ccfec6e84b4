#!/usr/bin/env python3
"""A stateful DigitalOcean API v2 simulator for scalectl's end-to-end tests.

It serves the part of the API scalectl uses (Droplets, Droplet actions,
sizes, actions, App Platform apps, deployments and instance sizes) shaped
exactly as DigitalOcean's OpenAPI spec describes, plus a control API under
/_sim/ for seeding state, injecting faults and reading what clients sent.

Run it:   python3 tests/sim/do_sim.py --port 0 --port-file /tmp/port
Import:   sim = Simulator(port=0); sim.start(); ...; sim.stop()

It only ever binds a loopback address. Standard library only.
"""

import argparse
import ipaddress
import os
import re
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sim_catalog as catalog  # noqa: E402
import sim_json  # noqa: E402
from sim_state import ControlError, SimError, SimState  # noqa: E402

DEFAULT_TOKEN = "sim-token"
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 200
IDLE_TIMEOUT_SECONDS = 120


class _Route:
    def __init__(self, method, pattern, handler):
        self.method = method
        self.regex = re.compile("^" + pattern + "$")
        self.handler = handler


def _int_param(query, name, default, lo, hi):
    try:
        value = int(query.get(name, default))
    except (TypeError, ValueError):
        return default
    return max(lo, min(hi, value))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, handler, sim, family):
        self.address_family = family
        self.sim = sim
        self.open_connections = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "do-sim/1.0"
    timeout = IDLE_TIMEOUT_SECONDS

    def version_string(self):
        return self.server_version

    # ------------------------------------------------------------ plumbing
    def setup(self):
        super().setup()
        with self.server.connections_lock:
            self.server.open_connections.add(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            with self.server.connections_lock:
                self.server.open_connections.discard(self.connection)

    def log_message(self, fmt, *args):
        if self.server.sim.access_log:
            sys.stderr.write("do-sim: %s %s\n" % (self.address_string(), fmt % args))

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_PUT(self):
        self._dispatch()

    def do_PATCH(self):
        self._dispatch()

    def do_DELETE(self):
        self._dispatch()

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status, payload, headers=None):
        body = sim_json.dumps(payload).encode("utf-8") if payload is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, str(value))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        return body

    def _drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # ------------------------------------------------------------- dispatch
    def _dispatch(self):
        started = time.time()
        try:
            raw_body = self._read_body()
        except (ValueError, OSError):
            self._drop()
            return
        split = urlsplit(self.path)
        path = split.path
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        try:
            if path.startswith("/_sim/") or path == "/_sim":
                self._control(path, query, raw_body)
            elif path.startswith("/v2/") or path == "/v2":
                self._api(path, split.query, query, raw_body, started)
            else:
                self._send(404, {"id": "not_found", "message": "Not a DigitalOcean API path.",
                                 "request_id": str(uuid.uuid4())})
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:  # a simulator bug: report it as a 500 and keep serving
            traceback.print_exc()
            try:
                self._send(500, {"id": "server_error",
                                 "message": "simulator bug: see its stderr",
                                 "request_id": str(uuid.uuid4())})
            except OSError:
                self.close_connection = True

    # ------------------------------------------------------------------ /v2
    def _api(self, path, raw_query, query, raw_body, started):
        sim = self.server.sim
        state = sim.state
        request_id = str(uuid.uuid4())
        entry = {
            "method": self.command,
            "path": path,
            "query": query,
            "raw_query": raw_query,
            "headers": {k: v for k, v in self.headers.items()},
            "body": None,
            "raw_body": raw_body.decode("utf-8", "replace") if raw_body else None,
            "status": None,
            "t": started,
            "request_id": request_id,
            "fault": None,
            "duration": None,
        }
        if raw_body:
            try:
                entry["body"] = sim_json.plain(sim_json.loads(raw_body))
            except ValueError:
                entry["body"] = raw_body.decode("utf-8", "replace")
        with state.lock:
            fault = state.take_fault(self.command, path)
            if fault:
                entry["fault"] = {k: v for k, v in fault.items()
                                  if k not in ("count", "hits", "skip")}
            state.log_request(entry)
        if fault:
            if fault.get("delay_seconds"):
                time.sleep(fault["delay_seconds"])
            if fault.get("drop_connection"):
                with state.lock:
                    entry["status"] = 0
                    entry["duration"] = time.time() - started
                self._drop()
                return
        now = time.time()
        with state.lock:
            state.advance(now)
            limit, remaining, reset, exceeded = state.consume_ratelimit(now)
            headers = {"ratelimit-limit": limit, "ratelimit-remaining": remaining,
                       "ratelimit-reset": reset, "x-request-id": request_id}
            mutated = False
            try:
                if fault and fault.get("status"):
                    status = fault["status"]
                    if "ratelimit_remaining" in fault:
                        headers["ratelimit-remaining"] = fault["ratelimit_remaining"]
                    elif status == 429:
                        headers["ratelimit-remaining"] = 0
                    if "ratelimit_reset" in fault:
                        headers["ratelimit-reset"] = fault["ratelimit_reset"]
                    if status == 429 or "retry_after" in fault:
                        headers["retry-after"] = fault.get("retry_after", 1)
                    raise SimError(status, fault.get("message"), fault.get("error_id"))
                if exceeded:
                    headers["retry-after"] = max(1, reset - int(now))
                    raise SimError(429)
                auth = self.headers.get("Authorization", "")
                scheme, _, token = auth.partition(" ")
                if scheme.lower() != "bearer" or token.strip() != state.config["token"]:
                    raise SimError(401)
                status, payload = sim.route(self.command, path, query, raw_body, now,
                                            self.headers.get("Host") or sim.host_port())
                mutated = self.command in ("POST", "PUT", "PATCH", "DELETE")
            except SimError as err:
                status = err.status
                headers.update(err.headers)
                payload = {"id": err.error_id, "message": err.message,
                           "request_id": request_id}
            entry["status"] = status
            entry["duration"] = time.time() - started
            if mutated:
                sim.save_state()
        self._send(status, payload, headers)

    # --------------------------------------------------------------- /_sim
    def _control(self, path, query, raw_body):
        sim = self.server.sim
        body = None
        if raw_body:
            try:
                body = sim_json.loads(raw_body)
            except ValueError as exc:
                self._send(400, {"error": "invalid JSON: %s" % exc})
                return
        try:
            with sim.state.lock:
                status, payload = sim.control(self.command, path, query, body, time.time())
                if self.command != "GET":
                    sim.save_state()
        except ControlError as err:
            status, payload = err.status, {"error": err.message}
        self._send(status, payload)


class Simulator:
    """The DigitalOcean API simulator: an HTTP server plus its state.

    start() binds and serves in a background thread; stop() shuts it down and
    closes open keep-alive connections. `port` and `url` are valid after start().
    """

    def __init__(self, host="127.0.0.1", port=0, token=DEFAULT_TOKEN, action_seconds=1.0,
                 deployment_seconds=2.0, state_path=None, access_log=False, base_url=None):
        address = ipaddress.ip_address("127.0.0.1" if host == "localhost" else host)
        if not address.is_loopback:
            raise ValueError("the simulator only binds loopback addresses, not %s" % host)
        self.host = str(address)
        self.family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        self.requested_port = port
        self.state = SimState(token=token, action_seconds=action_seconds,
                              deployment_seconds=deployment_seconds, base_url=base_url)
        self.state_path = state_path
        self.access_log = access_log
        self._server = None
        self._thread = None
        self._routes = self._build_routes()
        if state_path and os.path.exists(state_path) and os.path.getsize(state_path) > 0:
            with open(state_path, "rb") as fh:
                with self.state.lock:
                    self.state.restore(sim_json.loads(fh.read()))

    # ------------------------------------------------------------ lifecycle
    def start(self):
        """Bind and serve in a daemon thread; return self."""
        self._server = _Server((self.host, self.requested_port), _Handler, self, self.family)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1},
                                        name="do-sim", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stop serving, close open connections and save --state if set."""
        if self._server is None:
            return
        self._server.shutdown()
        with self._server.connections_lock:
            conns = list(self._server.open_connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server = None
        with self.state.lock:
            self.save_state()

    @property
    def port(self):
        return self._server.server_address[1]

    def host_port(self):
        if self.family == socket.AF_INET6:
            return "[%s]:%d" % (self.host, self.port)
        return "%s:%d" % (self.host, self.port)

    @property
    def url(self):
        return "http://" + self.host_port()

    def save_state(self):
        """Write the state snapshot to --state atomically (caller holds the lock)."""
        if not self.state_path:
            return
        directory = os.path.dirname(os.path.abspath(self.state_path))
        fd, tmp = tempfile.mkstemp(prefix=".do-sim-state.", dir=directory)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(sim_json.dumps(self.state.snapshot()))
        os.replace(tmp, self.state_path)

    # --------------------------------------------------------------- routes
    def _build_routes(self):
        return [
            _Route("GET", r"/v2/account", self._get_account),
            _Route("GET", r"/v2/sizes", self._list_sizes),
            _Route("GET", r"/v2/regions", self._list_regions),
            _Route("GET", r"/v2/droplets", self._list_droplets),
            _Route("GET", r"/v2/droplets/(\d+)", self._get_droplet),
            _Route("GET", r"/v2/droplets/(\d+)/actions", self._list_droplet_actions),
            _Route("POST", r"/v2/droplets/(\d+)/actions", self._post_droplet_action),
            _Route("GET", r"/v2/droplets/(\d+)/actions/(\d+)", self._get_droplet_action),
            _Route("POST", r"/v2/tags", self._create_tag),
            _Route("POST", r"/v2/tags/([^/]+)/resources", self._tag_resources),
            _Route("DELETE", r"/v2/tags/([^/]+)/resources", self._untag_resources),
            _Route("GET", r"/v2/actions", self._list_actions),
            _Route("GET", r"/v2/actions/(\d+)", self._get_action),
            _Route("GET", r"/v2/apps", self._list_apps),
            _Route("GET", r"/v2/apps/tiers/instance_sizes", self._list_instance_sizes),
            _Route("GET", r"/v2/apps/tiers/instance_sizes/([^/]+)", self._get_instance_size),
            _Route("GET", r"/v2/apps/([^/]+)", self._get_app),
            _Route("PUT", r"/v2/apps/([^/]+)", self._put_app),
            _Route("GET", r"/v2/apps/([^/]+)/deployments", self._list_deployments),
            _Route("GET", r"/v2/apps/([^/]+)/deployments/([^/]+)", self._get_deployment),
            _Route("POST", r"/v2/apps/([^/]+)/deployments/([^/]+)/cancel",
                   self._cancel_deployment),
        ]

    def route(self, method, path, query, raw_body, now, host):
        """Serve one authenticated /v2 request; return (status, payload)."""
        path = path.rstrip("/") or path
        path_matched = False
        for route in self._routes:
            match = route.regex.match(path)
            if not match:
                continue
            path_matched = True
            if route.method != method:
                continue
            body = None
            if raw_body:
                try:
                    body = sim_json.loads(raw_body)
                except ValueError:
                    raise SimError(400, "The request body is not valid JSON.")
            ctx = {"query": query, "body": body, "now": now, "host": host, "path": path}
            return route.handler(ctx, *match.groups())
        if path_matched:
            raise SimError(405, "Method %s is not allowed on %s." % (method, path))
        raise SimError(404)

    def _page(self, ctx, items, key, view):
        query = ctx["query"]
        per_page = _int_param(query, "per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
        page = _int_param(query, "page", 1, 1, 10 ** 9)
        total = len(items)
        last = max(1, -(-total // per_page))
        chunk = items[(page - 1) * per_page: page * per_page]
        base = (self.state.config["base_url"] or "http://" + ctx["host"]) + ctx["path"]

        def link(number):
            params = {"page": number, "per_page": per_page}
            params.update((k, v) for k, v in query.items() if k not in params)
            return base + "?" + urlencode(params)

        pages = {}
        if page > 1:
            pages["first"] = link(1)
            pages["prev"] = link(min(page - 1, last))
        if page < last:
            pages["next"] = link(page + 1)
            pages["last"] = link(last)
        return 200, {key: [view(item) for item in chunk],
                     "links": {"pages": pages}, "meta": {"total": total}}

    # Droplets, sizes, actions ------------------------------------------
    def _get_account(self, ctx):
        return 200, {"account": {
            "droplet_limit": 25, "floating_ip_limit": 3, "email": "sim@example.com",
            "name": "Simulator", "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, "sim-account")),
            "email_verified": True, "status": "active", "status_message": "",
            "team": {"uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, "sim-team")),
                     "name": "My Team"}}}

    def _list_sizes(self, ctx):
        return self._page(ctx, catalog.SIZES, "sizes", dict)

    def _list_regions(self, ctx):
        return self._page(ctx, catalog.REGION_SLUGS, "regions", catalog.region_object)

    def _list_droplets(self, ctx):
        query = ctx["query"]
        items = self.state.list_droplets(name=query.get("name"), tag=query.get("tag_name"))
        return self._page(ctx, items, "droplets", self.state.droplet_view)

    def _create_tag(self, ctx):
        return 201, {"tag": self.state.create_tag(ctx["body"])}

    def _tag_resources(self, ctx, tag):
        self.state.tag_resources(tag, ctx["body"], add=True)
        return 204, None

    def _untag_resources(self, ctx, tag):
        self.state.tag_resources(tag, ctx["body"], add=False)
        return 204, None

    def _get_droplet(self, ctx, droplet_id):
        droplet = self.state.droplet(int(droplet_id))
        return 200, {"droplet": self.state.droplet_view(droplet)}

    def _list_droplet_actions(self, ctx, droplet_id):
        self.state.droplet(int(droplet_id))
        items = self.state.list_actions(int(droplet_id))
        return self._page(ctx, items, "actions", self.state.action_view)

    def _post_droplet_action(self, ctx, droplet_id):
        action = self.state.start_action(int(droplet_id), ctx["body"], ctx["now"])
        return 201, {"action": self.state.action_view(action)}

    def _get_droplet_action(self, ctx, droplet_id, action_id):
        action = self.state.action(int(action_id))
        if action["droplet_id"] != int(droplet_id):
            raise SimError(404)
        return 200, {"action": self.state.action_view(action)}

    def _list_actions(self, ctx):
        return self._page(ctx, self.state.list_actions(), "actions", self.state.action_view)

    def _get_action(self, ctx, action_id):
        return 200, {"action": self.state.action_view(self.state.action(int(action_id)))}

    # Apps ----------------------------------------------------------------
    def _list_apps(self, ctx):
        now = ctx["now"]
        return self._page(ctx, self.state.list_apps(), "apps",
                          lambda app: self.state.app_view(app, now))

    def _get_app(self, ctx, app_id):
        return 200, {"app": self.state.app_view(self.state.app(app_id), ctx["now"])}

    def _put_app(self, ctx, app_id):
        app = self.state.update_app(app_id, ctx["body"], ctx["now"])
        return 200, {"app": self.state.app_view(app, ctx["now"])}

    def _list_deployments(self, ctx, app_id):
        app = self.state.app(app_id)
        now = ctx["now"]
        return self._page(ctx, self.state.list_deployments(app), "deployments",
                          lambda dep: self.state.deployment_view(dep, now))

    def _get_deployment(self, ctx, app_id, dep_id):
        app = self.state.app(app_id)
        dep = self.state.deployment(app, dep_id)
        return 200, {"deployment": self.state.deployment_view(dep, ctx["now"])}

    def _cancel_deployment(self, ctx, app_id, dep_id):
        dep = self.state.cancel_deployment(app_id, dep_id, ctx["now"])
        return 200, {"deployment": self.state.deployment_view(dep, ctx["now"])}

    def _list_instance_sizes(self, ctx):
        return 200, {"instance_sizes": [dict(s) for s in catalog.APP_INSTANCE_SIZES]}

    def _get_instance_size(self, ctx, slug):
        size = catalog.APP_INSTANCE_SIZES_BY_SLUG.get(slug)
        if size is None:
            raise SimError(404)
        return 200, {"instance_size": dict(size)}

    # ------------------------------------------------------------- control
    def control(self, method, path, query, body, now):
        """Serve a /_sim control request (lock held); return (status, payload)."""
        state = self.state
        state.advance(now)
        parts = [p for p in path.split("/") if p][1:]
        key = (method, "/".join(parts[:1]))
        if key == ("GET", "health"):
            return 200, {"ok": True, "port": self.port}
        if key == ("POST", "reset"):
            state.reset(now)
            return 200, {"ok": True}
        if parts[:1] == ["config"]:
            if method == "POST":
                return 200, {"config": state.set_config(body or {})}
            if method == "GET":
                return 200, {"config": state.config_view()}
        if parts[:1] == ["droplets"]:
            if len(parts) == 1 and method == "POST":
                droplet = state.seed_droplet(body if body is not None else {}, now)
                return 201, state.droplet_view(droplet)
            if len(parts) == 1 and method == "GET":
                return 200, [state.droplet_raw(d) for d in state.list_droplets()]
            if len(parts) == 2:
                if method == "GET":
                    return 200, state.droplet_raw(state._droplet_or_control_error(parts[1]))
                if method in ("POST", "PATCH"):
                    return 200, state.droplet_raw(state.patch_droplet(parts[1], body or {}))
        if parts[:1] == ["apps"]:
            if len(parts) == 1 and method == "POST":
                app = state.seed_app(body, now)
                return 201, state.app_view(app, now)
            if len(parts) == 1 and method == "GET":
                return 200, [state.app_view(a, now) for a in state.list_apps()]
            if len(parts) == 2 and method == "GET":
                app = state.apps.get(parts[1])
                if app is None:
                    raise ControlError(404, "no app %r" % parts[1])
                return 200, {"app": state.app_view(app, now),
                             "deployments": [state.deployment_raw(d, now)
                                             for d in state.list_deployments(app)]}
        if parts[:1] == ["faults"]:
            if method == "POST":
                items = body if isinstance(body, list) else [body]
                for item in items:
                    if not isinstance(item, dict):
                        raise ControlError(400, "a fault must be a JSON object")
                    if not state.add_injection(item, now):
                        state.add_fault(item)
                return 200, state.faults_view()
            if method == "GET":
                return 200, state.faults_view()
            if method == "DELETE":
                state.clear_faults()
                return 200, state.faults_view()
        if parts[:1] == ["requests"]:
            if method == "GET":
                return 200, list(state.requests)
            if method == "DELETE":
                state.requests = []
                return 200, []
        if key == ("GET", "actions"):
            return 200, [state.action_raw(a) for a in
                         sorted(state.actions.values(), key=lambda a: a["id"])]
        if key == ("GET", "deployments"):
            deps = sorted(state.deployments.values(), key=lambda d: d["created_at"])
            return 200, [state.deployment_raw(d, now) for d in deps]
        if key == ("GET", "state"):
            return 200, state.snapshot()
        raise ControlError(404, "no control endpoint %s %s" % (method, path))


def _write_port_file(path, port):
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".do-sim-port.", dir=directory)
    with os.fdopen(fd, "w") as fh:
        fh.write("%d\n" % port)
    os.replace(tmp, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description="DigitalOcean API v2 simulator (loopback only)")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--port", type=int, default=0, help="port (0 picks a free one)")
    parser.add_argument("--port-file", help="write the bound port here (atomically) once listening")
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="the accepted bearer token")
    parser.add_argument("--action-seconds", type=float, default=1.0,
                        help="how long each Droplet action runs")
    parser.add_argument("--deployment-seconds", type=float, default=2.0,
                        help="how long an app deployment takes to reach ACTIVE")
    parser.add_argument("--state", help="JSON file to load state from and save it to")
    parser.add_argument("--base-url", help="scheme://host:port for pagination links "
                        "(default: from the request's Host header); set it to a proxy's URL")
    parser.add_argument("--quiet", action="store_true", help="no access log on stderr")
    args = parser.parse_args(argv)

    try:
        sim = Simulator(host=args.host, port=args.port, token=args.token,
                        action_seconds=args.action_seconds,
                        deployment_seconds=args.deployment_seconds,
                        state_path=args.state, access_log=not args.quiet,
                        base_url=args.base_url)
        sim.start()
    except (ValueError, OSError) as exc:
        sys.stderr.write("do-sim: error: %s\n" % exc)
        return 2

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if args.port_file:
        _write_port_file(args.port_file, sim.port)
    sys.stdout.write("listening on %s\n" % sim.host_port())
    sys.stdout.flush()
    while not stop.wait(0.5):
        pass
    sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
