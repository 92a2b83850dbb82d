"""The one error shape every failure answers with (RFC 9457 problem details), asserted the same way everywhere."""

from __future__ import annotations

import orjson

from yurt.core.http.problems import PROBLEM_MEDIA_TYPE


def assert_problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status
    assert response.mimetype == PROBLEM_MEDIA_TYPE
    body = orjson.loads(response.data)
    assert body["status"] == status
    assert isinstance(body["type"], str) and body["type"]
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body
