"""End to end: several pools per worker (issue 13). A worker type draws CPU and RAM from this
host's pool and Gemini RPM/TPM from a pool shared by every host ([capacity.shared_pools.gemini]);
allocate is all or nothing across both, against both state backends. A kill -9 between the two
pools leaves only a pending lease that expires by itself; the process is held exactly there by a
real mechanism, no test hook: on Redis a loopback proxy in front of the real redis-server holds
the shared pool's script, on the file backend strace delays the return of the host pool's
rename of state.json."""

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import unittest

from support.fixtures import LOOPBACK, scaled, scalectl_path
from support.racers import race_allocations
from test_capacity import CapacityCase, FileBackend, RedisBackend
from test_capacity_named import API_TYPES


def shared(rpm="1600", tpm="6400000"):
    return ('[capacity.shared_pools.gemini]\n\n'
            '[capacity.shared_pools.gemini.resources.gemini_rpm]\nlimit = %s\nunit = "RPM"\n\n'
            '[capacity.shared_pools.gemini.resources.gemini_tpm]\nlimit = %s\nunit = "TPM"\n' % (rpm, tpm))


class HoldingProxy:
    """A loopback TCP proxy in front of redis-server that forwards every command until one
    mentions `marker` (the shared pool's keys); that one it holds, and sets `held`."""

    def __init__(self, port, marker):
        self.marker = marker
        self.held = threading.Event()
        self._target = port
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.bind((LOOPBACK, 0))
        self._server.listen(16)
        self.port = self._server.getsockname()[1]
        self._sockets = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection((LOOPBACK, self._target))
            self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, src, dst, inspect):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if inspect and self.marker in data:
                    self.held.set()
                    return  # never forwarded: the sender waits for a reply that does not come
                dst.sendall(data)
        except OSError:
            pass

    def close(self):
        self._server.close()
        for s in self._sockets:
            try:
                s.close()
            except OSError:
                pass


