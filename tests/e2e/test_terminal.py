"""Terminal handling, through a real pseudo-terminal (python's pty module): a live progress line
only where the terminal understands it, none with TERM=dumb, and Ctrl-C's message on a fresh line."""

import os
import pty
import select
import signal
import subprocess
import time
import unittest

from e2e_base import DOWN, ScalectlTestCase
from support.fixtures import scalectl_path


class TerminalTests(ScalectlTestCase):
    action_seconds = 1.5

    def run_in_pty(self, args, term, interrupt_after_first_action=False, timeout=90):
        """Runs scalectl with stdout and stderr on a pty; returns (exit code, all bytes written)."""
        master, slave = pty.openpty()
        env = {k: os.environ[k] for k in ("PATH", "LANG") if k in os.environ}
        env.update(self.env())
        if term is None:
            env.pop("TERM", None)
        else:
            env["TERM"] = term
        proc = subprocess.Popen([str(scalectl_path())] + [str(a) for a in args], stdin=slave, stdout=slave, stderr=slave, env=env,
                                start_new_session=True)
        os.close(slave)
        self.addCleanup(lambda: proc.poll() is None and os.killpg(proc.pid, signal.SIGKILL))
        out = b""
        sent = False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break  # the child closed the pty
                if not chunk:
                    break
                out += chunk
            if interrupt_after_first_action and not sent and b"shutting down" in out and b"..." in out:
                os.killpg(proc.pid, signal.SIGINT)
                sent = True
            if proc.poll() is not None and not ready:
                break
        os.close(master)
        return proc.wait(timeout=10), out

    def seed(self):
        return self.sim.seed_droplet(name="pdf-worker", size_slug=DOWN, status="active")["id"]

    def test_term_dumb_gets_no_escape_sequence(self):
        for term in ("dumb", None):
            with self.subTest(TERM=term):
                did = self.seed()
                code, out = self.run_in_pty(["droplet", "up", "--droplet", did], term)
                self.assertEqual(code, 0, out)
                self.assertIn(b"MB -> 16384 MB", out)
                self.assertNotIn(b"\x1b", out)

    def test_a_capable_terminal_gets_the_live_line(self):
        did = self.seed()
        code, out = self.run_in_pty(["droplet", "up", "--droplet", did], "xterm")
        self.assertEqual(code, 0, out)
        self.assertIn(b"\r\x1b[K", out)  # the control above: the redraw exists where it should

    def test_ctrl_c_message_starts_on_a_fresh_line(self):
        self.sim.configure(action_seconds=30)
        did = self.seed()
        code, out = self.run_in_pty(["droplet", "up", "--droplet", did], "xterm", interrupt_after_first_action=True)
        self.assertEqual(code, 130, out)
        at = out.index(b"scalectl: error: interrupted")
        before = out[:at]
        # The live line was erased (or ended) right before the message: it does not follow "... 2s".
        self.assertTrue(before.endswith(b"\r\x1b[K") or before.endswith(b"\n"), before[-80:])


if __name__ == "__main__":
    unittest.main()
