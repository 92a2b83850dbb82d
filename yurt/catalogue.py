"""The worker's view of the mission data: the current immutable ``Dataset``, kept fresh from the store.

Every request asks ``Catalogue.current()``. At most once per ``reload_interval_s`` it asks the store for its
generation counter (one Redis GET, or a stat() of the working copy); when that changed, it rebuilds the
``Dataset`` (index, serialised bodies) once, under a lock, and swaps it in atomically. Requests never see a
half-built dataset, and every worker serves a write within ``reload_interval_s`` (plus one rebuild) of its
acknowledgement. A worker that made the write itself rebuilds at once (``refresh()``).

If the store cannot be reached, the last good dataset keeps serving: mission reads never fail on a store
outage (fail open for reads; writes fail closed in the staff API). While it stays unreachable the store is
asked at most once per ``UNREACHABLE_BACKOFF_S`` (a hung Redis costs a whole timeout per ask, and reads must
not pay it on every reload interval), and the outage is logged once when it starts and once when it ends.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from yurt.domain.missions import Dataset
from yurt.storage.base import MissionStore, StoreUnavailable

log = logging.getLogger("yurt.catalogue")

UNREACHABLE_BACKOFF_S = 2.0


class Catalogue:
    def __init__(
        self,
        store: MissionStore,
        *,
        reload_interval_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._interval_s = reload_interval_s
        self._clock = clock
        self._lock = threading.Lock()
        state = store.load()
        self._dataset = Dataset.build(state.meta, state.records, state.generation)
        self._checked_at = clock()
        self._listeners: list[Callable[[Dataset], None]] = []
        self._unreachable = False

    @property
    def store(self) -> MissionStore:
        return self._store

    def on_change(self, listener: Callable[[Dataset], None]) -> None:
        self._listeners.append(listener)

    def current(self) -> Dataset:
        if self._clock() - self._checked_at < self._interval_s:
            return self._dataset
        return self._check()

    def refresh(self) -> Dataset:
        """Rebuild now if the store moved on (after this worker's own write)."""
        self._checked_at = -float("inf")
        return self._check()

    def _check(self) -> Dataset:
        with self._lock:
            if self._clock() - self._checked_at < self._interval_s:
                return self._dataset  # another thread checked while we waited
            self._checked_at = self._clock()
            try:
                generation = self._store.generation()
                if self._unreachable:
                    self._unreachable = False
                    log.warning("mission store reachable again")
                if generation == self._dataset.generation:
                    return self._dataset
                state = self._store.load()
            except StoreUnavailable:
                # Next ask after the backoff (the interval test in current() compares against _checked_at).
                self._checked_at = self._clock() + max(0.0, UNREACHABLE_BACKOFF_S - self._interval_s)
                if not self._unreachable:
                    self._unreachable = True
                    log.warning("mission store unreachable; serving generation %s", self._dataset.generation)
                return self._dataset
            dataset = Dataset.build(state.meta, state.records, state.generation)
            self._dataset = dataset
        for listener in self._listeners:
            listener(dataset)
        return dataset
