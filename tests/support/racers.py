"""Allocation races for the capacity end-to-end tests (standard library only).

`count` processes `scalectl capacity allocate TYPE --id w<i>` each block reading one line from
a FIFO, so the ones released start together: all at once (race_allocations) or in waves
(AllocationRace.release). Every racer still running when the race ends is killed.

    results = race_allocations(self.tmp, self.full_env(), 200, "unit")
    codes = [code for code, _, _ in results]
"""

import os
import signal
import subprocess
import time

from support.fixtures import scalectl_path


class AllocationRace:
    """A context manager: on entry the racers are started, blocked until release()."""

    def __init__(self, tmp, env, count, worker_type, timeout=240):
        self.count = count
        self.procs = []
        self._fifo = tmp / "start"
        self._type = worker_type
        self._timeout = timeout
        self._barrier = None
        self._deadline = None
        # Many TLS handshakes at once on a 2-core machine can take longer than the default 2s
        # connect timeout; the race is about admission, so give connecting room on every backend.
        self._env = dict(env, SCALECTL_STATE_REDIS_CONNECT_TIMEOUT="30s")

    def __enter__(self):
        os.mkfifo(self._fifo)
        self._barrier = os.open(self._fifo, os.O_RDWR)
        try:
            for i in range(self.count):
                self.procs.append(subprocess.Popen(
                    ["sh", "-c", 'read _ < "$0"; exec "$1" capacity allocate "$2" --id "w$3"',
                     str(self._fifo), str(scalectl_path()), self._type, str(i)],
                    env=self._env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    text=True, start_new_session=True))
        except BaseException:
            self.__exit__(None, None, None)
            raise
        self._deadline = time.monotonic() + self._timeout
        return self

    def release(self, n):
        """Lets `n` more racers go."""
        os.write(self._barrier, b"\n" * n)

    def wait_finished(self, n):
        """Waits (up to the race's deadline) until at least `n` racers have exited."""
        while sum(p.poll() is not None for p in self.procs) < n and time.monotonic() < self._deadline:
            time.sleep(0.005)

    def results(self):
        """Returns [(exit code, stdout, stderr)] of every racer, in --id order, once all exited."""
        results = []
        for proc in self.procs:
            out, err = proc.communicate(timeout=max(1, self._deadline - time.monotonic()))
            results.append((proc.returncode, out, err))
        return results

    def __exit__(self, *exc):
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        if self._barrier is not None:
            os.close(self._barrier)
            self._barrier = None
        return False


def race_allocations(tmp, env, count, worker_type, timeout=240):
    """Races `count` allocations of `worker_type`, all released at once; returns their results."""
    with AllocationRace(tmp, env, count, worker_type, timeout) as race:
        race.release(count)
        return race.results()