class SeveralPoolsTests:
    max_cpu = 16
    max_ram_gb = 32

    def write_pools(self, rpm="1600", tpm="6400000", max_cpu=16, max_ram_gb=32, reserve=20, extra="",
                    types=API_TYPES, pending="2s"):
        self.config.write_text("[capacity]\nmax_cpu = %s\nmax_ram_gb = %s\nreserved_cpu_percent = %s\n"
                               "reserved_ram_percent = %s\npending_ttl = \"%s\"\n%s\n%s\n%s" % (
                                   max_cpu, max_ram_gb, reserve, reserve, pending, extra, shared(rpm, tpm), types))

    def setUp(self):
        super().setUp()
        self.write_pools()

    def full_env(self):
        env = {k: os.environ[k] for k in ("PATH", "LANG", "TMPDIR") if k in os.environ}
        env.update(self.env())
        return env

    def test_allocation_succeeds_only_when_both_pools_fit(self):
        # The shared pool has room for 2 acte-ocr workers, the host pool (3 vCPUs) for 3.
        self.write_pools(rpm="14.4", max_cpu=3.75,
                         types=API_TYPES + "\n[capacity.worker_types.host-only]\ncpu = 1\nram_gb = 0.5\n")
        self.ok("allocate", "acte-ocr", "--id", "a1")
        self.ok("allocate", "acte-ocr", "--id", "a2", "--ttl", "10m")
        self.assertEqual(sorted(self.stored_leases("server")), ["a1", "a2"])
        self.assertEqual(sorted(self.stored_leases("gemini")), ["a1", "a2"])
        self.assertNotIn("expiresAt", self.stored_leases("gemini")["a1"])   # --ttl none: confirmed permanent
        a2 = self.stored_leases("server")["a2"]
        self.assertGreaterEqual(a2["expiresAt"] - a2["startedAt"], 590000)  # confirmed to its real TTL
        self.assertEqual(self.stored_leases("gemini")["a1"]["resources"], {"gemini_rpm": "7.2", "gemini_tpm": "242000"})
        r = self.cap("check", "acte-ocr")
        self.assertExit(r, 3)
        self.assertEqual(r.stdout.strip(), "Insufficient gemini_rpm (need 7.2, available 0)")
        # The host pool still has room for a worker without API budget: one pool only.
        self.ok("allocate", "host-only", "--id", "r1", "--ttl", "none")
        self.assertNotIn("r1", self.stored_leases("gemini"))
        r = self.cap("allocate", "index-ocr", "--id", "i1")   # host: 3 of 3 used
        self.assertExit(r, 3)
        self.assertIn("pool 'server'", self.assertOneErrorLine(r))
        self.assertNotIn("i1", self.stored_leases("gemini"))
        # status shows each pool's resources; release and renew act on every pool of the lease.
        text = self.ok("status").stdout
        self.assertIn("shared pool gemini", text)
        self.assertIn("RPM: 14.4 / 14.4 (100%)", text)
        self.assertIn("TPM: 484K / 6.4M (7.6%)", text)
        out = self.status()
        self.assertEqual([p["pool"] for p in out["shared_pools"]], ["gemini"])
        self.assertEqual(sorted(l["id"] for l in out["shared_pools"][0]["leases"]), ["a1", "a2"])
        r = self.ok("renew", "a2", "--ttl", "20m")
        self.assertIn("in pools 'server' and 'gemini'", r.stdout)
        self.assertGreaterEqual(self.stored_leases("gemini")["a2"]["expiresAt"] -
                                self.stored_leases("gemini")["a2"]["startedAt"], 1190000)
        r = self.ok("release", "a1")
        self.assertIn("in pools 'server' and 'gemini'", r.stdout)
        self.assertEqual(sorted(self.stored_leases("gemini")), ["a2"])
        self.assertEqual(sorted(self.stored_leases("server")), ["a2", "r1"])
        self.ok("allocate", "acte-ocr", "--id", "a3")
        self.assertConsistent("server")

    def test_a_refusal_from_the_shared_pool_leaves_nothing_in_the_host_pool(self):
        self.write_pools(rpm="10")
        self.ok("allocate", "acte-ocr", "--id", "a1")
        before = self.stored_leases("server")
        r = self.cap("allocate", "acte-ocr", "--id", "a2")
        self.assertExit(r, 3)
        line = self.assertOneErrorLine(r)
        self.assertIn("no capacity for acte-ocr worker a2 in pool 'gemini': Insufficient gemini_rpm (need 7.2, "
                      "available 2.8)", line)
        self.assertIn("the lease taken in pool 'server' was released again, nothing is held", line)
        self.assertEqual(self.stored_leases("server"), before)
        self.assertEqual(sorted(self.stored_leases("gemini")), ["a1"])
        if self.backend == "redis":
            self.assertEqual(self.stored_totals("server"), ("1", "0.5"))
        self.assertConsistent("server")

    def test_wait_gets_both_leases_once_the_shared_pool_has_room(self):
        self.write_pools(rpm="10")
        self.ok("allocate", "acte-ocr", "--id", "a1")
        waiter = self.popen("capacity", "allocate", "acte-ocr", "--id", "a2", "--wait", "60s")
        time.sleep(0.8)
        self.assertIsNone(waiter.poll(), "the waiter should still be waiting")
        # While it waits it holds nothing in the shared pool (each refused attempt also gave its
        # pending host lease back).
        self.assertNotIn("a2", self.stored_leases("gemini"))
        self.ok("release", "a1")
        self.assertEqual(waiter.wait(timeout=30), 0)
        self.assertEqual(sorted(self.stored_leases("server")), ["a2"])
        self.assertEqual(sorted(self.stored_leases("gemini")), ["a2"])
        self.assertConsistent("server")

    def test_plan_shows_the_shared_pools_resources_with_the_seeds_lines(self):
        r = self.ok("plan", "--want", "registre=2", "--want", "index-ocr=2", "--want", "acte-ocr=3")
        lines = [line.strip() for line in r.stdout.splitlines()]
        for expected in ("CPU: 12 / 12.8 vCPUs (94%)", "RAM: 5 / 25.6 GB (20%)", "RPM: 35 / 1600 (2.2%)",
                         "TPM: 832K / 6.4M (13%)",
                         "gemini_rpm, gemini_tpm: shared pool 'gemini' (every host together), not this server's"):
            self.assertIn(expected, lines)

    def test_bad_pool_configuration_is_one_line_and_exit_2(self):
        cases = [
            ('[capacity.resources.gemini_rpm]\nlimit = 10\n', "resource 'gemini_rpm' is declared in two pools, "
             "[capacity.resources.gemini_rpm] and [capacity.shared_pools.gemini.resources.gemini_rpm]"),
            ('[capacity.shared_pools.gemini2]\nname = "gemini"\n[capacity.shared_pools.gemini2.resources.x]\n'
             'limit = 1\n', "both use pool 'gemini'"),
            ('[capacity.shared_pools.host]\nname = "server"\n[capacity.shared_pools.host.resources.x]\nlimit = 1\n',
             "uses pool 'server', which is this host's pool"),
            ('[capacity.shared_pools.empty]\nname = "empty"\n', "[capacity.shared_pools.empty] declares no resources"),
            # A misspelt pool table or a limit outside a resource table: the schema names it.
            ('[capacity.shared_pools.g2.resource.x]\nlimit = 1\n',
             "unknown table `capacity.shared_pools.g2.resource`; did you mean `capacity.shared_pools.g2.resources`?"),
            ('[capacity.shared_pools.g3]\nlimit = 1\n', "unknown key `capacity.shared_pools.g3.limit`"),
        ]
        for extra, words in cases:
            with self.subTest(words=words):
                self.write_pools(extra=extra)
                for args in (("check", "acte-ocr"), ("allocate", "acte-ocr"), ("status",), ("plan",)):
                    r = self.cap(*args)
                    self.assertExit(r, 2)
                    self.assertIn(words, self.assertOneErrorLine(r))
        self.assertEqual(self.stored_leases("server"), {})
        self.assertEqual(self.stored_leases("gemini"), {})

    def test_200_concurrent_allocations_against_a_shared_api_budget_give_exactly_its_number(self):
        # 37 acte-ocr workers fit the shared RPM budget (37 x 7.2 = 266.4); the host has room for all.
        # 200 processes queue on one state file: give the pending leases the default 30 s, as a
        # 2 s pending TTL can run out while a racer waits for the file lock between its steps.
        self.write_pools(rpm="266.4", tpm="100000000", max_cpu=400, max_ram_gb=400, reserve=0, pending="30s")
        count = scaled(200, 60)
        results = race_allocations(self.tmp, self.full_env(), count, "acte-ocr")
        codes = [code for code, _, _ in results]
        odd = [r for r in results if r[0] not in (0, 3)][:3]
        self.assertEqual(codes.count(0), 37, odd)
        self.assertEqual(codes.count(3), count - 37, odd)
        for code, _, err in results:
            if code == 3:
                self.assertIn("in pool 'gemini': Insufficient gemini_rpm (need 7.2, available 0)", err)
        winners = sorted(out.strip().splitlines()[0] for code, out, _ in results if code == 0)
        self.assertEqual(sorted(self.stored_leases("gemini")), winners)
        self.assertEqual(sorted(self.assertConsistent("server")), winners)  # no refused worker left a lease
        shared_pool = self.status()["shared_pools"][0]
        self.assertEqual({r["name"]: r["allocated"] for r in shared_pool["resources"]},
                         {"gemini_rpm": 266.4, "gemini_tpm": 37 * 242000})
        if self.backend == "redis":
            self.assertEqual(self.redis.cli("GET", "gemini:gemini_rpm:allocated"), "266.4")
            self.assertEqual(self.stored_totals("server"), ("37", "18.5"))


