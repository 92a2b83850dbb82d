"""Loading a dataset is all or nothing; each kind of bad record is refused with its index, id and field."""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import FIXTURE_DATASET
from yurt import create_app
from yurt.core.settings import Settings
from yurt.missions.schemas.dataset import DatasetError, parse_collection, read_collection_file

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "data" / "embassies.geojson"
REFERENCE_IDS = ROOT.parent / "shared" / "reference" / "missions-facts.csv"


def fixture() -> dict[str, Any]:
    return orjson.loads(FIXTURE_DATASET.read_bytes())  # type: ignore[no-any-return]


def broken(mutate: Any) -> dict[str, Any]:
    doc = fixture()
    mutate(doc["features"][3])
    return doc


def _set(path: str, value: Any) -> Any:
    def mutate(feature: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = feature
        for key in parents:
            target = target[key]
        target[last] = value
    return mutate


def _del(path: str) -> Any:
    def mutate(feature: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = feature
        for key in parents:
            target = target[key]
        del target[last]
    return mutate


BAD_RECORDS = {
    "missing id": (_del("properties.id"), "id"),
    "missing name": (_del("properties.name"), "name"),
    "missing kk name": (_del("properties.name.kk"), "kk"),
    "wrong type of services": (_set("properties.services", "passports"), "services"),
    "unknown service": (_set("properties.services", ["teleportation"]), "services"),
    "unknown mission type": (_set("properties.type", "castle"), "type"),
    "bad status": (_set("properties.status", "maybe"), "status"),
    "limited without a note": (_set("properties.status", "limited"), "status_note"),
    "bad country": (_set("properties.host_country", "XX"), "host_country"),
    "lowercase country": (_set("properties.host_country", "us"), "host_country"),
    "bad accredited country": (_set("properties.accredited_to", ["ZZ"]), "accredited_to"),
    "host in accredited_to": (_set("properties.accredited_to", ["US"]), "accredited_to"),
    "bad district": (_set("properties.districts", ["US-XX"]), "districts"),
    "bad timezone": (_set("properties.timezone", "Mars/Olympus"), "timezone"),
    "bad hours": (_set("properties.hours", "Mo-Fr 25:00-26:00"), "hours"),
    "bad phone": (_set("properties.phones", [{"number": "12345", "kind": "main"}]), "number"),
    "bad phone kind": (_set("properties.phones", [{"number": "+1 202 232 5488", "kind": "pager"}]), "kind"),
    "bad email": (_set("properties.email", "not-an-email"), "email"),
    "bad website": (_set("properties.website", "javascript:alert(1)"), "website"),
    "bad id slug": (_set("properties.id", "Bad Id!"), "id"),
    "unknown field": (_set("properties.colour", "blue"), "colour"),
    "no sources": (_set("properties.sources", []), "sources"),
    "bad date": (_set("properties.checked_on", "yesterday"), "checked_on"),
    "bad precision": (_set("properties.location_precision", "street"), "location_precision"),
    "lat out of range": (_set("geometry.coordinates", [-77.0, 95.0]), "coordinates"),
    "lon out of range": (_set("geometry.coordinates", [181.0, 38.0]), "coordinates"),
    "NaN coordinate": (_set("geometry.coordinates", [math.nan, 38.0]), "coordinates"),
    "three coordinates": (_set("geometry.coordinates", [1.0, 2.0, 3.0]), "coordinates"),
    "not a point": (_set("geometry.type", "LineString"), "type"),
    "feature id differs": (_set("id", "something-else"), "id"),
    "not a feature": (_set("type", "Thing"), "type"),
}


@pytest.mark.parametrize("case", sorted(BAD_RECORDS))
def test_each_bad_record_is_refused_with_index_id_and_field(case: str) -> None:
    mutate, field = BAD_RECORDS[case]
    doc = broken(mutate)
    with pytest.raises(DatasetError) as caught:
        parse_collection(json.loads(json.dumps(doc, allow_nan=True)))
    message = str(caught.value)
    assert "features[3]" in message
    assert field in message
    if case not in {"missing id", "bad id slug"}:
        assert "kz-embassy-us-washington" in message


def test_duplicate_ids_are_refused() -> None:
    doc = fixture()
    doc["features"].append(copy.deepcopy(doc["features"][0]))
    with pytest.raises(DatasetError, match=r"features\[10\].*duplicate"):
        parse_collection(doc)


@pytest.mark.parametrize("doc", [[], {"type": "FeatureCollection"}, {"type": "Topology", "features": []}])
def test_bad_envelope_is_refused(doc: Any) -> None:
    with pytest.raises(DatasetError):
        parse_collection(doc)


def test_timezone_is_derived_when_absent() -> None:
    doc = fixture()
    del doc["features"][0]["properties"]["timezone"]
    collection = parse_collection(doc, lambda lat, lon: "Europe/Berlin" if 52 < lat < 53 else None)
    assert collection.features[0]["properties"]["timezone"] == "Europe/Berlin"


def test_service_refuses_to_start_on_invalid_dataset(tmp_path: Path) -> None:
    bad = tmp_path / "bad.geojson"
    bad.write_bytes(orjson.dumps(broken(_set("properties.status", "maybe"))))
    with pytest.raises(DatasetError):
        create_app(Settings(data_file=bad, data_dir=tmp_path / "var"))
    assert not (tmp_path / "var" / "missions.json").exists()


def test_seed_dataset_validates_and_covers_the_reference() -> None:
    collection = read_collection_file(SEED)
    ids = {f["properties"]["id"] for f in collection.features}
    assert len(ids) >= 98
    if REFERENCE_IDS.exists():  # ../shared is beside the clone in CI and in development
        import csv

        with REFERENCE_IDS.open(encoding="utf-8") as handle:
            reference = {row["id"] for row in csv.DictReader(handle)}
        assert reference <= ids
    assert all(f["properties"]["sources"] for f in collection.features)


def test_cli_validate_prints_counts() -> None:
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "missions", "validate", str(SEED)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin", "YURT_DATA_DIR": "/tmp/yurt-cli-validate"})
    assert result.returncode == 0, result.stderr
    assert "embassy" in result.stdout and "valid" in result.stdout


def test_cli_validate_rejects_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.geojson"
    bad.write_bytes(orjson.dumps(broken(_set("properties.host_country", "XX"))))
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "missions", "validate", str(bad)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin", "YURT_DATA_DIR": str(tmp_path / "var")})
    assert result.returncode == 1
    assert "features[3]" in result.stderr and "host_country" in result.stderr
