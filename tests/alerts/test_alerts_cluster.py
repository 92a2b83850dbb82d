"""The alert and trip stores and the alert endpoints on a real 3-master Redis Cluster (tests/harness/cluster.py).

The contract suite of test_store_contract.py runs here unchanged: its test functions are imported and this
module's fixtures hand them cluster-backed stores. Then the app runs on the cluster: publish, list, answers,
travellers' alerts, trips and reach; every alert key shares one slot, so each write is one script.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from redis.crc import key_slot

from tests.alerts.helpers import BERLIN_BOX, published, staff
from tests.alerts.test_store_contract import (  # noqa: F401  (collected here, on the cluster)
    OpenAlertStore,
    test_alerts_and_audit_survive_a_restart,
    test_audit_has_kind_author_before_after_newest_first_and_pages,
    test_audit_pages_across_many_entries,
    test_concurrent_writers_with_one_etag_exactly_one_wins,
    test_create_get_update_delete_with_compare_and_set,
    test_trips_replace_expire_count_and_erase,
)
from tests.api.travellers_helpers import auth, install_clock, share
from tests.harness.cluster import RedisCluster as ClusterProcesses
from tests.harness.cluster import running_cluster
from yurt import create_app
from yurt.alerts import store_redis
from yurt.alerts.store import AlertStore
from yurt.alerts.store_redis import RedisAlertStore
from yurt.alerts.trips import RedisTripStore, TripStore
from yurt.settings import Settings
from yurt.storage.redis_store import connect


@pytest.fixture(scope="module")
def alert_cluster() -> Iterator[ClusterProcesses]:
    with running_cluster(masters=3) as cluster:
        yield cluster


@pytest.fixture
def cluster_settings(settings: Settings, alert_cluster: ClusterProcesses) -> Iterator[Settings]:
    alert_cluster.flush()
    yield settings.replace(redis_url=alert_cluster.url, redis_cluster=True)
    alert_cluster.flush()


@pytest.fixture
def open_alert_store(cluster_settings: Settings) -> Iterator[OpenAlertStore]:
    clients: list[redis.Redis] = []

    def factory() -> AlertStore:
        clients.append(connect(cluster_settings))
        return RedisAlertStore(clients[-1])

    yield factory
    for client in clients:
        client.close()


@pytest.fixture
def alert_store(open_alert_store: OpenAlertStore) -> AlertStore:
    return open_alert_store()


@pytest.fixture
def trip_store(cluster_settings: Settings) -> Iterator[TripStore]:
    client = connect(cluster_settings)
    yield RedisTripStore(client)
    client.close()


def test_alert_keys_share_one_slot() -> None:
    assert len({key_slot(k.encode()) for k in store_redis.KEYS}) == 1


def test_the_alert_endpoints_on_the_cluster(cluster_settings: Settings) -> None:
    app = create_app(cluster_settings)
    install_clock(app)
    client = app.test_client()
    alert, etag = published(client, severity="evacuation", area=BERLIN_BOX)
    listing = client.get("/v1/alerts")
    assert [f["id"] for f in listing.get_json()["features"]] == [alert["id"]]
    assert client.get("/v1/alerts", headers={"If-None-Match": listing.headers["ETag"]}).status_code == 304
    nearest = client.get("/v1/missions/nearest", query_string={"lat": 52.52, "lon": 13.40}).get_json()
    assert [a["id"] for a in nearest["alerts"]] == [alert["id"]]
    assert share(client, "aigerim", 52.52, 13.40).status_code == 200
    assert client.put("/v1/travellers/me/trips", headers=auth("aigerim"), json={"trips": [
        {"countries": ["DE"], "from": "2026-03-20", "to": "2026-03-25"}]}).status_code == 200
    mine = client.get("/v1/travellers/me/alerts", headers=auth("aigerim")).get_json()
    assert [(f["id"], f["matched_by"]) for f in mine["features"]] == [(alert["id"], ["presence", "trip"])]
    reach = client.get(f"/v1/alerts/{alert['id']}/reach", headers=staff())
    assert reach.status_code == 200 and reach.get_json()["sharing_presence"] == "<3"
    changed = client.patch(f"/v1/alerts/{alert['id']}", json={"severity": "info"},
                           headers={**staff("bob"), "If-Match": etag})
    assert changed.status_code == 200
    assert client.delete(f"/v1/alerts/{alert['id']}", headers={**staff(), "If-Match": etag}).status_code == 412
    assert [e["action"] for e in client.get("/v1/audit/alerts", headers=staff()).get_json()["entries"]] == [
        "patch", "create"]
    assert client.delete("/v1/travellers/me", headers=auth("aigerim")).status_code == 204
    assert client.get("/v1/travellers/me/trips", headers=auth("aigerim")).get_json() == {"trips": []}
    app.extensions["yurt"].close()
