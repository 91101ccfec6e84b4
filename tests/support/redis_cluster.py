"""A throwaway 3-master Redis Cluster on loopback for the end-to-end tests (standard library only).

    cluster = start_redis_cluster(tmp); self.addCleanup(cluster.stop)
    slot = cluster.keyslot("{server}")
    owner = cluster.owner_of(slot)           # a ClusterNode
    other = cluster.not_owning(slot)         # point scalectl here: every first command is MOVED
    cluster.move_slot(slot, owner, target)   # IMPORTING/MIGRATING, MIGRATE, SETSLOT NODE

Three `redis-server --cluster-enabled yes` processes (no persistence) joined with
`redis-cli --cluster create ... --cluster-replicas 0 --cluster-yes`; every wait is bounded.
"""

import shutil
import subprocess
import time
from pathlib import Path

from support.fixtures import (LOOPBACK, FixtureError, _ManagedProcess, _next_name, _wait, free_port)


class ClusterNode:
    """One cluster node: its port, id and redis-cli."""

    def __init__(self, process, port):
        self._process = process
        self.port = port
        self.url = "redis://%s:%d/0" % (LOOPBACK, port)
        self.node_id = None

    def cli(self, *args, timeout=10):
        """Run redis-cli (without -c: redirects are returned, not followed); return stdout, stripped."""
        result = subprocess.run(
            ["redis-cli", "-h", LOOPBACK, "-p", str(self.port)] + [str(a) for a in args],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise FixtureError("redis-cli -p %d %s failed (%d): %s" % (
                self.port, " ".join(map(str, args)), result.returncode, result.stderr.strip()))
        return result.stdout.strip()

    def command_calls(self, name):
        """How many times this node ran command `name` (INFO commandstats), 0 if never."""
        for line in self.cli("INFO", "commandstats").splitlines():
            if line.startswith("cmdstat_%s:" % name):
                return int(line.split("calls=", 1)[1].split(",", 1)[0])
        return 0

    def stop(self):
        self._process.stop()


class RedisCluster:
    """Three masters on loopback; `nodes` in port order."""

    def __init__(self, nodes):
        self.nodes = nodes

    def keyslot(self, key):
        return int(self.nodes[0].cli("CLUSTER", "KEYSLOT", key))

    def owner_of(self, slot):
        """The node that serves `slot` as node 0 sees the map."""
        for line in self.nodes[0].cli("CLUSTER", "NODES").splitlines():
            fields = line.split()
            for spec in fields[8:]:
                if spec.startswith("["):
                    continue
                low, _, high = spec.partition("-")
                if int(low) <= slot <= int(high or low):
                    return self.by_id(fields[0])
        raise FixtureError("no node serves slot %d" % slot)

    def not_owning(self, slot):
        return next(n for n in self.nodes if n is not self.owner_of(slot))

    def by_id(self, node_id):
        return next(n for n in self.nodes if n.node_id == node_id)

    def begin_move(self, slot, source, target):
        """Marks `slot` IMPORTING on target and MIGRATING on source, then MIGRATEs its keys:
        from here on the source answers -ASK for them."""
        assert target.cli("CLUSTER", "SETSLOT", slot, "IMPORTING", source.node_id) == "OK"
        assert source.cli("CLUSTER", "SETSLOT", slot, "MIGRATING", target.node_id) == "OK"
        for _ in range(100):
            keys = source.cli("CLUSTER", "GETKEYSINSLOT", slot, 1000).split()
            if not keys:
                return
            reply = source.cli("MIGRATE", LOOPBACK, target.port, "", 0, 5000, "KEYS", *keys)
            if reply not in ("OK", "NOKEY"):
                raise FixtureError("MIGRATE of slot %d failed: %s" % (slot, reply))
        raise FixtureError("slot %d kept getting new keys during MIGRATE" % slot)

    def end_move(self, slot, target):
        """Assigns `slot` to target on every node: from here on the others answer -MOVED."""
        for node in [target] + [n for n in self.nodes if n is not target]:
            assert node.cli("CLUSTER", "SETSLOT", slot, "NODE", target.node_id) == "OK"

    def move_slot(self, slot, source, target):
        self.begin_move(slot, source, target)
        self.end_move(slot, target)

    def stop(self):
        for node in self.nodes:
            node.stop()


def start_redis_cluster(tmpdir, timeout=30.0):
    """Start 3 cluster-enabled redis-servers on free loopback ports and create the cluster."""
    if not shutil.which("redis-server") or not shutil.which("redis-cli"):
        raise FixtureError("redis-server/redis-cli not found (Debian: apt-get install -y redis-server)")
    tmpdir = Path(tmpdir)
    nodes = []
    try:
        for _ in range(3):
            name = _next_name("cluster")
            data_dir = tmpdir / name
            data_dir.mkdir()
            port = free_port()
            while port > 55535:  # the cluster bus listens on port + 10000
                port = free_port()
            process = _ManagedProcess(name, [
                "redis-server", "--port", port, "--bind", LOOPBACK, "--save", "", "--appendonly", "no",
                "--dir", data_dir, "--daemonize", "no", "--cluster-enabled", "yes",
                "--cluster-config-file", data_dir / "nodes.conf", "--cluster-node-timeout", "5000",
            ], tmpdir / ("%s.log" % name))
            node = ClusterNode(process, port)
            nodes.append(node)

            def ready(node=node):
                try:
                    return node.cli("PING", timeout=2) == "PONG"
                except (FixtureError, subprocess.TimeoutExpired):
                    return False
            _wait(ready, timeout, "answer PING", process)
            node.node_id = node.cli("CLUSTER", "MYID")
        create = subprocess.run(
            ["redis-cli", "--cluster", "create"] + ["%s:%d" % (LOOPBACK, n.port) for n in nodes] +
            ["--cluster-replicas", "0", "--cluster-yes"],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
        if create.returncode != 0:
            raise FixtureError("redis-cli --cluster create failed: %s" % (create.stdout + create.stderr)[-2000:])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all("cluster_state:ok" in n.cli("CLUSTER", "INFO") for n in nodes):
                return RedisCluster(nodes)
            time.sleep(0.1)
        raise FixtureError("the cluster did not reach cluster_state:ok within %.0f s" % timeout)
    except BaseException:
        for node in nodes:
            node.stop()
        raise
