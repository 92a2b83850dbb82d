"""A redis-server the test owns, on a fixed loopback port, that can be stopped, restarted and paused.

For fault tests: ``stop()`` ends it gracefully (its append-only file is flushed, so ``start()`` on the same
port brings the data back, as a production Redis with persistence would), ``pause()``/``resume()`` send
SIGSTOP/SIGCONT to its process only (the kernel still accepts connections, nothing answers: a hung Redis).
Also: the worker pids of a gunicorn master, read from /proc (no process-name matching).
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import time
from pathlib import Path

import redis

from tests.harness.gunicorn import free_port


class RedisProcess:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = workdir / f"redis-{self.port}"
        self._dir.mkdir(parents=True, exist_ok=True)
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, ready_timeout_s: float = 10.0) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is required (scripts/test.sh installs it)"
        self._proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self._dir),
             "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        client = redis.Redis.from_url(self.url, socket_timeout=0.5)
        try:
            deadline = time.monotonic() + ready_timeout_s
            while time.monotonic() < deadline:
                with contextlib.suppress(redis.RedisError):
                    if client.ping():
                        return
                time.sleep(0.02)
        finally:
            client.close()
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def stop(self) -> None:
        """SIGTERM: Redis flushes its append-only file and exits; the port is free again."""
        if self._proc is None:
            return
        self._proc.send_signal(signal.SIGCONT)  # a paused server cannot handle SIGTERM
        self._proc.terminate()
        self._proc.wait(timeout=10)
        self._proc = None

    def pause(self) -> None:
        assert self._proc is not None
        self._proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self._proc is not None
        self._proc.send_signal(signal.SIGCONT)


def worker_pids(master_pid: int) -> list[int]:
    """The gunicorn master's child processes (its workers), from /proc."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    return [int(pid) for pid in children.read_text().split()]
