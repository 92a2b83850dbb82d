"""Command-line tools, as ``flask --app wsgi <group> <command>``.

missions validate FILE   check a GeoJSON dataset, print counts by type (exit 1 and every error if invalid)
missions quality         what each post lacks and what was searched; --markdown: the README's data table
missions export FILE     write the current dataset (store's record of truth) as GeoJSON
missions import FILE     replace the whole dataset from GeoJSON, all or nothing, audited
tokens mint              print a development bearer token (HS256 with YURT_JWT_SECRET)
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson
from flask import Flask
from flask.cli import AppGroup

from yurt.composition import services
from yurt.core.auth import tokens_cli
from yurt.missions.model.dataset import dataset_etag
from yurt.missions.schemas.dataset import DatasetError, read_collection_file

missions_cli = AppGroup("missions", help="Mission dataset tools.")


def _dump(data: object) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n"


@missions_cli.command("validate", with_appcontext=False)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def validate_command(path: Path) -> None:
    """Validate a dataset file; print counts by type."""
    from yurt.geo.places import Locator

    try:
        collection = read_collection_file(path, Locator().timezone_at)
    except DatasetError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    counts = collection.counts_by_type()
    building = sum(1 for f in collection.features if f["properties"]["location_precision"] == "building")
    click.echo(f"{path}: valid, {len(collection.features)} missions")
    for type_, n in counts.items():
        click.echo(f"  {type_:<20} {n}")
    click.echo(f"  building-level coordinates: {building}")


@missions_cli.command("quality")
@click.option("--markdown", is_flag=True, help="Print only the README's data table.")
def quality_command(markdown: bool) -> None:
    """What each post lacks, and the totals (the README's data table)."""
    from datetime import UTC, datetime

    from yurt.missions.model.quality import markdown_table, quality_report

    report = quality_report(services().catalogue.current().properties, datetime.now(UTC).date())
    if not markdown:
        for post in report["posts"]:
            if post["missing"]:
                click.echo(f"{post['id']:<32} {post['status']:<10} missing: {', '.join(post['missing'])}")
                if post["searched"]:
                    click.echo(f"{'':<32} searched: {post['searched'][:300]}")
        click.echo("")
    click.echo(markdown_table(report))


@missions_cli.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def export_command(path: Path) -> None:
    """Write the current dataset to a GeoJSON file."""
    state = services().store.load()
    features = sorted((r.feature for r in state.records), key=lambda f: str(f["properties"]["id"]))
    path.write_bytes(_dump({"type": "FeatureCollection", "dataset": state.meta, "features": features}))
    click.echo(f"wrote {len(features)} missions to {path}")


@missions_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--author", default="cli", show_default=True, help="Recorded in the audit trail.")
def import_command(path: Path, author: str) -> None:
    """Replace the whole dataset from a GeoJSON file (all or nothing)."""
    svc = services()
    try:
        collection = read_collection_file(path, svc.locator.timezone_at)
    except DatasetError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    state = svc.store.load()
    current = dataset_etag(state.meta, [r.feature for r in state.records])
    svc.store.replace_all(collection.meta, collection.features, if_match=current, author=author,
                          action="import")
    click.echo(f"imported {len(collection.features)} missions from {path}")


def init_app(app: Flask) -> None:
    app.cli.add_command(missions_cli)
    app.cli.add_command(tokens_cli)
