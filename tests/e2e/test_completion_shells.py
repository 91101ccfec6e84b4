"""Completion in the real shells: bash, zsh and fish driven through tmux (keys typed, TAB pressed, the
screen read back), and fish also through its own completion engine (`complete -C`, for descriptions). Values come from the
config, the completion cache a normal command wrote, fixed lists and file names; no TAB may send a
request to the API."""

import os
import shutil
import subprocess
import time
import unittest

from e2e_base import DOWN, ScalectlTestCase
from support.fixtures import REPO_ROOT, scalectl_path

COMPLETIONS = REPO_ROOT / "completions"
CONFIG = """
[capacity]
max_cpu = 8
max_ram_gb = 16

[capacity.worker_types.ocr]
cpu = 1
ram_gb = 0.5

[autoscale.policies.queue]
metric = { value = 1 }
units_per_worker = 10
min = 1
max = 4
target = "manual"
"""


@unittest.skipUnless(shutil.which("tmux"), "tmux is not installed")
class ShellCompletionTests(ScalectlTestCase):

    def setUp(self):
        super().setUp()
        self.bin = self.tmp / "bin"
        self.bin.mkdir()
        (self.bin / "scalectl").symlink_to(scalectl_path())
        self.config = self.tmp / "scalectl.toml"
        self.config.write_text(CONFIG)
        (self.tmp / "work").mkdir()
        (self.tmp / "work" / "plan-saved.json").write_text("{}")
        # A normal command fills the completion cache: the dry run fetches /v2/sizes and the droplet.
        did = self.sim.seed_droplet(name="pdf-worker", size_slug=DOWN, status="active")["id"]
        self.assertExit(self.scalectl("droplet", "up", "--droplet", did, "--dry-run"), 0)
        cache = self.tmp / "cache" / "scalectl" / "completion.json"
        self.assertTrue(cache.is_file())
        self.assertEqual(cache.stat().st_mode & 0o777, 0o600)
        self.requests_before = len(self.sim.requests())

    def env(self, **extra):
        env = super().env(**extra)
        env.update({"XDG_CACHE_HOME": str(self.tmp / "cache"), "SCALECTL_CONFIG": str(self.config),
                    "PATH": "%s:%s" % (self.bin, os.environ.get("PATH", "/usr/bin:/bin")), "TERM": "xterm"})
        return env

    def tearDown(self):
        if hasattr(self, "requests_before"):
            self.assertEqual(len(self.sim.requests()), self.requests_before, "TAB sent API requests")

    # --- tmux ---------------------------------------------------------------------------------
    def start_tmux(self, command):
        self.sock = str(self.tmp / "tmux.sock")
        env = dict(self.env())
        subprocess.run(["tmux", "-S", self.sock, "-f", "/dev/null", "new-session", "-d", "-x", "160", "-y", "40",
                        "-s", "t", "-c", str(self.tmp / "work")] + command, env=env, check=True, timeout=30)
        self.addCleanup(subprocess.run, ["tmux", "-S", self.sock, "kill-server"], timeout=30)
        self.wait_screen(lambda s: s.rstrip().endswith("READY>"), "the prompt")

    def screen(self):
        return subprocess.run(["tmux", "-S", self.sock, "capture-pane", "-p", "-t", "t"], capture_output=True,
                              text=True, timeout=30).stdout

    def wait_screen(self, predicate, what, timeout=15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.screen()
            if predicate(text):
                return text
            time.sleep(0.1)
        self.fail("timed out waiting for %s; screen:\n%s" % (what, self.screen()))

    def tab(self, typed, expected_line=None, expected_words=()):
        """Types `typed`, presses TAB (twice when listing), checks the screen, then clears the line."""
        subprocess.run(["tmux", "-S", self.sock, "send-keys", "-t", "t", "-l", typed], check=True, timeout=30)
        keys = ["Tab"] if expected_line else ["Tab", "Tab"]
        for key in keys:
            subprocess.run(["tmux", "-S", self.sock, "send-keys", "-t", "t", key], check=True, timeout=30)
            time.sleep(0.2)
        if expected_line:
            # A marker typed after TAB shows the space the completion added (tmux trims trailing blanks).
            subprocess.run(["tmux", "-S", self.sock, "send-keys", "-t", "t", "-l", "#"], check=True, timeout=30)
            self.wait_screen(lambda s: ("READY>" + expected_line + "#") in s, "'%s' after TAB" % expected_line)
        for word in expected_words:
            self.wait_screen(lambda s, w=word: w in s.split(typed, 1)[-1], "'%s' offered" % word)
        subprocess.run(["tmux", "-S", self.sock, "send-keys", "-t", "t", "C-u"], check=True, timeout=30)
        subprocess.run(["tmux", "-S", self.sock, "send-keys", "-t", "t", "clear", "Enter"], check=True, timeout=30)
        self.wait_screen(lambda s: s.strip() == "READY>", "a clear screen")

    def common_cases(self):
        self.tab("scalectl dro", "scalectl droplet ")
        self.tab("scalectl droplet st", "scalectl droplet status ")
        self.tab("scalectl droplet up --size m3-2v", "scalectl droplet up --size m3-2vcpu-16gb ")
        self.tab("scalectl droplet status --droplet pdf-w", "scalectl droplet status --droplet pdf-worker ")
        self.tab("scalectl -o j", "scalectl -o json ")
        self.tab("scalectl completion fi", "scalectl completion fish ")
        self.tab("scalectl autoscale plan --policy qu", "scalectl autoscale plan --policy queue ")
        self.tab("scalectl capacity check oc", "scalectl capacity check ocr ")
        self.tab("scalectl --config plan-s", "scalectl --config plan-saved.json ")
        self.tab("scalectl capacity ", expected_words=("allocate", "release", "status"))

    @unittest.skipUnless(shutil.which("bash"), "bash is not installed")
    def test_bash(self):
        rc = self.tmp / "bashrc"
        rc.write_text("PS1='READY>'\nsource %s\n" % (COMPLETIONS / "scalectl.bash"))
        self.start_tmux(["bash", "--noprofile", "--rcfile", str(rc), "-i"])
        self.common_cases()

    @unittest.skipUnless(shutil.which("zsh"), "zsh is not installed")
    def test_zsh(self):
        zdot = self.tmp / "zdot"
        zdot.mkdir()
        (zdot / ".zshrc").write_text("fpath=(%s $fpath)\nautoload -U compinit\ncompinit -u -D\n"
                                     "PROMPT='READY>'\nunsetopt beep\n" % COMPLETIONS)
        self.start_tmux(["env", "ZDOTDIR=%s" % zdot, "zsh", "-i"])
        self.common_cases()
        # zsh lists descriptions beside the words.
        self.tab("scalectl droplet ", expected_words=("Resize to up_size",))

    @unittest.skipUnless(shutil.which("fish"), "fish is not installed")
    def test_fish_tab(self):
        init = ("set -g fish_greeting ''; set -g fish_autosuggestion_enabled 0; "
                "function fish_prompt; echo -n 'READY>'; end; function fish_right_prompt; end; "
                "function fish_title; end; source %s" % (COMPLETIONS / "scalectl.fish"))
        self.start_tmux(["fish", "--no-config", "--init-command", init])
        self.common_cases()

    @unittest.skipUnless(shutil.which("fish"), "fish is not installed")
    def test_fish(self):
        def complete(line):
            script = "source %s; complete -C '%s'" % (COMPLETIONS / "scalectl.fish", line)
            r = subprocess.run(["fish", "--no-config", "-c", script], capture_output=True, text=True,
                               env=self.env(), cwd=str(self.tmp / "work"), timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            return {l.split("\t")[0]: (l.split("\t") + [""])[1] for l in r.stdout.splitlines()}

        root = complete("scalectl ")
        for sub in ("droplet", "app", "capacity", "autoscale", "config", "completion", "log"):
            self.assertIn(sub, root)
        self.assertTrue(root["droplet"], "no description for droplet")
        self.assertEqual(set(complete("scalectl droplet ")) & {"status", "up", "down", "cost"},
                         {"status", "up", "down", "cost"})
        self.assertIn("m3-2vcpu-16gb", complete("scalectl droplet up --size "))
        self.assertIn("pdf-worker", complete("scalectl droplet status --droplet "))
        self.assertEqual(set(complete("scalectl -o ")), {"text", "json"})
        self.assertIn("zsh", complete("scalectl completion "))
        self.assertIn("queue", complete("scalectl autoscale plan --policy "))
        self.assertIn("ocr", complete("scalectl capacity check "))
        self.assertIn("plan-saved.json", complete("scalectl --config "))
        self.assertIn("--dry-run", complete("scalectl droplet up --d"))


if __name__ == "__main__":
    unittest.main()
