"""End to end: the packages `make package` builds. cpack runs on the already-built tree into a
scratch directory; the .deb is inspected (dpkg-deb -c/-I), checked with lintian, installed with
dpkg -i, used (scalectl --version, man -w, completions, systemd-analyze verify), then removed
and purged. As root only (skipped otherwise); the system is left as it was found."""

import glob
import os
import re
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

from support.fixtures import scalectl_path

CPACK_TIMEOUT = 600
DPKG_TIMEOUT = 300

INSTALLED_FILES = [
    "/usr/bin/scalectl",
    "/usr/lib/scalectl/scalectl-http.so",  # autoscale run --listen, dlopen()ed
    "/usr/share/man/man1/scalectl.1.gz",
    "/usr/share/bash-completion/completions/scalectl",
    "/usr/share/zsh/vendor-completions/_scalectl",
    "/usr/share/fish/vendor_completions.d/scalectl.fish",
    "/usr/share/doc/scalectl/copyright",
    "/usr/share/doc/scalectl/changelog.gz",
    "/usr/share/doc/scalectl/examples/config.example.toml",
    "/usr/share/doc/scalectl/examples/github-actions.yml",
    "/usr/share/doc/scalectl/examples/gitlab-ci.yml",
    "/usr/lib/systemd/system/scalectl-autoscale@.service",
    "/usr/lib/systemd/system/scalectl-autoscale@.timer",
    "/usr/lib/systemd/system/scalectl-droplet-down.service",
    "/usr/lib/systemd/system/scalectl-droplet-down.timer",
    "/usr/lib/sysusers.d/scalectl.conf",
]


def run(args, timeout=120, check=True, **kw):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL, **kw)
    if check and r.returncode != 0:
        raise AssertionError("%s exited %d\nstdout:\n%s\nstderr:\n%s"
                             % (" ".join(map(str, args)), r.returncode, r.stdout, r.stderr))
    return r


def cpack(generator, outdir):
    """Package the built tree with one CPack generator into `outdir`; return the package path."""
    config = scalectl_path().parent / "CPackConfig.cmake"
    run(["cpack", "--config", config, "-G", generator, "-B", outdir], timeout=CPACK_TIMEOUT, cwd=outdir)
    pattern = {"DEB": "*.deb", "RPM": "*.rpm", "TGZ": "*.tar.gz"}[generator]
    found = glob.glob(os.path.join(outdir, pattern))
    if len(found) != 1:
        raise AssertionError("cpack -G %s made %s in %s" % (generator, found, outdir))
    return found[0]


def binary_version():
    return run([scalectl_path(), "--version"]).stdout.split()[-1]


def user_exists(name):
    return subprocess.run(["getent", "passwd", name], capture_output=True).returncode == 0


def group_exists(name):
    return subprocess.run(["getent", "group", name], capture_output=True).returncode == 0


def dpkg_status(package):
    r = subprocess.run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", package], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else ""


@unittest.skipUnless(shutil.which("cpack") and shutil.which("dpkg-deb"), "cpack or dpkg-deb is not installed")
@unittest.skipUnless((scalectl_path().parent / "CPackConfig.cmake").is_file(),
                     "no CPackConfig.cmake next to the scalectl binary (not a CMake build tree)")
