"""The alert and trip stores and the alert endpoints on a real 3-master Redis Cluster (tests/harness/cluster.py).

The store contract of test_store_contract.py runs on the cluster from its own module (the ``backend`` fixture
of tests/conftest.py). Here the app runs on the session's cluster: publish, list, answers, travellers' alerts,
trips and reach; every alert key shares one slot, so each write is one script.
"""

from __future__ import annotations

from redis.crc import key_slot

from tests.alerts.helpers import BERLIN_BOX, published, staff
from tests.travellers.helpers import auth, install_clock, share
from yurt import create_app
from yurt.alerts.stores import redis as store_redis
from yurt.core.settings import Settings


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
