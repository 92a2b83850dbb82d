"""Shared helpers for the traveller and meetup API tests: tokens and a movable request clock."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, g
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import JWT_SECRET
from yurt.core.auth import mint

T0 = datetime(2026, 3, 21, 9, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = T0

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def install_clock(app: Flask, start: datetime = T0) -> Clock:
    """Every request sees ``clock.now``; tests move it forward instead of sleeping."""
    clock = Clock(start)

    def _pin() -> None:
        g.now = clock.now

    app.before_request_funcs.setdefault(None, []).insert(0, _pin)
    return clock


def auth(sub: str, *scopes: str, issued_days_ago: float = 0) -> dict[str, str]:
    """A token valid for the next hour, issued (``iat``) ``issued_days_ago`` days ago by the real clock."""
    issued = time.time() - issued_days_ago * 86_400
    token = mint(JWT_SECRET, sub, list(scopes or ("traveller",)), 60 + issued_days_ago * 1440, now=issued)
    return {"Authorization": "Bearer " + token}


def share(client: FlaskClient, sub: str, lat: float, lon: float, *, issued_days_ago: float = 0,
          **extra: Any) -> TestResponse:
    body = {"lat": lat, "lon": lon, "display_name": sub.title(), "languages": ["kk", "ru"], **extra}
    return client.put("/v1/travellers/me/presence", json=body, headers=auth(sub, issued_days_ago=issued_days_ago))


def nearby(client: FlaskClient, sub: str, **params: Any) -> TestResponse:
    return client.get("/v1/travellers/nearby", query_string=params, headers=auth(sub))


def all_nearby(client: FlaskClient, sub: str, **params: Any) -> list[dict[str, Any]]:
    """Every page of a nearby query, following the cursor."""
    out: list[dict[str, Any]] = []
    cursor = None
    for _ in range(1000):
        query = dict(params, **({"cursor": cursor} if cursor else {}))
        response = nearby(client, sub, **query)
        assert response.status_code == 200, response.json
        out.extend(response.json["results"])
        cursor = response.json["next_cursor"]
        if cursor is None:
            return out
    raise AssertionError("pagination did not end")