class DebPackageTests(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="scalectl-package-"))
        cls.deb = cpack("DEB", cls.tmp)
        cls.version = binary_version()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def field(self, name):
        return run(["dpkg-deb", "-f", self.deb, name]).stdout.strip()

    def test_contents_and_layout(self):
        listing = run(["dpkg-deb", "-c", self.deb]).stdout
        entries = {}
        for line in listing.splitlines():
            parts = line.split(None, 5)
            entries[parts[5].lstrip(".").rstrip("/") or "/"] = (parts[0], parts[1])
        for path in INSTALLED_FILES:
            with self.subTest(path=path):
                self.assertIn(path, entries)
        self.assertEqual(entries["/usr/bin/scalectl"], ("-rwxr-xr-x", "root/root"))
        for path, (mode, owner) in entries.items():
            with self.subTest(path=path):
                self.assertEqual(owner, "root/root")
                self.assertTrue(path in ("/", "/usr") or path.startswith("/usr/"), path)
                if mode.startswith("-") and path != "/usr/bin/scalectl":
                    self.assertEqual(mode, "-rw-r--r--")
        self.assertNotIn("/usr/share/man/man1/scalectl.1", entries)  # compressed only
        self.assertFalse(any("/usr/local" in p or "CPack" in p for p in entries), entries)

    def test_control_fields(self):
        info = run(["dpkg-deb", "-I", self.deb]).stdout
        self.assertRegex(info, r"\bpostinst\b")
        self.assertRegex(info, r"\bpostrm\b")
        self.assertRegex(info, r"\bmd5sums\b")
        self.assertEqual(self.field("Package"), "scalectl")
        self.assertEqual(self.field("Version"), self.version)
        self.assertEqual(self.field("Architecture"), run(["dpkg", "--print-architecture"]).stdout.strip())
        self.assertEqual(self.field("Section"), "admin")
        depends = [d.strip() for d in self.field("Depends").split(",")]
        names = {re.match(r"[a-z0-9.+-]+", d).group(0) for d in depends}
        for runtime in ("libcurl4", "libssl3", "libhiredis0.14", "libfmt9", "libstdc++6", "libc6"):
            with self.subTest(depends=runtime):
                self.assertIn(runtime, names)
        self.assertFalse([n for n in names if n.endswith("-dev") or n in ("cmake", "g++", "doctest-dev")],
                         depends)
        description = self.field("Description").splitlines()
        self.assertTrue(all(len(line) <= 80 for line in description), description)

    def test_man_page_is_gzip_and_renders(self):
        root = self.tmp / "extract"
        run(["dpkg-deb", "-x", self.deb, root])
        man = root / "usr/share/man/man1/scalectl.1.gz"
        run(["gzip", "-t", man])
        if shutil.which("groff"):
            text = run(["gzip", "-dc", man]).stdout
            r = subprocess.run(["groff", "-man", "-ww", "-z"], input=text, capture_output=True, text=True,
                               timeout=60)
            self.assertEqual((r.returncode, r.stderr), (0, ""))
        for completion in ("usr/share/bash-completion/completions/scalectl",
                           "usr/share/zsh/vendor-completions/_scalectl",
                           "usr/share/fish/vendor_completions.d/scalectl.fish"):
            with self.subTest(completion=completion):
                self.assertIn("droplet", (root / completion).read_text())

    @unittest.skipUnless(shutil.which("lintian"), "lintian is not installed (apt-get install lintian)")
    def test_lintian_finds_no_errors_or_warnings(self):
        r = run(["lintian", "--fail-on", "error,warning", "--pedantic", "--no-tag-display-limit", self.deb],
                timeout=CPACK_TIMEOUT, check=False)
        tags = [l for l in r.stdout.splitlines() if re.match(r"^[EWIP]: ", l)]
        self.assertEqual(r.returncode, 0, "\n".join(tags) + r.stderr)
        self.assertEqual([t for t in tags if t[0] in "EW"], [])

    @unittest.skipUnless(hasattr(os, "geteuid") and os.geteuid() == 0, "dpkg -i needs root")
    def test_install_use_and_remove(self):
        if dpkg_status("scalectl"):
            self.skipTest("a scalectl package is already known to dpkg (%s); not touching it"
                          % dpkg_status("scalectl"))
        present = [p for p in INSTALLED_FILES if os.path.lexists(p)]
        if present:
            self.skipTest("files the package would install already exist: %s" % present)
        had_user, had_group = user_exists("scalectl"), group_exists("scalectl")
        self.addCleanup(self.restore, had_user, had_group)

        r = run(["dpkg", "-i", self.deb], timeout=DPKG_TIMEOUT, check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(dpkg_status("scalectl"), "ii")
        for path in INSTALLED_FILES:
            with self.subTest(path=path):
                self.assertTrue(os.path.isfile(path))

        r = run(["/usr/bin/scalectl", "--version"], env={"PATH": "/usr/bin:/bin"})
        self.assertEqual(r.stdout.strip(), "scalectl %s" % self.version)
        if shutil.which("man"):
            r = run(["man", "-w", "scalectl"], env={"PATH": "/usr/bin:/bin", "MANPATH": "/usr/share/man"})
            self.assertEqual(r.stdout.strip(), "/usr/share/man/man1/scalectl.1.gz")
        r = run(["bash", "-c", "source /usr/share/bash-completion/completions/scalectl && complete -p scalectl"])
        self.assertIn("scalectl", r.stdout)
        self.assertTrue(user_exists("scalectl"), "postinst did not create the scalectl user")

        if shutil.which("systemd-analyze"):
            units = ["/usr/lib/systemd/system/scalectl-droplet-down.service",
                     "/usr/lib/systemd/system/scalectl-droplet-down.timer",
                     "/usr/lib/systemd/system/scalectl-autoscale@.timer"]
            r = run(["systemd-analyze", "verify"] + units, check=False, timeout=120)
            self.assertEqual((r.returncode, r.stderr.strip()), (0, ""), r.stdout)

        r = run(["dpkg", "-r", "scalectl"], timeout=DPKG_TIMEOUT, check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        left = [p for p in INSTALLED_FILES if os.path.lexists(p)]
        self.assertEqual(left, [])
        self.assertFalse(os.path.exists("/usr/share/doc/scalectl"))
        r = run(["dpkg", "--purge", "scalectl"], timeout=DPKG_TIMEOUT, check=False)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(dpkg_status("scalectl"), "")

    @staticmethod
    def restore(had_user, had_group):
        if dpkg_status("scalectl"):
            subprocess.run(["dpkg", "--purge", "scalectl"], capture_output=True, timeout=DPKG_TIMEOUT)
        # Debian keeps system users on purge; the test removes the one it caused.
        if not had_user and user_exists("scalectl"):
            subprocess.run(["userdel", "scalectl"], capture_output=True, timeout=60)
        if not had_group and group_exists("scalectl"):
            subprocess.run(["groupdel", "scalectl"], capture_output=True, timeout=60)


@unittest.skipUnless(shutil.which("cpack"), "cpack is not installed")
@unittest.skipUnless((scalectl_path().parent / "CPackConfig.cmake").is_file(), "not a CMake build tree")
class OtherPackageTests(unittest.TestCase):

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="scalectl-package-"))
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def test_tarball_has_the_same_layout(self):
        tgz = cpack("TGZ", self.tmp)
        names = run(["tar", "tzf", tgz]).stdout.splitlines()
        top = {n.split("/")[0] for n in names}
        self.assertEqual(len(top), 1)
        paths = {"/" + n.split("/", 1)[1].rstrip("/") for n in names if "/" in n}
        for path in INSTALLED_FILES:
            with self.subTest(path=path):
                self.assertIn(path, paths)

    @unittest.skipUnless(shutil.which("rpmbuild") and shutil.which("rpm"),
                         "rpmbuild is not installed (Debian: apt-get install rpm)")
    def test_rpm_lists_files_requires_and_scripts(self):
        rpm = cpack("RPM", self.tmp)
        files = run(["rpm", "-qpl", rpm]).stdout.splitlines()
        for path in INSTALLED_FILES:
            with self.subTest(path=path):
                self.assertIn(path, files)
        # Directories owned by the filesystem/systemd/man packages must not be claimed.
        for shared in ("/usr/lib/systemd/system", "/usr/share/man/man1", "/usr/bin"):
            self.assertNotIn(shared, files)
        requires = run(["rpm", "-qpR", rpm]).stdout
        self.assertIn("libcurl", requires)
        self.assertIn("libhiredis.so.0.14", requires)
        self.assertIn("libfmt.so.9", requires)
        scripts = run(["rpm", "-qp", "--scripts", rpm]).stdout
        self.assertIn("systemd-sysusers", scripts)
        version = run(["rpm", "-qp", "--qf", "%{VERSION}", rpm]).stdout
        self.assertEqual(version, binary_version())


if __name__ == "__main__":
    unittest.main()
