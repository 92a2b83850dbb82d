"""Meetup search in every store (embedded, real Redis, Redis Cluster) against a scan of every meetup: a crowded city, a
scattered region and empty land, time windows that reject most of the crowd, meetups that ended or were
cancelled, and the per-organiser cap and retention that come with the same store."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pyproj import Geod

from tests.conftest import Backend
from yurt.meetups.stores.meetups import EmbeddedMeetupStore, Meetup, MeetupStore, TooManyActiveError
from yurt.meetups.stores.redis import RedisMeetupStore

T0 = 1_800_000_000.0
GEOD = Geod(ellps="WGS84")
CITY = (43.2389, 76.8897)  # Almaty
HOUR = 3600.0


@pytest.fixture
def meetup_store(backend: Backend) -> MeetupStore:
    if backend.embedded:
        return EmbeddedMeetupStore(retention_s=86_400)
    return RedisMeetupStore(backend.connect(), retention_s=86_400)


def around(centre: tuple[float, float], n: int, radius_km: float, rng: np.random.Generator) -> np.ndarray:
    lons, lats, _ = GEOD.fwd(np.full(n, centre[1]), np.full(n, centre[0]), rng.uniform(0, 360, n),
                             radius_km * 1000 * np.sqrt(rng.uniform(0, 1, n)))
    return np.column_stack([lats, lons])


def brute_force(meetups: list[Meetup], live: set[str], lat: float, lon: float, radius_km: float, limit: int,
                start_s: float, end_s: float) -> list[tuple[str, float]]:
    chosen = [m for m in meetups if m.id in live and m.ends_at_s > start_s and m.starts_at_s < end_s]
    if not chosen:
        return []
    _, _, metres = GEOD.inv(np.full(len(chosen), lon), np.full(len(chosen), lat),
                            [m.lon for m in chosen], [m.lat for m in chosen])
    hits = [(m.id, float(d) / 1000) for m, d in zip(chosen, np.atleast_1d(metres), strict=True)
            if d / 1000 <= radius_km]
    return sorted(hits, key=lambda h: (round(h[1] * 1e6), h[0]))[:limit]


def test_search_equals_a_scan(meetup_store: MeetupStore) -> None:
    rng = np.random.default_rng(11)
    points = np.concatenate([around(CITY, 1500, 2.0, rng), around(CITY, 300, 60.0, rng),
                             np.repeat(around(CITY, 1, 0.5, rng), 70, axis=0)])  # 70 stacked on one spot
    meetups = []
    for i, (lat, lon) in enumerate(points.tolist()):
        starts = T0 + float(rng.choice([-1, 2, 30])) * HOUR
        meetups.append(Meetup(f"m{i:04d}", f"org{i}", "t", "", starts, starts + 3 * HOUR, lat, lon, "p", 5, None))
        meetup_store.create(meetups[-1], f"org{i}-tid", T0, 5)
    live = {m.id for m in meetups}
    for m in meetups[::97]:
        meetup_store.cancel(m.id, m.organiser, f"{m.organiser}-tid")
        live.discard(m.id)
    queries = np.concatenate([around(CITY, 25, 2.5, rng), around(CITY, 15, 70.0, rng), [[CITY[0] + 3, CITY[1]]]])
    for n, (lat, lon) in enumerate(queries.tolist()):
        radius_km = float(rng.choice([1.0, 5.0, 25.0, 100.0]))
        limit = int(rng.choice([1, 5, 20, 100]))
        start_s, end_s = [(T0, math.inf), (T0, T0 + 10 * HOUR), (T0 + 20 * HOUR, math.inf)][n % 3]
        # the second half later: the meetups that started first have ended (a meetup_store's clock never goes back)
        now_s = T0 + 2.5 * HOUR if n >= len(queries) // 2 else T0
        got = [(m.id, d) for m, d in meetup_store.search(lat, lon, radius_km, limit, start_s, end_s, now_s)]
        want = brute_force(meetups, live, lat, lon, radius_km, limit, max(start_s, now_s), end_s)
        assert [g[0] for g in got] == [w[0] for w in want], (lat, lon, radius_km, limit, start_s, end_s, now_s)
        assert [g[1] for g in got] == pytest.approx([w[1] for w in want], abs=1e-9)


def test_the_cap_counts_active_meetups_only(meetup_store: MeetupStore) -> None:
    def meetup(i: int, hours: float = 2.0) -> Meetup:
        return Meetup(f"c{i}", "alice", "t", "", T0, T0 + hours * HOUR, CITY[0], CITY[1], "p", 5, None)

    for i in range(3):
        meetup_store.create(meetup(i, hours=1.0 + i), "alice-tid", T0, 3)
    with pytest.raises(TooManyActiveError):
        meetup_store.create(meetup(3), "alice-tid", T0, 3)
    meetup_store.create(meetup(4), "bob-tid", T0, 3)  # another organiser's cap is their own
    meetup_store.cancel("c2", "alice", "alice-tid")
    meetup_store.create(meetup(5), "alice-tid", T0, 3)  # a cancelled meetup frees its place
    with pytest.raises(TooManyActiveError):
        meetup_store.create(meetup(6), "alice-tid", T0 + 1, 3)
    meetup_store.create(meetup(7, hours=5), "alice-tid", T0 + 1.5 * HOUR, 3)  # c0 ended: so did its place
    meetup_store.update("c7", "alice", "alice-tid", {"ends_at_s": T0 + 1.8 * HOUR}, T0 + 1.5 * HOUR)
    meetup_store.create(meetup(8, hours=5), "alice-tid", T0 + 1.9 * HOUR, 3)  # c7 was moved to end sooner: ended
    meetup_store.erase("alice", "alice-tid")
    for i in range(3):  # erasure cancelled them all
        meetup_store.create(meetup(10 + i, hours=5), "alice-tid", T0 + 2 * HOUR, 3)


def test_meetups_leave_search_at_their_end_and_storage_after_retention(meetup_store: MeetupStore) -> None:
    m = Meetup("r1", "alice", "t", "", T0, T0 + HOUR, CITY[0], CITY[1], "p", 5, None)
    meetup_store.create(m, "alice-tid", T0, 5)
    meetup_store.join("r1", "bob", "bob-tid", T0)
    assert [x.id for x, _ in meetup_store.search(CITY[0], CITY[1], 5, 10, T0, math.inf, T0)] == ["r1"]
    assert meetup_store.search(CITY[0], CITY[1], 5, 10, T0, math.inf, T0 + HOUR) == []
    assert meetup_store.get("r1") is not None  # kept for the retention (a day here) after its end
    if isinstance(meetup_store, RedisMeetupStore):
        for key in ("{m:r1}:d", "{m:r1}:a"):
            ttl_s = meetup_store.r.pttl(key) / 1000
            assert 86_400 + HOUR - 60 <= ttl_s <= 86_400 + HOUR, (key, ttl_s)  # TTLs from the caller's clock
        index = list(meetup_store.r.scan_iter("{mi:*}:z"))
        assert all(meetup_store.r.zcard(k) == 0 for k in index)  # swept from the index once ended
    else:
        later = Meetup("r2", "carol", "t", "", T0, T0 + 30 * HOUR, CITY[0], CITY[1], "p", 5, None)
        meetup_store.create(later, "carol-tid", T0 + HOUR + 86_400, 5)  # any later write sweeps
        assert meetup_store.get("r1") is None and meetup_store.attendees("r1") == []
