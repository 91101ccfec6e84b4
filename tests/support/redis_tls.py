"""TLS Redis servers for tests: a CA and certificates made with `openssl` in test set-up, and
redis-server / valkey-server listening on TLS only (--port 0 --tls-port P) with an ACL user.

Everything binds 127.0.0.1. Certificates are valid for two days, so running a client under
`faketime +10d` sees an expired certificate."""

import shutil
import subprocess
from pathlib import Path

from support.fixtures import (LOOPBACK, FixtureError, RedisProcess, _ManagedProcess, _next_name, _wait,
                              free_port)

ACL_USER = "scalectl"
ACL_PASSWORD = "tls-s3cret-pw"


def _openssl(*args, cwd):
    result = subprocess.run(["openssl"] + [str(a) for a in args], cwd=cwd, stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise FixtureError("openssl %s failed: %s" % (" ".join(map(str, args)), result.stderr.strip()))


def _ca(directory, name):
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "%s.key" % name,
             "-out", "%s.crt" % name, "-days", "2", "-subj", "/CN=scalectl test %s" % name,
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
             cwd=directory)


def _leaf(directory, name, ca, san, client=False):
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "%s.key" % name, "-out", "%s.csr" % name,
             "-subj", "/CN=%s" % name, cwd=directory)
    ext = Path(directory) / ("%s.ext" % name)
    usage = "clientAuth" if client else "serverAuth"
    ext.write_text("basicConstraints=CA:FALSE\nextendedKeyUsage=%s\n%s" % (
        usage, ("subjectAltName=%s\n" % san) if san else ""))
    _openssl("x509", "-req", "-in", "%s.csr" % name, "-CA", "%s.crt" % ca, "-CAkey", "%s.key" % ca,
             "-CAcreateserial", "-out", "%s.crt" % name, "-days", "2", "-extfile", ext.name, cwd=directory)


class TlsMaterial:
    """Paths of the test PKI: ca (trusted), other_ca (not), server (localhost + 127.0.0.1),
    wrong_host (other.invalid only), client (for mutual TLS)."""

    def __init__(self, tmpdir):
        if not shutil.which("openssl"):
            raise FixtureError("openssl not found (Debian: apt-get install -y openssl)")
        self.dir = Path(tmpdir) / "pki"
        self.dir.mkdir()
        _ca(self.dir, "ca")
        _ca(self.dir, "other_ca")
        _leaf(self.dir, "server", "ca", "DNS:localhost,IP:127.0.0.1")
        _leaf(self.dir, "wrong_host", "ca", "DNS:other.invalid")
        _leaf(self.dir, "client", "ca", None, client=True)
        for path in self.dir.iterdir():
            path.chmod(0o600)

    def crt(self, name):
        return str(self.dir / ("%s.crt" % name))

    def key(self, name):
        return str(self.dir / ("%s.key" % name))


class TlsRedisProcess(RedisProcess):
    """A TLS-only server. `url` is rediss://scalectl:PASSWORD@localhost:PORT/0; cli() uses redis-cli --tls."""

    def __init__(self, process, port, pki, mutual):
        super().__init__(process, port)
        self.pki = pki
        self.mutual = mutual
        self.url = "rediss://%s:%s@localhost:%d/0" % (ACL_USER, ACL_PASSWORD, port)

    def cli_args(self):
        args = ["redis-cli", "--tls", "--cacert", self.pki.crt("ca"), "-h", LOOPBACK, "-p", str(self.port),
                "--user", ACL_USER, "--pass", ACL_PASSWORD, "--no-auth-warning"]
        if self.mutual:
            args += ["--cert", self.pki.crt("client"), "--key", self.pki.key("client")]
        return args

    def cli(self, *args, timeout=10):
        result = subprocess.run(self.cli_args() + [str(a) for a in args], stdin=subprocess.DEVNULL,
                                capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise FixtureError("redis-cli --tls %s failed (%d): %s" % (
                " ".join(map(str, args)), result.returncode, result.stderr.strip()))
        return result.stdout.strip()

    def scalectl_env(self):
        """What scalectl needs to reach this server (the password travels inside the URL)."""
        env = {"SCALECTL_REDIS_URL": self.url, "SCALECTL_STATE_REDIS_CA_FILE": self.pki.crt("ca")}
        if self.mutual:
            env["SCALECTL_STATE_REDIS_CERT_FILE"] = self.pki.crt("client")
            env["SCALECTL_STATE_REDIS_KEY_FILE"] = self.pki.key("client")
        return env


def start_tls_redis(tmpdir, pki, server="redis-server", mutual=False, cert="server", timeout=15.0):
    """Start `server` (redis-server or valkey-server) on TLS only, with ACL user scalectl and the
    default user disabled; `mutual` requires client certificates; `cert` names the server's leaf."""
    if not shutil.which(server):
        raise FixtureError("%s not found (Debian: apt-get install -y %s)" % (server, server))
    tmpdir = Path(tmpdir)
    last_error = None
    for _ in range(3):
        name = _next_name(server)
        data_dir = tmpdir / name
        data_dir.mkdir()
        port = free_port()
        process = _ManagedProcess(name, [
            server, "--port", "0", "--tls-port", port, "--bind", LOOPBACK, "--save", "",
            "--appendonly", "no", "--dir", data_dir, "--daemonize", "no",
            "--tls-cert-file", pki.crt(cert), "--tls-key-file", pki.key(cert),
            "--tls-ca-cert-file", pki.crt("ca"), "--tls-auth-clients", "yes" if mutual else "no",
            "--tls-protocols", "TLSv1.2 TLSv1.3",
            # one argument per word: redis joins them into the config line "user NAME on >PW ...".
            "--user", ACL_USER, "on", ">" + ACL_PASSWORD, "~*", "&*", "+@all", "--user", "default", "off",
        ], tmpdir / ("%s.log" % name))
        redis = TlsRedisProcess(process, port, pki, mutual)

        def ready():
            try:
                return redis.cli("ping", timeout=2) == "PONG"
            except (FixtureError, subprocess.TimeoutExpired):
                return False
        try:
            _wait(ready, timeout, "answer PING over TLS", process)
            return redis
        except FixtureError as exc:
            process.stop()
            last_error = exc
    raise last_error
