"""Gunicorn settings, from the environment only; no application logic here.

GUNICORN_BIND (default 127.0.0.1:8000), GUNICORN_WORKERS (default 1: the embedded default is one process),
GUNICORN_THREADS (default 1). Gunicorn's access log stays off: it would print raw query strings, which carry
coordinates; the app writes its own access log with them redacted.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "1"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
timeout = 30
graceful_timeout = 10
keepalive = 5
# Workers import the app after fork so each has its own Redis connection pool and file handles.
preload_app = False

# Prometheus multiprocess mode: each worker writes samples under this folder; /metrics aggregates them. A
# fresh folder per server start, so counters of an earlier run never leak in.
if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    import tempfile

    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="yurt-metrics-")


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    # One line per worker once the app is loaded: tests wait for every worker before injecting faults.
    worker.log.info("worker %s ready", worker.pid)
