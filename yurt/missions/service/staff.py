"""Staff writes (scope ``staff``, checked by the HTTP layer): create, replace, merge-patch and delete one mission,
replace the whole dataset, read and replace the dataset-wide facts.

Optimistic concurrency: every write to one mission is conditional on that mission's ETag (``if_match``), a bulk
write on the dataset ETag; the store re-checks it inside its atomic write, so two staff editing one post never
silently overwrite each other. A stale ``if_match`` is the store's ``StalePrecondition`` (with the current
ETag and, for a mission, the current record).

Bodies are validated by the same schema as the data file (``yurt.missions.schemas.dataset``); validation
messages become field paths (``yurt.core.field_errors``): ``properties.phones[0].number``, and
``features[3].properties.email`` for a bulk replace. After a write this worker rebuilds its ``Dataset`` at once;
other workers follow within ``YURT_RELOAD_INTERVAL_S``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError

from yurt.core.field_errors import field_errors
from yurt.core.http.merge_patch import merge_patch
from yurt.core.store_errors import AlreadyExists, NotFound, StalePrecondition
from yurt.missions.model.dataset import Dataset, MissionRecord, dataset_etag
from yurt.missions.schemas.dataset import DatasetError, parse_collection, parse_feature, referral_problem
from yurt.missions.schemas.record import normalise_meta
from yurt.missions.service.errors import Conflict, Invalid, Unknown
from yurt.missions.service.mission_service import MissionService

_FEATURE_PATH = re.compile(r"^(features\[\d+\]) \(.*\)$")


def invalid(exc: ValidationError) -> Invalid:
    errors = field_errors(exc.messages)
    return Invalid("the mission is invalid: " + ", ".join(sorted(errors)), errors=errors)


def feature_from(svc: MissionService, raw: Any) -> dict[str, Any]:
    try:
        return parse_feature(raw, svc.locator.timezone_at)
    except ValidationError as exc:
        raise invalid(exc) from None


def collection_invalid(exc: DatasetError) -> Invalid:
    errors: dict[str, list[str]] = {}
    for path, messages in exc.errors.items():
        match = _FEATURE_PATH.match(path)  # "features[3] (kz-x)" → "features[3]"; the id is in the detail
        errors.update(field_errors(messages, match.group(1) if match else path))
    return Invalid(str(exc.args[0]), errors=errors)


def collection_from(svc: MissionService, raw: Any) -> tuple[Mapping[str, Any], list[dict[str, Any]]]:
    """A whole dataset (a FeatureCollection with its ``dataset`` facts), validated: its meta and features."""
    try:
        collection = parse_collection(raw, svc.locator.timezone_at)
    except DatasetError as exc:
        raise collection_invalid(exc) from None
    return collection.meta, collection.features


# -- one mission ---------------------------------------------------------------------------------------------


def _unknown(mission_id: str) -> Unknown:
    return Unknown(f"no mission with id {mission_id!r}")


def _same_id(feature: Mapping[str, Any], mission_id: str) -> None:
    if feature["properties"]["id"] != mission_id:
        raise Invalid("the body's properties.id differs from the id in the URL (renaming is a "
                      "delete and a create)", errors={"properties.id": [f"must be {mission_id!r}"]})


def _record_for(svc: MissionService, mission_id: str, if_match: str) -> MissionRecord:
    """The mission at ``if_match``: this worker's snapshot, refreshed once if it looks stale or missing."""
    catalogue = svc.catalogue
    record = catalogue.current().get(mission_id)
    if record is None or record.etag != if_match:
        record = catalogue.refresh().get(mission_id)
    if record is None:
        raise _unknown(mission_id)
    if record.etag != if_match:
        raise StalePrecondition(record.etag, record.feature)
    return record


def _check_referral(svc: MissionService, feature: Mapping[str, Any]) -> None:
    """``refer_to`` must name another existing post and make no cycle (checked against the current data)."""
    dataset = svc.catalogue.current()

    def lookup(mission_id: str) -> Mapping[str, Any] | None:
        record = dataset.get(mission_id)
        return None if record is None else record.feature["properties"]

    problem = referral_problem(feature["properties"], lookup)
    if problem is not None:
        raise Invalid(f"the mission is invalid: {problem}", errors={"properties.refer_to": [problem]})


