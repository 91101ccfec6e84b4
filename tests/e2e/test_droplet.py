"""End to end: `scalectl droplet status|up|down` against the DO simulator over real HTTP."""

import json
import os
import signal
import time
import unittest

from e2e_base import DOWN, UP, ScalectlTestCase
from support.fixtures import DEFAULT_TOKEN


class DropletTests(ScalectlTestCase):

    def seed(self, **fields):
        fields.setdefault("name", "pdf-worker")
        fields.setdefault("size_slug", DOWN)
        fields.setdefault("status", "active")
        if fields["size_slug"] == UP:
            fields.setdefault("disk", 80)  # scaled up earlier without a disk resize
        d = self.sim.seed_droplet(**fields)
        return d["id"]

    def state(self, droplet_id):
        return self.sim.droplet_state(droplet_id)

    def test_up_then_down_issue_exactly_the_needed_actions(self):
        did = self.seed()
        r = self.scalectl("droplet", "up", "--droplet", did)
        self.assertExit(r, 0)
        st = self.state(did)
        self.assertEqual(st["size_slug"], UP)
        self.assertEqual(st["status"], "active")
        self.assertEqual([a["type"] for a in self.actions_of(did)], ["shutdown", "resize", "power_on"])
        resize = self.actions_of(did, "resize")[0]
        self.assertIs(resize["params"].get("disk"), False)
        self.assertIn("4096 MB -> 16384 MB", r.stdout)

        r = self.scalectl("droplet", "down", "--droplet", did, "-o", "json")
        self.assertExit(r, 0)
        out = self.json_out(r)
        self.assertEqual(out["result"], "changed")
        self.assertEqual(out["from_size"], UP)
        self.assertEqual(out["to_size"], DOWN)
        self.assertEqual(out["memory_before_mb"], 16384)
        self.assertEqual(out["memory_after_mb"], 4096)
        self.assertEqual([a["type"] for a in out["actions"]], ["shutdown", "resize", "power_on"])
        self.assertEqual(self.state(did)["size_slug"], DOWN)
        self.assertEqual(len(self.actions_of(did, "resize")), 2)

    def test_droplet_selected_by_name_and_by_env(self):
        did = self.seed(name="batch-box")
        r = self.scalectl("droplet", "status", "--droplet", "batch-box", "-o", "json")
        self.assertExit(r, 0)
        self.assertEqual(self.json_out(r)["droplet"]["id"], did)
        r = self.scalectl("droplet", "status", "-o", "json", DROPLET_ID=did)
        self.assertExit(r, 0)
        self.assertEqual(self.json_out(r)["droplet"]["size_slug"], DOWN)

    def test_status_shows_size_price_and_last_run(self):
        did = self.seed()
        self.assertExit(self.scalectl("droplet", "up", "--droplet", did), 0)
        r = self.scalectl("droplet", "status", "--droplet", did)
        self.assertExit(r, 0)
        self.assertIn(UP, r.stdout)
        self.assertIn("16384 MB", r.stdout)
        self.assertIn("$96.00/month", r.stdout)
        self.assertIn("lock      free", r.stdout)
        self.assertRegex(r.stdout, r"last run  up s-2vcpu-4gb -> s-8vcpu-16gb: ok")
        out = self.json_out(self.scalectl("droplet", "status", "--droplet", did, "-o", "json"))
        for key in ("id", "name", "status", "locked", "size_slug", "memory_mb", "vcpus", "disk_gb",
                    "price_monthly", "price_hourly", "region"):
            self.assertIn(key, out["droplet"])
        self.assertEqual(out["droplet"]["price_monthly"], 96)
        self.assertEqual(out["last_operation"]["result"], "ok")
        self.assertIsNone(out["lock"])

    def test_already_at_size_issues_nothing(self):
        did = self.seed(size_slug=UP)
        self.sim.clear_requests()
        r = self.scalectl("droplet", "up", "--droplet", did)
        self.assertExit(r, 0)
        self.assertIn("already", r.stdout)
        self.assertEqual(self.posts(), [])

    def test_at_size_but_off_only_powers_on(self):
        did = self.seed(size_slug=UP, status="off")
        r = self.scalectl("droplet", "up", "--droplet", did)
        self.assertExit(r, 0)
        self.assertEqual([a["type"] for a in self.actions_of(did)], ["power_on"])
        self.assertIn("(16384 MB, unchanged)", r.stdout)
        self.assertNotIn("->", r.stdout)
        self.assertEqual(self.state(did)["status"], "active")

    def test_dry_run_issues_nothing(self):
        did = self.seed()
        self.sim.clear_requests()
        r = self.scalectl("droplet", "up", "--droplet", did, "--dry-run")
        self.assertExit(r, 0)
        self.assertIn('"type":"shutdown"', r.stdout)
        self.assertIn('"type":"resize","size":"s-8vcpu-16gb","disk":false', r.stdout)
        self.assertIn('"type":"power_on"', r.stdout)
        self.assertEqual(self.posts(), [])
        self.assertEqual(self.actions_of(did), [])

    def test_resume_after_kill_9_in_each_phase(self):
        for phase in ("shutdown", "resize", "power_on"):
            with self.subTest(phase=phase):
                did = self.seed(name="resume-%s" % phase)
                self.sim.configure(action_seconds=1.5)
                proc = self.popen("droplet", "up", "--droplet", did)
                self.wait_for(lambda: any(a["type"] == phase and a["status"] == "in-progress"
                                          for a in self.actions_of(did)),
                              timeout=60, what="%s in progress" % phase)
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
                r = self.scalectl("droplet", "up", "--droplet", did)
                self.assertExit(r, 0)
                st = self.state(did)
                self.assertEqual((st["size_slug"], st["status"]), (UP, "active"))
                self.assertEqual(len(self.actions_of(did, "resize")), 1, self.actions_of(did))
                # The summary names the size before the first run, not the one the rerun found.
                # (Killed in power_on, the action finishes alone and the rerun has nothing to do.)
                if phase != "power_on":
                    self.assertIn("4096 MB -> 16384 MB", r.stdout)
        self.sim.configure(action_seconds=self.action_seconds)

    def test_two_concurrent_ups_one_exits_75(self):
        did = self.seed()
        self.sim.configure(action_seconds=1.0)
        first = self.popen("droplet", "up", "--droplet", did)
        self.wait_for(lambda: self.actions_of(did), timeout=30, what="first run's action")
        second = self.scalectl("droplet", "up", "--droplet", did)
        self.assertExit(second, 75)
        line = self.assertOneErrorLine(second)
        self.assertIn("pid %d" % first.pid, line)
        self.assertIn("--wait-lock", line)
        self.assertEqual(first.wait(timeout=60), 0)
        self.assertEqual(len(self.actions_of(did, "resize")), 1)

    def test_wait_lock_waits_then_finds_nothing_to_do(self):
        did = self.seed()
        self.sim.configure(action_seconds=0.5)
        first = self.popen("droplet", "up", "--droplet", did)
        self.wait_for(lambda: self.actions_of(did), timeout=30, what="first run's action")
        second = self.scalectl("droplet", "up", "--droplet", did, "--wait-lock", "60s")
        self.assertExit(second, 0)
        self.assertEqual(first.wait(timeout=60), 0)
        self.assertEqual(len(self.actions_of(did, "resize")), 1)

    def test_retries_on_429_and_503(self):
        did = self.seed()
        self.sim.inject(path_regex=r"^/v2/droplets/\d+/actions$", method="POST", count=2, status=503)
        self.sim.inject(path_regex=r"^/v2/actions/\d+$", method="GET", count=1, status=429, retry_after=1)
        r = self.scalectl("droplet", "up", "--droplet", did)
        self.assertExit(r, 0)
        self.assertIn("retrying", r.stderr)
        self.assertEqual(len(self.actions_of(did, "resize")), 1)
        self.assertEqual(self.state(did)["size_slug"], UP)

    def test_wrong_token_is_a_clear_401(self):
        did = self.seed()
        r = self.scalectl("droplet", "up", "--droplet", did, DIGITALOCEAN_TOKEN="wrong-token-xyz")
        self.assertExit(r, 1)
        line = self.assertOneErrorLine(r)
        self.assertIn("401", line)
        self.assertIn("DIGITALOCEAN_TOKEN", line)
        self.assertNotIn("wrong-token-xyz", r.stderr + r.stdout)
        self.assertEqual(self.actions_of(did), [])

    def test_unknown_droplet(self):
        r = self.scalectl("droplet", "up", "--droplet", "424242")
        self.assertExit(r, 1)
        self.assertIn("droplet 424242", self.assertOneErrorLine(r))

    def test_downsize_below_a_resized_disk_is_refused_up_front(self):
        did = self.seed(size_slug=UP, disk=320)  # created at 16 GB: a 320 GB disk
        r = self.scalectl("droplet", "down", "--droplet", did)
        self.assertExit(r, 3)
        self.assertIn("cannot shrink a disk", self.assertOneErrorLine(r))
        self.assertEqual(self.actions_of(did), [])
        self.assertEqual(self.state(did)["status"], "active")

    def test_resize_disk_is_recorded(self):
        did = self.seed()
        r = self.scalectl("droplet", "up", "--droplet", did, "--resize-disk")
        self.assertExit(r, 0)
        self.assertIs(self.actions_of(did, "resize")[0]["params"]["disk"], True)
        status = self.json_out(self.scalectl("droplet", "status", "--droplet", did, "-o", "json"))
        self.assertEqual(status["disk_resized"]["to"], UP)
        self.assertEqual(status["droplet"]["disk_gb"], 320)
        r = self.scalectl("droplet", "down", "--droplet", did)
        self.assertExit(r, 3)

    def test_unknown_size_is_refused_before_touching_anything(self):
        did = self.seed()
        r = self.scalectl("droplet", "up", "--droplet", did, "--size", "s-8vcpu-16g")
        self.assertExit(r, 2)
        self.assertIn("s-8vcpu-16gb", self.assertOneErrorLine(r))
        self.assertEqual(self.actions_of(did), [])

    def test_failed_resize_powers_the_droplet_back_on(self):
        did = self.seed()
        self.sim.inject(fail_next_action={"type": "resize", "droplet_id": did})
        r = self.scalectl("droplet", "up", "--droplet", did)
        self.assertExit(r, 1)
        self.assertIn("resize", self.assertOneErrorLine(r))
        st = self.state(did)
        self.assertEqual((st["status"], st["size_slug"]), ("active", DOWN))
        self.assertEqual([a["type"] for a in self.actions_of(did)], ["shutdown", "resize", "power_on"])

    def test_ignored_shutdown_falls_back_to_power_off(self):
        did = self.seed()
        self.sim.inject(ignore_shutdown={"droplet_id": did})
        r = self.scalectl("droplet", "up", "--droplet", did, "--shutdown-timeout", "1s")
        self.assertExit(r, 0)
        types = [a["type"] for a in self.actions_of(did)]
        self.assertEqual(types[0], "shutdown")
        self.assertIn("power_off", types)
        self.assertEqual(types[-2:], ["resize", "power_on"])
        self.assertEqual(self.state(did)["size_slug"], UP)

    def test_self_resize_is_refused(self):
        did = self.seed()
        url = self.start_metadata_server(did)
        self.dmi.write_text("DigitalOcean\n")
        r = self.scalectl("droplet", "up", "--droplet", did, SCALECTL_DROPLET_METADATA_URL=url)
        self.assertExit(r, 3)
        self.assertIn("--allow-self", self.assertOneErrorLine(r))
        self.assertEqual(self.actions_of(did), [])

    def test_off_digitalocean_the_self_check_sends_nothing(self):
        did = self.seed(size_slug=UP)
        # The metadata URL points at a port nobody listens on: reaching it would fail the run.
        r = self.scalectl("droplet", "down", "--droplet", did, "--dry-run")
        self.assertExit(r, 0)

    def test_down_refuses_while_busy_unless_forced(self):
        did = self.seed(size_slug=UP)
        r = self.scalectl("droplet", "down", "--droplet", did, SCALECTL_DROPLET_BUSY_CHECK="true")
        self.assertExit(r, 3)
        self.assertIn("busy_check", self.assertOneErrorLine(r))
        self.assertEqual(self.actions_of(did), [])
        r = self.scalectl("droplet", "down", "--droplet", did, "--force", SCALECTL_DROPLET_BUSY_CHECK="true")
        self.assertExit(r, 0)
        self.assertEqual(self.state(did)["size_slug"], DOWN)
        r = self.scalectl("droplet", "up", "--droplet", did, SCALECTL_DROPLET_BUSY_CHECK="true")
        self.assertExit(r, 0)  # the busy check guards only `down`

    def test_after_up_hook_runs_after_success(self):
        did = self.seed()
        marker = self.tmp / "hook-ran"
        r = self.scalectl("droplet", "up", "--droplet", did,
                          SCALECTL_DROPLET_AFTER_UP='echo "$SCALECTL_SIZE" > %s' % marker)
        self.assertExit(r, 0)
        self.assertEqual(marker.read_text().strip(), UP)

    def test_verbose_logs_requests_without_the_token(self):
        did = self.seed()
        r = self.scalectl("--verbose", "droplet", "up", "--droplet", did)
        self.assertExit(r, 0)
        self.assertRegex(r.stderr, r"GET /v2/droplets/%d 200" % did)
        self.assertRegex(r.stderr, r"POST /v2/droplets/%d/actions 201" % did)
        self.assertNotIn(DEFAULT_TOKEN, r.stderr + r.stdout)
        for path in self.state_dir.rglob("*"):
            if path.is_file():
                self.assertNotIn(DEFAULT_TOKEN, path.read_text(errors="replace"), path)

    def test_timeout_exits_6_and_says_how_to_resume(self):
        did = self.seed()
        self.sim.configure(action_seconds=30)
        r = self.scalectl("droplet", "up", "--droplet", did, "--timeout", "2s")
        self.assertExit(r, 6)
        line = self.assertOneErrorLine(r)
        self.assertIn("rerun", line)

    def test_interrupt_exits_130_and_says_how_to_resume(self):
        did = self.seed()
        self.sim.configure(action_seconds=30)
        proc = self.popen("droplet", "up", "--droplet", did)
        self.wait_for(lambda: self.actions_of(did), timeout=30, what="first action")
        os.killpg(proc.pid, signal.SIGINT)
        self.assertEqual(proc.wait(timeout=10), 130)
        out_path = sorted(self.tmp.glob("bg-*.out"))[-1]
        text = out_path.read_text()
        self.assertIn("scalectl: error: interrupted", text)
        self.assertIn("rerun `scalectl droplet up` to resume", text)

    def test_no_wait_submits_and_a_rerun_continues(self):
        did = self.seed()
        r = self.scalectl("droplet", "up", "--droplet", did, "--no-wait", "-o", "json")
        self.assertExit(r, 0)
        out = self.json_out(r)
        self.assertEqual(out["result"], "submitted")
        self.assertEqual(out["actions"][0]["type"], "shutdown")
        status = self.json_out(self.scalectl("droplet", "status", "--droplet", did, "-o", "json"))
        self.assertEqual(status["last_operation"]["result"], "submitted")
        r = self.scalectl("droplet", "up", "--droplet", did)
        self.assertExit(r, 0)
        self.assertEqual(self.state(did)["size_slug"], UP)
        self.assertEqual(len(self.actions_of(did, "shutdown")), 1)

    def test_missing_token_is_a_usage_error(self):
        did = self.seed()
        env = self.env()
        del env["DIGITALOCEAN_TOKEN"]
        r = self.scalectl("droplet", "status", "--droplet", did, env=env)
        self.assertExit(r, 2)
        self.assertIn("DIGITALOCEAN_ACCESS_TOKEN", self.assertOneErrorLine(r))


if __name__ == "__main__":
    unittest.main()
