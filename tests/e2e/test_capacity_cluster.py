"""End to end on a real 3-master Redis Cluster on loopback (created with `redis-cli --cluster
create`): scalectl pointed at a node that does not own the pool's slot follows -MOVED, follows
-ASK while the slot is migrated in the middle of 200 concurrent allocations, refuses a pool whose
keys are in different slots with one line naming them, bounds redirect loops, and `droplet down`
works after a reshard."""

import json
import os
import signal
import subprocess
import unittest
from decimal import Decimal

from e2e_base import DOWN, UP
from support.fixtures import bound_test_runtime, scaled, scalectl_path
from support.racers import AllocationRace
from support.redis_cluster import start_redis_cluster
from test_capacity import CapacityCase, millicores_of, mib_of

POOL = "{server}"


class ClusterCase(CapacityCase):
    backend = "redis"

    def setUp(self):
        super().setUp()
        bound_test_runtime(self, 150)

    def start_backend(self):
        self.cluster = start_redis_cluster(self.tmp)
        self.addCleanup(self.cluster.stop)
        self.slot = self.cluster.keyslot(POOL)
        self.entry = self.cluster.not_owning(self.slot)

    def backend_env(self):
        return {"SCALECTL_REDIS_URL": self.entry.url, "SCALECTL_CAPACITY_POOL": POOL,
                "SCALECTL_DROPLET_CAPACITY_POOL": POOL}

    def full_env(self):
        env = {k: os.environ[k] for k in ("PATH", "LANG", "TMPDIR") if k in os.environ}
        env.update(self.env())
        return env

    def owner(self):
        return self.cluster.owner_of(self.slot)

    def stored_leases(self, pool=POOL):
        lines = self.owner().cli("HGETALL", "%s:workers" % pool).splitlines()
        return {lines[i]: json.loads(lines[i + 1]) for i in range(0, len(lines) - 1, 2)}

    def stored_totals(self, pool=POOL):
        owner = self.owner()
        return owner.cli("GET", "%s:cpu:allocated" % pool), owner.cli("GET", "%s:ram:allocated" % pool)


