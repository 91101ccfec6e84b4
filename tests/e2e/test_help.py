"""Help that teaches: examples, typed placeholders, the global options that apply, the verb's own
exit codes (the full table only in `scalectl --help`), "did you mean", and the token flag."""

import re
import unittest

from e2e_base import ScalectlTestCase


class HelpTests(ScalectlTestCase):
    start_sim = False

    def help_of(self, *path):
        r = self.scalectl(*path, "--help")
        self.assertExit(r, 0)
        return r.stdout

    def test_every_verb_has_examples_and_only_its_exit_codes(self):
        tree = self.json_out(self.scalectl("__tree"))
        verbs = [n["path"] for n in tree if n["path"] and not n["subcommands"]]
        self.assertIn("droplet up", verbs)
        full = re.findall(r"^\s+(\d+)\s{2}", self.help_of().split("Exit codes:")[1], re.M)
        self.assertEqual(len(full), 9)
        for verb in verbs:
            with self.subTest(verb=verb):
                text = self.help_of(*verb.split())
                examples = text.split("Examples:\n")[1].split("\n\n")[0].splitlines()
                self.assertTrue(1 <= len(examples) <= 3, text)
                for example in examples:
                    self.assertTrue(example.strip().startswith("scalectl "), example)
                codes = re.findall(r"^\s+(\d+)\s{2}", text.split("Exit codes:")[1], re.M)
                self.assertIn("0", codes)
                self.assertLess(len(codes), len(full), text)

    def test_global_options_and_placeholders_show_where_they_apply(self):
        text = self.help_of("droplet", "status")
        globals_part = text.split("Global options (also accepted here):")[1]
        for option in ("--droplet", "--output", "--quiet", "--context", "--state-dir"):
            self.assertIn(option, globals_part)
        self.assertIn("--droplet ID|NAME", text)
        up = self.help_of("droplet", "up")
        self.assertIn("--timeout DURATION", up)
        self.assertIn("--size SLUG", up)
        self.assertIn("--count COUNT", self.help_of("capacity", "check"))
        self.assertIn("--pool NAME", self.help_of("capacity", "status"))
        self.assertNotIn(" TEXT", up.split("Global options")[0])  # the verb's own options are typed

    def test_did_you_mean(self):
        for args, wanted in ((["dropelt", "status"], "did you mean 'droplet'?"),
                             (["droplet", "stauts"], "did you mean 'status'?"),
                             (["droplet", "up", "--dryrun"], "did you mean '--dry-run'?"),
                             (["capacity", "status", "--pol", "x"], "did you mean '--pool'?")):
            with self.subTest(args=args):
                r = self.scalectl(*args)
                self.assertExit(r, 2)
                self.assertIn(wanted, self.assertOneErrorLine(r))
                self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)

    def test_token_flags_say_where_the_token_comes_from(self):
        for args in (["--access-token", "x", "droplet", "status"], ["droplet", "status", "-t", "x"],
                     ["--access-token=secret-value", "config", "show"]):
            with self.subTest(args=args):
                r = self.scalectl(*args)
                self.assertExit(r, 2)
                line = self.assertOneErrorLine(r)
                self.assertIn("takes no token on the command line", line)
                self.assertIn("DIGITALOCEAN_ACCESS_TOKEN", line)
                self.assertNotIn("secret-value", r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
