"""A real 3-master Redis Cluster on loopback ports, for tests and benchmarks.

Each node is a ``redis-server --cluster-enabled yes`` without persistence in its own temporary directory; the
slots are assigned with ``redis-cli --cluster create ... --cluster-replicas 0`` (Redis manual, "Scale with
Redis Cluster"), and the harness waits for ``cluster_state:ok`` on every node before handing out the URL.
Stopping sends SHUTDOWN NOSAVE to each node and removes the directory.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis

START_TIMEOUT_S = 20.0


def free_ports(count: int) -> list[int]:
    """Distinct free loopback ports. A cluster node also listens on port + 10000 (its bus), so both must be free."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port + 10000 > 65535 or port in ports:
            continue
        with socket.socket() as bus:
            try:
                bus.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        ports.append(port)
    return ports


@dataclass
class RedisCluster:
    ports: list[int]
    workdir: Path
    started: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The seed URL a client starts from: any node; the client discovers the others with CLUSTER SLOTS."""
        return f"redis://127.0.0.1:{self.ports[0]}"

    def node(self, port: int) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)

    def start(self) -> None:
        for port in self.ports:
            subprocess.run(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                 "--cluster-config-file", f"nodes-{port}.conf", "--appendonly", "no", "--save", "",
                 "--dir", str(self.workdir), "--daemonize", "yes", "--logfile", f"redis-{port}.log",
                 "--pidfile", str(self.workdir / f"redis-{port}.pid")],
                check=True, capture_output=True)
            self.started.append(port)
        for port in self.ports:
            self._wait(lambda p=port: self._answers(p), f"node {port} answers PING")
        subprocess.run(
            ["redis-cli", "--cluster", "create", *(f"127.0.0.1:{p}" for p in self.ports),
             "--cluster-replicas", "0", "--cluster-yes"],
            check=True, capture_output=True, timeout=START_TIMEOUT_S)
        for port in self.ports:
            self._wait(lambda p=port: self._cluster_ok(p), f"node {port} reports cluster_state:ok")

    def _answers(self, port: int) -> bool:
        client = self.node(port)
        try:
            return bool(client.ping())
        finally:
            client.close()

    def _cluster_ok(self, port: int) -> bool:
        client = self.node(port)
        try:
            info = client.execute_command("CLUSTER INFO")  # type: ignore[no-untyped-call]  # parsed to a dict
            return bool(info.get("cluster_state") == "ok")
        finally:
            client.close()

    @staticmethod
    def _wait(check: object, what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                if callable(check) and check():
                    return
            except redis.RedisError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis cluster: timed out waiting until {what}")
            time.sleep(0.05)  # polling a subprocess that is starting, not a test waiting on a clock

    def flush(self) -> None:
        """Empty every master: FLUSHALL acts on one node only, so each gets its own."""
        for port in self.ports:
            client = self.node(port)
            client.flushall()
            client.close()

    def stop_node(self, port: int) -> None:
        """Stop one node (a master failing); the others keep running."""
        self._terminate([port])

    def stop(self) -> None:
        self._terminate(list(self.started))
        self.started.clear()

    def _terminate(self, ports: list[int]) -> None:
        """SIGTERM every node we started (by its pid file), then wait for all to exit; nothing is saved."""
        pids = []
        for port in ports:
            try:
                pid = int((self.workdir / f"redis-{port}.pid").read_text())
                os.kill(pid, signal.SIGTERM)
                pids.append(pid)
            except (OSError, ValueError):
                continue
        deadline = time.monotonic() + START_TIMEOUT_S
        while pids and time.monotonic() < deadline:
            pids = [pid for pid in pids if _alive(pid)]
            time.sleep(0.02)  # waiting for processes to exit


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


@contextmanager
def running_cluster(masters: int = 3) -> Iterator[RedisCluster]:
    workdir = Path(tempfile.mkdtemp(prefix="yurt-cluster-"))
    cluster = RedisCluster(free_ports(masters), workdir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)
