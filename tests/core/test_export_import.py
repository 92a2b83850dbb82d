"""``flask missions export`` then ``flask missions import`` is the identity: same dataset ETag, same bytes on
a second export, every mission's ETag kept, and the import is audited."""

from __future__ import annotations

from pathlib import Path

import orjson
from flask import Flask

from yurt.composition import services


def _etags(app: Flask) -> tuple[str, dict[str, str]]:
    with app.app_context():
        dataset = services().catalogue.refresh()
        return dataset.etag, {r.id: r.etag for r in dataset.records}


def test_export_then_import_is_the_identity(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    client = app.test_client()
    before = _etags(app)
    exported = tmp_path / "export.geojson"
    result = runner.invoke(args=["missions", "export", str(exported)])
    assert result.exit_code == 0, result.output
    collection = orjson.loads(exported.read_bytes())
    assert collection["type"] == "FeatureCollection" and len(collection["features"]) == 10
    assert orjson.loads(client.get("/v1/missions").data)["dataset"] == collection["dataset"]

    result = runner.invoke(args=["missions", "import", str(exported), "--author", "ops"])
    assert result.exit_code == 0, result.output
    assert _etags(app) == before
    again = tmp_path / "again.geojson"
    assert runner.invoke(args=["missions", "export", str(again)]).exit_code == 0
    assert again.read_bytes() == exported.read_bytes()
    with app.app_context():
        entry = services().store.audit(limit=1)[0]
    assert (entry.action, entry.author) == ("import", "ops")


def test_import_of_an_invalid_file_changes_nothing(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    exported = tmp_path / "export.geojson"
    runner.invoke(args=["missions", "export", str(exported)])
    collection = orjson.loads(exported.read_bytes())
    collection["features"][3]["properties"]["email"] = "broken"
    broken = tmp_path / "broken.geojson"
    broken.write_bytes(orjson.dumps(collection))
    before = _etags(app)
    result = runner.invoke(args=["missions", "import", str(broken)])
    assert result.exit_code == 1 and "features[3]" in result.output
    assert _etags(app) == before