def create_mission(svc: MissionService, raw: Any, *, author: str) -> MissionRecord:
    """Create a mission from a GeoJSON Feature (``Conflict`` if its id exists)."""
    feature = feature_from(svc, raw)
    _check_referral(svc, feature)
    try:
        record = svc.store.create(feature, author=author)
    except AlreadyExists:
        raise Conflict(f"a mission with id {feature['properties']['id']!r} already exists; edit it with "
                       "PUT or PATCH", errors={"properties.id": ["already exists"]}) from None
    svc.catalogue.refresh()
    return record


def _update(svc: MissionService, mission_id: str, feature: dict[str, Any], if_match: str, author: str,
            action: str) -> MissionRecord:
    _check_referral(svc, feature)
    try:
        record = svc.store.update(mission_id, feature, if_match=if_match, author=author, action=action)
    except NotFound:
        raise _unknown(mission_id) from None
    svc.catalogue.refresh()
    return record


def replace_mission(svc: MissionService, mission_id: str, raw: Any, *, if_match: str, author: str
                    ) -> MissionRecord:
    """Replace one mission with a whole Feature."""
    feature = feature_from(svc, raw)
    _same_id(feature, mission_id)
    return _update(svc, mission_id, feature, if_match, author, "replace")


def patch_mission(svc: MissionService, mission_id: str, patch: Any, *, if_match: str, author: str
                  ) -> MissionRecord:
    """Change one mission with a JSON Merge Patch (RFC 7396) of its Feature."""
    base = _record_for(svc, mission_id, if_match)
    feature = feature_from(svc, merge_patch(base.feature, patch))
    _same_id(feature, mission_id)
    return _update(svc, mission_id, feature, if_match, author, "patch")


def delete_mission(svc: MissionService, mission_id: str, *, if_match: str, author: str) -> None:
    """Delete one mission; its last state stays in the history."""
    try:
        svc.store.delete(mission_id, if_match=if_match, author=author)
    except NotFound:
        raise _unknown(mission_id) from None
    svc.catalogue.refresh()


# -- the whole dataset ---------------------------------------------------------------------------------------


def replace_all(svc: MissionService, meta: Mapping[str, Any], features: list[dict[str, Any]], *, if_match: str,
                author: str, action: str) -> dict[str, Any]:
    """Replace the whole dataset, all or nothing: ``{"count", "generation", "etag"}`` of the new one."""
    state = svc.store.replace_all(meta, features, if_match=if_match, author=author, action=action)
    dataset = svc.catalogue.refresh()
    etag = dataset_etag(state.meta, [r.feature for r in state.records])
    return {"count": len(state.records), "generation": dataset.generation, "etag": etag}


def replace_dataset(svc: MissionService, raw: Any, *, if_match: str, author: str) -> dict[str, Any]:
    """Replace the whole dataset from a GeoJSON FeatureCollection."""
    meta, features = collection_from(svc, raw)
    return replace_all(svc, meta, features, if_match=if_match, author=author, action="replace_all")


def dataset_facts(svc: MissionService) -> Dataset:
    """The dataset as the store has it now (its ``meta`` are the facts, its ``etag`` the dataset ETag)."""
    return svc.catalogue.refresh()


def replace_dataset_facts(svc: MissionService, raw: Any, *, if_match: str, author: str) -> dict[str, Any]:
    """Replace the dataset-wide facts; missions keep their ETags."""
    try:
        meta = normalise_meta(raw)
    except ValidationError as exc:
        errors = field_errors(exc.messages)
        raise Invalid("the dataset facts are invalid: " + ", ".join(sorted(errors)), errors=errors) from None
    features = [dict(r.feature) for r in svc.store.load().records]
    return replace_all(svc, meta, features, if_match=if_match, author=author, action="dataset_facts")
