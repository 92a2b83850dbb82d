"""Staff data rules of the answers issue: refer_to (422 for unknown, self, cycle), dated sources, the quality
report; and a referral shown to travellers in `responsible`."""

from __future__ import annotations

import orjson
from flask.testing import FlaskClient

from tests.harness.problems import assert_problem
from tests.missions.test_staff import auth, get, patch

KYIV = "kz-embassy-ua-kyiv"  # suspended in the fixture
BERLIN = "kz-embassy-de-berlin"
OSLO = "kz-embassy-no-oslo"


def test_refer_to_names_an_existing_other_post_without_a_cycle(client: FlaskClient) -> None:
    _, etag = get(client, KYIV)
    unknown = assert_problem(patch(client, KYIV, {"properties": {"refer_to": "kz-embassy-xx-nowhere"}}, etag), 422)
    assert "properties.refer_to" in unknown["errors"]
    itself = assert_problem(patch(client, KYIV, {"properties": {"refer_to": KYIV}}, etag), 422)
    assert "properties.refer_to" in itself["errors"]
    response = patch(client, KYIV, {"properties": {"refer_to": BERLIN}}, etag)
    assert response.status_code == 200, response.data
    # Berlin is open: it may not refer anywhere; once limited, a referral back to Kyiv would be a cycle.
    _, berlin_etag = get(client, BERLIN)
    open_refers = patch(client, BERLIN, {"properties": {"refer_to": OSLO}}, berlin_etag)
    assert "properties.refer_to" in assert_problem(open_refers, 422)["errors"]
    cycle = patch(client, BERLIN, {"properties": {"status": "limited", "status_note": "test",
                                                  "refer_to": KYIV}}, berlin_etag)
    assert "cycle" in assert_problem(cycle, 422)["errors"]["properties.refer_to"][0]


def test_responsible_lists_the_referred_post_after_the_referring_one(client: FlaskClient) -> None:
    _, etag = get(client, KYIV)
    assert patch(client, KYIV, {"properties": {"refer_to": BERLIN}}, etag).status_code == 200
    body = orjson.loads(client.get("/v1/missions/responsible?lat=50.45&lon=30.52").data)
    listed = [(m["mission"]["id"], m["district_source"]) for m in body["missions"]]
    assert listed[:2] == [(KYIV, "seat"), (BERLIN, "referred")] or listed[:2] == [
        (KYIV, "country"), (BERLIN, "referred")]


def test_sources_may_be_dated_objects_or_plain_strings(client: FlaskClient) -> None:
    _, etag = get(client, BERLIN)
    sources = ["https://example.org/old-form", {"source": "https://example.org/page", "date": "2025-03"}]
    response = patch(client, BERLIN, {"properties": {"sources": sources}}, etag)
    assert response.status_code == 200, response.data
    assert get(client, BERLIN)[0]["properties"]["sources"] == sources
    bad = patch(client, BERLIN, {"properties": {"sources": [{"source": "x", "date": "March 2025"}]}},
                response.headers["ETag"])
    assert assert_problem(bad, 422)["errors"]


def test_quality_report_for_staff_only(client: FlaskClient) -> None:
    assert_problem(client.get("/v1/missions/quality"), 401)
    assert_problem(client.get("/v1/missions/quality", headers=auth(scope="traveller")), 403)
    report = orjson.loads(client.get("/v1/missions/quality", headers=auth()).data)
    by_id = {p["id"]: p for p in report["posts"]}
    assert len(by_id) == 10  # the fixture's posts
    # The fixture's posts are city-level; only Berlin has phones (a main line and an emergency line).
    assert all("building" in p["missing"] for p in by_id.values())
    assert {"phone", "emergency"}.isdisjoint(by_id[BERLIN]["missing"])
    assert all({"phone", "emergency"} <= set(p["missing"]) for i, p in by_id.items() if i != BERLIN)
    assert report["missing"]["building"] == report["posts_counted"]
    assert report["missing"]["phone"] == report["posts_counted"] - 1
    # A phone added by staff leaves the list at once.
    _, etag = get(client, OSLO)
    patch(client, OSLO, {"properties": {"phones": [{"number": "+47 22 00 00 00", "kind": "emergency"}]}}, etag)
    after = {p["id"]: p for p in orjson.loads(client.get("/v1/missions/quality", headers=auth()).data)["posts"]}
    assert "phone" not in after[OSLO]["missing"] and "emergency" not in after[OSLO]["missing"]
