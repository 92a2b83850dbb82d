"""The console's staff endpoints: who is signed in, pasted coordinates, approximate district outlines."""

from __future__ import annotations

import orjson
from flask.testing import FlaskClient

from tests.harness.problems import assert_problem
from tests.missions.test_staff import auth


def test_me_names_the_signed_in_staff_member(client: FlaskClient) -> None:
    me = client.get("/v1/staff/me", headers=auth("alice"))
    body = orjson.loads(me.data)
    assert (body["sub"], body["scopes"]) == ("alice", ["staff"]) and body["expires_at"].endswith("Z")
    assert_problem(client.get("/v1/staff/me", headers=auth("t", "traveller")), 403)
    assert_problem(client.get("/v1/staff/me"), 401)


def test_parse_point_decimal_and_dms(client: FlaskClient) -> None:
    def parse(text: str):  # type: ignore[no-untyped-def]
        return client.post("/v1/staff/parse-point", json={"text": text}, headers=auth())

    decimal = parse("48.1372, 11.5755")
    assert decimal.status_code == 200 and orjson.loads(decimal.data) == {"lat": 48.1372, "lon": 11.5755}
    dms = orjson.loads(parse("48°08′14″N 11°34′32″E").data)
    assert abs(dms["lat"] - 48.137222) < 1e-6 and abs(dms["lon"] - 11.575556) < 1e-6
    problem = assert_problem(parse("48,1372, 11,5755"), 400)
    assert list(problem["errors"]) == ["text"]
    assert "latitude (the first value)" in assert_problem(parse("95, 10"), 400)["detail"]
    assert_problem(client.post("/v1/staff/parse-point", json={}, headers=auth()), 422)
    assert_problem(client.post("/v1/staff/parse-point", json={"text": "1, 2"}, headers=auth("t", "traveller")),
                   403)


def test_districts_are_labelled_places_and_an_approximate_hull(client: FlaskClient) -> None:
    answer = client.get("/v1/staff/districts?codes=DE-BE,RU-CHU", headers=auth())
    features = orjson.loads(answer.data)["features"]
    kinds = [(f["properties"]["code"], f["properties"]["kind"]) for f in features]
    assert kinds == [("DE-BE", "outline"), ("DE-BE", "places"), ("RU-CHU", "outline"), ("RU-CHU", "places")]
    assert all(f["properties"]["approximate"] for f in features)
    berlin = features[1]["geometry"]["coordinates"]
    assert all(13.0 < lon < 13.8 and 52.3 < lat < 52.7 for lon, lat in berlin)
    chukotka = features[2]["geometry"]["coordinates"][0]
    assert max(lon for lon, _ in chukotka) - min(lon for lon, _ in chukotka) < 40  # not around the world
    problem = assert_problem(client.get("/v1/staff/districts?codes=XX-1", headers=auth()), 400)
    assert list(problem["errors"]) == ["codes"]
