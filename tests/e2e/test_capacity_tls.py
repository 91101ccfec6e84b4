"""End to end over TLS: the capacity suite of test_capacity.py against redis-server on TLS only
(ACL user with a password in a rediss:// URL, CA made by openssl in set-up) and against
valkey-server 8 on TLS only with mutual TLS; then the TLS failures, each one line and exit 1."""

import os
import shutil
import unittest

from support.redis_tls import ACL_PASSWORD, TlsMaterial, start_tls_redis
from test_capacity import CapacityCase, CapacityTests, RedisBackend


class TlsRedisBackend(RedisBackend):
    backend = "redis"
    server = "redis-server"
    mutual = False

    def start_backend(self):
        self.pki = TlsMaterial(self.tmp)
        self.redis = start_tls_redis(self.tmp, self.pki, server=self.server, mutual=self.mutual)
        self.addCleanup(self.redis.stop)

    def backend_env(self):
        return self.redis.scalectl_env()


class ValkeyTlsBackend(TlsRedisBackend):
    server = "valkey-server"
    mutual = True


class TlsRedisCapacityTests(CapacityTests, TlsRedisBackend, CapacityCase):
    pass


@unittest.skipUnless(shutil.which("valkey-server"), "valkey-server not installed (bookworm-backports)")
class ValkeyTlsCapacityTests(CapacityTests, ValkeyTlsBackend, CapacityCase):
    pass


class TlsFailureTests(TlsRedisBackend, CapacityCase):
    """Every verification failure is one error line and exit 1, and never shows the password."""

    def assertTlsFailure(self, r, *words):
        self.assertExit(r, 1)
        line = self.assertOneErrorLine(r)
        for word in words:
            self.assertIn(word, line)
        self.assertNotIn(ACL_PASSWORD, r.stderr + r.stdout)
        return line

    def test_the_pasted_url_with_the_right_ca_works(self):
        self.ok("allocate", "unit", "--id", "w1")
        self.assertEqual(self.redis.cli("HEXISTS", "server:workers", "w1"), "1")

    def test_openssl_is_loaded_only_for_rediss(self):
        # LD_DEBUG=libs makes the dynamic loader list every library it loads, dlopen() included.
        version = self.scalectl("--version", LD_DEBUG="libs")
        self.assertExit(version, 0)
        self.assertNotIn("libssl.so.3", version.stderr)
        self.assertNotIn("libcrypto.so.3", version.stderr)
        status = self.cap("status", LD_DEBUG="libs")
        self.assertExit(status, 0)
        self.assertIn("libssl.so.3", status.stderr)

    def test_wrong_ca(self):
        r = self.cap("status", SCALECTL_STATE_REDIS_CA_FILE=self.pki.crt("other_ca"))
        self.assertTlsFailure(r, "not signed by a trusted CA", "state.redis_ca_file")

    def test_system_store_does_not_trust_a_private_ca(self):
        r = self.cap("status", SCALECTL_STATE_REDIS_CA_FILE="")
        self.assertTlsFailure(r, "not signed by a trusted CA")

    def test_expired_certificate(self):
        # The certificates are valid for 2 days; libfaketime moves scalectl's clock 10 days on.
        lib = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
        if not os.path.exists(lib):
            self.skipTest("faketime not installed")
        r = self.cap("status", LD_PRELOAD=lib, FAKETIME="+10d", FAKETIME_DONT_FAKE_MONOTONIC="1")
        self.assertTlsFailure(r, "has expired")

    def test_host_name_mismatch(self):
        self.redis.stop()
        self.redis = start_tls_redis(self.tmp, self.pki, cert="wrong_host")
        self.addCleanup(self.redis.stop)
        r = self.cap("status")
        self.assertTlsFailure(r, "not valid for the host name \"localhost\"")

    def test_plaintext_server_behind_rediss(self):
        from support.fixtures import start_redis
        plain = start_redis(self.tmp)
        self.addCleanup(plain.stop)
        r = self.cap("status", SCALECTL_REDIS_URL="rediss://localhost:%d/0" % plain.port)
        self.assertTlsFailure(r, "does not speak TLS")

    def test_client_certificate_required_but_missing(self):
        self.redis.stop()
        self.redis = start_tls_redis(self.tmp, self.pki, mutual=True)
        self.addCleanup(self.redis.stop)
        r = self.cap("status", SCALECTL_STATE_REDIS_CERT_FILE="", SCALECTL_STATE_REDIS_KEY_FILE="")
        self.assertExit(r, 1)
        self.assertOneErrorLine(r)

    def test_no_key_turns_verification_off(self):
        for key in ("tls_verify", "redis_tls_verify", "redis_insecure", "redis_tls_insecure"):
            with self.subTest(key=key):
                self.config.write_text(self.config.read_text() + "\n[state]\n%s = false\n" % key)
                r = self.cap("status")
                self.assertExit(r, 2)
                self.write_config()

    def test_config_file_with_a_password_in_the_url_must_be_private(self):
        self.config.write_text(self.config.read_text() + '\n[state]\nredis_url = "%s"\n' % self.redis.url)
        os.chmod(self.config, 0o644)
        r = self.scalectl("capacity", "status", SCALECTL_REDIS_URL="")
        self.assertExit(r, 2)
        line = self.assertOneErrorLine(r)
        self.assertIn("too open", line)
        self.assertIn("state.redis_url", line)
        self.assertNotIn(ACL_PASSWORD, r.stderr)
        os.chmod(self.config, 0o600)
        r = self.scalectl("capacity", "status", SCALECTL_REDIS_URL="")
        self.assertExit(r, 0)


if __name__ == "__main__":
    unittest.main()
