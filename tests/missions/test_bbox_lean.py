"""The filtered answers of ``GET /v1/missions`` (``bbox`` and the other filters) from the lean route
(``yurt.missions.http.missions.LeanCollection``) are Flask's own, byte for byte, in both storage modes; the
selection (``Dataset.select``, over column arrays) equals a per-mission oracle; anything the lean route does not
answer is left to Flask."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from tests.conftest import running_app
from yurt.core.observability import front
from yurt.core.settings import PROJECT_ROOT, Settings
from yurt.missions.http.collection_answers import (
    FilteredAnswers,
    filtered_body,
    filtered_etag,
)
from yurt.missions.model.dataset import Dataset, MissionRecord, fold
from yurt.missions.schemas.record import MISSION_TYPES, SERVICES, STATUSES

ID = {"X-Request-ID": "lean-bbox-1"}
# The fixture's posts include Suva (178.4419, -18.1416) and Anadyr (177.5089, 64.7337), near the antimeridian.
ANSWERED = [
    "bbox=-10,35,40,60",
    "bbox=170,-20,-170,70",  # crosses the antimeridian: Suva and Anadyr
    "bbox=178.4419,-18.1416,178.4419,-18.1416",  # a point box exactly on Suva: edges are inclusive
    "bbox=180,-90,-180,90",  # crossing, the whole world
    "bbox=-180,-90,180,90",
    "bbox=0,0,1,1",  # nothing inside
    "bbox=-0.0,-0,1e2,%2B8.9E1",
    "bbox=-10,35,40,60&type=embassy&status=open&country=DE&service=visas&q=berl",
    "q=gen%C3%A8ve&bbox=0,40,20,50",
    "country=CH",
    "type=consulate&status=limited",
    "status=closed",
    "service=visas&country=FR",  # a country without a post here
    "bbox=1,2,3,4&",
]
REFUSED = [
    "bbox=1,2,3",
    "bbox=1,2,3,4&bbox=1,2,3,4",
    "bbox=200,0,201,1",
    "bbox=0,10,1,5",
    "bbox=nan,0,1,1",
    "bbox=%D9%A1,0,1,1",  # an Arabic-Indic digit
    "bbox=1,2,3,4&limit=5",
    "bbox=1,2,3,4&type=castle",
    "q=",
    "country=ZZ",
    "country=ch",
    "bbox=1,2,3,+4",  # "+" is a space in a query string
]
FIXTURE_POINTS = [(13.3777, 52.5163), (8.6821, 50.1109), (178.4419, -18.1416), (-77.0369, 38.9072),
                  (-75.6972, 45.4215), (10.7522, 59.9139), (177.5089, 64.7337), (6.1432, 46.2044),
                  (7.4474, 46.948), (30.5234, 50.4501)]
TEXTS = ["ber", "Zürich", "GENEVE", "kyiv", "киев", "a", "consul", "nothing-like-it"]


@pytest.fixture(params=["embedded", "redis"])
def app(request: pytest.FixtureRequest, settings: Settings, redis_url: str) -> Iterator[Flask]:
    chosen = settings.replace(redis_url=redis_url) if request.param == "redis" else settings
    with running_app(chosen) as application:
        yield application


def _spy(app: Flask) -> list[bool]:
    """Record, per call of the lean route, whether it answered (True) or stepped aside (False)."""
    answered: list[bool] = []
    route = front(app).lean["/v1/missions"]

    def spy(environ: dict[str, Any]) -> Any:
        answer = route(environ)
        answered.append(answer is not None)
        return answer

    front(app).lean["/v1/missions"] = spy
    return answered


def _get(app: Flask, query: str, lean: bool, headers: dict[str, str] | None = None) -> TestResponse:
    routes = front(app).lean
    saved = dict(routes)
    if not lean:
        routes.clear()  # Flask's own list_missions answers
    try:
        return app.test_client().get(f"/v1/missions?{query}", headers={**ID, **(headers or {})})
    finally:
        routes.update(saved)


def _same(app: Flask, answered: list[bool], query: str, headers: dict[str, str] | None = None) -> TestResponse:
    """The lean answer, computed or as kept (asked twice), is Flask's."""
    flask = _get(app, query, False, headers)
    for _ in range(2):
        lean = _get(app, query, True, headers)
        assert answered.pop() is True, query
        assert (lean.status, lean.data) == (flask.status, flask.data), query
        assert Counter(lean.headers.items()) == Counter(flask.headers.items()), query
    return lean


def _coordinate(bound: float) -> st.SearchStrategy[float]:
    """Mostly the fixture's own coordinates (edges exactly on a post, and one ulp either side), else any."""
    points = [v for point in FIXTURE_POINTS for v in point if -bound <= v <= bound]
    exact = st.sampled_from([*points, -bound, bound, 0.0])
    beside = exact.flatmap(lambda v: st.sampled_from([math.nextafter(v, -bound), math.nextafter(v, bound)]))
    return st.one_of(exact, beside, st.floats(-bound, bound))


