"""Reading and checking a whole mission dataset (the seed file, a bulk replace, an import): all or nothing.

``parse_collection`` validates the FeatureCollection envelope, then every Feature with the same marshmallow
schema staff edits use, and raises one ``DatasetError`` listing every problem with the feature's index, its
``id`` and the field. Nothing is returned unless everything is valid, so a half-loaded dataset cannot exist.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from marshmallow import ValidationError

from yurt.core.field_errors import field_errors
from yurt.missions.schemas.record import ENVELOPE_SCHEMA, normalise_feature, normalise_meta

TimezoneAt = Callable[[float, float], "str | None"]


class DatasetError(ValueError):
    """An invalid dataset. ``errors`` maps ``features[i] (id)`` / ``dataset`` paths to field messages."""

    def __init__(self, message: str, errors: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.errors = dict(errors)

    def __str__(self) -> str:
        lines = [self.args[0]]
        for path, messages in self.errors.items():
            for field_path, texts in field_errors(messages).items():
                lines.extend(f"  {path}{'' if field_path == '$' else '.' + field_path}: {text}" for text in texts)
        return "\n".join(lines)


@dataclass(frozen=True)
class Collection:
    meta: dict[str, Any]
    features: list[dict[str, Any]]

    def counts_by_type(self) -> dict[str, int]:
        return dict(collections.Counter(f["properties"]["type"] for f in self.features).most_common())

    def to_geojson(self) -> dict[str, Any]:
        return {"type": "FeatureCollection", "dataset": self.meta, "features": self.features}


def fill_timezone(feature: dict[str, Any], timezone_at: TimezoneAt | None) -> None:
    """Derive ``timezone`` from the point when a record has none (the schema allows it to be absent)."""
    props = feature["properties"]
    if props.get("timezone") or timezone_at is None:
        return
    lon, lat = feature["geometry"]["coordinates"]
    zone = timezone_at(lat, lon)
    if zone:
        props["timezone"] = zone


def parse_feature(raw: Any, timezone_at: TimezoneAt | None) -> dict[str, Any]:
    feature = normalise_feature(raw)
    fill_timezone(feature, timezone_at)
    if "timezone" not in feature["properties"]:
        raise ValidationError({"properties": {"timezone": ["missing and cannot be derived from the point"]}})
    return feature


def parse_collection(raw: Any, timezone_at: TimezoneAt | None = None) -> Collection:
    if not isinstance(raw, dict):
        raise DatasetError("the dataset is not a GeoJSON FeatureCollection object", {"$": ["not an object"]})
    try:
        envelope = ENVELOPE_SCHEMA.load(raw)
    except ValidationError as exc:
        raise DatasetError("the FeatureCollection envelope is invalid", {"$": exc.messages}) from None
    errors: dict[str, Any] = {}
    try:
        meta = normalise_meta(envelope["dataset"])
    except ValidationError as exc:
        errors["dataset"] = exc.messages
        meta = {}
    features: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for i, raw_feature in enumerate(envelope["features"]):
        label_id = _raw_id(raw_feature)
        path = f"features[{i}] ({label_id})"
        try:
            feature = parse_feature(raw_feature, timezone_at)
        except ValidationError as exc:
            errors[path] = exc.messages
            continue
        mission_id = feature["properties"]["id"]
        if mission_id in seen:
            errors[path] = {"properties": {"id": [f"duplicate of features[{seen[mission_id]}]"]}}
            continue
        seen[mission_id] = i
        features.append(feature)
    by_id = {f["properties"]["id"]: f["properties"] for f in features}
    for feature in features:
        problem = referral_problem(feature["properties"], by_id.get)
        if problem is not None:
            errors[f"features[{seen[feature['properties']['id']]}] ({feature['properties']['id']})"] = {
                "properties": {"refer_to": [problem]}}
    if errors:
        first = next(iter(errors))
        raise DatasetError(f"{len(errors)} invalid record(s); first: {first}", errors)
    return Collection(meta=meta, features=features)


def referral_problem(props: Mapping[str, Any], lookup: Callable[[str], Mapping[str, Any] | None]) -> str | None:
    """Why ``props["refer_to"]`` cannot stand (an unknown post, or a chain that comes back), else None.

    ``lookup(id)`` gives the other posts' properties as they will be once this record is written.
    """
    target_id = props.get("refer_to")
    if target_id is None:
        return None
    chain = [props["id"]]
    current = target_id
    while current is not None:
        if current in chain:
            return f"referring to {target_id!r} makes a cycle: {' -> '.join([*chain, current])}"
        target = props if current == props["id"] else lookup(current)
        if target is None:
            return f"no post has the id {current!r}" if current == target_id else (
                f"{chain[-1]!r} refers to {current!r}, which does not exist")
        chain.append(current)
        current = target.get("refer_to")
    return None


def _raw_id(raw_feature: Any) -> str:
    if isinstance(raw_feature, dict):
        props = raw_feature.get("properties")
        if isinstance(props, dict) and isinstance(props.get("id"), str):
            return str(props["id"])
    return "no id"


def read_collection_file(path: Path, timezone_at: TimezoneAt | None = None) -> Collection:
    try:
        raw = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror}", {"$": [str(exc)]}) from None
    except orjson.JSONDecodeError as exc:
        raise DatasetError(f"{path} is not valid JSON: {exc}", {"$": [str(exc)]}) from None
    return parse_collection(raw, timezone_at)
