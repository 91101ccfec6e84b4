"""End to end: `droplet claim|unclaim|claims|reconcile|schedule` against the DO simulator and a
real redis-server shared by two identities: the "pipeline" on the droplet (DMI vendor file says
DigitalOcean, a loopback metadata server answers the droplet id) and a control host."""

import json
import os
import shutil
import signal
import subprocess
import time
import unittest

from e2e_base import DOWN, UP, ScalectlTestCase
from support.fixtures import scaled, scalectl_path, start_redis

CONFIG = """
[capacity]
max_cpu = 8
max_ram_gb = 16

[capacity.worker_types.clip]
cpu = 1
ram_gb = 1
"""


class ReconcileTests(ScalectlTestCase):
    action_seconds = 0.3
    # [droplet] down_delay for the control host, in seconds. A test that checks the droplet is
    # still up *within* the delay raises it (see long_down_delay), so a slow machine cannot run
    # past it between the unclaim and the check.
    down_delay = 2.0

    def setUp(self):
        super().setUp()
        self.redis = start_redis(self.tmp)
        self.addCleanup(self.redis.stop)
        self.config = self.tmp / "config.toml"
        self.config.write_text(CONFIG)
        self.did = self.sim.seed_droplet(name="pdf-worker", size_slug=DOWN, status="active")["id"]
        self.droplet_dmi = self.tmp / "droplet_sys_vendor"
        self.droplet_dmi.write_text("DigitalOcean\n")
        self.metadata_url = self.start_metadata_server(self.did)

    def control_env(self, **extra):
        """The control host: not a droplet, sharing Redis."""
        settings = {"SCALECTL_REDIS_URL": self.redis.url, "SCALECTL_CONFIG": self.config,
                    "SCALECTL_DROPLET_DOWN_DELAY": "%gs" % self.down_delay, "DROPLET_ID": self.did}
        settings.update(extra)
        return self.env(**settings)

    def long_down_delay(self):
        """For tests that check the droplet stays up within down_delay: 6 s (10 s under ASan)."""
        self.down_delay = scaled(6.0, 10.0)

    def wait_out_down_delay(self, ended):
        """Sleeps until down_delay has passed since `ended` (time.monotonic() after the unclaim)."""
        time.sleep(max(0.0, ended + self.down_delay + 0.1 - time.monotonic()))

    def droplet_env(self, **extra):
        """The pipeline on the droplet itself."""
        env = self.control_env(**extra)
        env["SCALECTL_DROPLET_DMI_PATH"] = str(self.droplet_dmi)
        env["SCALECTL_DROPLET_METADATA_URL"] = self.metadata_url
        env["SCALECTL_STATE_DIR"] = str(self.tmp / "droplet-state")
        return env

    def on_droplet(self, *args):
        return self.scalectl(*args, env=self.droplet_env())

    def on_control(self, *args, **extra):
        return self.scalectl(*args, env=self.control_env(**extra))

    def size(self):
        return self.sim.droplet_state(self.did)["size_slug"]

    def resizes(self, did=None):
        return [a for a in self.actions_of(did or self.did, "resize")]

    def test_seed_scenario_claim_up_reconcile_unclaim_down(self):
        self.long_down_delay()
        started = time.monotonic()
        r = self.on_droplet("droplet", "claim", "up", "--id", "pdf-1", "--ttl", "1h")
        self.assertExit(r, 0)
        self.assertEqual(r.stdout.strip(), "pending")
        r = self.on_control("droplet", "reconcile")
        self.assertExit(r, 0)
        self.assertIn("resized", r.stdout)
        self.assertEqual(self.size(), UP)
        r = self.on_droplet("droplet", "claim", "up", "--id", "pdf-1", "--ttl", "1h")
        self.assertEqual(r.stdout.strip(), "granted")
        self.assertExit(self.on_droplet("droplet", "unclaim", "pdf-1"), 0)
        ended = time.monotonic()
        r = self.on_control("droplet", "reconcile")
        self.assertExit(r, 0)
        self.assertIn("blocked", r.stdout)
        self.assertEqual(self.size(), UP)
        self.wait_out_down_delay(ended)
        r = self.on_control("droplet", "reconcile")
        self.assertExit(r, 0)
        self.assertEqual(self.size(), DOWN)
        self.assertEqual([a["params"]["size"] for a in self.resizes()], [UP, DOWN])
        print("\nseed scenario wall time %.2fs (action_seconds=%.1f, 6 droplet actions)"
              % (time.monotonic() - started, self.action_seconds))

    def test_overlapping_claims_stay_up_until_the_last_unclaims(self):
        self.long_down_delay()
        self.on_droplet("droplet", "claim", "up", "--id", "job-a")
        self.on_droplet("droplet", "claim", "up", "--id", "job-b")
        claims = self.json_out(self.on_control("-o", "json", "droplet", "claims"))["claims"]
        self.assertEqual(sorted(c["id"] for c in claims), ["job-a", "job-b"])
        r = self.on_control("droplet", "claims", "--format", "id,size", "--no-header")  # doctl's flags
        self.assertExit(r, 0)
        self.assertEqual(sorted(line.split() for line in r.stdout.splitlines()), [["job-a", UP], ["job-b", UP]])
        self.assertExit(self.on_control("droplet", "reconcile"), 0)
        self.on_droplet("droplet", "unclaim", "job-a")
        self.wait_out_down_delay(time.monotonic())
        self.assertExit(self.on_control("droplet", "reconcile"), 0)
        self.assertEqual(self.size(), UP)
        self.on_droplet("droplet", "unclaim", "job-b")
        ended = time.monotonic()
        self.assertExit(self.on_droplet("droplet", "unclaim", "job-b"), 0)  # idempotent
        self.assertExit(self.on_control("droplet", "reconcile"), 0)
        self.assertEqual(self.size(), UP)  # down_delay
        self.wait_out_down_delay(ended)
        self.assertExit(self.on_control("droplet", "reconcile"), 0)
        self.assertExit(self.on_control("droplet", "reconcile"), 0)
        self.assertEqual([a["params"]["size"] for a in self.resizes()], [UP, DOWN])

    def test_claim_ttl_expiry(self):
        self.on_droplet("droplet", "claim", "up", "--id", "short", "--ttl", "1s")
        self.assertExit(self.on_control("droplet", "reconcile"), 0)
        self.assertEqual(self.size(), UP)
        time.sleep(3.2)  # 1s TTL + 2s down_delay
        self.assertEqual(self.json_out(self.on_control("-o", "json", "droplet", "claims"))["claims"], [])
        self.assertExit(self.on_control("droplet", "reconcile"), 0)
        self.assertEqual(self.size(), DOWN)

    @unittest.skipUnless(shutil.which("faketime"), "faketime (Debian faketime) is not installed")
    def test_claims_live_by_the_redis_clock_not_the_hosts(self):
        # The droplet's clock is 10 minutes slow and the control host's 10 minutes fast. A 5-minute
        # claim stays live for both: claim times are Redis TIME, not either host's clock. (By the
        # droplet's clock it would have expired 5 minutes before the control host looked.)
        def skewed(offset, env, *args):
            return subprocess.run(["faketime", "-f", offset, str(scalectl_path())] + list(args),
                                  env=dict(os.environ, TZ="UTC", **env), capture_output=True, text=True,
                                  timeout=60)

        r = skewed("-10m", self.droplet_env(), "droplet", "claim", "up", "--id", "slow-host", "--ttl", "5m")
        self.assertEqual(r.returncode, 0, r.stderr)
        redis_ms = int(self.redis.cli("TIME").split()[0]) * 1000
        r = skewed("+10m", self.control_env(), "-o", "json", "droplet", "claims")
        self.assertEqual(r.returncode, 0, r.stderr)
        claims = json.loads(r.stdout)["claims"]
        self.assertEqual([c["id"] for c in claims], ["slow-host"])
        self.assertLessEqual(abs(claims[0]["created_ms"] - redis_ms), 60_000)
        self.assertEqual(claims[0]["expires_at_ms"] - claims[0]["created_ms"], 300_000)
        r = skewed("+10m", self.control_env(), "droplet", "reconcile")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.size(), UP)

    def test_live_lease_blocks_the_down(self):
        self.sim.control("PATCH", "/_sim/droplets/%d" % self.did, json={"size_slug": UP, "disk": 80})
        self.assertExit(self.on_control("capacity", "allocate", "clip", "--id", "w1"), 0)
        r = self.on_control("droplet", "reconcile")
        self.assertExit(r, 0)
        self.assertIn("lease", r.stdout)
        self.assertEqual(self.size(), UP)
        self.assertExit(self.on_control("capacity", "release", "w1"), 0)
        self.assertExit(self.on_control("droplet", "reconcile"), 0)
        self.assertEqual(self.size(), DOWN)

    def test_two_concurrent_reconcilers_make_one_resize(self):
        self.on_droplet("droplet", "claim", "up", "--id", "j")
        env = self.control_env()
        procs = [subprocess.Popen([str(scalectl_path()), "droplet", "reconcile"], env=dict(os.environ, **env),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        codes = sorted(p.wait(timeout=120) for p in procs)
        for p in procs:
            p.stdout.close()
            p.stderr.close()
        self.assertIn(codes, ([0, 0], [0, 75]))
        self.assertEqual(len(self.resizes()), 1)
        self.assertEqual(self.size(), UP)

    def test_losing_the_state_store_mid_resize_still_powers_the_droplet_on(self):
        self.on_droplet("droplet", "claim", "up", "--id", "k9")
        proc = self.popen("droplet", "reconcile", env=self.control_env())
        # The droplet is off and its resize submitted: now the Redis holding the lock and records goes.
        self.wait_for(lambda: self.resizes(), 60, "the resize action")
        self.redis.stop()
        proc.wait(timeout=120)
        self.wait_for(lambda: self.sim.droplet_state(self.did)["status"] == "active", 60, "the droplet to be on")
        self.assertEqual(self.size(), UP)
        self.assertEqual(len(self.resizes()), 1)

    def test_kill_9_during_each_phase_then_rerun_makes_one_resize(self):
        for phase in ("shutdown", "resize", "power_on"):
            with self.subTest(phase=phase):
                self.sim.reset()
                self.did = self.sim.seed_droplet(name="pdf-worker", size_slug=DOWN)["id"]
                self.redis.cli("FLUSHALL")
                self.on_droplet("droplet", "claim", "up", "--id", "k9")
                # A killed holder's Redis lock lives until its TTL: keep it short here.
                env = self.control_env(SCALECTL_STATE_LOCK_TTL="2s")
                proc = self.popen("droplet", "reconcile", env=env)
                self.wait_for(lambda: any(a["type"] == phase for a in self.actions_of(self.did)), 60, phase)
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
                r = self.wait_for(lambda: (lambda res: res if res.returncode != 75 else None)(
                    self.scalectl("droplet", "reconcile", env=env)), 30, "the dead holder's lock to expire")
                self.assertExit(r, 0)
                st = self.sim.droplet_state(self.did)
                self.assertEqual((st["status"], st["size_slug"]), ("active", UP))
                self.assertEqual(len(self.resizes()), 1)

    def test_fallback_size_after_422_too_large(self):
        self.sim.inject(refuse_size={"size": UP})
        self.on_droplet("droplet", "claim", "up", "--id", "big")
        self.config.write_text(CONFIG.replace("[capacity]", '[droplet]\nup_size_fallbacks = ["s-4vcpu-8gb"]\n\n[capacity]'))
        r = self.on_control("-o", "json", "droplet", "reconcile")
        self.assertExit(r, 0)
        out = json.loads(r.stdout.splitlines()[-1])["droplets"][0]
        self.assertEqual(out["size_used"], "s-4vcpu-8gb")
        self.assertEqual(out["refused_sizes"], [UP])
        st = self.sim.droplet_state(self.did)
        self.assertEqual((st["status"], st["size_slug"]), ("active", "s-4vcpu-8gb"))
        # The next cycle keeps the fallback instead of resizing again.
        r = self.on_control("droplet", "reconcile")
        self.assertExit(r, 0)
        self.assertIn("fallback", r.stdout)
        self.assertEqual([a["params"]["size"] for a in self.resizes() if a["status"] == "completed"],
                         ["s-4vcpu-8gb"])

    def test_up_size_list_is_tried_in_order(self):
        self.sim.inject(refuse_size={"size": UP})
        self.config.write_text(CONFIG.replace(
            "[capacity]", '[droplet]\nup_size = ["%s", "s-4vcpu-8gb"]\n\n[capacity]' % UP))
        # A claim of `up` asks for the list's first entry.
        r = self.on_droplet("-o", "json", "droplet", "claim", "up", "--id", "big")
        self.assertExit(r, 0)
        self.assertIn(UP, r.stdout)
        r = self.on_control("-o", "json", "droplet", "reconcile")
        self.assertExit(r, 0)
        out = json.loads(r.stdout.splitlines()[-1])["droplets"][0]
        self.assertEqual((out["size_used"], out["refused_sizes"]), ("s-4vcpu-8gb", [UP]))
        self.assertEqual(self.sim.droplet_state(self.did)["size_slug"], "s-4vcpu-8gb")
        # A list whose entries are not strings is refused with exit 2.
        self.config.write_text(CONFIG.replace("[capacity]", '[droplet]\nup_size = []\n\n[capacity]'))
        r = self.on_control("droplet", "reconcile")
        self.assertExit(r, 2)
        self.assertIn("up_size", self.assertOneErrorLine(r))

    def tag_droplets(self, n):
        ids = [self.sim.seed_droplet(name="batch-%d" % i, size_slug=DOWN, tags=["batch"])["id"]
               for i in range(n)]
        return ids

    def idle_cycle_requests(self, n):
        ids = self.tag_droplets(n)
        env = self.control_env()
        env.pop("DROPLET_ID")
        self.assertExit(self.scalectl("droplet", "reconcile", "--tag", "batch", env=env), 0)  # warms the sizes cache
        self.sim.clear_requests()
        r = self.scalectl("-o", "json", "droplet", "reconcile", "--tag", "batch", env=env)
        self.assertExit(r, 0)
        reqs = self.sim.requests()
        self.assertTrue(all(q["method"] == "GET" and q["path"] == "/v2/droplets" for q in reqs), reqs)
        self.assertEqual(len(json.loads(r.stdout)["droplets"]), n)
        return ids, len(reqs)

    def test_tag_with_3_droplets_and_an_idle_cycle(self):
        ids, count = self.idle_cycle_requests(3)
        self.assertEqual(count, 1)
        print("\nidle reconcile --tag cycle, 3 droplets: %d API request(s)" % count)
        env = self.control_env()
        env.pop("DROPLET_ID")
        env["DROPLET_ID"] = str(ids[1])
        self.scalectl("droplet", "claim", "up", "--id", "t", env=env)
        env.pop("DROPLET_ID")
        self.assertExit(self.scalectl("droplet", "reconcile", "--tag", "batch", env=env), 0)
        self.assertEqual([self.sim.droplet_state(i)["size_slug"] for i in ids], [DOWN, UP, DOWN])

    def test_tag_idle_cycle_with_250_droplets(self):
        _, count = self.idle_cycle_requests(250)
        self.assertEqual(count, 2)
        print("\nidle reconcile --tag cycle, 250 droplets: %d API request(s)" % count)

    def test_every_stopped_by_sigterm_mid_resize(self):
        self.on_droplet("droplet", "claim", "up", "--id", "e")
        proc = self.popen("droplet", "reconcile", "--every", "1s", env=self.control_env())
        self.wait_for(lambda: any(a["type"] == "resize" for a in self.actions_of(self.did)), 60, "resize")
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
        st = self.sim.droplet_state(self.did)
        if st["status"] != "active":
            self.assertExit(self.on_control("droplet", "reconcile"), 0)
        st = self.sim.droplet_state(self.did)
        self.assertEqual((st["status"], st["size_slug"]), ("active", UP))
        self.assertEqual(len(self.resizes()), 1)

    def test_every_stopped_by_sigterm_between_cycles_exits_0(self):
        # Nothing claimed: each cycle only looks. A SIGTERM during the pause is a clean stop.
        self.sim.clear_requests()
        proc = self.popen("droplet", "reconcile", "--every", "1s", env=self.control_env())
        self.wait_for(lambda: len(self.sim.requests()) >= 2, 60, "two idle cycles")
        os.killpg(proc.pid, signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=60), 0)
        self.assertEqual(self.resizes(), [])

    def test_claim_wait_on_the_droplet_itself_is_refused(self):
        r = self.on_droplet("droplet", "claim", "up", "--id", "w", "--wait", "1m")
        self.assertExit(r, 2)
        line = self.assertOneErrorLine(r)
        self.assertIn("restart", line)
        self.assertEqual(self.json_out(self.on_control("-o", "json", "droplet", "claims"))["claims"], [])

    def test_claim_wait_from_the_control_host_times_out_with_6(self):
        r = self.on_control("droplet", "claim", "up", "--id", "w", "--wait", "2s")
        self.assertExit(r, 6)

    def test_droplet_up_on_the_droplet_names_claim(self):
        r = self.on_droplet("droplet", "up")
        self.assertExit(r, 3)
        self.assertIn("--allow-self", self.assertOneErrorLine(r))

    def test_state_on_the_droplet_itself_is_refused(self):
        did = self.sim.seed_droplet(name="redis-host", size_slug=DOWN, public_ipv4="127.0.0.1")["id"]
        for args in (["droplet", "claim", "up", "--id", "x"], ["droplet", "reconcile"]):
            with self.subTest(args=args):
                r = self.scalectl(*args, env=dict(self.control_env(), DROPLET_ID=str(did)))
                self.assertExit(r, 3)
                self.assertIn("Managed Valkey", self.assertOneErrorLine(r))
        self.assertEqual(self.actions_of(did), [])

    def test_tag_trail_names_the_last_action_and_drops_old_trails(self):
        self.config.write_text(CONFIG.replace("[capacity]", "[droplet]\ntag_trail = true\n\n[capacity]"))
        self.on_droplet("droplet", "claim", "up", "--id", "t", "--ttl", "1h")
        self.assertExit(self.on_control("droplet", "reconcile"), 0)
        self.assertEqual(self.sim.droplet_state(self.did)["tags"], ["scalectl:resized:%s" % UP])
        self.on_droplet("droplet", "unclaim", "t")
        time.sleep(2.1)
        self.assertExit(self.on_control("droplet", "reconcile"), 0)
        self.assertEqual(self.sim.droplet_state(self.did)["tags"], ["scalectl:resized:%s" % DOWN])

    def test_bad_input_is_exit_2_with_one_line(self):
        cases = [
            (["droplet", "claim", "s-99vcpu-1tb", "--id", "x"], "unknown size"),
            (["droplet", "claim", "up", "--id", "a\x01b"], "control"),
            (["droplet", "claim", "up", "--id", "x", "--ttl", "-5m"], "negative"),
        ]
        for args, says in cases:
            with self.subTest(args=args):
                r = self.on_control(*args)
                self.assertExit(r, 2)
                self.assertIn(says, self.assertOneErrorLine(r))
        for window, says in (('"Mon-Fri 08:00-2000 UTC" = "%s"' % UP, "malformed"),
                             ('"Mon-Fri 08:00-20:00 Europe/Pariss" = "%s"' % UP, "unknown time zone")):
            with self.subTest(window=window):
                self.config.write_text(CONFIG + "\n[droplet.schedule]\n" + window + "\n")
                r = self.on_control("droplet", "schedule")
                self.assertExit(r, 2)
                self.assertIn(says, self.assertOneErrorLine(r))

    @unittest.skipUnless(shutil.which("faketime"), "faketime (Debian faketime) is not installed")
    def test_schedule_across_dst_with_faketime(self):
        self.config.write_text(CONFIG + '\n[droplet.schedule]\n"Mon-Fri 08:00-20:00 Europe/Paris" = "%s"\n'
                               '"Sun 01:30-02:30 America/New_York" = "s-4vcpu-8gb"\n' % UP)
        env = self.control_env()
        # Friday 27 March 2026 06:30 UTC is 07:30 in Paris (CET): closed. Monday 30 March 06:30 UTC is
        # 08:30 (CEST): open. Same UTC time of day, different answers across the change.
        for when, expect in (("2026-03-27 06:30:00", False), ("2026-03-30 06:30:00", True)):
            with self.subTest(when=when):
                r = subprocess.run(["faketime", "-f", "@" + when, str(scalectl_path()), "-o", "json",
                                    "droplet", "schedule"], env=dict(os.environ, TZ="UTC", **env),
                                   capture_output=True, text=True, timeout=60)
                self.assertEqual(r.returncode, 0, r.stderr)
                out = json.loads(r.stdout)
                self.assertEqual(UP in out["open_now"], expect)
                self.assertEqual(len(out["transitions"]), 10)
        r = subprocess.run(["faketime", "-f", "@2026-03-27 06:30:00", str(scalectl_path()), "droplet",
                            "reconcile", "--dry-run"], env=dict(os.environ, TZ="UTC", **env),
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("idle", r.stdout)
        r = subprocess.run(["faketime", "-f", "@2026-03-30 06:30:00", str(scalectl_path()), "droplet",
                            "reconcile", "--dry-run"], env=dict(os.environ, TZ="UTC", **env),
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("would_resize", r.stdout)
        self.assertIn(UP, r.stdout)
        self.assertEqual(self.resizes(), [])


if __name__ == "__main__":
    unittest.main()
