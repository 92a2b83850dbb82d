"""A worker's view of the alerts: the current ``AlertSnapshot``, kept fresh from the store, and the public
listing's bytes.

As ``Catalogue`` does for missions: at most once per ``reload_interval_s`` the store's generation is read (one
Redis GET, or a stat() of the working copy); when it moved, the snapshot is rebuilt once, under a lock, reusing
the parsed areas of unchanged alerts. A worker that wrote rebuilds at once (``refresh``).

Failure policy: reads fail open. If the store cannot be reached, the last snapshot keeps serving; before any
snapshot was ever loaded, ``current()`` raises ``StoreUnavailable`` (the alert endpoints answer 503, and
``nearest``/``responsible`` answer ``alerts: null``, never a false "no alerts"). An outage is asked about at
most once per ``UNREACHABLE_BACKOFF_S`` and logged once when it starts.

The listing (``GET /v1/alerts`` without a point) is cached per (generation, phase): within a phase the alerts in
force and upcoming cannot change, so its bytes, gzip and strong ETag are computed once, and ``max_age_s`` never
reaches past the next start or end.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from yurt.alerts.model.snapshot import AlertSnapshot
from yurt.alerts.stores.embedded import AlertStore
from yurt.core.store_errors import StoreUnavailable

log = logging.getLogger("yurt.alerts")

UNREACHABLE_BACKOFF_S = 2.0


@dataclass(frozen=True)
class Listing:
    body: bytes
    gzipped: bytes
    etag: str


def collection(features: list[bytes]) -> bytes:
    return b'{"type":"FeatureCollection","features":[' + b",".join(features) + b"]}"


def build_listing(snapshot: AlertSnapshot, now_s: float) -> Listing:
    body = collection([alert.feature_bytes(upcoming) for alert, upcoming in snapshot.listing(now_s)])
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return Listing(body, gzip.compress(body, 6, mtime=0), etag)


def max_age_s(next_change_s: float | None, now_s: float, cap_s: int) -> int:
    """Seconds a copy may be kept without asking: the cap, and never past the next start or end."""
    if next_change_s is None:
        return cap_s
    return max(0, min(cap_s, math.floor(next_change_s - now_s)))


class AlertBook:
    def __init__(self, store: AlertStore, *, reload_interval_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._interval_s = reload_interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._snapshot: AlertSnapshot | None = None
        self._checked_at = -math.inf
        self._unreachable = False
        self._listing: tuple[AlertSnapshot, int, Listing] | None = None
        with contextlib.suppress(StoreUnavailable):
            self._check()

    @property
    def store(self) -> AlertStore:
        return self._store

    def current(self) -> AlertSnapshot:
        snapshot = self._snapshot
        if snapshot is not None and self._clock() - self._checked_at < self._interval_s:
            return snapshot
        return self._check()

    def refresh(self) -> AlertSnapshot:
        self._checked_at = -math.inf
        return self._check()

    def _check(self) -> AlertSnapshot:
        with self._lock:
            if self._snapshot is not None and self._clock() - self._checked_at < self._interval_s:
                return self._snapshot
            self._checked_at = self._clock()
            try:
                generation = self._store.generation()
                if self._unreachable:
                    self._unreachable = False
                    log.warning("alert store reachable again")
                if self._snapshot is not None and generation == self._snapshot.generation:
                    return self._snapshot
                state = self._store.load()
            except StoreUnavailable:
                self._checked_at = self._clock() + max(0.0, UNREACHABLE_BACKOFF_S - self._interval_s)
                if not self._unreachable:
                    self._unreachable = True
                    log.warning("alert store unreachable; serving the last alerts loaded")
                if self._snapshot is None:
                    raise
                return self._snapshot
            self._snapshot = AlertSnapshot(state.records, state.generation, self._snapshot)
            return self._snapshot

    def listing(self, now_s: float) -> Listing:
        snapshot = self.current()
        phase = snapshot.phase(now_s)
        cached = self._listing
        if cached is not None and cached[0] is snapshot and cached[1] == phase:
            return cached[2]
        listing = build_listing(snapshot, now_s)
        self._listing = (snapshot, phase, listing)
        return listing
