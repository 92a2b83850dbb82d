"""Undo of a single-mission audit entry (both modes): the mission as it was before the entry, under the
mission's own preconditions, with the same 409 as a bulk restore when it would undo later edits."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.harness.problems import assert_problem
from tests.missions.test_staff import auth, get, patch

BERLIN = "kz-embassy-de-berlin"


@pytest.fixture
def client(mode_app: Flask) -> FlaskClient:
    return mode_app.test_client()


def newest_seq(client: FlaskClient) -> int:
    return int(orjson.loads(client.get("/v1/audit?limit=1", headers=auth()).data)["entries"][0]["seq"])


def set_email(client: FlaskClient, value: str, sub: str = "alice") -> int:
    _, etag = get(client, BERLIN)
    assert patch(client, BERLIN, {"properties": {"email": value}}, etag, sub=sub).status_code == 200
    return newest_seq(client)


def restore(client: FlaskClient, seq: int, headers: dict[str, str], body: Any = None):  # type: ignore[no-untyped-def]
    headers = {**auth("bob"), **headers}
    if body is None:
        return client.post(f"/v1/audit/{seq}/restore", headers=headers)
    return client.post(f"/v1/audit/{seq}/restore", json=body, headers=headers)


def test_undo_an_edit_with_the_missions_etag(client: FlaskClient) -> None:
    original, _ = get(client, BERLIN)
    seq = set_email(client, "one@mfa.kz")
    _, etag = get(client, BERLIN)
    assert_problem(restore(client, seq, {}), 428)  # the mission's If-Match is required
    dataset_etag = client.get("/v1/missions").headers["ETag"]
    assert_problem(restore(client, seq, {"If-Match": dataset_etag}), 412)  # the dataset's ETag is not it
    done = restore(client, seq, {"If-Match": etag})
    assert done.status_code == 200, done.data
    assert orjson.loads(done.data) == original and get(client, BERLIN) == (original, done.headers["ETag"])
    entry = orjson.loads(client.get("/v1/audit?limit=1", headers=auth()).data)["entries"][0]
    assert (entry["action"], entry["author"], entry["mission_id"]) == ("restore", "bob", BERLIN)
    assert entry["before"]["properties"]["email"] == "one@mfa.kz" and entry["after"] == original
    # Undone: a second undo has nothing to do.
    assert_problem(restore(client, seq, {"If-Match": done.headers["ETag"]}), 409)


def test_undo_over_a_later_edit_is_409_until_named(client: FlaskClient) -> None:
    original, _ = get(client, BERLIN)
    seq = set_email(client, "one@mfa.kz")
    set_email(client, "two@mfa.kz", sub="carol")
    _, etag = get(client, BERLIN)
    problem = assert_problem(restore(client, seq, {"If-Match": etag}), 409)
    assert problem["changed_since"] == [BERLIN] and problem["unconfirmed"] == [BERLIN]
    assert get(client, BERLIN)[0]["properties"]["email"] == "two@mfa.kz"  # nothing written
    done = restore(client, seq, {"If-Match": etag}, {"overwrite": [BERLIN]})
    assert done.status_code == 200 and orjson.loads(done.data) == original


def test_undo_a_delete_recreates_and_undo_a_create_deletes(client: FlaskClient) -> None:
    original, etag = get(client, BERLIN)
    assert client.delete(f"/v1/missions/{BERLIN}", headers={**auth(), "If-Match": etag}).status_code == 204
    deleted = newest_seq(client)
    assert_problem(restore(client, deleted, {}), 428)  # If-None-Match: * says "create it again"
    again = restore(client, deleted, {"If-None-Match": "*"})
    assert again.status_code == 200 and get(client, BERLIN)[0] == original

    feature = {**original, "id": "kz-embassy-de-bonn",
               "properties": {**original["properties"], "id": "kz-embassy-de-bonn", "city": "Bonn"}}
    assert client.post("/v1/missions", json=feature, headers=auth()).status_code == 201
    created = newest_seq(client)
    _, bonn_etag = get(client, "kz-embassy-de-bonn")
    gone = restore(client, created, {"If-Match": bonn_etag})
    assert gone.status_code == 204
    assert client.get("/v1/missions/kz-embassy-de-bonn").status_code == 404
