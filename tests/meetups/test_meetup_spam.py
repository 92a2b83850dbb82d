"""Meetup spam of issue 11, over the API in both modes: an account holds at most ``YURT_MEETUPS_PER_ORGANISER``
active meetups (a 409 of its own type beyond), creates at most ``YURT_MEETUP_RATE`` (429 with Retry-After), and
a flood from many accounts leaves a genuine meetup first for those near it.

Before: no cap and no rate, so 15,000 meetups from a few accounts filled one city's search and slowed it from
3 ms to 710 ms (the search's cost: tests/meetups/test_search.py, bench/bench_meetups.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.travellers.helpers import auth, install_clock
from yurt import create_app
from yurt.core.http.problems import PROBLEM_MEDIA_TYPE
from yurt.core.settings import Settings

SAFA_PARK = (25.1866, 55.2530)


def body(**changes: Any) -> dict[str, Any]:
    base = {"title": "Nauryz picnic", "description": "", "starts_at": "2026-03-21T14:00:00+04:00",
            "ends_at": "2026-03-21T18:00:00+04:00", "lat": SAFA_PARK[0], "lon": SAFA_PARK[1],
            "place_name": "Safa Park", "capacity": 20}
    return {**base, **changes}


def make_app(settings: Settings, **changes: Any) -> Flask:
    return create_app(settings.replace(**changes))


@pytest.fixture
def capped(mode_settings: Settings) -> Iterator[Flask]:
    app = make_app(mode_settings, meetups_per_organiser=3, meetup_rate="100/hour")
    yield app
    app.extensions["yurt"].close()


@pytest.fixture
def rated(mode_settings: Settings) -> Iterator[Flask]:
    app = make_app(mode_settings, meetups_per_organiser=100, meetup_rate="4/hour")
    yield app
    app.extensions["yurt"].close()


@pytest.fixture
def defaults(mode_settings: Settings) -> Iterator[Flask]:
    app = make_app(mode_settings)  # 5 active meetups and 10 creations an hour per account
    yield app
    app.extensions["yurt"].close()


def post(client: FlaskClient, sub: str, **changes: Any) -> Any:
    return client.post("/v1/meetups", json=body(**changes), headers=auth(sub))


def test_active_meetups_are_capped_per_organiser(capped: Flask) -> None:
    clock = install_clock(capped)
    client = capped.test_client()
    ids = [post(client, "alice").json["id"] for _ in range(3)]
    refused = post(client, "alice")
    assert refused.status_code == 409 and refused.mimetype == PROBLEM_MEDIA_TYPE
    assert refused.json["type"] == "/problems/too-many-active-meetups" and refused.json["max_active"] == 3
    assert client.get("/problems/too-many-active-meetups").json == {
        "type": "/problems/too-many-active-meetups", "title": "Too many active meetups", "status": 409}
    assert post(client, "bob").status_code == 201  # the cap is per account
    assert client.delete(f"/v1/meetups/{ids[0]}", headers=auth("alice")).status_code == 200
    assert post(client, "alice").status_code == 201  # cancelling frees a place
    assert post(client, "alice").status_code == 409
    clock.advance(hours=10)  # every meetup of the 21st has ended
    assert post(client, "alice", starts_at="2026-03-22T14:00:00+04:00",
                ends_at="2026-03-22T18:00:00+04:00").status_code == 201


def test_creation_is_rate_limited_per_account(rated: Flask) -> None:
    install_clock(rated)
    client = rated.test_client()
    assert [post(client, "alice").status_code for _ in range(4)] == [201] * 4
    limited = post(client, "alice")
    assert limited.status_code == 429 and limited.mimetype == PROBLEM_MEDIA_TYPE
    assert 1 <= int(limited.headers["Retry-After"]) <= 3600
    assert post(client, "bob").status_code == 201


def test_a_flood_from_many_accounts_is_bounded(defaults: Flask) -> None:
    install_clock(defaults)
    client = defaults.test_client()
    genuine = post(client, "organiser", title="Kazakh community picnic", lat=25.2000, lon=55.2700).json["id"]
    statuses: Counter[int] = Counter()
    for account in range(30):
        for _ in range(12):
            statuses[post(client, f"spammer{account}", title="Visa help!!!").status_code] += 1
    # each account: 5 created, then refused by the cap until its hourly 10 attempts are spent, then 429
    assert statuses == {201: 30 * 5, 409: 30 * 5, 429: 30 * 2}
    near = client.get("/v1/meetups/nearby", query_string={"lat": 25.2001, "lon": 55.2701, "limit": 5},
                      headers=auth("viewer"))
    assert near.status_code == 200 and near.json["results"][0]["id"] == genuine
