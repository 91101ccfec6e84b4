"""doctl's config.yaml contexts: scalectl uses the token of doctl's current context (or of
--context / DIGITALOCEAN_CONTEXT), and `config show` names the source, never the token.

The simulator accepts exactly one bearer token per case, so a successful call proves which
token the API saw; a wrong choice is a 401."""

import unittest

from e2e_base import DOWN, ScalectlTestCase

DOCTL_YAML = """access-token: tok-top-level
auth-contexts:
  work: tok-work
  personal: "tok-personal"
context: work
output: text
"""


class DoctlContextTests(ScalectlTestCase):

    def setUp(self):
        super().setUp()
        self.doctl = self.home / ".config" / "doctl" / "config.yaml"
        self.doctl.parent.mkdir(parents=True)
        self.did = self.sim.seed_droplet(name="pdf-worker", size_slug=DOWN, status="active")["id"]

    def env(self, **extra):
        env = super().env(**extra)
        env.pop("DIGITALOCEAN_TOKEN", None)  # only doctl's file holds tokens here
        return env

    def accept_only(self, token):
        self.sim.configure(token=token)

    def status(self, *args, **extra_env):
        return self.scalectl("droplet", "status", "--droplet", self.did, "-o", "json", *args, **extra_env)

    def test_current_context_token_is_used_not_the_top_level_one(self):
        self.doctl.write_text(DOCTL_YAML)
        self.doctl.chmod(0o600)
        self.accept_only("tok-top-level")
        self.assertExit(self.status(), 1)  # scalectl did not send the top-level token
        self.accept_only("tok-work")
        self.assertExit(self.status(), 0)
        r = self.scalectl("config", "show")
        self.assertExit(r, 0)
        self.assertIn("digitalocean.token_source = doctl config %s (context work)" % self.doctl, r.stdout)
        self.assertNotIn("tok-", r.stdout + r.stderr)

    def test_only_named_contexts(self):
        self.doctl.write_text("auth-contexts:\n  work: tok-work\n  ci: tok-ci\ncontext: ci\n")
        self.accept_only("tok-ci")
        self.assertExit(self.status(), 0)
        self.doctl.write_text("auth-contexts:\n  work: tok-work\n  ci: tok-ci\n")
        r = self.status()
        self.assertExit(r, 2)
        line = self.assertOneErrorLine(r)
        self.assertIn("only named contexts (ci, work)", line)
        self.assertNotIn("tok-", r.stdout + r.stderr)

    def test_flag_and_env_override_the_current_context(self):
        self.doctl.write_text(DOCTL_YAML)
        self.accept_only("tok-personal")
        self.assertExit(self.status("--context", "personal"), 0)
        self.assertExit(self.status(DIGITALOCEAN_CONTEXT="personal"), 0)
        # An explicit context beats a token variable: the operator named the account.
        self.assertExit(self.status(DIGITALOCEAN_CONTEXT="personal", DIGITALOCEAN_TOKEN="tok-env"), 0)
        self.accept_only("tok-top-level")
        self.assertExit(self.status("--context", "default", DIGITALOCEAN_CONTEXT="personal"), 0)
        r = self.scalectl("config", "show", "--context", "personal")
        self.assertIn("(context personal)", r.stdout)
        r = self.status("--context", "staging")
        self.assertExit(r, 2)
        self.assertIn("doctl context 'staging' is not in", self.assertOneErrorLine(r))


if __name__ == "__main__":
    unittest.main()
