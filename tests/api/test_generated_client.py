"""A client generated from the live /openapi.json, as an app team would generate one (openapi-python-client),
reads every public answer into named models: the service runs under gunicorn, the client is generated into a
temporary folder once for the module, imported, and called over real HTTP."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import requests

from tests.conftest import FIXTURE_DATASET, JWT_SECRET
from tests.harness.gunicorn import GunicornServer
from yurt.core.auth import mint

PACKAGE = "yurt_geo_client"
ALERT = {"severity": "warning", "title": {"en": "Strike", "kk": "Ереуіл", "ru": "Забастовка"},
         "body": {"en": "Transport stops.", "kk": "Көлік тоқтайды.", "ru": "Транспорт стоит."}, "countries": ["DE"]}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GunicornServer]:
    tmp = tmp_path_factory.mktemp("client")
    gunicorn = GunicornServer({"YURT_DATA_FILE": str(FIXTURE_DATASET), "YURT_DATA_DIR": str(tmp / "var"),
                               "YURT_JWT_SECRET": JWT_SECRET}, tmp)
    gunicorn.start()
    try:
        yield gunicorn
    finally:
        gunicorn.kill()


@pytest.fixture(scope="module")
def client_package(server: GunicornServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """Generated from the document the running service serves, into a fresh folder, then imported."""
    out = tmp_path_factory.mktemp("generated")
    (out / "spec.json").write_bytes(requests.get(server.url + "/openapi.json", timeout=10).content)
    # literal_enums: the time-zone list has names that differ only in case (GMT0, GMT-0), which an Enum's
    # member names cannot hold; the values are the same either way.
    (out / "config.yaml").write_text("literal_enums: true\n")
    generator = Path(sys.executable).parent / "openapi-python-client"
    done = subprocess.run([str(generator), "generate", "--path", str(out / "spec.json"), "--meta", "none",
                           "--output-path", str(out / PACKAGE), "--config", str(out / "config.yaml")],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _call(package: ModuleType, tag: str, operation: str, client: Any, **kwargs: Any) -> Any:
    module = importlib.import_module(f"{package.__name__}.api.{tag}.{operation}")
    parsed = module.sync(client=client, **kwargs)
    assert parsed is not None, operation
    return parsed


def _model(package: ModuleType, name: str) -> type:
    return getattr(importlib.import_module(f"{package.__name__}.models"), name)  # type: ignore[no-any-return]


def test_public_answers_read_into_named_models(server: GunicornServer, client_package: ModuleType) -> None:
    pkg = client_package
    client = pkg.Client(base_url=server.url, headers={"Accept-Encoding": "identity"}, raise_on_unexpected_status=True)
    unset = importlib.import_module(f"{pkg.__name__}.types").Unset

    nearest = _call(pkg, "missions", "nearest_nearest_get", client, lat=48.8566, lon=2.3522, limit=3)
    assert isinstance(nearest, _model(pkg, "NearestAnswer"))
    assert nearest.country.code == "FR" and nearest.at_home is False and isinstance(nearest.alerts, list)
    first = nearest.results[0]
    assert isinstance(first, _model(pkg, "NearestResult")) and first.distance_km >= 0
    assert isinstance(first.mission, _model(pkg, "MissionFeature"))
    assert isinstance(first.mission.properties, _model(pkg, "MissionProperties"))
    assert first.mission.properties.id and len(first.mission.properties.host_country) == 2
    assert first.open_now in (True, False, "unknown")
    assert first.opens_at is None or isinstance(first.opens_at, _model(pkg, "LocalUtcTime"))

    at_point = _call(pkg, "missions", "nearest_responsible_mission_get", client, lat=52.52, lon=13.405)
    assert isinstance(at_point, _model(pkg, "ResponsibleAnswer"))
    assert at_point.country.code == "DE" and at_point.basis in ("district", "seat", "resident", "accredited")
    assert at_point.missions and all(isinstance(m, _model(pkg, "ResponsibleMission")) for m in at_point.missions)
    assert all(isinstance(m, _model(pkg, "NearestResult")) for m in at_point.nearest)
    by_country = _call(pkg, "missions", "nearest_responsible_mission_get", client, country="DE")
    assert by_country.missions and all(isinstance(m, _model(pkg, "CountryMission")) for m in by_country.missions)

    listing = _call(pkg, "missions", "missions_list_missions_get", client)
    assert isinstance(listing, _model(pkg, "MissionCollection"))
    assert isinstance(listing.dataset, _model(pkg, "DatasetMeta")) and isinstance(listing.number_matched, unset)
    assert len(listing.features) == 10 and all(isinstance(f, _model(pkg, "MissionFeature")) for f in listing.features)
    filtered = _call(pkg, "missions", "missions_list_missions_get", client, country="DE")
    assert filtered.number_matched == len(filtered.features) > 0
    mission_id = listing.features[0].properties.id
    one = _call(pkg, "missions", "missions_get_mission_get", client, mission_id=mission_id)
    assert isinstance(one, _model(pkg, "MissionFeature")) and one.properties.id == mission_id
    assert isinstance(one.geometry, _model(pkg, "Point")) and len(one.geometry.coordinates) == 2


def test_alerts_read_into_named_models(server: GunicornServer, client_package: ModuleType) -> None:
    pkg = client_package
    staff = {"Authorization": "Bearer " + mint(JWT_SECRET, "editor", ["staff"], 10)}
    created = requests.post(server.url + "/v1/alerts", json=ALERT, headers=staff, timeout=10)
    assert created.status_code == 201, created.text
    client = pkg.Client(base_url=server.url, headers={"Accept-Encoding": "identity"}, raise_on_unexpected_status=True)

    listing = _call(pkg, "alerts", "alerts_list_alerts_get", client)
    assert isinstance(listing, _model(pkg, "AlertCollection"))
    feature = next(f for f in listing.features if f.id == created.json()["id"])
    assert isinstance(feature, _model(pkg, "AlertFeature")) and feature.geometry is None
    assert isinstance(feature.properties, _model(pkg, "AlertProperties")) and feature.properties.countries == ["DE"]
    assert feature.properties.upcoming is False and isinstance(feature.properties.title, _model(pkg, "Name"))
    one = _call(pkg, "alerts", "alerts_get_alert_get", client, alert_id=feature.id)
    assert isinstance(one, _model(pkg, "Alert")) and one.severity == "warning" and one.title.en == "Strike"

    nearest = _call(pkg, "missions", "nearest_nearest_get", client, lat=52.52, lon=13.405)
    assert [a.id for a in nearest.alerts] == [feature.id]
    assert isinstance(nearest.alerts[0], _model(pkg, "AlertSummary"))

    traveller = pkg.AuthenticatedClient(base_url=server.url, token=mint(JWT_SECRET, "reader", ["traveller"], 10),
                                        raise_on_unexpected_status=True)
    mine = _call(pkg, "travellers", "alert_travellers_my_alerts_get", traveller)
    assert isinstance(mine, _model(pkg, "TravellerAlerts")) and mine.presence_shared is False


def test_ogc_pages_read_into_named_models(server: GunicornServer, client_package: ModuleType) -> None:
    pkg = client_package
    client = pkg.Client(base_url=server.url, headers={"Accept-Encoding": "identity"}, raise_on_unexpected_status=True)
    tag = "ogc_api_features"
    landing = _call(pkg, tag, "ogc_landing_get", client)
    assert isinstance(landing, _model(pkg, "OgcLandingPage"))
    assert {link.rel for link in landing.links} >= {"self", "service-desc", "conformance", "data"}
    assert all(isinstance(link, _model(pkg, "OgcLink")) for link in landing.links)
    conformance = _call(pkg, tag, "ogc_conformance_get", client)
    assert any(c.endswith("/conf/geojson") for c in conformance.conforms_to)
    listing = _call(pkg, tag, "ogc_collections_get", client)
    assert isinstance(listing.collections[0], _model(pkg, "OgcCollection")) and listing.collections[0].id == "missions"
    page = _call(pkg, tag, "ogc_items_get", client, collection_id="missions", limit=3)
    assert isinstance(page, _model(pkg, "OgcItems")) and page.number_returned == len(page.features) == 3
    assert page.number_matched == 10 and [link.rel for link in page.links] == ["self", "next"]
    first = page.features[0]
    assert isinstance(first, _model(pkg, "MissionFeature"))
    item = _call(pkg, tag, "ogc_item_get", client, collection_id="missions", mission_id=first.properties.id)
    assert isinstance(item, _model(pkg, "OgcItem")) and item.properties.id == first.properties.id
    assert [link.rel for link in item.links] == ["self", "collection"]
