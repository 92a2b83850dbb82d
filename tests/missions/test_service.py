"""The missions use cases without Flask: a real embedded store on a tmp dir, the clock injected as ``now``, the
refusals as domain errors (``yurt.missions.service.errors``, the stores' ``StalePrecondition``)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from yurt.alerts.service.book import AlertBook
from yurt.alerts.stores.embedded import EmbeddedAlertStore
from yurt.core.store_errors import StalePrecondition
from yurt.geo.places import Locator
from yurt.missions.schemas.dataset import Collection
from yurt.missions.service import audit, staff
from yurt.missions.service.catalogue import Catalogue
from yurt.missions.service.errors import Conflict, Invalid, Unknown
from yurt.missions.service.mission_service import MissionService
from yurt.missions.service.nearest import nearest_answer, responsible_answer
from yurt.missions.service.restore import restore_dataset, restore_single
from yurt.missions.service.tools import district_features, quality
from yurt.missions.stores.embedded import EmbeddedMissionStore

BERLIN = "kz-embassy-de-berlin"
OSLO = "kz-embassy-no-oslo"
MONDAY_11_IN_BERLIN = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # Berlin: Mo-Fr 09:00-13:00,14:00-18:00
SUNDAY = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
NOTHING = {"overwrite": [], "overwrite_dataset_facts": False}


@pytest.fixture(scope="module")
def locator() -> Locator:
    return Locator()


@pytest.fixture
def svc(tmp_path: Path, seed: Collection, locator: Locator) -> Iterator[MissionService]:
    store = EmbeddedMissionStore(tmp_path / "missions", seed)
    alerts = EmbeddedAlertStore(tmp_path / "alerts")
    catalogue = Catalogue(store, reload_interval_s=60.0, seat_of=locator.seat_subdivision)
    yield MissionService(store=store, catalogue=catalogue, locator=locator,
                         alerts=AlertBook(alerts, reload_interval_s=60.0))
    store.close()
    alerts.close()


def feature(svc: MissionService, mission_id: str) -> dict[str, Any]:
    record = svc.catalogue.current().get(mission_id)
    assert record is not None
    return copy.deepcopy(dict(record.feature))


def etag(svc: MissionService, mission_id: str) -> str:
    record = svc.catalogue.current().get(mission_id)
    assert record is not None
    return record.etag


def test_nearest_answer_defaults_and_the_injected_clock(svc: MissionService) -> None:
    answer = nearest_answer(svc, 52.5, 13.4, 3, open_now=False, types=None, statuses=None, service=None,
                            now=MONDAY_11_IN_BERLIN)
    body = orjson.loads(answer.body)
    assert answer.dataset_version == svc.catalogue.current().etag.strip('"')
    assert body["country"] == {"code": "DE", "name": "Germany"} and body["at_home"] is False
    assert body["alerts"] == []
    ids = [r["mission"]["properties"]["id"] for r in body["results"]]
    assert ids[0] == BERLIN and len(ids) == 3
    # Defaults: career posts, open or limited (the permanent mission in Geneva and suspended Kyiv never).
    assert all(r["mission"]["properties"]["type"] != "permanent_mission" for r in body["results"])
    distances = [r["distance_km"] for r in body["results"]]
    assert distances == sorted(distances)
    assert body["results"][0]["open_now"] is True
    # The clock is the caller's: on a Sunday Berlin is closed, and nothing with known hours is open.
    sunday = orjson.loads(nearest_answer(svc, 52.5, 13.4, 3, open_now=False, types=None, statuses=None,
                                         service=None, now=SUNDAY).body)
    assert sunday["results"][0]["open_now"] is False
    open_now = orjson.loads(nearest_answer(svc, 52.5, 13.4, 3, open_now=True, types=None, statuses=None,
                                           service=None, now=MONDAY_11_IN_BERLIN).body)
    assert [r["mission"]["properties"]["id"] for r in open_now["results"]] == [BERLIN]
    assert orjson.loads(nearest_answer(svc, 52.5, 13.4, 3, open_now=True, types=None, statuses=None,
                                       service=None, now=SUNDAY).body)["results"] == []


def test_nearest_answer_filters(svc: MissionService) -> None:
    body = orjson.loads(nearest_answer(svc, 46.2, 6.1, 10, open_now=False, types=frozenset({"permanent_mission"}),
                                       statuses=None, service=None, now=MONDAY_11_IN_BERLIN).body)
    assert [r["mission"]["properties"]["id"] for r in body["results"]] == ["kz-pm-ch-geneva"]
    everything = orjson.loads(nearest_answer(svc, 50.45, 30.52, 1, open_now=False, types=None,
                                             statuses=frozenset({"suspended"}), service=None,
                                             now=MONDAY_11_IN_BERLIN).body)
    assert [r["mission"]["properties"]["id"] for r in everything["results"]] == ["kz-embassy-ua-kyiv"]


def test_responsible_answer_for_a_country_and_for_a_point(svc: MissionService) -> None:
    by_country = orjson.loads(responsible_answer(svc, None, "NO", now=MONDAY_11_IN_BERLIN).body)
    assert [m["mission"]["properties"]["id"] for m in by_country["missions"]] == [OSLO]
    assert by_country["nearest"] == [] and by_country["country"]["code"] == "NO"
    assert by_country["consular_hotline"]["number"] == "+7 7172 00 00 00"
    by_point = orjson.loads(responsible_answer(svc, (59.9, 10.7), None, now=MONDAY_11_IN_BERLIN).body)
    assert [m["mission"]["properties"]["id"] for m in by_point["missions"]] == [OSLO]
    assert by_point["missions"][0]["distance_km"] < 10 and by_point["nearest"][0]["mission"]["properties"]["id"] == OSLO
    assert by_point["alerts"] == []


def test_create_is_validated_and_refuses_a_taken_id(svc: MissionService) -> None:
    new = feature(svc, OSLO)
    new["properties"]["id"] = new["id"] = "kz-embassy-se-stockholm"
    new["properties"]["city"] = "Stockholm"
    new["geometry"]["coordinates"] = [18.07, 59.33]
    new["properties"]["host_country"] = "SE"
    record = staff.create_mission(svc, new, author="alice")
    assert svc.catalogue.current().get("kz-embassy-se-stockholm") == record  # this worker serves it at once
    with pytest.raises(Conflict) as taken:
        staff.create_mission(svc, new, author="alice")
    assert taken.value.errors == {"properties.id": ["already exists"]}
    broken = copy.deepcopy(new)
    broken["properties"]["email"] = "not an address"
    with pytest.raises(Invalid) as invalid:
        staff.create_mission(svc, broken, author="alice")
    assert invalid.value.errors is not None and "properties.email" in invalid.value.errors
    referral = copy.deepcopy(new)
    referral["properties"]["id"] = referral["id"] = "kz-consulate-se-goteborg"
    referral["properties"]["refer_to"] = "kz-nowhere"
    with pytest.raises(Invalid) as refers:
        staff.create_mission(svc, referral, author="alice")
    assert refers.value.errors is not None and list(refers.value.errors) == ["properties.refer_to"]


def test_replace_patch_delete_under_if_match(svc: MissionService) -> None:
    current = etag(svc, BERLIN)
    body = feature(svc, BERLIN)
    with pytest.raises(Invalid):  # renaming is a delete and a create
        staff.replace_mission(svc, OSLO, body, if_match=etag(svc, OSLO), author="alice")
    with pytest.raises(Unknown):
        staff.replace_mission(svc, "kz-nowhere", {**body, "properties": {**body["properties"], "id": "kz-nowhere"},
                                                  "id": "kz-nowhere"}, if_match=current, author="alice")
    record = staff.patch_mission(svc, BERLIN, {"properties": {"email": "berlin@mfa.kz"}}, if_match=current,
                                 author="alice")
    assert record.feature["properties"]["email"] == "berlin@mfa.kz" and record.etag != current
    with pytest.raises(StalePrecondition) as stale:  # the other person's change comes with the refusal
        staff.patch_mission(svc, BERLIN, {"properties": {"email": "x@mfa.kz"}}, if_match=current, author="bob")
    assert stale.value.current_etag == record.etag and stale.value.current == record.feature
    with pytest.raises(StalePrecondition):
        staff.replace_mission(svc, BERLIN, body, if_match=current, author="bob")
    staff.delete_mission(svc, BERLIN, if_match=record.etag, author="alice")
    assert svc.catalogue.current().get(BERLIN) is None
    with pytest.raises(Unknown):
        staff.delete_mission(svc, BERLIN, if_match=record.etag, author="alice")
    history = audit.mission_history(svc, BERLIN, 10, None)
    assert [e["action"] for e in history["entries"]] == ["delete", "patch"]
    with pytest.raises(Unknown):
        audit.mission_history(svc, "kz-nowhere", 10, None)
    with pytest.raises(Unknown):
        audit.audit_entry(svc, 10_000)


def test_dataset_facts_and_a_bulk_replace(svc: MissionService) -> None:
    dataset = staff.dataset_facts(svc)
    with pytest.raises(Invalid) as invalid:
        staff.replace_dataset_facts(svc, {**dataset.meta, "title": 5}, if_match=dataset.etag, author="alice")
    assert invalid.value.errors is not None and "title" in invalid.value.errors
    written = staff.replace_dataset_facts(svc, {**dataset.meta, "title": "Edited"}, if_match=dataset.etag,
                                          author="alice")
    assert written["etag"] == svc.catalogue.current().etag and written["count"] == len(dataset)
    with pytest.raises(StalePrecondition):
        staff.replace_dataset_facts(svc, dict(dataset.meta), if_match=dataset.etag, author="alice")
    collection = {"type": "FeatureCollection", "dataset": dict(staff.dataset_facts(svc).meta),
                  "features": [feature(svc, OSLO), {"type": "Feature"}]}
    with pytest.raises(Invalid) as bad:
        staff.replace_dataset(svc, collection, if_match=written["etag"], author="alice")
    assert bad.value.errors is not None and any(path.startswith("features[1]") for path in bad.value.errors)
    collection["features"] = collection["features"][:1]
    replaced = staff.replace_dataset(svc, collection, if_match=written["etag"], author="alice")
    assert replaced["count"] == 1 and len(svc.catalogue.current()) == 1
    log = audit.audit_log(svc, 1, None)
    assert log["entries"][0]["changes"]["added"] == [] and BERLIN in log["entries"][0]["changes"]["removed"]
    assert log["next"] == f"/v1/audit?limit=1&before={log['entries'][0]['seq']}"


def test_restoring_a_bulk_entry_refuses_to_undo_later_edits_unless_named(svc: MissionService) -> None:
    dataset = staff.dataset_facts(svc)
    kept = [feature(svc, OSLO), feature(svc, BERLIN)]
    staff.replace_all(svc, dataset.meta, kept, if_match=dataset.etag, author="alice", action="replace_all")
    bulk = audit.audit_entry(svc, audit.audit_log(svc, 1, None)["entries"][0]["seq"])
    staff.patch_mission(svc, OSLO, {"properties": {"email": "oslo@mfa.kz"}}, if_match=etag(svc, OSLO),
                        author="bob")
    now_etag = svc.catalogue.current().etag
    with pytest.raises(StalePrecondition):
        restore_dataset(svc, bulk.seq, bulk, if_match=dataset.etag, options=NOTHING, author="carol")
    with pytest.raises(Conflict) as conflict:
        restore_dataset(svc, bulk.seq, bulk, if_match=now_etag, options=NOTHING, author="carol")
    assert conflict.value.extra is not None and conflict.value.extra["changed_since"] == [OSLO]
    written = restore_dataset(svc, bulk.seq, bulk, if_match=now_etag, author="carol",
                              options={"overwrite": [OSLO], "overwrite_dataset_facts": False})
    assert written["count"] == len(dataset) and svc.catalogue.current().etag == written["etag"]
    single = audit.audit_entry(svc, audit.mission_history(svc, OSLO, 10, None)["entries"][1]["seq"])
    assert single.action == "patch"
    with pytest.raises(Conflict):  # a single-mission entry is not a dataset to restore
        restore_dataset(svc, single.seq, single, if_match=written["etag"], options=NOTHING, author="carol")


def test_restoring_a_single_entry(svc: MissionService) -> None:
    original = feature(svc, BERLIN)
    staff.patch_mission(svc, BERLIN, {"properties": {"email": "one@mfa.kz"}}, if_match=etag(svc, BERLIN),
                        author="alice")
    entry = audit.audit_entry(svc, audit.audit_log(svc, 1, None)["entries"][0]["seq"])
    restored = restore_single(svc, entry.seq, entry, if_match=etag(svc, BERLIN), create_only=False,
                              options=NOTHING, author="bob")
    assert restored.record is not None and dict(restored.record.feature) == original
    assert restored.before is not None and restored.before["properties"]["email"] == "one@mfa.kz"
    assert dict(feature(svc, BERLIN)) == original  # this worker serves the undo at once
    with pytest.raises(Conflict):  # already as it was before the entry
        restore_single(svc, entry.seq, entry, if_match=etag(svc, BERLIN), create_only=False, options=NOTHING,
                       author="bob")


def test_quality_as_of_a_given_day_and_district_outlines(svc: MissionService) -> None:
    staff.patch_mission(svc, BERLIN, {"properties": {"sources": [{"source": "mfa.kz", "date": "2026-11-01"}]}},
                        if_match=etag(svc, BERLIN), author="alice")
    report = quality(svc, date(2026, 11, 30))
    assert len(report["posts"]) == len(svc.catalogue.current()) and report["as_of"] == "2026-11-30"
    berlin = next(p for p in report["posts"] if p["id"] == BERLIN)
    assert "old_sources" not in berlin["missing"] and berlin["newest_source"] == "2026-11-01"
    later = quality(svc, date(2030, 12, 1))  # the day is the caller's: a source of 2026 is old by then
    assert "old_sources" in next(p for p in later["posts"] if p["id"] == BERLIN)["missing"]
    features = district_features(svc, ["DE-BE", "DE-BB"])
    assert {f["properties"]["code"] for f in features} == {"DE-BE", "DE-BB"}
    assert all(f["properties"]["approximate"] for f in features)
    assert {f["properties"]["kind"] for f in features} <= {"outline", "places"}
