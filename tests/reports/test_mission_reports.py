"""Traveller reports over HTTP: submit (traveller scope, rate-limited), list and resolve (staff scope)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import JWT_SECRET, pin_clock
from tests.harness.problems import assert_problem
from yurt import create_app
from yurt.core.auth import mint
from yurt.core.settings import Settings
from yurt.reports.service.reports import REPORT_LIMIT

BERLIN = "kz-embassy-de-berlin"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def auth(sub: str, scope: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + mint(JWT_SECRET, sub, [scope], 10)}


def report(client: FlaskClient, sub: str = "traveller-1", mission_id: str = BERLIN, **body: object):  # type: ignore[no-untyped-def]
    payload = {"category": "phone", "text": "the main number is disconnected", **body}
    return client.post(f"/v1/missions/{mission_id}/reports", json=payload, headers=auth(sub, "traveller"))


def test_traveller_reports_and_staff_resolve(client: FlaskClient) -> None:
    created = report(client)
    assert created.status_code == 201
    report_id = orjson.loads(created.data)["id"]
    listed = orjson.loads(client.get("/v1/reports?status=open", headers=auth("alice", "staff")).data)
    rows = [(r["id"], r["mission_id"], r["category"]) for r in listed["reports"]]
    assert rows == [(report_id, BERLIN, "phone")]
    assert "traveller-1" not in orjson.dumps(listed).decode()  # staff see a pseudonym only
    resolved = client.post(f"/v1/reports/{report_id}/resolve",
                           json={"resolution": "fixed", "note": "new number"}, headers=auth("alice", "staff"))
    assert resolved.status_code == 200 and orjson.loads(resolved.data)["resolved_by"] == "alice"
    again = client.post(f"/v1/reports/{report_id}/resolve", json={"resolution": "fixed"},
                        headers=auth("bob", "staff"))
    assert_problem(again, 409)
    assert_problem(client.post("/v1/reports/999/resolve", json={"resolution": "fixed"},
                               headers=auth("bob", "staff")), 404)
    still_open = client.get("/v1/reports?status=open", headers=auth("a", "staff"))
    assert orjson.loads(still_open.data)["reports"] == []


def test_rate_limited_per_traveller(app: Flask, client: FlaskClient) -> None:
    pin_clock(app, NOW)
    for _ in range(REPORT_LIMIT.max_reports):
        assert report(client).status_code == 201
    limited = report(client)
    assert_problem(limited, 429)
    assert 0 < int(limited.headers["Retry-After"]) <= REPORT_LIMIT.window_s
    assert report(client, sub="traveller-2").status_code == 201


def test_rate_limit_window_moves_with_the_clock(settings: Settings) -> None:
    for minutes in (0, 61):
        app = create_app(settings)
        pin_clock(app, NOW + timedelta(minutes=minutes))
        client = app.test_client()
        statuses = [report(client).status_code for _ in range(REPORT_LIMIT.max_reports + 1)]
        assert statuses == [201] * REPORT_LIMIT.max_reports + [429]
        app.extensions["yurt"].close()


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"category": "gossip"}, 422),
        ({"text": ""}, 422),
        ({"text": 42}, 422),
        ({"text": "x" * 1001}, 422),
        ({"extra": 1}, 422),
    ],
)
def test_bad_reports_are_problems(client: FlaskClient, body: dict[str, object], status: int) -> None:
    assert_problem(report(client, **body), status)


def test_bad_requests(client: FlaskClient) -> None:
    assert_problem(report(client, mission_id="kz-no-such-post"), 404)
    anonymous = client.post(f"/v1/missions/{BERLIN}/reports", json={"category": "phone", "text": "abc"})
    assert_problem(anonymous, 401)
    assert_problem(client.post(f"/v1/missions/{BERLIN}/reports", data=b"{", headers={
        **auth("t", "traveller"), "Content-Type": "application/json"}), 400)
    assert_problem(client.get("/v1/reports", headers=auth("t", "traveller")), 403)
    assert_problem(client.get("/v1/reports?status=maybe", headers=auth("a", "staff")), 400)


def test_reports_on_redis(redis_settings: Settings) -> None:
    app = create_app(redis_settings)
    client = app.test_client()
    assert report(client).status_code == 201
    listed = orjson.loads(client.get("/v1/reports", headers=auth("alice", "staff")).data)["reports"]
    assert [r["mission_id"] for r in listed] == [BERLIN]
    app.extensions["yurt"].close()


@pytest.mark.parametrize("mode", ["embedded", "redis"])
def test_total_counts_every_page(request: pytest.FixtureRequest, settings: Settings, mode: str) -> None:
    if mode == "redis":
        settings = settings.replace(redis_url=request.getfixturevalue("redis_url"))
    app = create_app(settings)
    client = app.test_client()
    for i in range(3):
        assert report(client, sub=f"traveller-{i}").status_code == 201
    assert report(client, sub="traveller-9", mission_id="kz-embassy-no-oslo").status_code == 201
    staff = auth("alice", "staff")
    page = orjson.loads(client.get("/v1/reports?status=open&limit=2", headers=staff).data)
    assert page["total"] == 4 and len(page["reports"]) == 2
    first = page["reports"][0]["id"]
    assert client.post(f"/v1/reports/{first}/resolve", json={"resolution": "duplicate"},
                       headers=staff).status_code == 200
    assert orjson.loads(client.get("/v1/reports?status=open", headers=staff).data)["total"] == 3
    assert orjson.loads(client.get("/v1/reports?status=resolved", headers=staff).data)["total"] == 1
    assert orjson.loads(client.get(f"/v1/reports?mission_id={BERLIN}", headers=staff).data)["total"] == 3
    app.extensions["yurt"].close()
