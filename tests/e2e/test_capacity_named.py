"""End to end: named resources ([capacity.resources.NAME]) next to CPU and RAM, through the real
binary, against both state backends: the seed's four budgets (CPU, RAM, Gemini RPM and TPM),
the seed's refusal wording, status and plan lines, bad input, and a race on an API budget."""

import os
import unittest

from support.fixtures import scaled
from support.racers import race_allocations
from test_capacity import CapacityCase, FileBackend, RedisBackend

# Seed 003's worker types with its Gemini figures per worker (Large Server example).
API_TYPES = """
[capacity.worker_types.registre]
cpu = 3
ram_gb = 1
priority = 10

[capacity.worker_types.index-ocr]
cpu = 1.5
ram_gb = 0.75
gemini_rpm = 6.7
gemini_tpm = 53000

[capacity.worker_types.acte-ocr]
cpu = 1
ram_gb = 0.5
gemini_rpm = 7.2
gemini_tpm = 242000
"""


def resources(rpm="1600", tpm="6400000"):
    return ('[capacity.resources.gemini_rpm]\nlimit = %s\nunit = "RPM"\n\n'
            '[capacity.resources.gemini_tpm]\nlimit = %s\nunit = "TPM"\n' % (rpm, tpm))


class NamedResourceTests:
    max_cpu = 16
    max_ram_gb = 32

    def write_named(self, rpm="1600", tpm="6400000", max_cpu=16, max_ram_gb=32, reserve=20, types=API_TYPES):
        self.config.write_text("[capacity]\nmax_cpu = %s\nmax_ram_gb = %s\nreserved_cpu_percent = %s\n"
                               "reserved_ram_percent = %s\n\n%s\n%s" % (
                                   max_cpu, max_ram_gb, reserve, reserve, resources(rpm, tpm), types))

    def setUp(self):
        super().setUp()
        self.write_named()

    def full_env(self):
        env = {k: os.environ[k] for k in ("PATH", "LANG", "TMPDIR") if k in os.environ}
        env.update(self.env())
        return env

    def test_plan_for_the_seeds_large_server_computes_its_api_lines(self):
        r = self.ok("plan", "--want", "registre=2", "--want", "index-ocr=2", "--want", "acte-ocr=3")
        lines = [line.strip() for line in r.stdout.splitlines()]
        for expected in ("CPU: 12 / 12.8 vCPUs (94%)", "RAM: 5 / 25.6 GB (20%)", "RPM: 35 / 1600 (2.2%)",
                         "TPM: 832K / 6.4M (13%)",
                         "RPM: (2 \u00d7 0) + (2 \u00d7 6.7) + (3 \u00d7 7.2) = 35 RPM (2.2%)",
                         "TPM: (2 \u00d7 0) + (2 \u00d7 53K) + (3 \u00d7 242K) = 832K TPM (13%)"):
            self.assertIn(expected, lines)
        out = self.json_out(self.ok("plan", "-o", "json", "--want", "registre=2", "--want", "index-ocr=2",
                                    "--want", "acte-ocr=3"))
        by_name = {res["name"]: res for res in out["resources"]}
        self.assertEqual(by_name["gemini_rpm"]["used"], 35)
        self.assertEqual(by_name["gemini_tpm"]["used"], 832000)
        self.assertEqual(by_name["gemini_rpm"]["percent"], "2.2%")
        self.assertEqual([(t["type"], t["count"], t["per_worker"]) for t in by_name["gemini_rpm"]["terms"]],
                         [("registre", 2, 0), ("index-ocr", 2, 6.7), ("acte-ocr", 3, 7.2)])

    def test_a_plan_limited_by_the_api_budget(self):
        self.write_named(rpm="36", max_cpu=100, max_ram_gb=100)
        out = self.json_out(self.ok("plan", "-o", "json", "--strategy", "priority", "--want", "registre=0"))
        counts = {row["type"]: row["count"] for row in out["rows"]}
        self.assertEqual(counts, {"registre": 0, "index-ocr": 5, "acte-ocr": 0})

    def test_check_and_allocate_name_the_short_resource_in_the_seeds_words(self):
        self.write_named(rpm="10.3")
        self.ok("allocate", "acte-ocr", "--id", "a1")
        r = self.cap("check", "acte-ocr")
        self.assertExit(r, 3)
        self.assertEqual(r.stdout.strip(), "Insufficient gemini_rpm (need 7.2, available 3.1)")
        r = self.cap("allocate", "acte-ocr", "--id", "a2")
        self.assertExit(r, 3)
        self.assertIn("Insufficient gemini_rpm (need 7.2, available 3.1)", self.assertOneErrorLine(r))
        self.ok("check", "registre")      # needs no RPM
        self.ok("release", "a1")
        self.ok("allocate", "acte-ocr", "--id", "a2")

    def test_status_shows_every_resource_with_use_and_percentage(self):
        self.ok("allocate", "acte-ocr", "--id", "a1")
        self.ok("allocate", "index-ocr", "--id", "i1")
        text = self.ok("status").stdout
        self.assertIn("RPM: 13.9 / 1600 (0.9%)", text)
        self.assertIn("TPM: 295K / 6.4M (4.6%)", text)
        out = self.status()
        by_name = {res["name"]: res for res in out["resources"]}
        self.assertEqual(by_name["gemini_rpm"]["allocated"], 13.9)
        self.assertEqual(by_name["gemini_rpm"]["available"], 1586.1)
        self.assertEqual(by_name["gemini_tpm"]["allocated"], 295000)
        self.assertEqual(by_name["gemini_rpm"]["unit"], "RPM")
        lease = {l["id"]: l for l in out["leases"]}["a1"]
        self.assertEqual(lease["resources"], {"gemini_rpm": 7.2, "gemini_tpm": 242000})
        stored = self.stored_leases()["a1"]
        self.assertEqual(stored["resources"], {"gemini_rpm": "7.2", "gemini_tpm": "242000"})
        if self.backend == "redis":
            self.assertEqual(self.redis.cli("GET", "server:gemini_rpm:allocated"), "13.9")
            self.assertEqual(self.redis.cli("GET", "server:gemini_tpm:allocated"), "295000")
            self.assertEqual(self.stored_totals(), ("2.5", "1.25"))   # the seed's keys are unchanged

    def test_tenth_cycles_of_a_named_resource_stay_exact(self):
        self.write_named(types=API_TYPES + "\n[capacity.worker_types.tenth]\ncpu = 0.1\nram_gb = 0.125\n"
                         "gemini_rpm = 0.1\n")
        for i in range(1, 11):
            self.ok("allocate", "tenth", "--id", "t%d" % i)
        self.assertEqual(self.status()["resources"][0]["allocated"], 1)
        for i in range(1, 11):
            self.ok("release", "t%d" % i)
        self.assertEqual(self.status()["resources"][0]["allocated"], 0)
        if self.backend == "redis":
            self.assertEqual(self.redis.cli("GET", "server:gemini_rpm:allocated"), "0")

    def test_bad_input_is_one_line_and_exit_2(self):
        cases = [
            (API_TYPES.replace("gemini_rpm = 7.2", "gemini_rpm = -7.2"), "gemini_rpm: -7.2 is out of range; it must be between 0 and"),
            (API_TYPES.replace("gemini_rpm = 7.2", 'gemini_rpm = "lots"'), "expected number"),
            (API_TYPES.replace("gemini_rpm = 7.2", "gpu = 1"),
             "names resource 'gpu', but no [capacity.resources.gpu] table declares it"),
        ]
        for types, words in cases:
            with self.subTest(words=words):
                self.write_named(types=types)
                for args in (("check", "acte-ocr"), ("status",), ("plan",)):
                    r = self.cap(*args)
                    self.assertExit(r, 2)
                    self.assertIn(words, self.assertOneErrorLine(r))
        self.write_named(rpm="0")
        r = self.cap("allocate", "registre", "--id", "r1")
        self.assertExit(r, 2)
        self.assertIn("[capacity.resources.gemini_rpm] leaves none to use (limit 0, reserve 0)",
                      self.assertOneErrorLine(r))
        self.assertEqual(self.stored_leases(), {})

    def test_200_concurrent_allocations_against_an_api_budget_give_exactly_its_number(self):
        # 37 acte-ocr workers fit the RPM budget (37 x 7.2 = 266.4); CPU and RAM have room for all.
        self.write_named(rpm="266.4", tpm="100000000", max_cpu=400, max_ram_gb=400, reserve=0)
        count = scaled(200, 60)  # fewer racers under the sanitizers' slowdown; still > 37
        results = race_allocations(self.tmp, self.full_env(), count, "acte-ocr")
        codes = [code for code, _, _ in results]
        self.assertEqual(codes.count(0), 37, [r for r in results if r[0] not in (0, 3)][:3])
        self.assertEqual(codes.count(3), count - 37, [r for r in results if r[0] not in (0, 3)][:3])
        for code, _, err in results:
            if code == 3:
                self.assertIn("Insufficient gemini_rpm (need 7.2, available 0)", err)
        winners = sorted(out.strip() for code, out, _ in results if code == 0)
        self.assertEqual(sorted(self.assertConsistent()), winners)
        by_name = {res["name"]: res for res in self.status()["resources"]}
        self.assertEqual(by_name["gemini_rpm"]["allocated"], 266.4)
        if self.backend == "redis":
            self.assertEqual(self.redis.cli("GET", "server:gemini_rpm:allocated"), "266.4")
            self.assertEqual(self.stored_totals(), ("37", "18.5"))


class FileNamedResourceTests(NamedResourceTests, FileBackend, CapacityCase):
    pass


class RedisNamedResourceTests(NamedResourceTests, RedisBackend, CapacityCase):
    pass


if __name__ == "__main__":
    unittest.main()
