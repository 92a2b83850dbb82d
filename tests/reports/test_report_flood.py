"""The report flood of issue 11, replayed: many accounts filing junk reports must not hide a real one from
staff, nor stop staff from suspending the traveller it names (embedded and real Redis).

Before: no per-reporter limit, duplicates accepted, staff saw the newest 500 reports without paging and
suspension searched the newest 10,000, so 10,290 junk reports (21 accounts, 14 s) made a real report vanish and
its suspension answer 404.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.travellers.helpers import T0, auth, install_clock, share
from yurt import create_app
from yurt.core.http.problems import PROBLEM_MEDIA_TYPE
from yurt.core.settings import Settings
from yurt.geo import privacy

DUBAI = (25.2048, 55.2708)
ACCOUNTS = 25
QUOTA = 10  # YURT_REPORT_RATE in this test: 10/hour
PILED = 10_050  # more than the old suspension scan (10,000) and staff list (500) together could see


@pytest.fixture
def flood_app(mode_settings: Settings) -> Iterator[Flask]:
    application = create_app(mode_settings.replace(report_rate=f"{QUOTA}/hour"))
    install_clock(application)
    yield application
    application.extensions["yurt"].close()


def show(app: Flask, viewer_sub: str, target_subs: list[str]) -> list[str]:
    """Handles of ``target_subs`` as ``viewer_sub`` would have seen them in nearby (remembered by the store)."""
    stores = app.extensions["yurt"].travellers
    viewer = privacy.traveller_id(stores.secret, viewer_sub)
    targets = [privacy.traveller_id(stores.secret, s) for s in target_subs]
    handles = {privacy.handle_for(stores.secret, viewer, t): t for t in targets}
    stores.presence.remember_handles(viewer, handles, T0.timestamp())
    return list(handles)


def file(client: FlaskClient, sub: str, handle: str, reason: str) -> Any:
    return client.post("/v1/travellers/reports", json={"handle": handle, "reason": reason}, headers=auth(sub))


def every_report(client: FlaskClient, limit: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cursor = None
    for _ in range(10_000):
        query: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get("/v1/staff/traveller-reports", query_string=query, headers=auth("boss", "staff"))
        assert response.status_code == 200, response.json
        out.extend(response.json["reports"])
        cursor = response.json["next_cursor"]
        if cursor is None:
            return out
    raise AssertionError("paging did not end")


def test_a_real_report_survives_a_flood(flood_app: Flask) -> None:
    client = flood_app.test_client()
    assert share(client, "scammer", *DUBAI).status_code == 200
    (scammer,) = show(flood_app, "alice", ["scammer"])
    assert file(client, "alice", scammer, "asks for money").status_code == 202

    statuses: dict[int, int] = {}
    for a in range(ACCOUNTS):
        junk = show(flood_app, f"sybil{a}", [f"junk{a}-{t}" for t in range(QUOTA + 2)])
        first = file(client, f"sybil{a}", junk[0], "junk")
        again = file(client, f"sybil{a}", junk[0], "junk, again")
        assert (first.status_code, again.status_code) == (202, 409)
        assert again.mimetype == PROBLEM_MEDIA_TYPE and again.json["type"] == "/problems/report-already-open"
        assert again.json["report_id"] == first.json["id"]
        for handle in junk[1:]:
            response = file(client, f"sybil{a}", handle, "junk")
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code == 429:
                assert response.mimetype == PROBLEM_MEDIA_TYPE and int(response.headers["Retry-After"]) >= 1
    assert statuses == {202: ACCOUNTS * (QUOTA - 1), 429: ACCOUNTS * 2}
    assert client.get("/problems/report-already-open").json["status"] == 409

    # A flood beyond what any account can file now (as if thousands of accounts joined in), straight into
    # the store: staff still page to the real report and suspension still finds its traveller.
    store = flood_app.extensions["yurt.reports"].traveller_reports
    for i in range(PILED):
        store.add(f"pile{i}", f"pile-target{i % 500}", "junk", f"t_pile{i % 500}", T0.timestamp())
    reports = every_report(client, 200)
    assert len(reports) == 1 + ACCOUNTS * QUOTA + PILED
    ids = [r["id"] for r in reports]
    assert ids == sorted(set(ids), reverse=True)
    (real,) = [r for r in reports if r["reason"] == "asks for money"]
    assert real["open"] is True

    response = client.post(f"/v1/staff/travellers/{real['target']}/suspension", headers=auth("boss", "staff"))
    assert response.status_code == 200 and response.json["reports_closed"] == 1
    assert share(client, "scammer", *DUBAI).status_code == 403
    first_page = client.get("/v1/staff/traveller-reports", query_string={"limit": 1},
                            headers=auth("boss", "staff")).json
    assert first_page["reports"][0]["open"] is True and first_page["next_cursor"]
    assert every_report(client, 200)[-1]["open"] is False  # the real report, closed by the suspension


@pytest.mark.parametrize("cursor", ["", "x", "eyJiZWZvcmUiOiAiMSJ9", "eyJiZWZvcmUiOi0xfQ", "bnVsbA"])
def test_a_bad_cursor_is_a_400_naming_it(client: FlaskClient, cursor: str) -> None:
    response = client.get("/v1/staff/traveller-reports", query_string={"cursor": cursor},
                          headers=auth("boss", "staff"))
    assert response.status_code == 400 and "cursor" in response.json["errors"]


def test_suspension_of_a_handle_nobody_reported_is_404(client: FlaskClient) -> None:
    response = client.post("/v1/staff/travellers/t_aaaaaaaaaaaaaaaaaaaaaaaaaa/suspension",
                           headers=auth("boss", "staff"))
    assert response.status_code == 404 and response.mimetype == PROBLEM_MEDIA_TYPE
