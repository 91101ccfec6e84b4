"""End to end: scalectl next to seed 003's TypeScript workers on the same Redis keys.

The old workers are emulated with redis-cli exactly as the seed's capacity manager does it:
allocate = INCRBYFLOAT server:cpu:allocated +cpu; INCRBYFLOAT server:ram:allocated +ram; HSET
server:workers id {...}; release = HGET; INCRBYFLOAT -cpu; INCRBYFLOAT -ram; HDEL. Each step
is a separate round trip, so scalectl runs in between them here, step by step."""

import json
import subprocess
import threading
import time
import unittest
from decimal import Decimal

from support.fixtures import bound_test_runtime
from test_capacity import CapacityCase, RedisBackend

# Returns [cpu counter, ram counter, sum of cpu of the leases, sum of ram] in one atomic step.
SAMPLE = """
local flat = redis.call('HGETALL', KEYS[1])
local cpu, ram = 0, 0
for i = 2, #flat, 2 do
  local w = cjson.decode(flat[i])
  cpu = cpu + (w.cpu or 0)
  ram = ram + (w.ram or 0)
end
return {redis.call('GET', KEYS[2]) or '0', redis.call('GET', KEYS[3]) or '0', tostring(cpu), tostring(ram)}
"""


class SeedWorker:
    """One of the seed's workers, one step per call."""

    def __init__(self, redis, worker_id, cpu, ram, worker_type="registre"):
        self.redis, self.id, self.cpu, self.ram, self.type = redis, worker_id, cpu, ram, worker_type

    def incr_cpu(self):
        self.redis.cli("INCRBYFLOAT", "server:cpu:allocated", self.cpu)

    def incr_ram(self):
        self.redis.cli("INCRBYFLOAT", "server:ram:allocated", self.ram)

    def hset(self):
        self.redis.cli("HSET", "server:workers", self.id, json.dumps(
            {"type": self.type, "cpu": self.cpu, "ram": self.ram, "startedAt": int(time.time() * 1000)}))

    def release_steps(self):
        """The seed's releaseResources as a list of steps (HGET first)."""
        seen = {}

        def hget():
            seen["worker"] = json.loads(self.redis.cli("HGET", "server:workers", self.id))

        def decr_cpu():
            self.redis.cli("INCRBYFLOAT", "server:cpu:allocated", -seen["worker"]["cpu"])

        def decr_ram():
            self.redis.cli("INCRBYFLOAT", "server:ram:allocated", -seen["worker"]["ram"])

        def hdel():
            self.redis.cli("HDEL", "server:workers", self.id)
        return [hget, decr_cpu, decr_ram, hdel]

    def allocate_steps(self):
        return [self.incr_cpu, self.incr_ram, self.hset]


