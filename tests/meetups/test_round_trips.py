"""What one meetup search costs a real Redis: round trips the client makes and commands the server runs.

A search in a crowd is one script that counts and reads ahead the fast path's cells, then one script call that
reads the meetups found; an empty area is the first script alone (issue 11: the crowded search was three round
trips and about 25 commands, and its p99 2.25x the empty area's). Round trips are counted where redis-py sends
(one send per command or pipeline), commands by the server (``INFO commandstats``).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator

import pytest
import redis

from tests.harness.round_trips import counting_round_trips
from tests.meetups.test_search import crowd
from yurt.meetups.stores.meetups import Meetup
from yurt.meetups.stores.redis import RedisMeetupStore

T0 = 1_800_000_000.0
CITY = (25.2048, 55.2708)
EMPTY = (48.0, 67.0)


@pytest.fixture
def store(redis_url: str) -> Iterator[RedisMeetupStore]:
    client = redis.Redis.from_url(redis_url)
    store = RedisMeetupStore(client)
    for i, (lat, lon) in enumerate(crowd(400, CITY, 2.0, 3)):
        store.create(Meetup(f"m{i:03d}", f"org{i}", "t", "", T0, T0 + 3600, lat, lon, "p", 5, None), f"t{i}", T0, 5)
    yield store
    client.close()


def searched(store: RedisMeetupStore, lat: float, lon: float) -> tuple[int, int, Counter[str]]:
    """(results, round trips, commands by name) of one search for the 20 nearest within 25 km."""
    store.r.config_resetstat()
    with counting_round_trips() as trips:
        found = store.search(lat, lon, 25.0, 20, T0, math.inf, T0)
    stats = store.r.info("commandstats")
    commands = Counter({name.removeprefix("cmdstat_"): int(s["calls"]) for name, s in stats.items()
                        if name != "cmdstat_config|resetstat"})
    return len(found), trips.count, commands


def test_a_crowded_search_is_two_round_trips_of_one_script_call_each(store: RedisMeetupStore) -> None:
    trips = []
    for lat, lon in crowd(20, CITY, 1.5, 4):
        results, round_trips, commands = searched(store, lat, lon)
        assert results == 20
        assert commands["evalsha"] == round_trips  # one script call a round trip: nothing else reached Redis
        assert set(commands) <= {"evalsha", "zrangebyscore", "zcount", "zrange", "hmget", "scard"}
        trips.append(round_trips)
    # 2: the survey script (counts and the cells read ahead) and the meetups' script. A third only when the
    # answer reaches a cell beyond the ring read ahead.
    assert max(trips) <= 3 and trips.count(2) >= 18, trips


def test_an_empty_area_is_one_round_trip(store: RedisMeetupStore) -> None:
    results, round_trips, commands = searched(store, *EMPTY)
    assert (results, round_trips, commands["evalsha"]) == (0, 1, 1)
