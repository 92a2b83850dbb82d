"""Gunicorn settings, from the environment only; no application logic here.

GUNICORN_BIND (default 127.0.0.1:8000), GUNICORN_WORKERS (default 1: the embedded default is one process),
GUNICORN_THREADS (default 1), GUNICORN_PRELOAD_APP (default false). Gunicorn's access log stays off: it would
print raw query strings, which carry coordinates; the app writes its own access log with them redacted.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "1"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# gunicorn's sync / gthread workers, except that the errors gunicorn answers itself before the app sees a request
# (414, 431, malformed request lines and headers) are problem+json like every other error
# (yurt/core/http/gunicorn_worker.py).
# Set GUNICORN_THREADS, not --threads on the command line: given --threads, gunicorn swaps any *SyncWorker for its
# plain gthread worker, whose errors are HTML again. Gunicorn's default request limits stand (request line 4094
# bytes, 100 header fields of 8190 bytes each): the API's URLs and bearer tokens are far below them.
worker_class = "yurt.core.http.gunicorn_worker." + ("ProblemThreadWorker" if threads > 1 else "ProblemSyncWorker")
# The folder of this file, so the worker class loads whatever the working directory (bench/ serves its
# hello-world baseline with this file from bench/).
pythonpath = os.path.dirname(os.path.abspath(__file__))
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
timeout = 30
graceful_timeout = 10
keepalive = 5

def _flag(name: str, default: str) -> bool:
    value = os.environ.get(name, default).strip().lower()
    if value not in {"true", "false"}:
        raise SystemExit(f"{name} must be true or false, not {value!r}")
    return value == "true"


# GUNICORN_PRELOAD_APP (default false): load the app in the master before forking. Measured with
# bench/bench_perf.py (README "Benchmarks", memory): each worker's proportional set 154-155 MB without it, 74-77
# MB with it (the master 23-24 MB without, 78-80 MB with). Off until what the app starts at creation (threads,
# sockets) is shown safe across the fork (README "Benchmarks", memory).
preload_app = _flag("GUNICORN_PRELOAD_APP", "false")

# Prometheus multiprocess mode: each worker writes samples under this folder; /metrics aggregates them. A
# fresh folder per server start, so counters of an earlier run never leak in; the folder this file made is
# removed when gunicorn exits (on_exit), one given in PROMETHEUS_MULTIPROC_DIR is the operator's and stays.
_made_metrics_dir = None
if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    import tempfile

    _made_metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="yurt-metrics-")


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):  # type: ignore[no-untyped-def]
    # The master, after its workers stopped (TERM, INT, QUIT, or a failed boot); not after a SIGKILL.
    if _made_metrics_dir is not None:
        import shutil

        shutil.rmtree(_made_metrics_dir, ignore_errors=True)


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    # One line per worker once the app is loaded: tests wait for every worker before injecting faults.
    worker.log.info("worker %s ready", worker.pid)
