"""What only a real 3-master Redis Cluster shows (tests/harness/cluster.py, loopback ports; the session's
``redis_cluster`` fixture). The storage contracts run on the cluster too, from their own modules (the
``backend`` fixture of tests/conftest.py). Here: the key layout (a traveller's keys share one slot, a nearby
query reads a bounded number of slots), seeding once and scripts reloaded on every master, a master down, and
the app itself on the cluster through the Flask test client.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis
from flask import Flask
from redis.cluster import RedisCluster
from redis.crc import key_slot

from tests.conftest import running_app
from tests.harness.cluster import RedisCluster as ClusterProcesses
from tests.harness.cluster import running_cluster
from tests.harness.problems import assert_problem
from tests.travellers.helpers import auth, install_clock, nearby, share
from tests.travellers.test_store_contract import DUBAI, POLICY, T0, put
from yurt import create_app
from yurt.core.redis.connection import connect
from yurt.core.settings import Settings
from yurt.geo import privacy
from yurt.missions.schemas.dataset import Collection
from yurt.missions.stores.redis import RedisMissionStore
from yurt.travellers.stores.presence_redis import RedisPresenceStore, _t

BERLIN = "kz-embassy-de-berlin"


@pytest.fixture
def cluster_client(cluster_settings: Settings) -> Iterator[redis.Redis]:
    client = connect(cluster_settings)
    yield client
    client.close()


def test_the_cluster_has_three_masters_sharing_the_slots(cluster_client: redis.Redis) -> None:
    assert isinstance(cluster_client, RedisCluster)
    masters = cluster_client.get_primaries()
    assert len(masters) == 3
    slots = cluster_client.cluster_slots()
    assert sum(end - start + 1 for start, end in slots) == 16384


# -- key layout --------------------------------------------------------------------------------------------------


def test_a_travellers_own_keys_share_one_slot() -> None:
    kinds = ("p", "lim", "blk", "h", "susp", "att", "org")
    for tid in ("a", "t_0123456789abcdef", "{weird}", "x:y"):
        assert len({key_slot(_t(tid, kind).encode()) for kind in kinds}) == 1


def test_mission_keys_share_one_slot() -> None:
    from yurt.missions.stores import lua as missions_lua
    from yurt.reports.stores import missions as reports

    keys = [*missions_lua.KEYS, reports.REPORTS, reports.NEXT_ID, reports.BY_REPORTER + "abc"]
    assert len({key_slot(k.encode()) for k in keys}) == 1


@dataclass
class Sent:
    """What the cluster clients sent while recording: every keyed command's slot and its first key."""

    slots: set[int] = field(default_factory=set)
    first_keys: set[str] = field(default_factory=set)

    def tags(self, prefix: str) -> set[str]:
        return {k[k.index("{"):k.index("}") + 1] for k in self.first_keys if k.startswith(prefix)}


def record_sent(monkeypatch: pytest.MonkeyPatch) -> Sent:
    """Record every keyed command any cluster client or cluster pipeline sends from now on: both route each
    command through ``RedisCluster.determine_slot``, which also refuses keys of two slots in one command."""
    sent = Sent()
    original: Callable[..., Any] = RedisCluster.determine_slot

    def determine_slot(self: RedisCluster, *args: Any) -> Any:
        slot = original(self, *args)
        if slot is not None:
            sent.slots.add(int(slot))
            key_at = 3 if str(args[0]).upper() in ("EVAL", "EVALSHA") and int(args[2]) > 0 else 1
            key = args[key_at]
            sent.first_keys.add(key.decode() if isinstance(key, bytes) else str(key))
        return slot

    monkeypatch.setattr(RedisCluster, "determine_slot", determine_slot)
    return sent


PAGE = 10
TRAVELLERS = 120


