"""Registered trips: the ``TripStore`` interface, its embedded and its Redis implementation.

A traveller may register where they will be without sharing any position (the US STEP programme and Ukraine's
DRUH registration work this way). Trips are kept under the traveller's pseudonym (``privacy.traveller_id``),
never the token's ``sub``; a stored list goes when its last trip is over (``Trip.finishes_s``), with
``DELETE /v1/travellers/me/trips`` and with ``DELETE /v1/travellers/me``. No other traveller ever reads them;
staff see only banded counts (``GET /v1/alerts/<id>/reach``). Every method takes the time explicitly.

Redis (fails closed)::

    {t:<tid>}:trips   string  the trips' JSON; expires at the end of the last trip (the traveller's own slot)
    {trips:<CC>}:who  zset    tid → end of that traveller's last trip to CC (ms): who to count for a country

The per-country sets are an accelerator for counting: written beside the traveller's key, so a count checks
each member against its stored trips before counting it.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Iterable

import orjson
import redis

from yurt.alerts.model.record import Trip, trips_expire_s
from yurt.core.redis.common import fails_closed


class TripStore(abc.ABC):
    @abc.abstractmethod
    def put(self, tid: str, trips: list[Trip], now_s: float) -> None:
        """Replace the traveller's whole list (an empty list erases it)."""

    @abc.abstractmethod
    def get(self, tid: str, now_s: float) -> list[Trip]:
        """The traveller's trips that are not over yet."""

    @abc.abstractmethod
    def erase(self, tid: str) -> None: ...

    @abc.abstractmethod
    def travellers_in(self, countries: frozenset[str], now_s: float) -> int:
        """How many travellers have a trip under way now to one of ``countries`` (each counted once)."""


def _under_way_in(trips: Iterable[Trip], countries: frozenset[str], now_s: float) -> bool:
    return any(t.under_way(now_s) and countries.intersection(t.countries) for t in trips)


class EmbeddedTripStore(TripStore):
    """In process memory, like the embedded traveller stores: gone when the process stops."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._trips: dict[str, list[Trip]] = {}

    def put(self, tid: str, trips: list[Trip], now_s: float) -> None:
        with self._lock:
            if trips:
                self._trips[tid] = list(trips)
            else:
                self._trips.pop(tid, None)

    def get(self, tid: str, now_s: float) -> list[Trip]:
        with self._lock:
            trips = self._trips.get(tid, [])
            if trips and trips_expire_s(trips) <= now_s:
                del self._trips[tid]
                return []
            return [t for t in trips if t.finishes_s > now_s]

    def erase(self, tid: str) -> None:
        with self._lock:
            self._trips.pop(tid, None)

    def travellers_in(self, countries: frozenset[str], now_s: float) -> int:
        with self._lock:
            return sum(1 for trips in self._trips.values() if _under_way_in(trips, countries, now_s))


_fails_closed = fails_closed("trip store")  # the one Redis failure policy: storage/redis_common.py


def _key(tid: str) -> str:
    return f"{{t:{tid}}}:trips"


def _who(country: str) -> str:
    return f"{{trips:{country}}}:who"


def _ms(epoch_s: float) -> int:
    return int(epoch_s * 1000)


def _decode(raw: bytes | str | None) -> list[Trip]:
    return [] if raw is None else [Trip.from_json(t) for t in orjson.loads(raw)]


def _last_end_by_country(trips: Iterable[Trip]) -> dict[str, float]:
    ends: dict[str, float] = {}
    for trip in trips:
        for country in trip.countries:
            ends[country] = max(ends.get(country, 0.0), trip.finishes_s)
    return ends


class RedisTripStore(TripStore):
    def __init__(self, client: redis.Redis) -> None:
        self._r = client

    @_fails_closed
    def put(self, tid: str, trips: list[Trip], now_s: float) -> None:
        old = _last_end_by_country(_decode(self._r.get(_key(tid))))
        new = _last_end_by_country(trips)
        if trips:
            # A relative TTL from the caller's clock (as presence keys do), so Redis's own clock never decides.
            ttl_ms = max(1, _ms(trips_expire_s(trips) - now_s))
            self._r.set(_key(tid), orjson.dumps([t.to_json() for t in trips]), px=ttl_ms)
        else:
            self._r.delete(_key(tid))
        with self._r.pipeline(transaction=False) as pipe:
            for country in old.keys() - new.keys():
                pipe.zrem(_who(country), tid)
            for country, end_s in new.items():
                pipe.zadd(_who(country), {tid: _ms(end_s)})  # ended members go at the next count
            pipe.execute()

    @_fails_closed
    def get(self, tid: str, now_s: float) -> list[Trip]:
        return [t for t in _decode(self._r.get(_key(tid))) if t.finishes_s > now_s]

    @_fails_closed
    def erase(self, tid: str) -> None:
        old = _last_end_by_country(_decode(self._r.get(_key(tid))))
        self._r.delete(_key(tid))
        with self._r.pipeline(transaction=False) as pipe:
            for country in old:
                pipe.zrem(_who(country), tid)
            pipe.execute()

    @_fails_closed
    def travellers_in(self, countries: frozenset[str], now_s: float) -> int:
        with self._r.pipeline(transaction=False) as pipe:
            for country in sorted(countries):
                pipe.zremrangebyscore(_who(country), "-inf", _ms(now_s))
                pipe.zrange(_who(country), 0, -1)
            replies = pipe.execute()
        tids = sorted({member.decode() for members in replies[1::2] for member in members})
        with self._r.pipeline(transaction=False) as pipe:
            for tid in tids:
                pipe.get(_key(tid))
            stored = pipe.execute()
        return sum(1 for raw in stored if _under_way_in(_decode(raw), countries, now_s))
