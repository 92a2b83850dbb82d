"""Hostile input: oversized, malformed and mistyped bodies on every JSON-body endpoint, rate limits per token and
per address, security headers on every kind of response, CORS only for configured origins.

The JSON-body endpoints are read from ``/openapi.json`` (every operation with a ``requestBody``), so a new
endpoint is covered without editing this file. Each is called with a valid token for its scope, a real path
target and a current ``If-Match``, so the body is what gets refused, and nothing stored may change.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import JWT_SECRET
from tests.harness.problems import assert_problem
from tests.travellers.helpers import auth, install_clock
from yurt import create_app
from yurt.core.auth import mint
from yurt.core.settings import Settings

MAX_BODY_BYTES = 4096
BERLIN = "kz-embassy-de-berlin"
ORIGIN = "https://console.yurt.test"
MEETUP = {"title": "Nauryz", "starts_at": "2026-03-21T14:00:00+04:00", "ends_at": "2026-03-21T18:00:00+04:00",
          "lat": 25.1866, "lon": 55.2530, "place_name": "Safa Park", "capacity": 5}
ALERT = {"severity": "info", "title": {"en": "Strike", "kk": "Ереуіл", "ru": "Забастовка"},
         "body": {"en": "Transport stops.", "kk": "Көлік тоқтайды.", "ru": "Транспорт стоит."}, "countries": ["DE"]}
SECURITY_HEADERS = ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Content-Security-Policy",
                    "Cross-Origin-Resource-Policy", "X-Request-ID")


@pytest.fixture
def hostile_app(settings: Settings) -> Iterator[Flask]:
    application = create_app(settings.replace(max_body_bytes=MAX_BODY_BYTES, cors_origins=(ORIGIN,)))
    install_clock(application)
    yield application
    application.extensions["yurt"].close()


def body_operations(client: FlaskClient) -> list[tuple[str, str, str]]:
    """(method, path template, required scope) of every operation documented with a request body."""
    spec = client.get("/openapi.json").get_json()
    out = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                scope = re.search(r"scope `(\w+)`", operation.get("description", ""))
                out.append((method.upper(), path, scope.group(1) if scope else ""))
    return sorted(out)


def path_targets(client: FlaskClient) -> dict[str, str]:
    """A real value for each path parameter, so the request reaches its body."""
    meetup = client.post("/v1/meetups", json=MEETUP, headers=auth("organiser"))
    assert meetup.status_code == 201, meetup.get_json()
    report = client.post(f"/v1/missions/{BERLIN}/reports", json={"category": "phone", "text": "disconnected"},
                         headers=auth("reporter"))
    assert report.status_code in (201, 202), report.get_json()
    staff = auth("editor", "staff")
    facts = client.get("/v1/dataset", headers=staff)  # a bulk audit entry, for the restore endpoint
    assert client.put("/v1/dataset", json=facts.get_json(), headers={**staff, "If-Match": facts.headers["ETag"]}
                      ).status_code == 200
    seq = client.get("/v1/audit?limit=1", headers=staff).get_json()["entries"][0]["seq"]
    alert = client.post("/v1/alerts", json=ALERT, headers=staff)
    assert alert.status_code == 201, alert.get_json()
    return {"mission_id": BERLIN, "meetup_id": meetup.get_json()["id"], "report_id": str(report.get_json()["id"]),
            "seq": str(seq), "alert_id": alert.get_json()["id"]}


def headers_for(client: FlaskClient, method: str, path: str, scope: str) -> dict[str, str]:
    # The meetup's organiser may patch it; every other traveller call is made by a fresh traveller.
    sub = "organiser" if path.startswith("/v1/meetups/") else "hostile"
    headers = auth(sub, scope) if scope else {}
    if method in {"PUT", "PATCH"}:
        current = client.get(path, headers=headers)
        if "ETag" in current.headers:
            headers["If-Match"] = current.headers["ETag"]
    if path.endswith("/restore"):  # an undo names the dataset version it replaces
        headers["If-Match"] = client.get("/v1/missions").headers["ETag"]
    return headers


def body_targets(client: FlaskClient) -> list[tuple[str, str, str, dict[str, str]]]:
    """(method, path template, real path, headers) of every operation with a body, at least 12 of them."""
    operations = body_operations(client)
    assert len(operations) >= 12, operations
    targets = path_targets(client)
    return [(method, template, path, headers_for(client, method, path, scope)) for method, template, scope in operations
            for path in [re.sub(r"\{(\w+)\}", lambda m: targets[m.group(1)], template)]]


def stored_versions(client: FlaskClient) -> tuple[str, str, Any]:
    staff = auth("auditor", "staff")
    return (client.get("/v1/missions").headers["ETag"], client.get("/v1/dataset", headers=staff).headers["ETag"],
            client.get("/v1/audit", headers=staff).get_json())


def test_every_json_body_endpoint_refuses_hostile_bodies(hostile_app: Flask) -> None:
    client = hostile_app.test_client()
    targets = body_targets(client)
    before = stored_versions(client)
    for method, template, path, headers in targets:

        def send(data: bytes, content_type: str, headers: dict[str, str] = headers, path: str = path,
                 method: str = method) -> TestResponse:
            return client.open(path, method=method, data=data, content_type=content_type, headers=headers)

        where = f"{method} {template}"
        oversized = b'{"padding": "' + b"x" * MAX_BODY_BYTES + b'"}'
        assert send(oversized, "application/json").status_code == 413, where
        assert_problem(send(oversized, "application/json"), 413)
        for malformed in (b'{"lat": ', b"{'lat': 1}", b"\xff\xfe{}", b'{"a": NaN}', b"[1, 2,]"):
            response = send(malformed, "application/json")
            assert response.status_code == 400, (where, malformed, response.get_json())
            assert_problem(response, 400)
        assert_problem(send(b"", "application/json"), 400)
        for wrong_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
            response = send(b'{"lat": 1}', wrong_type)
            assert response.status_code == 415, (where, wrong_type, response.get_json())
            assert_problem(response, 415)
        assert_problem(client.open(path, method=method, data=b'{"lat": 1}', headers=headers), 415)
    assert stored_versions(client) == before


ODD_NUMBERS = ("1_0", "%EF%BC%95%EF%BC%91.5", "%2051.5", "51.5%20", "infinity", "0x1p4", "%D9%A5%D9%A1")


@pytest.mark.parametrize("number", ODD_NUMBERS)
def test_query_numbers_are_ascii_decimals(hostile_app: Flask, number: str) -> None:
    """float()/int() accept these spellings (underscores, full-width and Arabic-Indic digits, spaces, hex);
    a query string must not: each is a 400 problem naming the parameter."""
    client = hostile_app.test_client()
    traveller = auth("odd-numbers")
    cases = [(f"/v1/missions/nearest?lat={number}&lon=13.4", "lat", {}),
             (f"/v1/missions/nearest?lat=52.5&lon={number}", "lon", {}),
             (f"/v1/missions/nearest?lat=52.5&lon=13.4&limit={number}", "limit", {}),
             (f"/v1/missions/responsible?lat={number}&lon=13.4", "lat", {}),
             (f"/v1/missions?bbox={number},50,14,53", "bbox", {}),
             (f"/v1/meetups/nearby?lat=52.5&lon=13.4&radius_km={number}", "radius_km", traveller)]
    for path, name, headers in cases:
        response = client.get(path, headers=headers)
        assert_problem(response, 400)
        assert name in response.get_json()["errors"], (path, response.get_json())



RAW_QUERY_CASES = [  # path, the query string as a WSGI server hands it over (raw bytes as latin-1), the 400's name
    ("/v1/missions/nearest", "lat=51.1&lon=\xff", "lon"),
    ("/v1/missions/responsible", "country=K\xffZ", "country"),
    ("/v1/alerts", "lat=51.1&lon=7\xd0", "lon"),
    ("/collections/missions/items", "bbox=\xff", "bbox"),
    ("/v1/missions", "bbox=\xfe,1,2,3", "bbox"),
]


def test_raw_query_bytes_that_are_not_utf8_are_a_400(hostile_app: Flask) -> None:
    """A stray byte in the raw query string (a WSGI server other than gunicorn passes it on) was a 500 from every
    endpoint, lean or Flask (werkzeug's UTF-8 decoding of the raw query raised); now a 400 naming the parameter.
    A valid UTF-8 query sent raw reads as its percent-encoded twin."""
    client = hostile_app.test_client()
    for path, query, name in RAW_QUERY_CASES:
        response = client.get(path, environ_overrides={"QUERY_STRING": query})
        assert_problem(response, 400)
        assert name in response.get_json()["errors"], (path, response.get_json())
    raw = client.get("/v1/missions", environ_overrides={"QUERY_STRING": "q=Алматы".encode().decode("latin-1")})
    assert raw.status_code == 200
    assert raw.get_json() == client.get("/v1/missions", query_string={"q": "Алматы"}).get_json()

@pytest.fixture
def limited_app(mode_settings: Settings) -> Iterator[Flask]:
    """Token-bearing requests are counted in Redis in Redis mode (shared by every worker), in memory else."""
    application = create_app(mode_settings.replace(rate_limit="5/minute"))
    yield application
    application.extensions["yurt"].close()


def assert_429(response: TestResponse) -> None:
    assert_problem(response, 429)
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_rate_limit_per_token(limited_app: Flask) -> None:
    client = limited_app.test_client()
    alice, bob = auth("alice", "staff"), auth("bob", "staff")
    for _ in range(5):
        assert client.get("/v1/dataset", headers=alice).status_code == 200
    assert_429(client.get("/v1/dataset", headers=alice))
    # Another address does not help the same token; another token from the same address has its own budget.
    assert_429(client.get("/v1/dataset", headers=alice, environ_base={"REMOTE_ADDR": "192.0.2.9"}))
    assert client.get("/v1/dataset", headers=bob).status_code == 200
    # Two tokens for the same caller share the caller's budget.
    alice_again = {"Authorization": "Bearer " + mint(JWT_SECRET, "alice", ["traveller"], 5)}
    assert_429(client.get("/v1/dataset", headers=alice_again))


def test_rate_limit_cannot_be_dodged_with_made_up_tokens(limited_app: Flask) -> None:
    """A fresh random bearer string per request must not buy a fresh budget: unverified tokens count by address."""
    client = limited_app.test_client()
    address = {"REMOTE_ADDR": "192.0.2.77"}
    statuses = [client.get("/v1/dataset", headers={"Authorization": f"Bearer made-up-{i}"},
                           environ_base=address).status_code for i in range(8)]
    assert 429 not in statuses[:5]  # (a bad token on a public read is refused with 401, and still counted)
    assert statuses[5:] == [429] * 3
    forged = {"Authorization": "Bearer " + mint("not-the-secret" * 4, "mallory", ["staff"], 5)}
    assert_429(client.get("/v1/dataset", headers=forged, environ_base=address))


def test_rate_limit_per_address(limited_app: Flask) -> None:
    client = limited_app.test_client()
    first, second = {"REMOTE_ADDR": "192.0.2.1"}, {"REMOTE_ADDR": "192.0.2.2"}
    for _ in range(5):
        assert client.get("/v1/missions", environ_base=first).status_code == 200
    assert_429(client.get("/v1/missions", environ_base=first))
    assert_429(client.get(f"/v1/missions/{BERLIN}", environ_base=first))
    assert client.get("/v1/missions", environ_base=second).status_code == 200
    assert client.get("/healthz", environ_base=first).status_code == 200  # probes are exempt


def assert_security_headers(response: TestResponse) -> None:
    for name in SECURITY_HEADERS:
        assert response.headers.get(name), (response.status_code, name)
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_security_headers_on_every_kind_of_response(hostile_app: Flask) -> None:
    @hostile_app.get("/_hostile_boom")
    def _boom() -> None:
        raise RuntimeError("boom")

    client = hostile_app.test_client()
    ok = client.get("/v1/missions")
    not_modified = client.get("/v1/missions", headers={"If-None-Match": ok.headers["ETag"]})
    responses = {
        200: ok,
        304: not_modified,
        400: client.get("/v1/missions/nearest?lat=nan&lon=0"),
        401: client.get("/v1/travellers/nearby"),
        404: client.get("/v1/missions/kz-embassy-zz-nowhere"),
        405: client.delete("/healthz"),
        413: client.post("/v1/meetups", data=b"x" * (MAX_BODY_BYTES + 1), content_type="application/json",
                         headers=auth("t")),
        500: client.get("/_hostile_boom"),
    }
    for status, response in responses.items():
        assert response.status_code == status, (status, response.status_code)
        assert_security_headers(response)
    assert client.get("/docs").headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_cors_only_for_configured_origins(hostile_app: Flask) -> None:
    client = hostile_app.test_client()
    allowed = client.get("/v1/missions", headers={"Origin": ORIGIN})
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in allowed.headers.getlist("Vary")
    refused = client.get("/v1/missions", headers={"Origin": "https://evil.test"})
    assert refused.status_code == 200
    assert "Origin" in refused.headers.getlist("Vary")  # caches must not reuse one origin's copy for another
    assert not any(name.startswith("Access-Control-") for name, _ in refused.headers)
    preflight = {"Access-Control-Request-Method": "PUT",
                 "Access-Control-Request-Headers": "authorization, content-type"}
    ok = client.options("/v1/travellers/me/presence", headers={"Origin": ORIGIN, **preflight})
    assert ok.status_code == 204 and "Allow" in ok.headers
    assert ok.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "PUT" in ok.headers["Access-Control-Allow-Methods"]
    assert "authorization" in ok.headers["Access-Control-Allow-Headers"].lower()
    bad = client.options("/v1/travellers/me/presence", headers={"Origin": "https://evil.test", **preflight})
    assert not any(name.startswith("Access-Control-") for name, _ in bad.headers)
    # A problem answer to an allowed origin is readable by it too (else browsers hide the error).
    problem = client.get("/v1/travellers/nearby", headers={"Origin": ORIGIN})
    assert problem.status_code == 401
    assert problem.headers["Access-Control-Allow-Origin"] == ORIGIN