def test_a_nearby_query_reads_a_bounded_number_of_slots(
        cluster_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bound: the geo index of the resolution-5 cells within reach (``index_cells_for``: at most 3k(k+1)+1 by
    construction, 54 here at 50 km), plus the viewer's own slot, plus one slot per candidate on the page (its
    block list), plus the shared rate-limit counter and the mission generation: never one per traveller."""
    app = create_app(cluster_settings)
    try:
        install_clock(app)
        client = app.test_client()
        for i in range(TRAVELLERS):  # many travellers in one city, spread over several coarse cells
            lat, lon = 25.2048 + (i % 12) * 0.03, 55.2708 + (i // 12) * 0.03
            assert share(client, f"sub{i}", lat, lon).status_code == 200
        index_cells = privacy.index_cells_for(privacy.presence_cell(25.2048, 55.2708), privacy.MAX_RADIUS_KM)
        bound = len(index_cells) + 1 + PAGE + 2
        sent = record_sent(monkeypatch)
        response = nearby(client, "sub0", radius_km=privacy.MAX_RADIUS_KM, limit=PAGE)
        assert response.status_code == 200 and len(response.json["results"]) == PAGE
        assert sent.tags("{g:") <= {f"{{g:{c}}}" for c in index_cells}
        assert len(sent.tags("{t:")) <= 1 + PAGE
        assert len(sent.slots) <= bound < TRAVELLERS, (len(sent.slots), bound)
    finally:
        app.extensions["yurt"].close()


# -- the app on the cluster --------------------------------------------------------------------------------------


@pytest.fixture
def cluster_app(cluster_settings: Settings) -> Iterator[Flask]:
    with running_app(cluster_settings) as app:
        yield app


def test_missions_staff_write_and_read_back(cluster_app: Flask) -> None:
    client = cluster_app.test_client()
    mission = client.get(f"/v1/missions/{BERLIN}")
    assert mission.status_code == 200
    phones = [{"number": "+49 30 555000", "kind": "main"}]
    patched = client.patch(f"/v1/missions/{BERLIN}", json={"properties": {"phones": phones}},
                           headers={**auth("alice", "staff"), "If-Match": mission.headers["ETag"]})
    assert patched.status_code == 200, patched.json
    again = client.get(f"/v1/missions/{BERLIN}")
    assert again.json["properties"]["phones"] == phones and again.headers["ETag"] == patched.headers["ETag"]
    history = client.get(f"/v1/missions/{BERLIN}/history", headers=auth("alice", "staff"))
    assert history.status_code == 200 and history.json["entries"][0]["author"] == "alice"
    assert client.get("/readyz").status_code == 200
    nearest = client.get("/v1/missions/nearest", query_string={"lat": 52.5, "lon": 13.4})
    assert nearest.status_code == 200


def test_presence_nearby_and_meetups(cluster_app: Flask) -> None:
    install_clock(cluster_app)
    client = cluster_app.test_client()
    assert share(client, "aigerim", 25.2048, 55.2708).status_code == 200
    assert share(client, "daniyar", 25.2148, 55.2808).status_code == 200
    seen = nearby(client, "aigerim", radius_km=10)
    assert seen.status_code == 200 and [r["display_name"] for r in seen.json["results"]] == ["Daniyar"]
    body = {"title": "Nauryz picnic", "description": "Baursaks", "starts_at": "2026-03-21T14:00:00+04:00",
            "ends_at": "2026-03-21T18:00:00+04:00", "lat": 25.1866, "lon": 55.2530, "place_name": "Safa Park",
            "capacity": 2}
    created = client.post("/v1/meetups", json=body, headers=auth("aigerim"))
    assert created.status_code == 201, created.json
    meetup_id = created.json["id"]
    joined = client.post(f"/v1/meetups/{meetup_id}/attendance", headers=auth("daniyar"))
    assert joined.status_code in (200, 201) and joined.json["attending"] == 1
    found = client.get("/v1/meetups/nearby", query_string={"lat": 25.2, "lon": 55.27, "radius_km": 20},
                       headers=auth("daniyar"))
    assert found.status_code == 200 and [m["id"] for m in found.json["results"]] == [meetup_id]
    assert client.delete("/v1/travellers/me", headers=auth("daniyar")).status_code == 204
    assert_problem(client.get("/v1/travellers/me/presence", headers=auth("daniyar")), 404)
    assert client.get(f"/v1/meetups/{meetup_id}", headers=auth("aigerim")).json["attending"] == 0


def test_rate_limit_is_shared_through_the_cluster(cluster_settings: Settings) -> None:
    limited = cluster_settings.replace(rate_limit="5/minute")
    apps = [create_app(limited) for _ in range(2)]  # two workers, one limit
    try:
        clients = [app.test_client() for app in apps]
        headers = auth("greedy", "staff")
        codes = [clients[i % 2].get("/v1/audit", headers=headers).status_code for i in range(7)]
        assert codes[:5] == [200] * 5 and codes[5:] == [429, 429]
        response = clients[0].get("/v1/audit", headers=headers)
        assert_problem(response, 429)
        assert int(response.headers["Retry-After"]) >= 1
    finally:
        for app in apps:
            app.extensions["yurt"].close()


def test_seed_once_and_keys_spread_over_masters(cluster_settings: Settings, seed: Collection) -> None:
    collection = seed
    clients = [connect(cluster_settings) for _ in range(2)]
    try:
        first = RedisMissionStore(clients[0], collection)
        second = RedisMissionStore(clients[1], collection)  # a second worker starting: no re-seed
        assert first.generation() == second.generation() == 1
        presence = RedisPresenceStore(clients[0], POLICY)
        for i in range(90):
            put(presence, f"trav{i}", now=T0)
        per_master = [int(node.dbsize()) for node in _masters(clients[0])]
        assert len(per_master) == 3 and all(n > 0 for n in per_master), per_master
    finally:
        for c in clients:
            c.close()


def _masters(client: redis.Redis) -> list[redis.Redis]:
    assert isinstance(client, RedisCluster)
    return [client.get_redis_connection(node) for node in client.get_primaries()]


def test_scripts_reload_on_every_master_after_a_flush(redis_cluster: ClusterProcesses, cluster_client: redis.Redis,
                                                      seed: Collection) -> None:
    missions = RedisMissionStore(cluster_client, seed)
    presence = RedisPresenceStore(cluster_client, POLICY)
    for port in redis_cluster.ports:  # a master restarted empty: it lost every cached script
        node = redis_cluster.node(port)
        node.script_flush()
        node.close()
    for i in range(12):  # enough travellers that their slots land on every master
        put(presence, f"r{i}", now=T0)
    assert len(presence.occupied(privacy.index_cells_for(DUBAI, 10), T0)) == 1
    record = next(r for r in missions.load().records if r.id == BERLIN)
    feature = {**record.feature, "properties": {**record.feature["properties"], "email": "x@mfa.kz"}}
    assert missions.update(BERLIN, feature, if_match=record.etag, author="alice").rev > record.rev


def test_a_master_down_fails_traveller_calls_closed_and_keeps_mission_reads(settings: Settings) -> None:
    """Its own cluster: one master is stopped for good. Travellers whose slot it served get 503 problems (never
    a 500); mission reads are served from the worker's catalogue."""
    with running_cluster(masters=3) as cluster:
        app = create_app(settings.replace(redis_url=cluster.url, redis_cluster=True))
        try:
            install_clock(app)
            client = app.test_client()
            assert client.get(f"/v1/missions/{BERLIN}").status_code == 200
            cluster.stop_node(cluster.ports[1])
            codes = {share(client, f"s{i}", 25.2048, 55.2708).status_code for i in range(12)}
            assert 503 in codes and codes <= {200, 503}, codes
            assert client.get(f"/v1/missions/{BERLIN}").status_code == 200
        finally:
            app.extensions["yurt"].close()
