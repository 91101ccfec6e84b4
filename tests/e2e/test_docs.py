"""Docs stay true: the man page renders cleanly and names every command, option and exit code;
the committed completion files are exactly what the binary generates and complete every
subcommand and option."""

import json
import re
import shutil
import subprocess
import unittest
from pathlib import Path

from support.fixtures import REPO_ROOT, run_scalectl

MAN = REPO_ROOT / "man" / "scalectl.1"
COMPLETIONS = {"bash": "scalectl.bash", "zsh": "_scalectl", "fish": "scalectl.fish"}


def man_text():
    return MAN.read_text()


def man_words():
    # Undo roff escapes for matching: \- is a hyphen, \fB..\fR are fonts.
    text = man_text().replace("\\-", "-")
    return re.sub(r"\\f[BIRP]", "", text)


class DocsTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        r = run_scalectl(["__tree"])
        assert r.returncode == 0, r.stderr
        cls.tree = json.loads(r.stdout)

    @unittest.skipUnless(shutil.which("groff"), "groff is not installed")
    def test_man_page_renders_without_warnings(self):
        r = subprocess.run(["groff", "-man", "-ww", "-z", str(MAN)], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")

    def test_man_page_names_every_command_and_option(self):
        words = man_words()
        for node in self.tree:
            if node["path"]:
                with self.subTest(command=node["path"]):
                    self.assertIn(node["path"].split()[-1], words)
            for option in node["options"]:
                if option in ("-h", "--help"):
                    continue
                with self.subTest(command=node["path"], option=option):
                    self.assertIn(option, words)

    def test_man_page_has_the_exit_code_table(self):
        r = run_scalectl(["--help"])
        table = r.stdout.split("Exit codes:")[1]
        rows = re.findall(r"^\s+(\d+)\s{2}(.+)$", table, re.M)
        self.assertGreaterEqual(len(rows), 9)
        section = man_words().split(".SH EXIT STATUS")[1].split(".SH ")[0]
        for code, meaning in rows:
            with self.subTest(code=code):
                self.assertIn(".B %s\n%s" % (code, meaning.strip().replace("\\", "")), section)

    def test_committed_completions_match_the_binary(self):
        for shell, name in COMPLETIONS.items():
            with self.subTest(shell=shell):
                r = run_scalectl(["completion", shell])
                self.assertEqual(r.returncode, 0, r.stderr)
                committed = (REPO_ROOT / "completions" / name).read_text()
                self.assertEqual(committed, r.stdout,
                                 "completions/%s is stale: run `build/scalectl completion %s > completions/%s`"
                                 % (name, shell, name))

    def test_completions_cover_every_subcommand_and_option(self):
        for shell, name in COMPLETIONS.items():
            text = (REPO_ROOT / "completions" / name).read_text()
            for node in self.tree:
                for word in node["subcommands"] + node["options"]:
                    with self.subTest(shell=shell, command=node["path"], word=word):
                        self.assertIn(word.lstrip("-") if shell == "fish" else word, text)

    @unittest.skipUnless(shutil.which("bash"), "bash is not installed")
    def test_bash_completion_completes_nested_words(self):
        script = REPO_ROOT / "completions" / "scalectl.bash"
        probe = ('source %s; COMP_WORDS=(scalectl droplet st); COMP_CWORD=2; _scalectl; '
                 'echo "${COMPREPLY[@]}"; COMP_WORDS=(scalectl droplet up --dr); COMP_CWORD=3; _scalectl; '
                 'echo "${COMPREPLY[@]}"' % script)
        r = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=30)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["status"])
        self.assertIn("--dry-run", lines[1].split())
        self.assertIn("--droplet", lines[1].split())


if __name__ == "__main__":
    unittest.main()
