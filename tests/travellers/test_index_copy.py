"""The index's profile copy (``travellers_onetrip.index_copy``: "cell|exp_ms|session|est|profile"): the page
script checks cell and expiry by position, and a nearby answer is assembled from the profile's stored bytes
(issue 15). Copies in the JSON form written before read alike, on a single node and on a Redis Cluster.
"""

from __future__ import annotations

import orjson
import pytest

from yurt.core.redis.connection import connect
from yurt.core.settings import Settings
from yurt.geo import privacy
from yurt.travellers.service.nearby import nearby_page
from yurt.travellers.stores.onetrip import IndexCopy, index_copy, read_copy
from yurt.travellers.stores.presence import Profile, TravellerStores
from yurt.travellers.stores.presence_redis import RedisPresenceStore

SECRET = b"index-copy-secret"
T0 = 1_800_000_000.0
DUBAI = privacy.presence_cell(25.2048, 55.2708)
DUBAI_EAST = privacy.presence_cell(25.2048, 55.3208)  # ~5 km east
LONDON = privacy.presence_cell(51.5074, -0.1278)
# Quotes, a bar (the copy's separator), non-ASCII text and a missing "about": the bytes must survive as JSON.
PROFILES = {"a": Profile('Ai"gul | A', ("kk", "ru"), "Сәлем | hi"), "b": Profile("Bolat", ("kk",), None),
            "c": Profile("Čas", (), ""), "d": Profile("Dana", ("en",), "far")}


def legacy(copy: IndexCopy) -> bytes:
    """The copy as it was written before: a JSON object (name, langs, about, sid, est)."""
    profile = Profile.from_public_json(copy.profile_json)
    return orjson.dumps({"cell": copy.cell, "exp_ms": copy.exp_ms, "name": profile.display_name,
                         "langs": list(profile.languages), "about": profile.about, "sid": copy.session,
                         "est": copy.established})


def test_a_copy_reads_back_and_its_json_form_reads_alike() -> None:
    for established in (True, False):
        profile = PROFILES["a"]
        raw = index_copy(DUBAI, 1_800_000_123_456, "0123abcd", established, profile.public_json())
        copy = read_copy(raw)
        assert copy == IndexCopy(DUBAI, 1_800_000_123_456, "0123abcd", established, profile.public_json())
        assert read_copy(legacy(copy)) == copy
        assert Profile.from_public_json(copy.profile_json) == profile
        assert orjson.loads(b"{" + copy.profile_json + b"}") == {"display_name": 'Ai"gul | A',
                                                                 "languages": ["kk", "ru"], "about": "Сәлем | hi"}


@pytest.fixture(params=["redis", "cluster"])
def store_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    if request.param == "redis":
        return settings.replace(redis_url=request.getfixturevalue("redis_url"), redis_timeout_s=5.0)
    return request.getfixturevalue("cluster_settings").replace(redis_timeout_s=5.0)


def test_a_page_shows_copies_of_either_form_and_skips_moved_or_expired_ones(store_settings: Settings) -> None:
    client = connect(store_settings)
    try:
        store = RedisPresenceStore(client, privacy.UpdatePolicy())
        stores = TravellerStores(store, SECRET)
        store.put_presence("viewer", DUBAI, T0 + 3600, Profile("V", ("kk",), None), T0)
        for tid, cell in (("a", DUBAI), ("b", DUBAI), ("c", DUBAI_EAST), ("d", DUBAI_EAST)):
            store.put_presence(tid, cell, T0 + 3600, PROFILES[tid], T0)
        before = orjson.loads(nearby_page(stores, "viewer", 10.0, 20, None, T0 + 1))
        sessions = {tid: p.session for tid, p in store.presences(list(PROFILES), T0 + 1).items()}
        expected = {privacy.session_handle(SECRET, "viewer", tid, sessions[tid]): profile
                    for tid, profile in PROFILES.items()}
        assert {r["handle"]: Profile(r["display_name"], tuple(r["languages"]), r["about"])
                for r in before["results"]} == expected
        assert [r["band"] for r in before["results"]] == ["<2 km", "<2 km", "2–5 km", "2–5 km"]
        assert list(before) == ["results", "next_cursor", "radius_km", "bands"]

        # Every copy rewritten in the JSON form of before: the same answer, byte for byte once parsed.
        keys = {f"{{g:{privacy.index_cell(cell)}}}:prof" for cell in (DUBAI, DUBAI_EAST)}
        copies = {key: {tid: read_copy(raw) for tid, raw in client.hgetall(key).items()} for key in keys}
        for key, by_tid in copies.items():
            client.hset(key, mapping={tid: legacy(copy) for tid, copy in by_tid.items()})
        assert orjson.loads(nearby_page(stores, "viewer", 10.0, 20, None, T0 + 1)) == before

        # A JSON copy naming another cell (the member moved) or an expired one is not shown.
        key_a = f"{{g:{privacy.index_cell(DUBAI)}}}:prof"
        key_c = f"{{g:{privacy.index_cell(DUBAI_EAST)}}}:prof"
        client.hset(key_a, b"a", legacy(copies[key_a][b"a"]._replace(cell=LONDON)))
        client.hset(key_c, b"c", legacy(copies[key_c][b"c"]._replace(exp_ms=int(T0 * 1000))))
        shown = orjson.loads(nearby_page(stores, "viewer", 10.0, 20, None, T0 + 1))["results"]
        assert {r["display_name"] for r in shown} == {"Bolat", "Dana"}
        # And the same in the current form.
        client.hset(key_a, b"b", index_copy(LONDON, copies[key_a][b"b"].exp_ms, sessions["b"], False,
                                            PROFILES["b"].public_json()))
        client.hset(key_c, b"d", index_copy(DUBAI_EAST, int(T0 * 1000), sessions["d"], False,
                                            PROFILES["d"].public_json()))
        assert orjson.loads(nearby_page(stores, "viewer", 10.0, 20, None, T0 + 1))["results"] == []
    finally:
        client.close()
