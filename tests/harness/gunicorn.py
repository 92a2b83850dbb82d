"""Run the real service under gunicorn on a free loopback port, for tests that kill it or run several.

Each server runs in its own session (process group), so ``kill()`` SIGKILLs the master and every worker at
once, by the group id of the process this harness started and nothing else.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import requests

from yurt.core.settings import PROJECT_ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def service_env(overrides: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YURT_", "GUNICORN_"))}
    env.update({"YURT_LOG_LEVEL": "WARNING", "YURT_RATE_LIMIT": "100000/minute", "PYTHONUNBUFFERED": "1"})
    env.update(overrides)
    return env


class GunicornServer:
    def __init__(self, env: Mapping[str, str], workdir: Path, workers: int = 1, *, metrics_dir: bool = True) -> None:
        """``metrics_dir=False``: no PROMETHEUS_MULTIPROC_DIR, so gunicorn.conf.py makes (and removes) its own."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._workdir = workdir
        own = {"PROMETHEUS_MULTIPROC_DIR": str(workdir / f"metrics-{self.port}")} if metrics_dir else {}
        self._env = service_env({**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}",
                                 "GUNICORN_WORKERS": str(workers), **own})
        if not metrics_dir:
            self._env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self._workers = workers
        self._log_offset = 0
        self._proc: subprocess.Popen[bytes] | None = None

    def workers_ready(self) -> int:
        """Workers that finished loading the app (gunicorn.conf.py's post_worker_init logs one line each)."""
        path = self._workdir / f"gunicorn-{self.port}.log"
        if not path.exists():
            return 0
        with path.open("rb") as log:
            log.seek(self._log_offset)
            return log.read().count(b"] worker ")

    def start(self, ready_timeout_s: float = 30.0, *, require_ready: bool = True) -> None:
        """Return once /readyz answers 200 and every worker has loaded the app (a fault injected while a
        worker still boots would test the boot, not the fault). ``require_ready=False``: once every worker has
        loaded the app and /healthz answers, whatever /readyz says (for starting with a dependency down)."""
        self.launch()
        self.wait_ready(ready_timeout_s, require_ready=require_ready)

    def launch(self) -> None:
        """Start gunicorn and return at once: several servers then boot side by side (``wait_ready`` each)."""
        if "PROMETHEUS_MULTIPROC_DIR" in self._env:
            Path(self._env["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
        log = (self._workdir / f"gunicorn-{self.port}.log").open("ab")
        self._log_offset = log.tell()  # this start's lines only: a restarted server appends to the same log
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=PROJECT_ROOT, env=self._env, stdout=log, stderr=log, start_new_session=True)
        log.close()

    def wait_ready(self, ready_timeout_s: float = 30.0, *, require_ready: bool = True) -> None:
        """See ``start``."""
        assert self._proc is not None, "launch() first"
        deadline = time.monotonic() + ready_timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self._proc.returncode}: {self.log_tail()}")
            try:
                probe = "/readyz" if require_ready else "/healthz"
                if (requests.get(self.url + probe, timeout=1).status_code == 200
                        and self.workers_ready() >= self._workers):
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"gunicorn did not become ready: {self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL the master and all workers at once (its own process group)."""
        if self._proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._proc.pid, signal.SIGKILL)
        self._proc.wait(timeout=10)
        self._proc = None

    def stop(self, timeout_s: float = 20.0) -> int:
        """SIGTERM the master only (gunicorn's graceful stop, which runs its on_exit hook); its exit code."""
        assert self._proc is not None
        self._proc.send_signal(signal.SIGTERM)
        code = self._proc.wait(timeout=timeout_s)
        self._proc = None
        return code

    def log_tail(self) -> str:
        path = self._workdir / f"gunicorn-{self.port}.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""