class ClusterCapacityTests(ClusterCase):
    start_sim = False

    def test_a_non_owner_node_redirects_with_moved(self):
        self.assertIsNot(self.entry, self.owner())
        r = self.ok("allocate", "unit", "--id", "w1")
        self.assertEqual(r.stdout.strip(), "w1")
        self.assertIn("w1", self.stored_leases())
        self.assertEqual(self.entry.cli("HLEN", "%s:workers" % POOL)[:5], "MOVED")
        self.assertGreater(self.entry.command_calls("cluster|slots"), 0)
        self.assertEqual(self.status()["allocated"]["millicores"], 1000)

    def test_200_allocations_while_the_slot_moves_to_another_node(self):
        # The budget runs out in the last wave, so leases are made in every phase of the move.
        count = scaled(200, 60)
        budget = scaled(150, 45)
        self.write_config(max_cpu=budget, max_ram_gb=100, reserve=0)
        source = self.owner()
        target = next(n for n in self.cluster.nodes if n is not source and n is not self.entry)
        with AllocationRace(self.tmp, self.full_env(), count, "unit", timeout=120) as race:
            # The racers are let go in three waves that overlap the move: the first against the
            # first owner (reached through -MOVED from the entry node); while half of it still
            # runs the slot starts migrating (the source answers -ASK for the moved keys) and the
            # second wave goes; while part of that one still runs the slot is given to the target
            # (-MOVED there) and the last wave goes.
            third = count // 3
            race.release(third)
            race.wait_finished(third // 2)
            self.cluster.begin_move(self.slot, source, target)
            race.release(third)
            race.wait_finished(third + third // 2)
            self.cluster.end_move(self.slot, target)
            race.release(count - 2 * third)
            results = race.results()
        codes = [code for code, _, _ in results]
        odd = [r for r in results if r[0] not in (0, 3)][:3]
        self.assertEqual(codes.count(0), budget, odd)
        self.assertEqual(codes.count(3), count - budget, odd)
        self.assertIs(self.owner(), target)
        self.assertGreater(target.command_calls("asking"), 0, "no allocation followed -ASK")
        # The scripts were not cached on the target: NOSCRIPT there made scalectl send EVAL.
        self.assertGreater(target.command_calls("eval"), 0)
        winners = sorted(out.strip() for code, out, _ in results if code == 0)
        leases = self.stored_leases()
        self.assertEqual(sorted(leases), winners)
        self.assertEqual(len(set(winners)), budget)
        self.assertEqual(sum(millicores_of(l) for l in leases.values()), budget * 1000)
        cpu, ram = self.stored_totals()
        self.assertEqual(Decimal(cpu) * 1000, sum(millicores_of(l) for l in leases.values()))
        self.assertEqual(Decimal(ram) * 1024, sum(mib_of(l) for l in leases.values()))
        self.assertEqual((Decimal(cpu), Decimal(ram)), (Decimal(budget), Decimal(budget) / 4))
        status = self.status()
        self.assertEqual(status["allocated"]["millicores"], budget * 1000)
        self.assertEqual(sorted(l["id"] for l in status["leases"]), winners)

    def test_the_seed_pool_without_a_hash_tag_is_refused_naming_its_keys(self):
        r = self.cap("allocate", "unit", "--id", "w1", "--pool", "server")
        self.assertExit(r, 1)
        line = self.assertOneErrorLine(r)
        for key, slot in (("server:workers", 14519), ("server:cpu:allocated", 2676),
                          ("server:ram:allocated", 6709)):
            self.assertIn("%s (slot %d)" % (key, slot), line)
        self.assertIn('pool = "{server}"', line)
        for node in self.cluster.nodes:
            self.assertEqual(node.cli("DBSIZE"), "0")

    def test_a_redirect_loop_stops_after_5_redirects_with_one_line(self):
        # The owner says the slot is migrating to a node that does not import it: the owner
        # answers -ASK, the other node -MOVED back, forever.
        other = self.entry
        self.assertEqual(self.owner().cli("CLUSTER", "SETSLOT", self.slot, "MIGRATING", other.node_id), "OK")
        r = self.cap("allocate", "unit", "--id", "w1")
        self.assertExit(r, 1)
        line = self.assertOneErrorLine(r)
        self.assertIn("redirected one command 5 times", line)
        self.assertNotIn("w1", self.stored_leases())

    def test_a_slot_that_starts_migrating_never_stops_a_script_half_way(self):
        # While a slot is MIGRATING, its source runs a script only if every key it names is
        # there, and stops it at the first command on a key that is then missing, keeping the
        # writes before it. Each step below used to stop half-way with "Script attempted to access
        # a non local key": a reap that emptied the hash before the new lease was written, the
        # totals DELeted and written again, a release that emptied the expiry index before the
        # reap read it.
        self.write_config(max_cpu=8, max_ram_gb=100, reserve=0)
        self.ok("allocate", "unit", "--id", "short", "--ttl", "1s")
        source = self.owner()
        target = next(n for n in self.cluster.nodes if n is not source)
        # The slot starts migrating; no key has moved yet, so the source still serves them all.
        self.assertEqual(target.cli("CLUSTER", "SETSLOT", self.slot, "IMPORTING", source.node_id), "OK")
        self.assertEqual(source.cli("CLUSTER", "SETSLOT", self.slot, "MIGRATING", target.node_id), "OK")
        self.wait_for(lambda: int(source.cli("TIME").split()[0]) * 1000 >
                      self.stored_leases()["short"]["expiresAt"] + 50, timeout=10, what="lease short to expire")
        r = self.ok("allocate", "unit", "--id", "w1")  # reaps short, the hash's only lease
        self.assertEqual(r.stdout.strip(), "w1")
        self.ok("allocate", "unit", "--id", "w2")
        self.assertEqual(sorted(self.stored_leases()), ["w1", "w2"])
        self.assertEqual(self.stored_totals(), ("2", "0.5"))
        self.ok("release", "w1")
        self.ok("release", "w2")  # the last lease: the hash goes, in the script's last command on it
        self.assertEqual(self.stored_leases(), {})
        self.assertEqual(self.stored_totals(), ("0", "0"))
        self.assertEqual(source.cli("ZRANGE", "%s:scalectl:expiry" % POOL, 0, -1), "~")
        self.assertEqual(source.cli("HGET", "%s:scalectl:totals" % POOL, "n"), "0")
        for node in self.cluster.nodes:
            if node is not source:
                self.assertEqual(node.cli("DBSIZE"), "0")
        # Now the pool's hash is missing on both nodes: the source answers -ASK, the target
        # -TRYAGAIN, until the migration ends. One line after about 2 s, nothing written.
        r = self.cap("allocate", "unit", "--id", "w3")
        self.assertExit(r, 1)
        line = self.assertOneErrorLine(r)
        self.assertIn("answered TRYAGAIN 41 times", line)
        self.assertIn("slot %d is half migrated" % self.slot, line)
        self.assertEqual(self.stored_leases(), {})
        # The migration is called off: the source serves the slot again.
        for node in (source, target):
            self.assertEqual(node.cli("CLUSTER", "SETSLOT", self.slot, "STABLE"), "OK")
        self.ok("allocate", "unit", "--id", "w3")
        self.assertEqual(sorted(self.stored_leases()), ["w3"])
        self.assertEqual(self.stored_totals(), ("1", "0.25"))
        self.assertEqual(self.status()["allocated"]["millicores"], 1000)


class ClusterDropletTests(ClusterCase):
    start_sim = True

    def test_droplet_down_after_a_reshard(self):
        did = self.sim.seed_droplet(name="pdf-worker", size_slug=DOWN, status="active")["id"]
        self.assertExit(self.scalectl("droplet", "up", "--droplet", did), 0)
        # Move every slot scalectl's records, locks and logs live in, and the pool's, to a new owner.
        rec_slot = self.cluster.keyslot("{rec}")
        rec_owner = self.cluster.owner_of(rec_slot)
        moved = set()
        for tag in ("{rec}", "{lock}", "{log}", POOL):
            slot = self.cluster.keyslot(tag)
            if slot in moved:
                continue
            moved.add(slot)
            source = self.cluster.owner_of(slot)
            target = next(n for n in self.cluster.nodes if n is not source)
            self.cluster.move_slot(slot, source, target)
        self.assertIsNot(self.cluster.owner_of(rec_slot), rec_owner)
        # Through the node that owned the record before: its first answer is -MOVED.
        self.entry = rec_owner
        r = self.scalectl("droplet", "down", "--droplet", did, "-o", "json")
        self.assertExit(r, 0)
        self.assertEqual(self.json_out(r)["result"], "changed")
        self.assertEqual(self.sim.droplet_state(did)["size_slug"], DOWN)
        for node in self.cluster.nodes:
            out = self.json_out(self.scalectl("droplet", "status", "--droplet", did, "-o", "json",
                                              SCALECTL_REDIS_URL=node.url))
            self.assertEqual(out["last_operation"]["result"], "ok")
            self.assertEqual(out["last_operation"]["to_size"], DOWN)

    def test_losing_the_state_after_an_action_was_submitted_names_it(self):
        did = self.sim.seed_droplet(name="pdf-worker", size_slug=DOWN, status="active")["id"]
        proc = subprocess.Popen([str(scalectl_path()), "droplet", "up", "--droplet", str(did)], env=self.full_env(),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True)
        try:
            self.wait_for(lambda: self.actions_of(did), timeout=30, what="the first action")
            self.cluster.stop()  # every node goes away while the action runs
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        self.assertEqual(proc.returncode, 1, err)
        errors = [line for line in err.splitlines() if line.startswith("scalectl: error:")]
        self.assertEqual(len(errors), 1, err)
        last = self.actions_of(did)[-1]
        self.assertIn("action %s (%s)" % (last["id"], last["type"]), errors[0])
        self.assertIn("rerunning `scalectl droplet up` converges", errors[0])


if __name__ == "__main__":
    unittest.main()