def strace_works():
    """True when strace can trace here (installed, and ptrace allowed in this container)."""
    if not shutil.which("strace"):
        return False
    return subprocess.run(["strace", "-o", "/dev/null", "true"], stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=30).returncode == 0


class FileSeveralPoolsTests(SeveralPoolsTests, FileBackend, CapacityCase):

    @unittest.skipUnless(strace_works(), "strace (packaging/install-deps.sh) cannot trace here")
    def test_kill_9_between_the_two_pools_leaves_a_pending_lease_that_expires(self):
        # Each pool's step ends with one rename of state.json. strace delays the return of the
        # first (the host pool's lease is written) by 60 s, so the process sits exactly between
        # the two pools when it is killed.
        proc = subprocess.Popen(["strace", "-f", "-o", "/dev/null", "-e", "trace=renameat,renameat2,rename",
                                 "-e", "inject=renameat,renameat2,rename:delay_exit=60000000:when=1",
                                 str(scalectl_path()), "capacity", "allocate", "acte-ocr", "--id", "doomed",
                                 "--ttl", "1h"], env=self.full_env(), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            self.wait_for(lambda: "doomed" in self.stored_leases("server"), timeout=60, what="the host lease")
            host = self.stored_leases("server")
            self.assertEqual(host["doomed"]["expiresAt"] - host["doomed"]["startedAt"], 2000)  # pending, not 1 h
            self.assertEqual(self.stored_leases("gemini"), {})
            self.assertIsNone(proc.poll())
            os.killpg(proc.pid, signal.SIGKILL)
        finally:
            out, _ = proc.communicate(timeout=30)
        self.assertEqual(out, b"")  # no worker id was printed
        self.assertEqual(self.stored_leases("gemini"), {})
        self.wait_for(lambda: self.status()["allocated"]["millicores"] == 0, timeout=30, what="pending lease expired")
        self.ok("allocate", "registre", "--id", "next")   # reaps the expired pending lease
        self.assertEqual(sorted(self.stored_leases("server")), ["next"])
        self.ok("release", "next")
        self.assertEqual(self.stored_leases("server"), {})
        self.assertEqual(self.status()["leases"], [])


class RedisSeveralPoolsTests(SeveralPoolsTests, RedisBackend, CapacityCase):

    def test_kill_9_between_the_two_pools_leaves_a_pending_lease_that_expires(self):
        proxy = HoldingProxy(self.redis.port, b"gemini:workers")
        self.addCleanup(proxy.close)
        env = self.full_env()
        env["SCALECTL_REDIS_URL"] = "redis://%s:%d/0" % (LOOPBACK, proxy.port)
        proc = subprocess.Popen([str(scalectl_path()), "capacity", "allocate", "acte-ocr", "--id", "doomed",
                                 "--ttl", "1h"], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
        try:
            # The process now waits for the shared pool's reply, its host lease taken: kill -9 it there.
            self.assertTrue(proxy.held.wait(60), "scalectl never reached the shared pool")
            host = self.stored_leases("server")
            self.assertEqual(list(host), ["doomed"])
            self.assertEqual(host["doomed"]["expiresAt"] - host["doomed"]["startedAt"], 2000)  # pending, not 1 h
            self.assertEqual(self.stored_leases("gemini"), {})
            os.killpg(proc.pid, signal.SIGKILL)
        finally:
            proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, -signal.SIGKILL)
        self.assertEqual(self.stored_totals("server"), ("1", "0.5"))
        # The pending lease expires by itself: within 2 s it no longer counts, and the next operation
        # on the pool reaps it.
        self.wait_for(lambda: self.status()["allocated"]["millicores"] == 0, timeout=30, what="pending lease expired")
        self.ok("allocate", "registre", "--id", "next")
        self.ok("release", "next")
        self.assertEqual(self.stored_leases("server"), {})
        self.assertEqual(self.stored_leases("gemini"), {})
        self.assertEqual(self.stored_totals("server"), ("0", "0"))
        out = self.status()
        self.assertEqual(out["leases"], [])
        self.assertEqual(out["allocated"]["millicores"], 0)


if __name__ == "__main__":
    unittest.main()
