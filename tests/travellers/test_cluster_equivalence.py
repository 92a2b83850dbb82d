"""The Redis Cluster's nearby path gives the single node's answers, byte for byte.

Both stores get the same writes with the same session ids (drawn from one sequence instead of ``secrets``), so
handles, order and cursors must agree: a crowd over many resolution-5 cells (index groups on every master),
blocks either way, a traveller who moved and one whose presence expired.
"""

from __future__ import annotations

import itertools

import orjson
import pytest

from tests.harness.cluster import RedisCluster
from yurt.core.redis.connection import connect
from yurt.core.settings import Settings
from yurt.geo import privacy
from yurt.travellers.service.nearby import nearby_page
from yurt.travellers.stores import onetrip, presence_cluster
from yurt.travellers.stores.presence import Profile, TravellerStores
from yurt.travellers.stores.presence_redis import RedisPresenceStore

SECRET = b"cluster-equivalence-secret"
T0 = 1_800_000_000.0
DUBAI = (25.2048, 55.2708)
RADIUS_KM = 25.0


def place(i: int) -> str:
    """Travellers 0-16 km from Dubai's centre: many res-7 cells over several res-5 index groups."""
    return privacy.presence_cell(DUBAI[0] + (i % 6) * 0.025, DUBAI[1] + (i // 6) * 0.025)


def populate(store: RedisPresenceStore) -> None:
    store.put_presence("viewer", place(0), T0 + 3600, Profile("Viewer", ("kk",), None), T0)
    for i in range(36):
        store.put_presence(f"t{i}", place(i), T0 + 3600, Profile(f"T{i}", ("kk", "ru"), f"about {i}"), T0)
    store.put_presence("t5", place(30), T0 + 3600, Profile("T5", ("kk",), None), T0 + 600)  # moved
    store.put_presence("gone", place(3), T0 + 30, Profile("Gone", (), None), T0)  # expired before the pages
    store.block("viewer", "t3")
    store.block("t7", "viewer")
    store.block("t8", "someone else")


def pages(stores: TravellerStores, now_s: float) -> list[bytes]:
    out, cursor = [], None
    while True:
        page = nearby_page(stores, "viewer", RADIUS_KM, 7, cursor, now_s)
        out.append(page)
        cursor = orjson.loads(page)["next_cursor"]
        if cursor is None:
            return out


def test_nearby_on_a_cluster_answers_as_one_node(settings: Settings, redis_url: str,
                                                 cluster_settings: Settings, redis_cluster: RedisCluster,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    answers = []
    for i, chosen in enumerate((settings.replace(redis_url=redis_url), cluster_settings)):
        counter = itertools.count(1)  # the same session ids, in the same order, for both stores
        for module in (onetrip, presence_cluster):
            monkeypatch.setattr(module, "new_session", lambda c=counter: f"{next(c):016x}")
        client = connect(chosen.replace(redis_timeout_s=5.0))
        try:
            store = RedisPresenceStore(client, privacy.UpdatePolicy())
            populate(store)
            stores = TravellerStores(store, SECRET)
            cells = privacy.index_cells_for(place(0), RADIUS_KM)
            answer = [pages(stores, T0 + 700), store.occupied(cells, T0 + 700),
                      store.hidden_from("viewer", [f"t{i}" for i in range(10)])]
            if i == 1:
                assert len({client.get_node_from_key(f"{{g:{c}}}:x").name for c in cells}) == 3  # type: ignore[attr-defined]
            # The viewer moves through another process: this one's last sight of the viewer is stale, and its
            # pages are a fresh process's.
            other = RedisPresenceStore(client, privacy.UpdatePolicy())
            other.put_presence("viewer", place(35), T0 + 3600, Profile("Viewer", ("kk",), None), T0 + 1300)
            moved = pages(stores, T0 + 1310)
            assert moved == pages(TravellerStores(RedisPresenceStore(client, privacy.UpdatePolicy()), SECRET),
                                  T0 + 1310)
            answers.append([*answer, moved])
        finally:
            client.close()
    single, cluster = answers
    assert cluster == single
    shown = [r["display_name"] for page in single[0] for r in orjson.loads(page)["results"]]
    assert len(shown) == 34 and len(single[0]) == 5  # 36 + 1, less the viewer, t3 and t7 (blocked), "gone"
    assert {"T3", "T7", "Gone", "Viewer"}.isdisjoint(shown) and "T8" in shown
    assert single[2] == {"t3", "t7"}
    assert single[3] != single[0]  # the viewer moved: other bands, another order

