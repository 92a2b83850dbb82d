"""Shared helpers for the alert API tests: an app in either mode with a movable clock, staff calls, bodies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.travellers.helpers import Clock, auth, install_clock
from yurt import create_app
from yurt.core.settings import Settings

TITLE = {"en": "Evacuation of the embassy", "kk": "Елшілікті эвакуациялау", "ru": "Эвакуация посольства"}
TEXT = {"en": "Leave the country.", "kk": "Елден кетіңіз.", "ru": "Покиньте страну."}
SUVA = (-18.1416, 178.4419)
FIJI = {"type": "MultiPolygon", "coordinates": [
    [[[176.8, -19.3], [180.0, -19.3], [180.0, -15.6], [176.8, -15.6], [176.8, -19.3]]],
    [[[-180.0, -19.3], [-178.2, -19.3], [-178.2, -15.6], [-180.0, -15.6], [-180.0, -19.3]]]]}
BERLIN_BOX = {"type": "Polygon", "coordinates": [[[13.0, 52.3], [13.8, 52.3], [13.8, 52.7], [13.0, 52.7],
                                                  [13.0, 52.3]]]}


def staff(sub: str = "alice") -> dict[str, str]:
    return auth(sub, "staff")


def body(**extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"severity": "warning", "title": TITLE, "body": TEXT, "area": BERLIN_BOX,
                           "sources": ["https://www.gov.kz/memleket/entities/mfa"]}
    out.update(extra)
    return {k: v for k, v in out.items() if v is not None or k in ("valid_to", "valid_from")}


def publish(client: FlaskClient, sub: str = "alice", **extra: Any) -> TestResponse:
    return client.post("/v1/alerts", json=body(**extra), headers=staff(sub))


def published(client: FlaskClient, **extra: Any) -> tuple[dict[str, Any], str]:
    response = publish(client, **extra)
    assert response.status_code == 201, response.get_json()
    return response.get_json(), response.headers["ETag"]


@pytest.fixture
def clocked(mode_settings: Settings) -> Iterator[tuple[Flask, Clock]]:
    application = create_app(mode_settings)
    clock = install_clock(application)
    yield application, clock
    application.extensions["yurt"].close()
