"""End to end: fair waiting (issue 13) through the real binary, against both state backends.
`capacity allocate --wait` queues by the worker type's priority, then arrival; newcomers that
would fit are refused while an earlier or higher-priority waiter does not fit yet; a waiter that
stops polling (kill -9) drops out of the queue after [capacity] waiter_ttl; status shows the
queue. Orders are asserted from the audit log, never from timings."""

import os
import signal
import subprocess
import unittest

from support.fixtures import scalectl_path
from test_capacity import CapacityCase, FileBackend, RedisBackend


class FairWaitingTests:
    def write_fair(self, waiter_ttl="10s"):
        # 4 usable vCPUs: registre needs 3 (priority 10), acte-ocr 1 (priority 5), as in seed 003.
        self.write_config(max_cpu=4, max_ram_gb=16, reserve=0, extra='waiter_ttl = "%s"' % waiter_ttl)

    def queue(self):
        return self.status()["queue"]

    def queued_ids(self):
        return [w["id"] for w in self.queue()]

    def allocations(self):
        """The ids of successful allocations, in the order the audit log holds them."""
        return [e["resource"].split("/", 1)[1] for e in self.audit_events()
                if e["what"] == "capacity.allocate" and e["result"] == "ok"]

    def light_worker(self, i):
        """An acte-ocr worker that waits for its lease, works a moment and releases it."""
        script = ('id=$("$0" capacity allocate acte-ocr --id "light-$1" --wait 10m) || exit $?\n'
                  'sleep 0.1\nexec "$0" capacity release "$id"')
        proc = subprocess.Popen(["sh", "-c", script, str(scalectl_path()), str(i)], env=self.full_env(),
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True, start_new_session=True)
        self.addCleanup(lambda: proc.poll() is None and (os.killpg(proc.pid, signal.SIGKILL), proc.wait()))
        return proc

    def full_env(self):
        env = {k: os.environ[k] for k in ("PATH", "LANG", "TMPDIR") if k in os.environ}
        env.update(self.env())
        return env

    def test_a_waiting_registre_gets_in_as_soon_as_3_vcpus_are_free_before_later_light_workers(self):
        self.write_fair()
        for i in range(4):
            self.ok("allocate", "acte-ocr", "--id", "busy-%d" % i)
        registre = self.popen("capacity", "allocate", "registre", "--id", "registre-1", "--wait", "10m")
        self.wait_for(lambda: self.queued_ids() == ["registre-1"], what="the registre waiter to queue")

        # 20 light workers arrive while the registre waits; each would fit a freed vCPU.
        lights = []
        for i in range(20):
            lights.append(self.light_worker(i))
        self.wait_for(lambda: len(self.queue()) == 21, timeout=120, what="all 20 light workers to queue")
        queue = self.queue()
        self.assertEqual(queue[0]["id"], "registre-1")
        self.assertEqual([w["position"] for w in queue], list(range(1, 22)))
        self.assertEqual(queue[0]["priority"], 10)
        self.assertEqual({w["type"] for w in queue[1:]}, {"acte-ocr"})

        # Freeing 1, then 2 vCPUs admits nobody: the registre does not fit yet, and goes first.
        self.ok("release", "busy-0")
        self.ok("release", "busy-1")
        refused = self.cap("allocate", "acte-ocr", "--id", "newcomer")
        self.assertExit(refused, 3)
        line = self.assertOneErrorLine(refused)
        self.assertRegex(line, r"queued behind waiter registre-1 \(type registre, priority 10, host \S+, pid \d+")
        self.assertEqual(len(self.queue()), 21)
        # The third free vCPU lets the registre in.
        self.ok("release", "busy-2")
        self.assertEqual(registre.wait(timeout=120), 0)
        self.assertEqual(self.allocations()[:5], ["busy-0", "busy-1", "busy-2", "busy-3", "registre-1"])
        admitted = [e for e in self.audit_events() if e["resource"] == "pool-server/registre-1"]
        self.assertEqual(admitted[0]["from"], "1 vCPUs, 0.5 GB")  # only busy-3 was left: 3 free

        # Then the light workers come and go, in their order of arrival.
        self.ok("release", "busy-3")
        self.ok("release", "registre-1")
        for proc in lights:
            _, err = proc.communicate(timeout=300)
            self.assertEqual(proc.returncode, 0, err)
        order = self.allocations()
        self.assertEqual(sorted(order[5:]), sorted("light-%d" % i for i in range(20)))
        self.assertLess(order.index("registre-1"), min(order.index("light-%d" % i) for i in range(20)))
        self.assertEqual(self.queue(), [])
        self.assertEqual(self.stored_leases(), {})

    def test_a_kill_9ed_waiter_drops_out_of_the_queue_after_its_heartbeat_ttl(self):
        self.write_fair(waiter_ttl="3s")
        self.ok("allocate", "acte-ocr", "--id", "busy-0")
        self.ok("allocate", "acte-ocr", "--id", "busy-1")
        dead = self.popen("capacity", "allocate", "registre", "--id", "doomed", "--wait", "10m")
        self.wait_for(lambda: self.queued_ids() == ["doomed"], what="the registre waiter to queue")
        waiter = self.queue()[0]
        self.assertGreater(waiter["heartbeat_expires_at_ms"], self.status()["now_ms"] - 1)
        self.assertLessEqual(waiter["heartbeat_expires_in_ms"], 3000)
        text = self.ok("status").stdout
        self.assertIn("queue: 1 waiting", text)
        self.assertRegex(text, r"\n1 +doomed +registre +10 ")
        os.killpg(dead.pid, signal.SIGKILL)
        dead.wait(timeout=10)

        r = self.cap("allocate", "acte-ocr", "--id", "later", "--wait", "60s", timeout=120)
        self.assertExit(r, 0)
        self.assertIn("queued behind waiter doomed", r.stderr)  # refused while the dead waiter was live
        self.assertEqual(self.queue(), [])
        self.assertEqual(sorted(self.stored_leases()), ["busy-0", "busy-1", "later"])

    def test_a_waiter_that_gives_up_leaves_the_queue(self):
        self.write_fair()
        for i in range(2):
            self.ok("allocate", "acte-ocr", "--id", "busy-%d" % i)
        r = self.cap("allocate", "registre", "--id", "impatient", "--wait", "1500ms", timeout=60)
        self.assertExit(r, 3)
        self.assertRegex(self.assertOneErrorLine(r), r"after waiting .*Insufficient CPU \(need 3, available 2\)")
        self.assertEqual(self.queue(), [])
        self.ok("allocate", "acte-ocr", "--id", "next")  # nobody is queued ahead any more

        waiter = self.popen("capacity", "allocate", "registre", "--id", "interrupted", "--wait", "10m")
        self.wait_for(lambda: self.queued_ids() == ["interrupted"], what="the waiter to queue")
        os.killpg(waiter.pid, signal.SIGTERM)
        self.assertEqual(waiter.wait(timeout=30), 130)
        self.assertEqual(self.queue(), [])

    def test_waiter_ttl_is_checked(self):
        self.write_fair(waiter_ttl="1s")
        r = self.cap("allocate", "acte-ocr")
        self.assertExit(r, 2)
        self.assertIn("capacity.waiter_ttl", self.assertOneErrorLine(r))


class FileFairWaitingTests(FairWaitingTests, FileBackend, CapacityCase):
    pass


class RedisFairWaitingTests(FairWaitingTests, RedisBackend, CapacityCase):
    pass


if __name__ == "__main__":
    unittest.main()