def _number(value: float) -> st.SearchStrategy[str]:
    return st.sampled_from([repr(value), f"{value:.4f}", f"{value:.6e}"])


@st.composite
def bboxes(draw: st.DrawFn) -> str:
    lon1, lon2 = (draw(_number(draw(_coordinate(180)))) for _ in range(2))  # min > max crosses ±180°
    lat1, lat2 = sorted((draw(_number(draw(_coordinate(90)))) for _ in range(2)), key=float)  # as written
    return ",".join((lon1, lat1, lon2, lat2))


@st.composite
def queries(draw: st.DrawFn) -> str:
    pairs = [("bbox", draw(bboxes()))] if draw(st.integers(0, 3)) else []
    choices = {"country": st.sampled_from(["DE", "CH", "RU", "FJ", "FR"]), "type": st.sampled_from(MISSION_TYPES),
               "service": st.sampled_from(SERVICES), "status": st.sampled_from(STATUSES),
               "q": st.sampled_from(TEXTS)}
    for name in draw(st.sets(st.sampled_from(sorted(choices)), max_size=3)):
        pairs.append((name, draw(choices[name])))
    return urlencode(draw(st.permutations(pairs)))


HEADERS = st.sampled_from([{}, {"Accept-Encoding": "gzip, br"}, {"If-None-Match": "ETAG"},
                           {"If-None-Match": '"other", W/ETAG'}, {"If-None-Match": "*"}, {"If-None-Match": '"x"'}])


def test_the_listed_queries_are_answered_as_flask_does(app: Flask) -> None:
    answered = _spy(app)
    for query in ANSWERED:
        plain = _same(app, answered, query)
        assert plain.status_code == 200 and plain.headers["Content-Type"] == "application/geo+json"
        etag = plain.headers["ETag"]
        assert _same(app, answered, query, {"If-None-Match": etag}).status_code == 304
        _same(app, answered, query, {"Accept-Encoding": "gzip"})
    ids = [f["properties"]["id"] for f in _get(app, ANSWERED[1], True).get_json()["features"]]
    assert ids == ["kz-consulate-ru-anadyr", "kz-embassy-fj-suva"]
    assert _get(app, ANSWERED[5], True).get_json()["numberMatched"] == 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=queries(), headers=HEADERS)
def test_generated_queries_are_answered_as_flask_does(app: Flask, query: str, headers: dict[str, str]) -> None:
    answered = _spy(app)
    if "ETAG" in headers.get("If-None-Match", ""):
        etag = _get(app, query, False).headers["ETag"]
        headers = {"If-None-Match": headers["If-None-Match"].replace("ETAG", etag)}
    answer = _same(app, answered, query, headers)
    assert answer.status_code == (304 if "If-None-Match" in headers and '"x"' not in headers["If-None-Match"]
                                  else 200)


def test_anything_else_is_left_to_flask(app: Flask) -> None:
    answered = _spy(app)
    for query in REFUSED:
        lean, flask = _get(app, query, True), _get(app, query, False)
        assert answered.pop() is False, query
        assert lean.status_code == flask.status_code == 400, query
        assert lean.get_json() == flask.get_json() and lean.mimetype == "application/problem+json"
    token = app.test_client().get("/v1/missions?bbox=-10,35,40,60", headers={"Authorization": "Bearer not-a-token"})
    assert token.status_code == 200 and answered.pop() is False
    whole = app.test_client().get("/v1/missions?&")  # no filter at all: the view's whole collection
    assert whole.status_code == 200 and answered.pop() is False
    assert whole.headers["ETag"] == app.test_client().get("/v1/missions").headers["ETag"]


