"""The worker's view of the mission data: the current immutable ``Dataset``, kept fresh from the store.

Every request asks ``Catalogue.current()``. At most once per ``reload_interval_s`` it asks the store for its
generation counter (one Redis GET, or a stat() of the working copy); when that changed, it rebuilds the
``Dataset`` (index, serialised bodies) once, under a lock, and swaps it in atomically. Requests never see a
half-built dataset, and every worker serves a write within ``reload_interval_s`` (plus one rebuild) of its
acknowledgement. A worker that made the write itself rebuilds at once (``refresh()``).

A worker that starts while the store cannot be reached boots anyway (gunicorn would otherwise halt the whole
server when one worker fails to boot): until its first successful load, mission reads answer 503 with
Retry-After and ``/readyz`` says not ready; it keeps asking at the backoff below. It never serves the seed file
in place of the store, which may hold newer staff edits.

If the store cannot be reached, the last good dataset keeps serving: mission reads never fail on a store
outage (fail open for reads; writes fail closed in the staff API). While it stays unreachable the store is
asked at most once per ``UNREACHABLE_BACKOFF_S`` (a hung Redis costs a whole timeout per ask, and reads must
not pay it on every reload interval), and the outage is logged once when it starts and once when it ends.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable

from yurt.core.store_errors import StoreUnavailable
from yurt.missions.model.dataset import Dataset
from yurt.missions.stores.base import MissionStore

log = logging.getLogger("yurt.missions.service.catalogue")

UNREACHABLE_BACKOFF_S = 2.0


class Catalogue:
    def __init__(
        self,
        store: MissionStore,
        *,
        reload_interval_s: float,
        clock: Callable[[], float] = time.monotonic,
        seat_of: Callable[[float, float, str], str | None] | None = None,
    ) -> None:
        self._store = store
        self._seat_of = seat_of
        self._interval_s = reload_interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._unreachable = False
        self._dataset: Dataset | None = None
        self._checked_at = -float("inf")
        with contextlib.suppress(StoreUnavailable):  # logged by _check; requests get 503 until it answers
            self._check()

    def current(self) -> Dataset:
        """The current dataset; raises StoreUnavailable only if none was ever loaded."""
        if self._dataset is not None and self._clock() - self._checked_at < self._interval_s:
            return self._dataset
        return self._check()

    def refresh(self) -> Dataset:
        """Rebuild now if the store moved on (after this worker's own write)."""
        self._checked_at = -float("inf")
        return self._check()

    def _check(self) -> Dataset:
        with self._lock:
            if self._clock() - self._checked_at < self._interval_s:
                return self._served()  # another thread checked while we waited
            self._checked_at = self._clock()
            try:
                generation = self._store.generation()
                if self._unreachable:
                    self._unreachable = False
                    log.warning("mission store reachable again")
                if self._dataset is not None and generation == self._dataset.generation:
                    return self._dataset
                state = self._store.load()
            except StoreUnavailable:
                # Next ask after the backoff (the interval test in current() compares against _checked_at).
                self._checked_at = self._clock() + max(0.0, UNREACHABLE_BACKOFF_S - self._interval_s)
                if not self._unreachable:
                    self._unreachable = True
                    serving = self._dataset.generation if self._dataset is not None else "nothing (not loaded yet)"
                    log.warning("mission store unreachable; serving generation %s", serving)
                return self._served()
            self._dataset = Dataset.build(state.meta, state.records, state.generation, self._seat_of)
            return self._dataset

    def _served(self) -> Dataset:
        if self._dataset is None:
            raise StoreUnavailable("the mission data has not been loaded from the store yet")
        return self._dataset
