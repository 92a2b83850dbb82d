"""The request hot path's shortcuts answer exactly what the general code they skip answers.

- ``redact_query``'s plain-query path against ``parse_qsl`` + ``urlencode`` (the general path);
- ``FastLoad`` against ``Schema.load`` on every query schema, valid and invalid parameters alike (any doubt
  falls back to ``Schema.load``, so the 400s are marshmallow's);
- ``WindowCounts`` (the rate limiter's in-process counter) counts fixed windows like ``limits``' own memory
  storage, and forgets expired windows.
"""

from __future__ import annotations

import random
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from limits import parse
from limits.strategies import FixedWindowRateLimiter
from marshmallow import Schema, ValidationError

from yurt.core.http.conventions import FastLoad
from yurt.core.observability import LOGGED_PARAMS, redact_query
from yurt.core.window_counts import WindowCounts
from yurt.missions.http import queries


def _general(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, v if k in LOGGED_PARAMS else "REDACTED") for k, v in pairs])


def test_redact_query_plain_path_matches_the_general_one() -> None:
    rng = random.Random(15)
    keys = [*sorted(LOGGED_PARAMS), "lat", "lon", "bbox", "LAT", "x"]
    for _ in range(5000):
        if rng.random() < 0.6:  # plain pairs, the fast path's input
            query = "&".join(f"{rng.choice(keys)}={''.join(rng.choice('ab1.,-_~') for _ in range(rng.randint(0, 6)))}"
                             for _ in range(rng.randint(1, 4)))
        else:  # anything: escapes, '+', blanks, missing '=', empty pairs
            query = "".join(rng.choice("ab=&,.-_~%+;1 2latq") for _ in range(rng.randint(0, 16)))
        assert redact_query(query) == _general(query), query


QUERIES: dict[str, list[dict[str, Any]]] = {
    "NearestQuery": [{}, {"lat": "51.5", "lon": "-0.12"}, {"lat": "51.5", "lon": "-0.12", "limit": "50"},
                     {"lat": "91", "lon": "0"}, {"lat": "1e400", "lon": "0"}, {"lat": "５１", "lon": "0"},
                     {"lat": "1", "lon": "2", "limit": "0"}, {"lat": "1", "lon": "2", "type": "embassy,consulate"},
                     {"lat": "1", "lon": "2", "type": "any", "status": "open", "open_now": "true"},
                     {"lat": "1", "lon": "2", "open_now": "yes"}, {"lat": "1", "lon": "2", "limt": "3"},
                     {"lat": "1", "lon": "2", "service": "visa"}, {"lat": "1", "lon": "2", "type": "castle"}],
    "ResponsibleQuery": [{}, {"lat": "46.2", "lon": "6.1"}, {"country": "CH"}, {"country": "XX"},
                         {"lat": "nan", "lon": "6"}],
    "MissionListQuery": [{}, {"bbox": "-10,35,40,60"}, {"bbox": "170,-10,-170,10"}, {"bbox": "1,2,3"},
                         {"country": "DE", "type": "embassy"}, {"q": ""}, {"q": "x" * 101}, {"status": "open"}],
    "OgcItemsQuery": [{}, {"limit": "1000", "offset": "5"}, {"limit": "1001"}, {"offset": "-1"},
                      {"limit": "9" * 30}, {"f": "json"}, {"f": "html"}],
}


def _load(schema: Schema, data: dict[str, Any]) -> tuple[str, Any]:
    try:
        return "ok", schema.load(data)
    except ValidationError as exc:
        return "error", exc.messages_dict


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_fast_load_agrees_with_schema_load(name: str) -> None:
    schema = getattr(queries, name)()
    fast = FastLoad(schema)
    assert fast.usable
    for data in QUERIES[name]:
        outcome, value = _load(schema, data)
        quick = fast.load(data)
        if outcome == "ok":
            assert quick == value, data
        else:
            assert quick is None, data  # the caller then runs Schema.load: marshmallow's own messages


def test_fast_load_steps_aside_for_schemas_with_hooks() -> None:
    from yurt.alerts.http.schemas import TripSchema  # has a validates_schema hook

    assert not FastLoad(TripSchema()).usable


def test_window_counts_count_fixed_windows_like_limits() -> None:
    limit = parse("3/second")
    limiter = FixedWindowRateLimiter(WindowCounts())
    assert [limiter.hit(limit, "ns", "a") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit(limit, "ns", "b")  # another client has its own window
    stats = limiter.get_window_stats(limit, "ns", "a")
    assert stats.remaining == 0 and time.time() < stats.reset_time <= time.time() + 1


def test_window_counts_start_a_new_window_and_sweep_expired_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    counts = WindowCounts()
    assert counts.incr("a", 60) == 1 and counts.incr("a", 60) == 2
    now[0] += 60
    assert counts.get("a") == 0 and counts.get_expiry("a") == now[0]
    assert counts.incr("a", 60) == 1  # a fresh window
    counts.incr("b", 1)
    now[0] += 30
    counts.incr("c", 60)  # past the sweep interval: b's window ended, so b is gone
    assert "b" not in counts._counts and counts.get("a") == 1
