"""Every integer a client writes in a URL is range-checked before a store sees it, both modes.

The probe's attack: ``GET /v1/audit/<n>`` and ``POST /v1/audit/<n>/restore`` with n past 2^63 answered 500 in
Redis mode (LINDEX refuses the index) and 404 in the embedded one. Now a path integer beyond ``MAX_ID`` (or
spelt in other digits, with a sign or a leading zero) does not match its route: 404, since nothing can have
that number. A query integer beyond it is a 400 naming the parameter. The routes and parameters are read from
the URL map and ``/openapi.json``, so a new one is covered without editing this file.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.harness.problems import assert_problem
from tests.travellers.helpers import auth
from yurt.core.store_errors import MAX_ID

BERLIN = "kz-embassy-de-berlin"
PAST_INT64 = (2**63, 2**63 + 1, 2**64, 10**30)
BAD_PATH_INTEGERS = (*map(str, (MAX_ID + 1, 2**63 - 1, *PAST_INT64)), "9" * 5000, "%D9%A5", "%EF%BC%95",
                     "05", "+5", "-5", "5.0", "0x5")
# A valid value for each required query or path parameter, so the request reaches the parameter under test.
REQUIRED = {"lat": "52.5", "lon": "13.4", "bbox": "13,52,14,53", "mission_id": BERLIN, "collection_id": "missions",
            "alert_id": "al-0000000001"}




def write_something(client: FlaskClient) -> None:
    """An audit entry and a report: Redis answers LINDEX on a missing list with nil, on a list with an error."""
    staff = auth("editor", "staff")
    current = client.get(f"/v1/missions/{BERLIN}")
    assert client.patch(f"/v1/missions/{BERLIN}", json={"properties": {"city": "Berlin"}},
                        headers={**staff, "If-Match": current.headers["ETag"]}).status_code == 200
    report = client.post(f"/v1/missions/{BERLIN}/reports", json={"category": "phone", "text": "disconnected"},
                         headers=auth("reporter"))
    assert report.status_code == 201


def int_routes(app: Flask) -> list[tuple[str, str]]:
    """(method, rule) of every route with an integer path parameter."""
    return sorted((method, rule.rule) for rule in app.url_map.iter_rules() if "<int:" in rule.rule
                  for method in (rule.methods or set()) - {"HEAD", "OPTIONS"})


def test_path_integers_out_of_range_are_404_not_500(mode_app: Flask) -> None:
    client = mode_app.test_client()
    write_something(client)
    routes = int_routes(mode_app)
    assert {rule for _, rule in routes} >= {"/v1/audit/<int:seq>", "/v1/audit/<int:seq>/restore",
                                           "/v1/reports/<int:report_id>/resolve"}
    staff = {**auth("editor", "staff"), "If-Match": client.get("/v1/missions").headers["ETag"]}
    body = {"resolution": "fixed"}
    for method, rule in routes:
        for value in BAD_PATH_INTEGERS:
            path = re.sub(r"<int:\w+>", value, rule)
            response = client.open(path, method=method, headers=staff, json=body if "resolve" in rule else None)
            assert_problem(response, 404)
        # The largest valid number reaches the view and the store, which find nothing: 404, never a 500.
        path = re.sub(r"<int:\w+>", str(MAX_ID), rule)
        assert_problem(client.open(path, method=method, headers=staff, json=body if "resolve" in rule else None),
                       404)
    newest = client.get("/v1/audit?limit=1", headers=staff).get_json()["entries"][0]["seq"]
    assert client.get(f"/v1/audit/{newest}", headers=staff).status_code == 200


def integer_query_parameters(client: FlaskClient) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(path, parameter, scope, the operation's other required query values) for every integer query
    parameter of a GET in /openapi.json."""
    out = []
    for template, operations in client.get("/openapi.json").get_json()["paths"].items():
        operation = operations.get("get")
        query = [p for p in (operation or {}).get("parameters", []) if p["in"] == "query"]
        if operation is None or not any(p["schema"].get("type") == "integer" for p in query):
            continue
        path = re.sub(r"\{(\w+)\}", lambda m: REQUIRED[m.group(1)], template)
        required = {p["name"]: REQUIRED[p["name"]] for p in query if p.get("required")}
        scope = re.search(r"scope `(\w+)`", operation.get("description", ""))
        out += [(path, p["name"], scope.group(1) if scope else "", required)
                for p in query if p["schema"].get("type") == "integer"]
    return out


def test_query_integers_out_of_range_are_400_naming_the_parameter(mode_app: Flask) -> None:
    client = mode_app.test_client()
    write_something(client)
    parameters = integer_query_parameters(client)
    assert {(path, name) for path, name, _, _ in parameters} >= {
        ("/v1/audit", "before"), ("/v1/audit", "limit"), ("/v1/reports", "before"),
        ("/collections/missions/items", "offset"), ("/v1/missions/nearest", "limit")}
    for path, name, scope, required in parameters:
        headers = auth("caller", scope) if scope else {}
        for value in (*map(str, (MAX_ID + 1, -MAX_ID - 1, *PAST_INT64)), "9" * 5000, "-" + "9" * 30):
            response = client.get(path, query_string={**required, name: value}, headers=headers)
            problem = assert_problem(response, 400)
            assert list(problem["errors"]) == [name], (path, name, problem)
            assert any("between" in message or "less than" in message or "greater than" in message
                       for message in problem["errors"][name]), (path, name, problem)


@pytest.mark.parametrize("path", ["/v1/audit", f"/v1/missions/{BERLIN}/history", "/v1/reports"])
def test_the_largest_id_is_a_valid_cursor(mode_app: Flask, path: str) -> None:
    client = mode_app.test_client()
    write_something(client)
    response = client.get(path, query_string={"before": str(MAX_ID)}, headers=auth("editor", "staff"))
    assert response.status_code == 200, response.get_json()
    listed = response.get_json()
    assert listed.get("entries", listed.get("reports")), listed
