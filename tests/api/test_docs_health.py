"""OpenAPI document, offline docs page, health probes."""

from __future__ import annotations

import orjson
from flask.testing import FlaskClient


def test_openapi_lists_every_route(client: FlaskClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    doc = orjson.loads(response.data)
    assert doc["openapi"].startswith("3.")
    for path in ["/v1/missions", "/v1/missions/{mission_id}", "/v1/missions/nearest", "/v1/missions/responsible",
                 "/collections/{collection_id}/items", "/healthz", "/readyz"]:
        assert path in doc["paths"], path
    params = {p["name"] for p in doc["paths"]["/v1/missions/nearest"]["get"]["parameters"]}
    assert {"lat", "lon", "limit", "type", "service", "open_now"} <= params
    assert "MissionFeature" in doc["components"]["schemas"]


def test_docs_page_uses_only_local_assets(client: FlaskClient) -> None:
    page = client.get("/docs").get_data(as_text=True)
    assert "swagger-ui-bundle.js" in page
    assert "http://" not in page and "https://" not in page
    for asset in ["/docs/static/swagger-ui-bundle.js", "/docs/static/swagger-ui.css", "/docs/static/swagger-init.js"]:
        with client.get(asset) as response:
            assert response.status_code == 200 and len(response.data) > 20, asset
    assert client.get("/docs/static/../../etc/passwd").status_code == 404


def test_health_and_ready(client: FlaskClient) -> None:
    assert orjson.loads(client.get("/healthz").data) == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert orjson.loads(ready.data)["checks"]["dataset"]["missions"] == 10
