"""Fixed-window counters in this process's memory, for the ``limits`` library's fixed-window strategy.

Why not ``limits.storage.MemoryStorage``: it expires keys from a ``threading.Timer`` that fires 10 ms after it
is started and then ends, and every ``incr`` after that starts a new thread. Under load that was one thread
start per request on about half the requests (hundreds of µs each on a busy machine, and the timer thread
competing for the GIL): the dearest single part of a cheap read (bench/bench_perf.py, README "Benchmarks").
Here a key's window is checked when the key is read, and expired keys are swept from the dict at most once per
``SWEEP_INTERVAL_S`` on an ``incr``: no thread, same counts, bounded memory.

Only what ``FixedWindowRateLimiter`` calls is supported (``incr``, ``get``, ``get_expiry``, ``clear``); one lock
makes it safe for gunicorn's threaded worker.
"""

from __future__ import annotations

import threading
import time

from limits.storage import Storage

SWEEP_INTERVAL_S = 10.0


class WindowCounts(Storage):
    STORAGE_SCHEME = None  # built directly, never from a URI

    def __init__(self) -> None:
        super().__init__()
        self._counts: dict[str, tuple[int, float]] = {}  # key -> (count, window end, epoch seconds)
        self._lock = threading.Lock()
        self._next_sweep = time.time() + SWEEP_INTERVAL_S

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return ValueError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with self._lock:
            if now >= self._next_sweep:
                self._sweep(now)
            entry = self._counts.get(key)
            # A new window starts with the first hit after the last one ended, as in MemoryStorage.
            fresh = entry is None or entry[1] <= now
            entry = (amount, now + expiry) if fresh or entry is None else (entry[0] + amount, entry[1])
            self._counts[key] = entry
        return entry[0]

    def get(self, key: str) -> int:
        entry = self._counts.get(key)
        return entry[0] if entry is not None and entry[1] > time.time() else 0

    def get_expiry(self, key: str) -> float:
        entry = self._counts.get(key)
        now = time.time()
        return entry[1] if entry is not None and entry[1] > now else now

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self._lock:
            count = len(self._counts)
            self._counts.clear()
        return count

    def clear(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)

    def _sweep(self, now: float) -> None:
        self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
        self._next_sweep = now + SWEEP_INTERVAL_S
