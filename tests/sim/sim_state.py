"""The simulator's state machine: Droplets, their actions, apps and their
deployments, fault injection and the request log.

Nothing here does I/O. Time moves forward lazily: every entry point takes the
current time and first calls ``advance(now)``, which completes the actions and
deployments whose scheduled end has passed, applying their effects with the
scheduled end time (not the time somebody happened to look). All methods must
be called with ``lock`` held; the HTTP layer does that.
"""

import copy
import math
import re
import threading
import time
import uuid

import sim_catalog as catalog

FIRST_DROPLET_ID = 400000001
# Action ids above 2**31, as DigitalOcean's are today: a client storing them in
# a 32-bit int breaks here rather than in production.
FIRST_ACTION_ID = 2400000001

ERROR_IDS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    422: "unprocessable_entity",
    429: "too_many_requests",
    500: "server_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}
ERROR_MESSAGES = {
    400: "There was an error parsing the request body.",
    401: "Unable to authenticate you",
    403: "You do not have access for the attempted action.",
    404: "The resource you were accessing could not be found.",
    409: "The request conflicts with the current state of the resource.",
    422: "The request could not be processed.",
    429: "API Rate limit exceeded.",
    500: "Server was unable to give you a response.",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

MSG_PENDING = "Droplet already has a pending event."
MSG_ACTIVE = "Droplet is currently on. Please power it off to run this event."
MSG_DISK = "Size can not decrease size of Droplet's disk image"

DROPLET_ACTION_TYPES = ("shutdown", "power_off", "power_on", "reboot",
                        "power_cycle", "resize")
DROPLET_STATUSES = ("new", "active", "off", "archive")
DEPLOYMENT_TERMINAL = ("ACTIVE", "SUPERSEDED", "ERROR", "CANCELED")
APP_SIZE_SLUGS = set(catalog.APP_INSTANCE_SIZES_BY_SLUG) | set(
    catalog.APP_LEGACY_SIZE_SLUGS)
# Phase boundaries as fractions of the total deployment time.
_B_BUILD, _B_PENDING_DEPLOY, _B_DEPLOY = 0.1, 0.5, 0.6


# The spec's tag_id pattern.
TAG_NAME = re.compile(r"^[a-zA-Z0-9_\-:]+$")

class SimError(Exception):
    """An API error: HTTP status plus the spec's error body fields."""

    def __init__(self, status, message=None, error_id=None, headers=None):
        super().__init__(message)
        self.status = status
        self.error_id = error_id or ERROR_IDS.get(status, "error")
        self.message = message or ERROR_MESSAGES.get(status, "Error")
        self.headers = headers or {}


class ControlError(Exception):
    """A bad request to a /_sim control endpoint."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def iso(t):
    """ISO-8601 UTC timestamp with a Z suffix, whole seconds."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def parse_iso(text):
    """Parse the timestamps iso() writes (and a few near variants)."""
    import calendar
    text = text.strip().replace("Z", "").split(".")[0]
    return float(calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%S")))


def _bool(value, name):
    if not isinstance(value, bool):
        raise ControlError(400, "%s must be a boolean" % name)
    return value


def _number(value, name, minimum=0.0):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ControlError(400, "%s must be a number" % name)
    if value < minimum:
        raise ControlError(400, "%s must be >= %s" % (name, minimum))
    return float(value)


class SimState:
    """All mutable simulator state. Hold ``lock`` while calling anything."""

    def __init__(self, token="sim-token", action_seconds=1.0,
                 deployment_seconds=2.0, ratelimit_limit=5000, base_url=None):
        self.lock = threading.RLock()
        self.startup = {
            "token": token,
            "action_seconds": float(action_seconds),
            "action_seconds_by_type": {},
            "deployment_seconds": float(deployment_seconds),
            "ratelimit_limit": int(ratelimit_limit),
            "base_url": base_url,
        }
        self.reset(time.time())

    # ------------------------------------------------------------------ setup
    def reset(self, now):
        """Forget everything except the startup configuration."""
        self.config = copy.deepcopy(self.startup)
        self.droplets = {}
        self.actions = {}
        self.apps = {}
        self.app_order = []
        self.deployments = {}
        self.faults = []
        self.fail_actions = []
        self.refused_sizes = {}
        self.tags = []
        self.fail_deployments = []
        self.requests = []
        self.next_droplet_id = FIRST_DROPLET_ID
        self.next_action_id = FIRST_ACTION_ID
        self.next_fault_id = 1
        self.rl_window_start = now
        self.rl_remaining = self.config["ratelimit_limit"]

    def set_config(self, body):
        """Apply a /_sim/config body; return the resulting configuration."""
        if not isinstance(body, dict):
            raise ControlError(400, "config body must be a JSON object")
        for key, value in body.items():
            if key in ("action_seconds", "deployment_seconds"):
                self.config[key] = _number(value, key)
            elif key == "action_seconds_by_type":
                if not isinstance(value, dict):
                    raise ControlError(400, "action_seconds_by_type must be an object")
                for kind, seconds in value.items():
                    if seconds is None:
                        self.config[key].pop(kind, None)
                    else:
                        self.config[key][kind] = _number(seconds, key + "." + kind)
            elif key == "ratelimit_limit":
                self.config[key] = int(_number(value, key, 1))
            elif key == "ratelimit_remaining":
                self.rl_remaining = int(_number(value, key, 0))
            elif key == "base_url":
                if value is not None and not (isinstance(value, str)
                                              and re.match(r"^https?://[^/]+$", value)):
                    raise ControlError(400, "base_url must be null or like http://HOST:PORT")
                self.config[key] = value
            elif key == "token":
                if not isinstance(value, str) or not value:
                    raise ControlError(400, "token must be a non-empty string")
                self.config[key] = value
            else:
                raise ControlError(400, "unknown config key %r" % key)
        return self.config_view()

    def config_view(self):
        view = copy.deepcopy(self.config)
        view.pop("token", None)
        view["ratelimit_remaining"] = self.rl_remaining
        return view

    # ------------------------------------------------------------- rate limit
    def consume_ratelimit(self, now):
        """Count one /v2 request; return (limit, remaining, reset, exceeded)."""
        if now - self.rl_window_start >= 3600:
            self.rl_window_start = now
            self.rl_remaining = self.config["ratelimit_limit"]
        exceeded = self.rl_remaining <= 0
        if not exceeded:
            self.rl_remaining -= 1
        reset = int(self.rl_window_start + 3600)
        return self.config["ratelimit_limit"], self.rl_remaining, reset, exceeded

    # ----------------------------------------------------------------- faults
    def add_fault(self, spec):
        """Register an HTTP fault (status, delay or dropped connection)."""
        fault = {"id": self.next_fault_id}
        self.next_fault_id += 1
        path_regex = spec.get("path_regex", "")
        try:
            re.compile(path_regex)
        except (re.error, TypeError) as exc:
            raise ControlError(400, "bad path_regex: %s" % exc)
        fault["path_regex"] = path_regex
        method = spec.get("method")
        fault["method"] = method.upper() if isinstance(method, str) else None
        count = spec.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count == 0 or count < -1:
            raise ControlError(400, "count must be a positive integer (or -1 for always)")
        fault["count"] = count
        skip = spec.get("skip", 0)
        if isinstance(skip, bool) or not isinstance(skip, int) or skip < 0:
            raise ControlError(400, "skip must be a non-negative integer")
        fault["skip"] = skip
        has_effect = False
        if "status" in spec:
            status = spec["status"]
            if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
                raise ControlError(400, "status must be an integer 400..599")
            fault["status"] = status
            has_effect = True
        if "delay_seconds" in spec:
            fault["delay_seconds"] = _number(spec["delay_seconds"], "delay_seconds")
            has_effect = True
        if spec.get("drop_connection"):
            fault["drop_connection"] = _bool(spec["drop_connection"], "drop_connection")
            has_effect = True
        if not has_effect:
            raise ControlError(400, "a fault needs status, delay_seconds or drop_connection")
        for key in ("retry_after", "ratelimit_reset", "ratelimit_remaining"):
            if key in spec:
                fault[key] = int(_number(spec[key], key))
        for key in ("error_id", "message"):
            if key in spec:
                if not isinstance(spec[key], str):
                    raise ControlError(400, "%s must be a string" % key)
                fault[key] = spec[key]
        fault["hits"] = 0
        self.faults.append(fault)
        return fault

    def take_fault(self, method, path):
        """Return the first fault matching this request (consuming it), or None."""
        for fault in self.faults:
            if fault["method"] and fault["method"] != method:
                continue
            if fault["path_regex"] and not re.search(fault["path_regex"], path):
                continue
            if fault["skip"] > 0:
                fault["skip"] -= 1
                continue
            fault["hits"] += 1
            if fault["count"] > 0:
                fault["count"] -= 1
                if fault["count"] == 0:
                    self.faults.remove(fault)
            return dict(fault)
        return None

    def add_injection(self, body, now):
        """Handle the non-HTTP fault kinds; return True if body held one."""
        handled = False
        if "fail_next_action" in body:
            spec = body["fail_next_action"] or {}
            if not isinstance(spec, dict):
                raise ControlError(400, "fail_next_action must be an object")
            entry = {"type": spec.get("type"), "droplet_id": spec.get("droplet_id")}
            if entry["type"] is not None and entry["type"] not in DROPLET_ACTION_TYPES:
                raise ControlError(400, "unknown action type %r" % entry["type"])
            self.fail_actions.append(entry)
            handled = True
        if "refuse_size" in body:
            spec = body["refuse_size"] or {}
            if not isinstance(spec, dict) or spec.get("size") not in catalog.SIZES_BY_SLUG:
                raise ControlError(400, "refuse_size needs a known size")
            self.refused_sizes[spec["size"]] = str(spec.get(
                "message", "Size is too large to fit on your droplet's server."))
            handled = True
        if "fail_next_deployment" in body:
            spec = body["fail_next_deployment"] or {}
            if not isinstance(spec, dict):
                raise ControlError(400, "fail_next_deployment must be an object")
            phase = spec.get("phase", "ERROR")
            if phase not in ("ERROR", "CANCELED"):
                raise ControlError(400, "phase must be ERROR or CANCELED")
            step = spec.get("step", "deploy")
            if step not in ("build", "deploy"):
                raise ControlError(400, "step must be build or deploy")
            self.fail_deployments.append({
                "app_id": spec.get("app_id"), "phase": phase, "step": step,
                "component": spec.get("component"), "message": spec.get("message"),
            })
            handled = True
        if "ignore_shutdown" in body:
            spec = body["ignore_shutdown"]
            if not isinstance(spec, dict) or "droplet_id" not in spec:
                raise ControlError(400, "ignore_shutdown needs droplet_id")
            droplet = self._droplet_or_control_error(spec["droplet_id"])
            if spec.get("enabled", True):
                result = spec.get("result", "errored")
                if result not in ("errored", "completed"):
                    raise ControlError(400, "result must be errored or completed")
                droplet["ignore_shutdown"] = result
            else:
                droplet["ignore_shutdown"] = None
            handled = True
        return handled

    def faults_view(self):
        return {
            "faults": copy.deepcopy(self.faults),
            "fail_next_action": copy.deepcopy(self.fail_actions),
            "fail_next_deployment": copy.deepcopy(self.fail_deployments),
            "ignore_shutdown": {
                str(d["id"]): d["ignore_shutdown"]
                for d in self.droplets.values() if d["ignore_shutdown"]
            },
        }

    def clear_faults(self):
        self.faults = []
        self.fail_actions = []
        self.refused_sizes = {}
        self.fail_deployments = []
        for droplet in self.droplets.values():
            droplet["ignore_shutdown"] = None

    # ------------------------------------------------------------------- time
    def advance(self, now):
        """Finish every action and deployment whose end time has passed."""
        due = sorted((a for a in self.actions.values()
                      if a["status"] == "in-progress" and a["completes_at"] <= now),
                     key=lambda a: (a["completes_at"], a["id"]))
        for action in due:
            self._finish_action(action)
        for app_id in self.app_order:
            app = self.apps[app_id]
            for dep_id in app["deployment_ids"]:
                dep = self.deployments[dep_id]
                if dep["terminal"] is None:
                    end, phase = self._deployment_end(dep)
                    if end <= now:
                        self._finish_deployment(app, dep, end, phase)

    # --------------------------------------------------------------- droplets
    def seed_droplet(self, body, now):
        """Create a Droplet from a /_sim/droplets body; return its record."""
        if not isinstance(body, dict):
            raise ControlError(400, "droplet body must be a JSON object")
        known = {"id", "name", "size_slug", "status", "region", "tags", "image",
                 "created_at", "disk", "ignore_shutdown", "vpc_uuid", "features",
                 "backup_ids", "snapshot_ids", "volume_ids", "backups", "public_ipv4"}
        unknown = set(body) - known
        if unknown:
            raise ControlError(400, "unknown droplet fields: %s" % ", ".join(sorted(unknown)))
        droplet_id = body.get("id")
        if droplet_id is None:
            while self.next_droplet_id in self.droplets:
                self.next_droplet_id += 1
            droplet_id = self.next_droplet_id
            self.next_droplet_id += 1
        if isinstance(droplet_id, bool) or not isinstance(droplet_id, int) or droplet_id < 1:
            raise ControlError(400, "id must be a positive integer")
        droplet_id = int(droplet_id)
        if droplet_id in self.droplets:
            raise ControlError(409, "droplet %d already exists" % droplet_id)
        size_slug = body.get("size_slug", "s-1vcpu-1gb")
        if size_slug not in catalog.SIZES_BY_SLUG:
            raise ControlError(400, "unknown size_slug %r" % size_slug)
        status = body.get("status", "active")
        if status not in DROPLET_STATUSES:
            raise ControlError(400, "status must be one of %s" % ", ".join(DROPLET_STATUSES))
        region = body.get("region", "nyc3")
        if region not in catalog.REGION_NAMES:
            raise ControlError(400, "unknown region %r" % region)
        name = body.get("name", "droplet-%d" % droplet_id)
        if not isinstance(name, str) or not name:
            raise ControlError(400, "name must be a non-empty string")
        created = body.get("created_at")
        created_at = parse_iso(created) if isinstance(created, str) else now
        disk = body.get("disk", catalog.SIZES_BY_SLUG[size_slug]["disk"])
        if isinstance(disk, bool) or not isinstance(disk, int) or disk < 1:
            raise ControlError(400, "disk must be a positive integer (GiB)")
        ignore = body.get("ignore_shutdown")
        if ignore is True:
            ignore = "errored"
        if ignore not in (None, False, "errored", "completed"):
            raise ControlError(400, "ignore_shutdown must be true, false, 'errored' or 'completed'")
        tags = body.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise ControlError(400, "tags must be a list of strings")
        backups = bool(body.get("backups", False))
        features = body.get("features")
        if features is None:
            features = ["monitoring", "droplet_agent", "private_networking", "ipv6"]
            if backups:
                features.insert(0, "backups")
        image = copy.deepcopy(catalog.DEFAULT_IMAGE)
        if isinstance(body.get("image"), dict):
            image.update(body["image"])
        droplet = {
            "id": droplet_id,
            "name": name,
            "size_slug": size_slug,
            "status": status,
            "region": region,
            "tags": list(tags),
            "image": image,
            "created_at": created_at,
            "disk_resized_to": int(disk),
            "ignore_shutdown": ignore or None,
            "vpc_uuid": body.get("vpc_uuid") or str(uuid.uuid5(uuid.NAMESPACE_URL, "vpc-" + region)),
            "features": list(features),
            "backups": backups,
            "backup_ids": list(body.get("backup_ids", [])),
            "snapshot_ids": list(body.get("snapshot_ids", [])),
            "volume_ids": list(body.get("volume_ids", [])),
            # A test may give the public address (e.g. 127.0.0.1 to play a droplet running Redis).
            "public_ipv4": str(body.get("public_ipv4") or ""),
        }
        self.droplets[droplet_id] = droplet
        return droplet

    def patch_droplet(self, droplet_id, body):
        """Change raw fields of a seeded Droplet (control endpoint)."""
        droplet = self._droplet_or_control_error(droplet_id)
        if not isinstance(body, dict):
            raise ControlError(400, "body must be a JSON object")
        for key, value in body.items():
            if key == "status":
                if value not in DROPLET_STATUSES:
                    raise ControlError(400, "bad status %r" % value)
                droplet["status"] = value
            elif key == "size_slug":
                if value not in catalog.SIZES_BY_SLUG:
                    raise ControlError(400, "unknown size_slug %r" % value)
                droplet["size_slug"] = value
            elif key in ("disk", "disk_resized_to"):
                droplet["disk_resized_to"] = int(_number(value, key, 1))
            elif key == "name":
                droplet["name"] = str(value)
            elif key == "tags":
                droplet["tags"] = [str(t) for t in value]
            elif key == "ignore_shutdown":
                droplet["ignore_shutdown"] = "errored" if value is True else (value or None)
            else:
                raise ControlError(400, "cannot patch droplet field %r" % key)
        return droplet

    def _droplet_or_control_error(self, droplet_id):
        try:
            return self.droplets[int(droplet_id)]
        except (KeyError, TypeError, ValueError):
            raise ControlError(404, "no droplet %r" % (droplet_id,))

    def droplet(self, droplet_id):
        """The Droplet record, or a 404 SimError."""
        droplet = self.droplets.get(droplet_id)
        if droplet is None:
            raise SimError(404)
        return droplet

    def pending_action(self, droplet_id):
        for action in self.actions.values():
            if action["droplet_id"] == droplet_id and action["status"] == "in-progress":
                return action
        return None

    def droplet_view(self, droplet):
        """The spec's `droplet` object."""
        size = copy.deepcopy(catalog.SIZES_BY_SLUG[droplet["size_slug"]])
        n = droplet["id"]
        networks = {
            "v4": [
                {"ip_address": "10.%d.%d.%d" % (108 + n % 20, (n >> 8) % 256, n % 254 + 1),
                 "netmask": "255.255.240.0", "gateway": "nil", "type": "private"},
                # TEST-NET-3 documentation range: never routable.
                {"ip_address": droplet.get("public_ipv4") or "203.0.113.%d" % (n % 253 + 2),
                 "netmask": "255.255.255.0", "gateway": "203.0.113.1", "type": "public"},
            ],
            "v6": [
                {"ip_address": "2001:db8::%x" % (n % 0xffff + 2), "netmask": 64,
                 "gateway": "2001:db8::1", "type": "public"},
            ],
        }
        window = None
        if droplet["backups"]:
            start = math.floor(time.time() / 86400 + 1) * 86400
            window = {"start": iso(start), "end": iso(start + 7 * 3600)}
        return {
            "id": droplet["id"],
            "name": droplet["name"],
            "memory": size["memory"],
            "vcpus": size["vcpus"],
            "disk": droplet["disk_resized_to"],
            "disk_info": [{"type": "local",
                           "size": {"amount": droplet["disk_resized_to"], "unit": "gib"}}],
            "locked": self.pending_action(droplet["id"]) is not None,
            "status": droplet["status"],
            "kernel": None,
            "created_at": iso(droplet["created_at"]),
            "features": list(droplet["features"]),
            "backup_ids": list(droplet["backup_ids"]),
            "next_backup_window": window,
            "snapshot_ids": list(droplet["snapshot_ids"]),
            "image": copy.deepcopy(droplet["image"]),
            "volume_ids": list(droplet["volume_ids"]),
            "size": size,
            "size_slug": droplet["size_slug"],
            "networks": networks,
            "region": catalog.region_object(droplet["region"]),
            "tags": list(droplet["tags"]),
            "vpc_uuid": droplet["vpc_uuid"],
        }

    def droplet_raw(self, droplet):
        """Internal view of a Droplet for /_sim/droplets/{id}."""
        pending = self.pending_action(droplet["id"])
        return {
            "id": droplet["id"],
            "name": droplet["name"],
            "status": droplet["status"],
            "size_slug": droplet["size_slug"],
            "disk_resized_to": droplet["disk_resized_to"],
            "locked": pending is not None,
            "pending_action_id": pending["id"] if pending else None,
            "ignore_shutdown": droplet["ignore_shutdown"],
            "region": droplet["region"],
            "tags": list(droplet["tags"]),
            "droplet": self.droplet_view(droplet),
        }

    def list_droplets(self, name=None, tag=None):
        out = []
        for droplet_id in sorted(self.droplets):
            droplet = self.droplets[droplet_id]
            if name is not None and droplet["name"] != name:
                continue
            if tag is not None and tag not in droplet["tags"]:
                continue
            out.append(droplet)
        return out

    # ------------------------------------------------------------------- tags
    def create_tag(self, body):
        """POST /v2/tags: the spec's tag name rules; creating an existing tag returns it."""
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name:
            raise SimError(422, "name is required.")
        if len(name) > 255 or not TAG_NAME.match(name):
            raise SimError(422, "Tags may contain letters, numbers, colons, dashes, and underscores; "
                           "there is a limit of 255 characters per tag.")
        if name not in self.tags:
            self.tags.append(name)
        return self.tag_view(name)

    def tag_view(self, name):
        tagged = [d for d in self.droplets.values() if name in d["tags"]]
        return {"name": name, "resources": {
            "count": len(tagged),
            "droplets": {"count": len(tagged)},
            # "imgages" is the spec's own spelling of the key (components/schemas/tags).
            "imgages": {"count": 0}, "volumes": {"count": 0},
            "volume_snapshots": {"count": 0}, "databases": {"count": 0}}}

    def tag_resources(self, name, body, add):
        """POST/DELETE /v2/tags/{tag_id}/resources for droplets."""
        if name not in self.tags and not any(name in d["tags"] for d in self.droplets.values()):
            raise SimError(404)
        resources = body.get("resources") if isinstance(body, dict) else None
        if not isinstance(resources, list) or not resources:
            raise SimError(422, "resources must be a non-empty array.")
        for item in resources:
            if not isinstance(item, dict) or item.get("resource_type") != "droplet":
                raise SimError(422, "This simulator tags droplets only.")
            try:
                droplet = self.droplets[int(item.get("resource_id"))]
            except (TypeError, ValueError, KeyError):
                raise SimError(404)
            if add and name not in droplet["tags"]:
                droplet["tags"].append(name)
            if not add and name in droplet["tags"]:
                droplet["tags"].remove(name)

    # ---------------------------------------------------------------- actions
    def start_action(self, droplet_id, body, now):
        """Validate and start a Droplet action; return the action record."""
        droplet = self.droplet(droplet_id)
        if not isinstance(body, dict):
            raise SimError(400, "The request body must be a JSON object.")
        kind = body.get("type")
        if not isinstance(kind, str) or not kind:
            raise SimError(422, "You must specify an action type.")
        if kind not in DROPLET_ACTION_TYPES:
            raise SimError(422, "Action type '%s' is not supported by this simulator "
                           "(supported: %s)." % (kind, ", ".join(DROPLET_ACTION_TYPES)))
        if self.pending_action(droplet_id) is not None:
            raise SimError(422, MSG_PENDING)
        params = {}
        if kind == "resize":
            slug = body.get("size")
            if not isinstance(slug, str) or not slug:
                raise SimError(422, "You must specify a size to resize to.")
            disk = body.get("disk", False)
            if not isinstance(disk, bool):
                raise SimError(422, "disk must be a boolean.")
            target = catalog.SIZES_BY_SLUG.get(slug)
            if target is None:
                raise SimError(422, "Size '%s' is not a valid Droplet size slug; "
                               "GET /v2/sizes lists the valid ones." % slug)
            if droplet["status"] == "active":
                raise SimError(422, MSG_ACTIVE)
            if target["disk"] < droplet["disk_resized_to"]:
                raise SimError(422, MSG_DISK)
            if slug in self.refused_sizes:
                raise SimError(422, self.refused_sizes[slug])
            params = {"size": slug, "disk": disk}
        seconds = self.config["action_seconds_by_type"].get(
            kind, self.config["action_seconds"])
        fail = False
        for entry in self.fail_actions:
            if entry["type"] not in (None, kind):
                continue
            if entry["droplet_id"] is not None and int(entry["droplet_id"]) != droplet_id:
                continue
            self.fail_actions.remove(entry)
            fail = True
            break
        action = {
            "id": self.next_action_id,
            "droplet_id": droplet_id,
            "type": kind,
            "params": params,
            "status": "in-progress",
            "started_at": now,
            "seconds": seconds,
            "completes_at": now + seconds,
            "completed_at": None,
            "region_slug": droplet["region"],
            "fail": fail,
            "outcome": None,
        }
        self.next_action_id += 1
        self.actions[action["id"]] = action
        return action

    def _finish_action(self, action):
        droplet = self.droplets.get(action["droplet_id"])
        action["completed_at"] = action["completes_at"]
        if droplet is None:
            action["status"] = "errored"
            action["outcome"] = "droplet gone"
            return
        kind = action["type"]
        if action["fail"]:
            action["status"] = "errored"
            action["outcome"] = "injected failure"
            return
        if kind == "shutdown" and droplet["ignore_shutdown"]:
            action["status"] = droplet["ignore_shutdown"]
            action["outcome"] = "shutdown ignored by guest"
            return
        if kind in ("shutdown", "power_off"):
            droplet["status"] = "off"
        elif kind in ("power_on", "reboot", "power_cycle"):
            droplet["status"] = "active"
        elif kind == "resize":
            droplet["size_slug"] = action["params"]["size"]
            if action["params"]["disk"]:
                droplet["disk_resized_to"] = catalog.SIZES_BY_SLUG[
                    action["params"]["size"]]["disk"]
        action["status"] = "completed"
        action["outcome"] = "applied"

    def action(self, action_id):
        action = self.actions.get(action_id)
        if action is None:
            raise SimError(404)
        return action

    def action_view(self, action):
        """The spec's `action` object."""
        return {
            "id": action["id"],
            "status": action["status"],
            "type": action["type"],
            "started_at": iso(action["started_at"]),
            "completed_at": iso(action["completed_at"]) if action["completed_at"] else None,
            "resource_id": action["droplet_id"],
            "resource_type": "droplet",
            "region": catalog.region_object(action["region_slug"]),
            "region_slug": action["region_slug"],
        }

    def action_raw(self, action):
        raw = dict(action)
        raw["started_at_iso"] = iso(action["started_at"])
        return raw

    def list_actions(self, droplet_id=None):
        """Actions, newest first, optionally for one Droplet."""
        out = [a for a in self.actions.values()
               if droplet_id is None or a["droplet_id"] == droplet_id]
        out.sort(key=lambda a: a["id"], reverse=True)
        return out

    # ------------------------------------------------------------------- apps
    def seed_app(self, body, now):
        """Create an app from a /_sim/apps body; return its record."""
        if not isinstance(body, dict) or not isinstance(body.get("spec"), dict):
            raise ControlError(400, "app body needs a spec object")
        spec = body["spec"]
        if not isinstance(spec.get("name"), str):
            raise ControlError(400, "spec.name must be a string")
        app_id = body.get("id") or str(uuid.uuid4())
        if not isinstance(app_id, str):
            raise ControlError(400, "id must be a string")
        if app_id in self.apps:
            raise ControlError(409, "app %s already exists" % app_id)
        created = body.get("created_at")
        created_at = parse_iso(created) if isinstance(created, str) else now
        suffix = uuid.uuid5(uuid.NAMESPACE_URL, app_id).hex[:5]
        app = {
            "id": app_id,
            "spec": copy.deepcopy(spec),
            "created_at": created_at,
            "updated_at": created_at,
            "owner_uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, "sim-owner")),
            "project_id": str(uuid.uuid5(uuid.NAMESPACE_URL, "sim-project")),
            "ingress": "%s-%s.ondigitalocean.app" % (spec["name"], suffix),
            "deployment_ids": [],
            "active_deployment_id": None,
        }
        self.apps[app_id] = app
        self.app_order.append(app_id)
        if body.get("deployed", True):
            dep = self._new_deployment(app, "initial deployment", created_at, total=0.0)
            dep["terminal"] = "ACTIVE"
            dep["ended_at"] = created_at
            app["active_deployment_id"] = dep["id"]
        return app

    def app(self, app_id):
        app = self.apps.get(app_id)
        if app is None:
            raise SimError(404)
        return app

    def update_app(self, app_id, body, now):
        """PUT /v2/apps/{id}: validate, store the spec, start a deployment."""
        app = self.app(app_id)
        if not isinstance(body, dict) or not isinstance(body.get("spec"), dict):
            raise SimError(400, "The request body must be an object with a spec object.",
                           "invalid_argument")
        spec = body["spec"]
        validate_app_spec(spec)
        for dep_id in app["deployment_ids"]:
            dep = self.deployments[dep_id]
            if dep["terminal"] is None:
                dep["terminal"] = "CANCELED"
                dep["ended_at"] = now
                dep["cancel_reason"] = "superseded by a newer deployment"
        app["spec"] = copy.deepcopy(spec)
        app["updated_at"] = now
        self._new_deployment(app, "app spec updated", now,
                             total=self.config["deployment_seconds"])
        return app

    def _new_deployment(self, app, cause, now, total):
        fail = None
        for entry in self.fail_deployments:
            if entry["app_id"] not in (None, app["id"]):
                continue
            self.fail_deployments.remove(entry)
            fail = entry
            break
        dep = {
            "id": str(uuid.uuid4()),
            "app_id": app["id"],
            "spec": copy.deepcopy(app["spec"]),
            "cause": cause,
            "created_at": now,
            "total": float(total),
            "fail": fail,
            "terminal": None,
            "ended_at": None,
            "cancel_reason": None,
        }
        self.deployments[dep["id"]] = dep
        app["deployment_ids"].append(dep["id"])
        return dep

    def _deployment_end(self, dep):
        """When and how a running deployment ends: (time, terminal phase)."""
        total = dep["total"]
        fail = dep["fail"]
        if fail:
            frac = _B_PENDING_DEPLOY if fail["step"] == "build" else 1.0
            return dep["created_at"] + total * frac, fail["phase"]
        return dep["created_at"] + total, "ACTIVE"

    def _finish_deployment(self, app, dep, end, phase):
        dep["terminal"] = phase
        dep["ended_at"] = end
        if phase == "ACTIVE":
            old = app["active_deployment_id"]
            if old and old != dep["id"]:
                self.deployments[old]["terminal"] = "SUPERSEDED"
            app["active_deployment_id"] = dep["id"]
            app["updated_at"] = max(app["updated_at"], end)

    def cancel_deployment(self, app_id, dep_id, now):
        app = self.app(app_id)
        dep = self.deployment(app, dep_id)
        if dep["terminal"] is None:
            dep["terminal"] = "CANCELED"
            dep["ended_at"] = now
            dep["cancel_reason"] = "canceled through the API"
        return dep

    def deployment(self, app, dep_id):
        if dep_id not in app["deployment_ids"]:
            raise SimError(404)
        return self.deployments[dep_id]

    def _components(self, spec):
        names = []
        for key in ("services", "static_sites", "workers", "jobs", "functions"):
            items = spec.get(key)
            if isinstance(items, list):
                for item in items:
                    if isinstance(item, dict) and isinstance(item.get("name"), str):
                        names.append((key, item["name"]))
        return names

    def deployment_phase(self, dep, now):
        """(phase, time the phase began) for a deployment at `now`."""
        if dep["terminal"]:
            return dep["terminal"], dep["ended_at"]
        elapsed = now - dep["created_at"]
        total = dep["total"]
        phase, begun = "PENDING_BUILD", 0.0
        for frac, name in ((_B_BUILD, "BUILDING"), (_B_PENDING_DEPLOY, "PENDING_DEPLOY"),
                           (_B_DEPLOY, "DEPLOYING")):
            if elapsed >= total * frac:
                phase, begun = name, total * frac
        return phase, dep["created_at"] + begun

    def deployment_view(self, dep, now):
        """The spec's `apps_deployment` object."""
        phase, since = self.deployment_phase(dep, now)
        created = dep["created_at"]
        comps = self._components(dep["spec"])
        view = {
            "id": dep["id"],
            "cause": dep["cause"],
            "spec": copy.deepcopy(dep["spec"]),
            "phase": phase,
            "phase_last_updated_at": iso(since),
            "created_at": iso(created),
            "updated_at": iso(dep["ended_at"] if dep["ended_at"] is not None else max(since, created)),
            "progress": self._progress(dep, phase, now),
            "tier_slug": _tier_slug(dep["spec"]),
        }
        for kind in ("services", "static_sites", "workers", "jobs"):
            names = [name for k, name in comps if k == kind]
            if names:
                view[kind] = [{"name": name,
                               "source_commit_hash": uuid.uuid5(uuid.NAMESPACE_URL, name).hex
                               + uuid.uuid5(uuid.NAMESPACE_DNS, name).hex[:8]}
                              for name in names]
        return view

    def _progress(self, dep, phase, now):
        total = dep["total"]
        created = dep["created_at"]
        comps = [name for _, name in self._components(dep["spec"])]
        windows = {
            "build": (total * _B_BUILD, total * _B_PENDING_DEPLOY),
            "deploy": (total * _B_DEPLOY, total),
        }
        if dep["terminal"] in ("ACTIVE", "SUPERSEDED"):
            at = float("inf")
        elif dep["terminal"]:
            at = dep["ended_at"] - created
        else:
            at = now - created
        fail = dep["fail"] if dep["terminal"] in ("ERROR", "CANCELED") and dep["fail"] else None
        fail_comp = None
        if fail:
            fail_comp = fail["component"] if fail["component"] in comps else (comps[0] if comps else None)

        def leaf(group, name, component=None, base=None):
            start, end = windows[group]
            node = {"name": name}
            if component:
                node["component_name"] = component
            if base:
                node["message_base"] = base
            if at < start:
                node["status"] = "PENDING"
            elif at < end:
                node["status"] = "RUNNING"
                node["started_at"] = iso(created + start)
            else:
                node["status"] = "SUCCESS"
                node["started_at"] = iso(created + start)
                node["ended_at"] = iso(created + end)
            return node

        build = {"name": "build", "steps": [
            leaf("build", "initialize"),
            {"name": "components", "steps": [
                leaf("build", name, name, "Building service") for name in comps]},
        ]}
        deploy = {"name": "deploy", "steps": [
            leaf("deploy", "initialize"),
            {"name": "components", "steps": [
                {"name": name, "component_name": name, "steps": [
                    leaf("deploy", "deploy", name, "Deploying service"),
                    leaf("deploy", "wait", name, "Waiting for service"),
                ]} for name in comps]},
            leaf("deploy", "finalize"),
        ]}
        tree = [build, deploy]
        if fail:
            self._mark_failure(tree, fail, fail_comp, created + at)
        elif dep["terminal"] == "CANCELED":
            self._mark_canceled(tree, created + at, dep["cancel_reason"])
        leaves = []
        for step in tree:
            _finish_node(step, leaves)
        counts = {s: sum(1 for l in leaves if l["status"] == s)
                  for s in ("SUCCESS", "ERROR", "PENDING", "RUNNING")}
        return {
            "success_steps": counts["SUCCESS"],
            "error_steps": counts["ERROR"],
            "pending_steps": counts["PENDING"],
            "running_steps": counts["RUNNING"],
            "total_steps": len(leaves),
            "steps": tree,
            "summary_steps": [{k: v for k, v in step.items() if k != "steps"} for step in tree],
        }

    def _mark_failure(self, tree, fail, component, when):
        group = tree[0] if fail["step"] == "build" else tree[1]
        later = tree[1:] if fail["step"] == "build" else []
        if fail["step"] == "build":
            target = None
            comps = group["steps"][1]["steps"]
            for node in comps:
                if node.get("component_name") == component:
                    target = node
            target = target or group["steps"][0]
        else:
            target = None
            for node in group["steps"][1]["steps"]:
                if node.get("component_name") == component:
                    target = node["steps"][1]
            target = target or group["steps"][-1]
        # Leaves after the failing one in its group never ran.
        seen = [False]

        def walk(node):
            if "steps" in node:
                for child in node["steps"]:
                    walk(child)
                return
            if node is target:
                seen[0] = True
                return
            if seen[0]:
                node["status"] = "PENDING"
                node.pop("started_at", None)
                node.pop("ended_at", None)
        walk(group)
        for node in later:
            _reset_pending(node)
        if fail["phase"] == "ERROR":
            target["status"] = "ERROR"
            target["ended_at"] = iso(when)
            if fail["step"] == "build":
                code, msg = "BuildJobFailed", "Build failed: the build command exited with a non-zero code."
            else:
                code, msg = "DeployHealthChecksFailed", "Deploy failed: the component did not pass its health checks."
            target["reason"] = {"code": code, "message": fail["message"] or msg}
        else:
            target["status"] = "UNKNOWN"
            target["reason"] = {"code": "Canceled", "message": fail["message"] or "The deployment was canceled."}
            target.pop("ended_at", None)

    def _mark_canceled(self, tree, when, reason):
        def walk(node):
            if "steps" in node:
                for child in node["steps"]:
                    walk(child)
            elif node["status"] == "RUNNING":
                node["status"] = "UNKNOWN"
                node["reason"] = {"code": "Canceled", "message": reason or "The deployment was canceled."}
        for node in tree:
            walk(node)

    def app_view(self, app, now):
        """The spec's `app` object."""
        spec = app["spec"]
        view = {
            "id": app["id"],
            "owner_uuid": app["owner_uuid"],
            "spec": copy.deepcopy(spec),
            "default_ingress": "https://" + app["ingress"],
            "created_at": iso(app["created_at"]),
            "updated_at": iso(app["updated_at"]),
            "live_url": "https://" + app["ingress"],
            "live_url_base": "https://" + app["ingress"],
            "live_domain": app["ingress"],
            "region": catalog.app_region_object(
                spec.get("region") if isinstance(spec.get("region"), str) else "nyc"),
            "tier_slug": _tier_slug(spec),
            "project_id": app["project_id"],
        }
        if app["deployment_ids"]:
            last = self.deployments[app["deployment_ids"][-1]]
            view["last_deployment_created_at"] = iso(last["created_at"])
        if app["active_deployment_id"]:
            view["active_deployment"] = self.deployment_view(
                self.deployments[app["active_deployment_id"]], now)
        for dep_id in reversed(app["deployment_ids"]):
            dep = self.deployments[dep_id]
            if dep["terminal"] is None:
                dep_view = self.deployment_view(dep, now)
                view["in_progress_deployment"] = dep_view
                if dep_view["phase"] == "PENDING_BUILD":
                    view["pending_deployment"] = dep_view
                break
        return view

    def list_apps(self):
        return [self.apps[app_id] for app_id in self.app_order]

    def list_deployments(self, app):
        return [self.deployments[d] for d in reversed(app["deployment_ids"])]

    def deployment_raw(self, dep, now):
        phase, _ = self.deployment_phase(dep, now)
        end, _ = self._deployment_end(dep)
        return {
            "id": dep["id"],
            "app_id": dep["app_id"],
            "cause": dep["cause"],
            "phase": phase,
            "created_at": dep["created_at"],
            "total_seconds": dep["total"],
            "scheduled_end": end,
            "ended_at": dep["ended_at"],
            "fail": copy.deepcopy(dep["fail"]),
        }

    # ------------------------------------------------------------ request log
    def log_request(self, entry):
        self.requests.append(entry)

    # ------------------------------------------------------------- persistence
    def snapshot(self):
        """Everything needed to restart where we left off (for --state)."""
        return {
            "config": copy.deepcopy(self.config),
            "droplets": [copy.deepcopy(d) for d in self.droplets.values()],
            "actions": [copy.deepcopy(a) for a in self.actions.values()],
            "apps": [copy.deepcopy(self.apps[a]) for a in self.app_order],
            "deployments": [copy.deepcopy(d) for d in self.deployments.values()],
            "next_droplet_id": self.next_droplet_id,
            "next_action_id": self.next_action_id,
        }

    def restore(self, snap):
        """Load a snapshot() taken earlier (missing keys keep defaults)."""
        self.config.update(snap.get("config", {}))
        for droplet in snap.get("droplets", []):
            self.droplets[int(droplet["id"])] = droplet
        for action in snap.get("actions", []):
            self.actions[int(action["id"])] = action
        for app in snap.get("apps", []):
            self.apps[app["id"]] = app
            self.app_order.append(app["id"])
        for dep in snap.get("deployments", []):
            self.deployments[dep["id"]] = dep
        self.next_droplet_id = int(snap.get("next_droplet_id", self.next_droplet_id))
        self.next_action_id = int(snap.get("next_action_id", self.next_action_id))


def _finish_node(node, leaves):
    """Fill in a parent step's status from its children; collect leaves."""
    children = node.get("steps")
    if children is None:
        leaves.append(node)
        return node["status"]
    statuses = [_finish_node(child, leaves) for child in children]
    if not statuses:
        status = "SUCCESS"
    elif "ERROR" in statuses:
        status = "ERROR"
    elif all(s == "SUCCESS" for s in statuses):
        status = "SUCCESS"
    elif all(s == "PENDING" for s in statuses):
        status = "PENDING"
    elif "UNKNOWN" in statuses and "RUNNING" not in statuses:
        status = "UNKNOWN"
    else:
        status = "RUNNING"
    node["status"] = status
    starts = [c["started_at"] for c in children if "started_at" in c]
    if starts:
        node["started_at"] = min(starts)
    if status in ("SUCCESS", "ERROR"):
        ends = [c["ended_at"] for c in children if "ended_at" in c]
        if ends:
            node["ended_at"] = max(ends)
    return status


def _reset_pending(node):
    if "steps" in node:
        for child in node["steps"]:
            _reset_pending(child)
    else:
        node["status"] = "PENDING"
        node.pop("started_at", None)
        node.pop("ended_at", None)


def _tier_slug(spec):
    tiers = set()
    for key in ("services", "workers", "jobs"):
        for item in spec.get(key) or []:
            if isinstance(item, dict):
                slug = item.get("instance_size_slug", "apps-s-1vcpu-0.5gb")
                size = catalog.APP_INSTANCE_SIZES_BY_SLUG.get(slug)
                tiers.add(size["tier_slug"] if size else "professional")
    return "professional" if "professional" in tiers else "basic"


def validate_app_spec(spec):
    """Raise a 400 SimError for spec rules App Platform enforces on update."""
    def fail(field, message):
        raise SimError(400, 'error validating app spec field "%s": %s' % (field, message),
                       "invalid_argument")

    name = spec.get("name")
    if not isinstance(name, str) or not re.match(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$", name):
        fail("name", "name is required and must match ^[a-z][a-z0-9-]{0,30}[a-z0-9]$")
    for kind in ("services", "workers", "jobs"):
        items = spec.get(kind)
        if items is None:
            continue
        if not isinstance(items, list):
            fail(kind, "must be a list")
        for i, comp in enumerate(items):
            where = "%s[%d]" % (kind, i)
            if not isinstance(comp, dict):
                fail(where, "must be an object")
            slug = comp.get("instance_size_slug")
            if slug is not None and slug not in APP_SIZE_SLUGS:
                fail(where + ".instance_size_slug",
                     "unknown instance size %r; GET /v2/apps/tiers/instance_sizes lists them"
                     % (slug,))
            size = catalog.APP_INSTANCE_SIZES_BY_SLUG.get(slug or "apps-s-1vcpu-0.5gb")
            count = comp.get("instance_count")
            if count is not None and (isinstance(count, bool) or not isinstance(count, int)
                                      or count < 1):
                fail(where + ".instance_count", "must be an integer >= 1")
            scaling = comp.get("autoscaling")
            if scaling is not None:
                if kind == "jobs":
                    fail(where + ".autoscaling", "jobs cannot autoscale")
                if count is not None:
                    fail(where + ".instance_count",
                         "instance_count and autoscaling are mutually exclusive; "
                         "remove instance_count when autoscaling is set")
                if not (slug or "").startswith("apps-d-"):
                    fail(where + ".autoscaling",
                         "autoscaling requires a dedicated instance size (apps-d-*), got %r"
                         % (slug or "apps-s-1vcpu-0.5gb"))
                if not isinstance(scaling, dict):
                    fail(where + ".autoscaling", "must be an object")
                lo = scaling.get("min_instance_count")
                hi = scaling.get("max_instance_count")
                for label, value in (("min_instance_count", lo), ("max_instance_count", hi)):
                    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                        fail(where + ".autoscaling." + label, "must be an integer >= 1")
                if hi > 250:
                    fail(where + ".autoscaling.max_instance_count", "must be at most 250")
                if lo > hi:
                    fail(where + ".autoscaling",
                         "min_instance_count (%d) is greater than max_instance_count (%d)"
                         % (lo, hi))
            elif count is not None and count > 1 and size and size["single_instance_only"]:
                fail(where + ".instance_count",
                     "instance size %s supports a single instance only" % size["slug"])
