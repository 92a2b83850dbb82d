"""A real GIS client reads the OGC API as it is: GDAL's OAPIF driver (Debian's gdal-bin, installed by
scripts/test.sh) lists the layer and exports every mission through the paged items."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import orjson
import pytest
from flask.testing import FlaskClient

from tests.conftest import LiveServer


def gdal(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is missing: scripts/test.sh installs Debian's gdal-bin")
    return path


def test_ogrinfo_sees_the_missions_layer(live_server: LiveServer) -> None:
    result = subprocess.run([gdal("ogrinfo"), "-ro", "-so", f"OAPIF:{live_server.url}/", "missions"],
                            capture_output=True, text=True, timeout=60, check=True)
    assert "Layer name: missions" in result.stdout
    assert "Geometry: Point" in result.stdout
    assert "Feature Count: 10" in result.stdout


def test_ogr2ogr_exports_every_mission(live_server: LiveServer, client: FlaskClient, tmp_path: Path) -> None:
    out = tmp_path / "missions.geojson"
    # PAGE_SIZE=3: small pages force GDAL to follow our `next` links.
    subprocess.run([gdal("ogr2ogr"), "-f", "GeoJSON", str(out), f"OAPIF:{live_server.url}/", "missions",
                    "-oo", "PAGE_SIZE=3"], capture_output=True, text=True, timeout=60, check=True)
    exported = json.loads(out.read_text(encoding="utf-8"))["features"]
    ours = orjson.loads(client.get("/v1/missions").data)["features"]
    assert sorted(f["properties"]["id"] for f in exported) == sorted(f["id"] for f in ours)
    by_id = {f["id"]: f["geometry"]["coordinates"] for f in ours}
    for feature in exported:  # [lon, lat] survives the trip
        assert feature["geometry"]["coordinates"] == pytest.approx(by_id[feature["properties"]["id"]])
