"""Staff API: create/replace/patch/delete with If-Match, 428/412/409, bulk replace and undo, dataset facts,
history and audit, validation errors naming fields, and the OpenAPI entries."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import JWT_SECRET
from tests.harness.problems import assert_problem
from yurt.core.auth import mint
from yurt.core.http.merge_patch import merge_patch

BERLIN = "kz-embassy-de-berlin"
OSLO = "kz-embassy-no-oslo"


def auth(sub: str = "alice", scope: str = "staff") -> dict[str, str]:
    return {"Authorization": "Bearer " + mint(JWT_SECRET, sub, [scope], 10)}


def get(client: FlaskClient, mission_id: str) -> tuple[dict[str, Any], str]:
    response = client.get(f"/v1/missions/{mission_id}")
    assert response.status_code == 200
    return orjson.loads(response.data), response.headers["ETag"]


def patch(client: FlaskClient, mission_id: str, body: Any, etag: str | None, sub: str = "alice",
          content_type: str = "application/merge-patch+json"):  # type: ignore[no-untyped-def]
    headers = {**auth(sub), "Content-Type": content_type}
    if etag is not None:
        headers["If-Match"] = etag
    return client.patch(f"/v1/missions/{mission_id}", data=orjson.dumps(body), headers=headers)


def test_patch_changes_a_phone_and_the_public_api_serves_it(client: FlaskClient) -> None:
    feature, etag = get(client, BERLIN)
    phones = [{"number": "+49 30 123456", "kind": "main"}]
    response = patch(client, BERLIN, {"properties": {"phones": phones}}, etag)
    assert response.status_code == 200
    new_etag = response.headers["ETag"]
    assert new_etag != etag
    served, served_etag = get(client, BERLIN)
    assert served["properties"]["phones"] == phones and served_etag == new_etag
    assert served["properties"]["city"] == feature["properties"]["city"]  # untouched members kept
    # application/json is accepted for the merge patch too
    assert patch(client, BERLIN, {"properties": {"email": "b@mfa.kz"}}, new_etag,
                 content_type="application/json").status_code == 200


def test_if_match_missing_is_428_and_stale_is_412_with_the_other_change(client: FlaskClient) -> None:
    _, etag = get(client, BERLIN)
    assert_problem(patch(client, BERLIN, {"properties": {"email": "a@mfa.kz"}}, None), 428)
    assert_problem(patch(client, BERLIN, {"properties": {"email": "a@mfa.kz"}}, "*"), 428)
    assert patch(client, BERLIN, {"properties": {"email": "alice@mfa.kz"}}, etag, "alice").status_code == 200
    response = patch(client, BERLIN, {"properties": {"email": "bob@mfa.kz"}}, etag, "bob")
    body = assert_problem(response, 412)
    assert body["current"]["properties"]["email"] == "alice@mfa.kz"
    assert response.headers["ETag"] == body["current_etag"] == get(client, BERLIN)[1]
    for method in ("put", "delete"):
        stale = getattr(client, method)(f"/v1/missions/{BERLIN}", headers={**auth(), "If-Match": etag},
                                        json=body["current"] if method == "put" else None)
        assert_problem(stale, 412)
        assert_problem(getattr(client, method)(f"/v1/missions/{BERLIN}", headers=auth(),
                                               json=body["current"] if method == "put" else None), 428)


def test_an_edit_to_another_post_keeps_this_etag_valid(client: FlaskClient) -> None:
    _, berlin_etag = get(client, BERLIN)
    _, oslo_etag = get(client, OSLO)
    assert patch(client, OSLO, {"properties": {"email": "o@mfa.kz"}}, oslo_etag).status_code == 200
    assert patch(client, BERLIN, {"properties": {"email": "b@mfa.kz"}}, berlin_etag).status_code == 200


def test_validation_errors_name_each_field(client: FlaskClient) -> None:
    _, etag = get(client, BERLIN)
    response = patch(client, BERLIN, {"properties": {"phones": [{"number": "030 123", "kind": "main"}],
                                                     "email": "not-an-address", "colour": "red"}}, etag)
    body = assert_problem(response, 422)
    assert set(body["errors"]) >= {"properties.phones[0].number", "properties.email", "properties.colour"}
    assert get(client, BERLIN)[1] == etag  # nothing written
    bad_point = patch(client, BERLIN, {"geometry": {"coordinates": [200, 0]}}, etag)
    assert "geometry.coordinates" in assert_problem(bad_point, 422)["errors"]
    bonn = "kz-embassy-de-bonn"
    rename = patch(client, BERLIN, {"properties": {"id": bonn}, "id": bonn}, etag)
    assert "properties.id" in assert_problem(rename, 422)["errors"]


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"", "application/json", 400),
        (b"{}", "text/plain", 415),
        (b"[1, 2]", "application/json", 422),
        (b'{"properties": {"phones": "+49"}}', "application/json", 422),
        (b'{"geometry": {"coordinates": [NaN, 1]}}', "application/json", 400),
        (b'{"properties": {"city": "' + b"x" * 2_000_000 + b'"}}', "application/json", 413),
    ],
)
def test_bad_bodies_are_problems(client: FlaskClient, data: bytes, content_type: str, status: int) -> None:
    _, etag = get(client, BERLIN)
    response = client.patch(f"/v1/missions/{BERLIN}", data=data,
                            headers={**auth(), "If-Match": etag, "Content-Type": content_type})
    assert_problem(response, status)


def test_tokens_and_scopes(client: FlaskClient) -> None:
    _, etag = get(client, BERLIN)
    body = orjson.dumps({"properties": {"email": "x@mfa.kz"}})
    assert_problem(client.patch(f"/v1/missions/{BERLIN}", data=body, headers={"If-Match": etag}), 401)
    assert_problem(client.patch(f"/v1/missions/{BERLIN}", data=body,
                                headers={**auth(scope="traveller"), "If-Match": etag}), 403)
    assert_problem(client.get("/v1/audit", headers=auth(scope="traveller")), 403)


def test_create_put_delete_and_history(client: FlaskClient) -> None:
    feature, _ = get(client, BERLIN)
    new = copy.deepcopy(feature)
    new["id"] = new["properties"]["id"] = "kz-embassy-de-bonn"
    new["properties"]["city"] = "Bonn"
    created = client.post("/v1/missions", json=new, headers=auth("alice"))
    assert created.status_code == 201 and created.headers["Location"] == "/v1/missions/kz-embassy-de-bonn"
    assert_problem(client.post("/v1/missions", json=new, headers=auth("bob")), 409)
    new["properties"]["address"] = "Godesberger Allee 1"
    put = client.put("/v1/missions/kz-embassy-de-bonn", json=new,
                     headers={**auth("bob"), "If-Match": created.headers["ETag"]})
    assert put.status_code == 200
    assert get(client, "kz-embassy-de-bonn")[0]["properties"]["address"] == "Godesberger Allee 1"
    wrong_url = client.put(f"/v1/missions/{OSLO}", json=new,
                           headers={**auth(), "If-Match": get(client, OSLO)[1]})
    assert_problem(wrong_url, 422)
    deleted = client.delete("/v1/missions/kz-embassy-de-bonn",
                            headers={**auth("carol"), "If-Match": put.headers["ETag"]})
    assert deleted.status_code == 204
    assert_problem(client.get("/v1/missions/kz-embassy-de-bonn"), 404)
    history_url = "/v1/missions/kz-embassy-de-bonn/history"
    history = orjson.loads(client.get(history_url, headers=auth()).data)["entries"]
    assert [(e["action"], e["author"]) for e in history] == [("delete", "carol"), ("replace", "bob"),
                                                             ("create", "alice")]
    assert history[0]["before"]["properties"]["address"] == "Godesberger Allee 1"
    assert history[0]["after"] is None
    assert_problem(client.get("/v1/missions/kz-no-such-post/history", headers=auth()), 404)


def collection(client: FlaskClient) -> tuple[dict[str, Any], str]:
    response = client.get("/v1/missions")
    return orjson.loads(response.data), response.headers["ETag"]


def test_bulk_replace_all_or_nothing_then_restore(client: FlaskClient) -> None:
    original, etag = collection(client)
    edited = copy.deepcopy(original)
    edited["features"] = [f for f in edited["features"] if f["id"] != BERLIN]
    edited["features"][2]["properties"]["email"] = "broken"
    edited["features"][4]["geometry"]["coordinates"] = [0, 95]
    bad = client.put("/v1/missions", json=edited, headers={**auth(), "If-Match": etag})
    errors = assert_problem(bad, 422)["errors"]
    assert "features[2].properties.email" in errors and "features[4].geometry.coordinates" in errors
    assert collection(client)[1] == etag  # nothing landed

    edited = copy.deepcopy(original)
    edited["features"] = [f for f in edited["features"] if f["id"] != BERLIN]
    assert_problem(client.put("/v1/missions", json=edited, headers=auth()), 428)
    assert_problem(client.put("/v1/missions", json=edited, headers={**auth(), "If-Match": '"old"'}), 412)
    done = client.put("/v1/missions", json=edited, headers={**auth("alice"), "If-Match": etag})
    assert done.status_code == 200 and orjson.loads(done.data)["count"] == len(original["features"]) - 1
    after, after_etag = collection(client)
    assert after_etag == done.headers["ETag"] and BERLIN not in {f["id"] for f in after["features"]}

    audit = orjson.loads(client.get("/v1/audit?limit=5", headers=auth()).data)["entries"]
    bulk = audit[0]
    assert bulk["action"] == "replace_all" and bulk["changes"]["removed"] == [BERLIN]
    assert bulk["before"] is None  # the listing summarises; the detail has both datasets
    detail = orjson.loads(client.get(f"/v1/audit/{bulk['seq']}", headers=auth()).data)
    assert len(detail["before"]["features"]) == len(original["features"])
    berlin_history = orjson.loads(client.get(f"/v1/missions/{BERLIN}/history", headers=auth()).data)
    assert berlin_history["entries"][0]["after"] is None
    assert berlin_history["entries"][0]["before"]["id"] == BERLIN

    assert_problem(client.post(f"/v1/audit/{bulk['seq']}/restore", headers=auth()), 428)
    restored = client.post(f"/v1/audit/{bulk['seq']}/restore",
                           headers={**auth("bob"), "If-Match": after_etag})
    assert restored.status_code == 200
    assert collection(client) == (original, etag)
    newest = orjson.loads(client.get("/v1/audit?limit=1", headers=auth()).data)["entries"][0]
    assert newest["action"] == "restore" and newest["author"] == "bob"
    assert_problem(client.post("/v1/audit/99999/restore", headers={**auth(), "If-Match": etag}), 404)


def test_dataset_facts_edit_keeps_mission_etags(client: FlaskClient) -> None:
    _, berlin_etag = get(client, BERLIN)
    facts = client.get("/v1/dataset", headers=auth())
    meta = orjson.loads(facts.data)
    meta["consular_hotline"]["number"] = "+7 7172 72 00 00"
    assert_problem(client.put("/v1/dataset", json=meta, headers=auth()), 428)
    done = client.put("/v1/dataset", json=meta, headers={**auth(), "If-Match": facts.headers["ETag"]})
    assert done.status_code == 200
    whole, etag = collection(client)
    assert whole["dataset"]["consular_hotline"]["number"] == "+7 7172 72 00 00"
    assert etag == done.headers["ETag"] and get(client, BERLIN)[1] == berlin_etag
    meta["checked_on"] = "yesterday"
    errors = assert_problem(client.put("/v1/dataset", json=meta, headers={**auth(), "If-Match": etag}), 422)
    assert "checked_on" in errors["errors"]


def test_audit_pages(client: FlaskClient) -> None:
    _, etag = get(client, BERLIN)
    for i in range(5):
        etag = patch(client, BERLIN, {"properties": {"email": f"v{i}@mfa.kz"}}, etag).headers["ETag"]
    first = orjson.loads(client.get("/v1/audit?limit=2", headers=auth()).data)
    second = orjson.loads(client.get(first["next"], headers=auth()).data)
    seqs = [e["seq"] for e in first["entries"] + second["entries"]]
    assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == 4
    assert_problem(client.get("/v1/audit?limit=0", headers=auth()), 400)
    assert_problem(client.get("/v1/audit?before=abc", headers=auth()), 400)


def test_openapi_documents_staff_endpoints(app: Flask, client: FlaskClient) -> None:
    spec = orjson.loads(client.get("/openapi.json").data)
    operation = spec["paths"]["/v1/missions/{mission_id}"]["patch"]
    assert operation["security"] == [{"bearer": []}] and "staff" in operation["description"]
    assert "requestBody" in spec["paths"]["/v1/missions"]["put"]


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=3),
                           lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=2), inner, max_size=3), max_leaves=8)


@settings(max_examples=200, deadline=None)
@given(json_values, json_values)
def test_merge_patch_laws(target: Any, patch_doc: Any) -> None:
    """RFC 7396 §2: a patch applied twice changes nothing more; null members vanish; inputs unchanged."""
    before = copy.deepcopy((target, patch_doc))
    once = merge_patch(target, patch_doc)
    assert merge_patch(once, patch_doc) == once
    assert (target, patch_doc) == before
    if isinstance(patch_doc, dict):
        for name, value in patch_doc.items():
            assert (name not in once) if value is None else name in once


@pytest.mark.parametrize(("target", "patch_doc", "expected"), [  # RFC 7396 Appendix A
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
])
def test_merge_patch_rfc_examples(target: Any, patch_doc: Any, expected: Any) -> None:
    assert merge_patch(target, patch_doc) == expected
