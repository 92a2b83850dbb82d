"""Undoing a bulk replace never silently undoes the edits made after it (both modes).

The attack the probe found: a bulk replace, then a single-mission edit, then a restore of the bulk entry put the
whole dataset back as it was before the bulk, and the later edit was gone without a word. Now the restore answers
409 listing every mission changed since (and the dataset-wide facts), and goes ahead only over what the body
names in ``overwrite`` (``overwrite_dataset_facts``).
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.harness.problems import assert_problem
from tests.missions.test_staff import auth, collection, get, patch

BERLIN, OSLO, SUVA, BERN = "kz-embassy-de-berlin", "kz-embassy-no-oslo", "kz-embassy-fj-suva", "kz-embassy-ch-bern"


@pytest.fixture
def client(mode_app: Flask) -> FlaskClient:
    return mode_app.test_client()


def bulk_replace(client: FlaskClient) -> int:
    """Drop Berlin and change Oslo's e-mail in one bulk replace; the audit entry's seq."""
    original, etag = collection(client)
    edited = copy.deepcopy(original)
    edited["features"] = [f for f in edited["features"] if f["id"] != BERLIN]
    next(f for f in edited["features"] if f["id"] == OSLO)["properties"]["email"] = "bulk@mfa.kz"
    assert client.put("/v1/missions", json=edited, headers={**auth(), "If-Match": etag}).status_code == 200
    return int(orjson.loads(client.get("/v1/audit?limit=1", headers=auth()).data)["entries"][0]["seq"])


def restore(client: FlaskClient, seq: int, body: Any = None):  # type: ignore[no-untyped-def]
    headers = {**auth("bob"), "If-Match": collection(client)[1]}
    if body is None:
        return client.post(f"/v1/audit/{seq}/restore", headers=headers)
    return client.post(f"/v1/audit/{seq}/restore", json=body, headers=headers)


def edit(client: FlaskClient, mission_id: str, name: str, value: str) -> None:
    _, etag = get(client, mission_id)
    assert patch(client, mission_id, {"properties": {name: value}}, etag).status_code == 200


def email(client: FlaskClient, mission_id: str, value: str) -> None:
    edit(client, mission_id, "email", value)


def test_restore_refuses_to_undo_later_single_edits_until_named(client: FlaskClient) -> None:
    original, original_etag = collection(client)
    seq = bulk_replace(client)
    email(client, SUVA, "later@mfa.kz")  # untouched by the bulk: the restore would revert it too
    email(client, OSLO, "later@mfa.kz")  # changed by the bulk and again since
    edit(client, BERN, "city", "Bärn")  # changed since, then changed back: nothing to lose
    edit(client, BERN, "city", "Bern")
    unchanged = collection(client)

    refused = assert_problem(restore(client, seq), 409)
    assert refused["changed_since"] == sorted([SUVA, OSLO]) == refused["unconfirmed"]
    assert refused["dataset_facts_changed_since"] is False
    assert "overwrite" in refused["errors"] and SUVA in refused["detail"]
    assert collection(client) == unchanged  # nothing was written

    partly = assert_problem(restore(client, seq, {"overwrite": [SUVA]}), 409)
    assert partly["unconfirmed"] == [OSLO] and partly["changed_since"] == sorted([SUVA, OSLO])
    assert collection(client) == unchanged

    done = restore(client, seq, {"overwrite": [OSLO, SUVA]})
    assert done.status_code == 200, done.get_json()
    assert collection(client) == (original, original_etag)


def test_missions_created_or_deleted_since_are_listed(client: FlaskClient) -> None:
    original, _ = collection(client)
    seq = bulk_replace(client)
    suva, etag = get(client, SUVA)
    assert client.delete(f"/v1/missions/{SUVA}", headers={**auth(), "If-Match": etag}).status_code == 204
    created = copy.deepcopy(suva)
    created["id"] = created["properties"]["id"] = "kz-embassy-fj-suva-2"
    assert client.post("/v1/missions", json=created, headers=auth()).status_code == 201
    refused = assert_problem(restore(client, seq), 409)
    assert refused["changed_since"] == sorted([SUVA, "kz-embassy-fj-suva-2"])
    assert restore(client, seq, {"overwrite": refused["changed_since"]}).status_code == 200
    assert collection(client)[0] == original


def test_dataset_facts_changed_since_need_their_own_consent(client: FlaskClient) -> None:
    original, original_etag = collection(client)
    seq = bulk_replace(client)
    facts = client.get("/v1/dataset", headers=auth())
    meta = orjson.loads(facts.data)
    meta["consular_hotline"]["number"] = "+7 7172 72 00 00"
    assert client.put("/v1/dataset", json=meta, headers={**auth(), "If-Match": facts.headers["ETag"]}
                      ).status_code == 200
    refused = assert_problem(restore(client, seq), 409)
    assert refused["changed_since"] == [] and refused["dataset_facts_changed_since"] is True
    assert "overwrite_dataset_facts" in refused["errors"]
    assert restore(client, seq, {"overwrite_dataset_facts": True}).status_code == 200
    assert collection(client) == (original, original_etag)


def test_restore_without_later_edits_needs_no_body_and_bad_bodies_are_refused(client: FlaskClient) -> None:
    original, original_etag = collection(client)
    seq = bulk_replace(client)
    for body in ({"overwrite": OSLO}, {"overwrite": [1]}, {"overwrite": [""]}, {"overwrite_dataset_facts": 1},
                 {"overwrite_dataset_facts": "true"}, {"other": []}):
        assert_problem(restore(client, seq, body), 422)
    assert_problem(restore(client, seq, ["not", "an", "object"]), 400)
    stale = client.post(f"/v1/audit/{seq}/restore", json={}, headers={**auth(), "If-Match": '"stale"'})
    assert_problem(stale, 412)
    assert restore(client, seq, {}).status_code == 200
    assert collection(client) == (original, original_etag)


def test_openapi_documents_the_restore_body_and_its_409(client: FlaskClient) -> None:
    spec = orjson.loads(client.get("/openapi.json").data)
    operation = spec["paths"]["/v1/audit/{seq}/restore"]["post"]
    assert operation["requestBody"]["required"] is False
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    properties = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]
    assert properties["overwrite"]["type"] == "array" and properties["overwrite_dataset_facts"]["type"] == "boolean"
    assert "changed_since" in operation["responses"]["409"]["description"]