class SeedInterleavingTests(RedisBackend, CapacityCase):
    max_cpu = 8
    max_ram_gb = 16
    reserve = 20   # usable: 6.4 vCPUs, 12.8 GB, as in the seed

    def counters(self):
        cpu, ram = self.stored_totals()
        return Decimal(cpu or "0"), Decimal(ram or "0")

    def assertCountersNear(self, cpu, ram):
        got_cpu, got_ram = self.counters()
        self.assertAlmostEqual(float(got_cpu), cpu, places=9)
        self.assertAlmostEqual(float(got_ram), ram, places=9)

    def assertNotNegative(self):
        cpu, ram = self.counters()
        self.assertGreaterEqual(cpu, 0)
        self.assertGreaterEqual(ram, 0)

    def test_scalectl_between_every_step_of_a_seed_allocate_and_release(self):
        for position in range(3):
            for op in ("allocate", "release", "status"):
                with self.subTest(position=position, op=op):
                    self.redis.cli("FLUSHALL")
                    self.ok("allocate", "acte-ocr", "--id", "ours")
                    seed = SeedWorker(self.redis, "w1", 1.5, 0.75, "index-ocr")
                    steps = seed.allocate_steps()
                    for step in steps[:position + 1]:
                        step()
                    if op == "allocate":
                        self.ok("allocate", "tenth", "--id", "mid")
                    elif op == "release":
                        self.ok("release", "ours")
                    else:
                        self.ok("status")
                    self.assertNotNegative()
                    for step in steps[position + 1:]:
                        step()
                    for step in seed.release_steps():
                        step()
                        self.assertNotNegative()
                    self.ok("release", "ours")
                    self.ok("release", "mid")
                    self.assertCountersNear(0, 0)
                    self.assertEqual(self.stored_leases(), {})

    def test_scalectl_between_every_step_of_a_seed_release(self):
        for position in range(4):
            with self.subTest(position=position):
                self.redis.cli("FLUSHALL")
                seed = SeedWorker(self.redis, "w1", 3, 1)
                for step in seed.allocate_steps():
                    step()
                self.ok("allocate", "acte-ocr", "--id", "ours")
                steps = seed.release_steps()
                for step in steps[:position]:
                    step()
                self.ok("release", "ours")          # the old bug: totals rewritten here
                self.assertNotNegative()
                self.ok("allocate", "acte-ocr", "--id", "again")
                for step in steps[position:]:
                    step()
                    self.assertNotNegative()
                self.ok("release", "again")
                self.assertCountersNear(0, 0)

    def test_a_worker_between_its_increment_and_its_hset_still_counts(self):
        seed = SeedWorker(self.redis, "w1", 3, 1)
        seed.incr_cpu()
        seed.incr_ram()            # not yet HSET: only the counters know
        self.ok("allocate", "registre", "--id", "r1")   # 3 + 3 = 6 <= 6.4
        r = self.cap("allocate", "registre", "--id", "r2")
        self.assertExit(r, 3)      # the leases alone (3) would have let it in
        out = self.status()
        self.assertEqual(out["allocated"]["millicores"], 3000)
        self.assertEqual(out["counters"]["millicores"], 6000)
        self.assertTrue(out["counters"]["differ"])
        self.assertIn("INCRBYFLOAT", out["counters"]["why"])
        text = self.ok("status").stdout
        self.assertIn("counters   server:cpu:allocated = 6", text)
        self.assertIn("capacity repair", text)
        seed.hset()
        out = self.status()
        self.assertFalse(out["counters"]["differ"])
        self.assertNotIn("counters   ", self.ok("status").stdout)

    def test_repair_rewrites_drifted_counters_and_says_what_changed(self):
        seed = SeedWorker(self.redis, "w1", 1.5, 0.75, "index-ocr")
        for step in seed.allocate_steps():
            step()
        self.redis.cli("SET", "server:cpu:allocated", "-2")       # left by an old interleaving
        self.redis.cli("SET", "server:ram:allocated", "0.30000000000000004")
        r = self.ok("repair")
        self.assertIn("server:cpu:allocated -2 -> 1.5", r.stdout)
        self.assertIn("server:ram:allocated 0.30000000000000004 -> 0.75", r.stdout)
        self.assertEqual(self.stored_totals(), ("1.5", "0.75"))
        r = self.ok("repair")
        self.assertIn("nothing changed", r.stdout)
        self.assertEqual(json.loads(self.ok("repair", "-o", "json").stdout)["changed"], False)

    def test_a_garbage_counter_is_one_error_line_pointing_at_repair(self):
        self.redis.cli("SET", "server:cpu:allocated", "lots")
        r = self.cap("allocate", "unit", "--id", "x")
        self.assertExit(r, 1)
        self.assertIn("capacity repair", self.assertOneErrorLine(r))
        self.ok("repair")
        self.ok("allocate", "unit", "--id", "x")

    def test_50_old_workers_race_50_scalectl_allocations(self):
        bound_test_runtime(self, 300)
        self.write_config(max_cpu=20, max_ram_gb=40, reserve=0)
        stop = threading.Event()
        samples = []
        errors = []

        def sampler():
            while not stop.is_set():
                out = self.redis.cli("EVAL", SAMPLE, 3, "server:workers", "server:cpu:allocated",
                                     "server:ram:allocated").splitlines()
                samples.append([Decimal(x) for x in out])
                time.sleep(0.01)

        def old_worker(n):
            try:
                seed = SeedWorker(self.redis, "old-%d" % n, 0.1, 0.125, "tenth")
                for step in seed.allocate_steps() + seed.release_steps():
                    step()
            except Exception as exc:  # reported after the join
                errors.append(exc)

        sample_thread = threading.Thread(target=sampler)
        sample_thread.start()
        procs = [self.popen("capacity", "allocate", "unit", "--id", "new-%d" % n) for n in range(50)]
        workers = [threading.Thread(target=old_worker, args=(n,)) for n in range(50)]
        for w in workers:
            w.start()
        codes = [p.wait(timeout=240) for p in procs]
        for w in workers:
            w.join(timeout=240)
        stop.set()
        sample_thread.join(timeout=30)
        self.assertEqual(errors, [])
        self.assertTrue(set(codes) <= {0, 3}, codes)
        granted = codes.count(0)
        # usable 20 vCPUs, 1 per unit lease; the old workers hold at most 50 x 0.1 = 5 at once,
        # so scalectl grants between 15 and 20, never more than the budget allows.
        self.assertGreaterEqual(granted, 15)
        self.assertLessEqual(granted, 20)
        # Every sample: neither view over the budget plus what old workers added after scalectl's
        # last admission (they do not check atomically; the seed's check is a separate GET).
        self.assertTrue(samples)
        for cpu, ram, lease_cpu, lease_ram in samples:
            self.assertGreaterEqual(cpu, 0)
            self.assertGreaterEqual(ram, 0)
            self.assertLessEqual(max(cpu, lease_cpu), Decimal(20) + Decimal("5.0000001"))
        # Afterwards: the old workers are gone; the counters are the seed's arithmetic over
        # scalectl's leases alone.
        leases = self.stored_leases()
        self.assertEqual(len(leases), granted)
        self.assertAlmostEqual(float(self.counters()[0]), granted * 1.0, places=9)
        self.assertAlmostEqual(float(self.counters()[1]), granted * 0.25, places=9)
        for n in range(50):
            self.ok("release", "new-%d" % n)
        self.assertCountersNear(0, 0)


if __name__ == "__main__":
    unittest.main()
