"""JSON bodies nested deeper than ``MAX_JSON_DEPTH`` are a 400 problem on every JSON-body endpoint, both modes.

The probe's attack: a staff merge patch nested about 990 levels deep reached the recursive merge (and
marshmallow, and orjson.dumps) and hit Python's recursion limit: a 500. The endpoints are read from
``/openapi.json`` (every operation with a request body), as in ``tests/api/test_hostile_input.py``, so a new one is
covered without editing this file.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask

from tests.api.test_hostile_input import body_targets, stored_versions
from tests.harness.problems import assert_problem
from tests.travellers.helpers import install_clock
from yurt.core.http.conventions import MAX_JSON_DEPTH
from yurt.core.settings import PROJECT_ROOT

YURT = PROJECT_ROOT / "yurt"


@pytest.fixture
def deep_app(mode_app: Flask) -> Flask:
    install_clock(mode_app)  # the meetup path_targets creates starts in 2026
    return mode_app


def nested(levels: int, key: str = "properties") -> bytes:
    """An object ``levels`` deep: {"properties": {"properties": ... 1 ...}} (the probe's merge patch)."""
    return b'{"%s":' % key.encode() * levels + b"1" + b"}" * levels


def nested_arrays(levels: int) -> bytes:
    return b"{\"a\":" + b"[" * (levels - 1) + b"1" + b"]" * (levels - 1) + b"}"


def test_every_json_body_endpoint_refuses_deep_bodies(deep_app: Flask) -> None:
    client = deep_app.test_client()
    targets = body_targets(client)
    before = stored_versions(client)
    for method, template, path, headers in targets:
        for body in (nested(990), nested(MAX_JSON_DEPTH + 1), nested_arrays(MAX_JSON_DEPTH + 1),
                     nested(5000), nested_arrays(100_000)):
            response = client.open(path, method=method, data=body, content_type="application/json",
                                   headers=headers)
            problem = assert_problem(response, 400)
            assert problem["errors"] == {"$": [f"nested more than {MAX_JSON_DEPTH} levels"]}, (method, template)
        # At the limit the body is judged on its merits (a 422 or 400 for its content), not for its depth.
        at_limit = client.open(path, method=method, data=nested(MAX_JSON_DEPTH), content_type="application/json",
                               headers=headers)
        assert at_limit.status_code < 500 and "$" not in (at_limit.get_json() or {}).get("errors", {}), (
            method, template, at_limit.get_json())
    assert stored_versions(client) == before


def test_only_the_checked_reader_reads_request_bodies() -> None:
    """Every view gets its body from ``json_body`` (which checks the depth); none reads the request itself."""
    readers = re.compile(r"request\.(get_data|get_json|json|data|stream|form|files|input_stream)\b")
    offenders = [f"{path.relative_to(YURT)}:{number}" for path in sorted(YURT.rglob("*.py"))
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if readers.search(line) and path.name != "conventions.py"]
    assert offenders == []
    assert "MAX_JSON_DEPTH" in (YURT.parent / "README.md").read_text(encoding="utf-8")