def test_a_new_dataset_version_moves_a_post_in_and_out_of_a_bbox(app: Flask) -> None:
    client = app.test_client()
    query = "/v1/missions?bbox=0,0,1,1"
    first = client.get(query)
    assert first.get_json()["numberMatched"] == 0
    catalogue = app.extensions["yurt"].catalogue
    record = catalogue.current().records[0]
    feature = {**record.feature, "geometry": {"type": "Point", "coordinates": [0.5, 0.5]}}
    app.extensions["yurt"].store.update(record.id, feature, if_match=record.etag, author="test")  # a staff edit
    catalogue.refresh()
    second = client.get(query, headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200 and second.headers["ETag"] != first.headers["ETag"]
    assert [f["properties"]["id"] for f in second.get_json()["features"]] == [record.id]
    answered = _spy(app)
    _same(app, answered, query[len("/v1/missions?"):])


def test_the_lean_bbox_counts_the_rate_limit_and_logs_redacted(settings: Settings,
                                                               capfd: pytest.CaptureFixture[str]) -> None:
    with running_app(settings.replace(rate_limit="3/minute", log_level="INFO")) as app:
        client = app.test_client()
        capfd.readouterr()
        assert [client.get("/v1/missions?bbox=0,40,20,60").status_code for _ in range(3)] == [200, 200, 200]
        refused = client.get("/v1/missions?bbox=0,40,20,60")
        err = capfd.readouterr().err
        assert refused.status_code == 429 and refused.mimetype == "application/problem+json"
        assert client.get("/v1/missions").status_code == 429  # one budget for every path
    lines = [orjson.loads(line) for line in err.splitlines() if '"yurt.access"' in line]
    assert [(x["status"], x["query"]) for x in lines] == [(200, "bbox=REDACTED")] * 3 + [(429, "bbox=REDACTED")]


@pytest.fixture(scope="module")
def shipped() -> Dataset:
    document = orjson.loads((PROJECT_ROOT / "data" / "embassies.geojson").read_bytes())
    return Dataset.build(document["dataset"], [MissionRecord(f, 1) for f in document["features"]], 1)


def select_oracle(dataset: Dataset, filters: dict[str, Any]) -> list[int]:
    """The filters one mission at a time, as their documentation states them (RFC 7946 §5.2 for a bbox whose
    min_lon > max_lon: it crosses the antimeridian)."""
    needle = fold(filters["q"]) if filters.get("q") else None
    out = []
    for i, p in enumerate(dataset.properties):
        if "bbox" in filters:
            min_lon, min_lat, max_lon, max_lat = filters["bbox"]
            lon, lat = dataset.lons[i], dataset.lats[i]
            if not min_lat <= lat <= max_lat:
                continue
            if not (min_lon <= lon <= max_lon if min_lon <= max_lon else lon >= min_lon or lon <= max_lon):
                continue
        if any(name in filters and p[key] != filters[name]
               for name, key in (("country", "host_country"), ("type", "type"), ("status", "status"))):
            continue
        if "service" in filters and filters["service"] not in p["services"]:
            continue
        if needle is not None and needle not in dataset.search_text[i]:
            continue
        out.append(i)
    return out


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_dataset_select_equals_a_per_mission_oracle(shipped: Dataset, data: st.DataObject) -> None:
    """Over the shipped 128 posts: bbox edges on their own coordinates, every filter, the antimeridian."""
    lon = st.one_of(st.sampled_from([*shipped.lons, -180.0, 180.0]), st.floats(-180, 180))
    lat = st.one_of(st.sampled_from([*shipped.lats, -90.0, 90.0]), st.floats(-90, 90))
    filters: dict[str, Any] = {}
    if data.draw(st.booleans()):
        min_lat, max_lat = sorted([data.draw(lat), data.draw(lat)])
        filters["bbox"] = (data.draw(lon), min_lat, data.draw(lon), max_lat)
    values = {"country": [*sorted({p["host_country"] for p in shipped.properties}), "AQ"],
              "type": list(MISSION_TYPES), "service": list(SERVICES), "status": list(STATUSES),
              "q": ["a", "Алма", "new york", "zürich", "ЕМБ", "x-nothing"]}
    for name in data.draw(st.sets(st.sampled_from(sorted(values)), max_size=4)):
        filters[name] = data.draw(st.sampled_from(values[name]))
    got = shipped.select(country=filters.get("country"), type_=filters.get("type"), service=filters.get("service"),
                         status=filters.get("status"), text=filters.get("q"), bbox=filters.get("bbox"))
    assert got == select_oracle(shipped, filters)


def test_kept_answers_stay_within_their_byte_budget(shipped: Dataset) -> None:
    queries = {f"bbox={lon},-90,{lon + 40},90": (float(lon), -90.0, float(lon + 40), 90.0)
               for lon in range(-180, 140, 20)}
    sizes = [len(filtered_body(shipped, shipped.select(bbox=bbox))) for bbox in queries.values()]
    answers = FilteredAnswers(shipped, budget_bytes=sum(sorted(sizes)[-3:]))
    for query, bbox in queries.items():
        etag, body = filtered_etag(shipped, {"bbox": bbox}), answers.body({"bbox": bbox})
        assert body == filtered_body(shipped, shipped.select(bbox=bbox))
        answers.keep(query, (etag, body))
        assert answers.get(query) == (etag, body) or len(body) > answers._budget
        assert answers._bytes == sum(len(b) for _, b in answers._answers.values()) <= answers._budget
    assert 1 <= len(answers._answers) < len(queries)
    assert answers.get(next(iter(queries))) is None  # the oldest went first
