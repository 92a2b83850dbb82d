"""The worker's catalogue (``yurt/missions/service/catalogue.py``) over a real embedded store on files, with an
injected clock:
it asks the store at most once per reload interval, rebuilds only when the generation moved, rebuilds at once
after the worker's own write, and on an outage keeps serving the last good dataset, asks again only after the
backoff and logs the outage once when it starts and once when it ends. A worker that boots while the store is
down answers ``StoreUnavailable`` until its first load."""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import pytest

from yurt.core.store_errors import StoreUnavailable
from yurt.missions.schemas.dataset import Collection
from yurt.missions.service.catalogue import UNREACHABLE_BACKOFF_S, Catalogue
from yurt.missions.stores.base import StoredState
from yurt.missions.stores.embedded import EmbeddedMissionStore

INTERVAL_S = 0.5
BERLIN = "kz-embassy-de-berlin"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Reachable:
    """The real store behind a switch: while ``down``, every ask fails as an unreachable store does. Counts the
    asks, which is what the catalogue's interval and backoff bound."""

    def __init__(self, store: EmbeddedMissionStore) -> None:
        self.store = store
        self.down = False
        self.asks = 0

    def _ask(self) -> None:
        self.asks += 1
        if self.down:
            raise StoreUnavailable("mission store unavailable: ConnectionError")

    def generation(self) -> int:
        self._ask()
        return self.store.generation()

    def load(self) -> StoredState:
        self._ask()
        return self.store.load()


@pytest.fixture
def store(tmp_path: Path, seed: Collection) -> EmbeddedMissionStore:
    opened = EmbeddedMissionStore(tmp_path / "var", seed)
    yield opened  # type: ignore[misc]
    opened.close()


def edit(store: EmbeddedMissionStore, email: str) -> None:
    record = next(r for r in store.load().records if r.id == BERLIN)
    feature = copy.deepcopy(dict(record.feature))
    feature["properties"]["email"] = email
    store.update(BERLIN, feature, if_match=record.etag, author="alice")


def catalogue(source: Reachable, clock: Clock) -> Catalogue:
    return Catalogue(source, reload_interval_s=INTERVAL_S, clock=clock)  # type: ignore[arg-type]


def test_asks_once_per_interval_and_rebuilds_only_when_the_generation_moved(store: EmbeddedMissionStore) -> None:
    clock, source = Clock(), Reachable(store)
    cat = catalogue(source, clock)
    first = cat.current()
    assert first.generation == store.generation() and first.get(BERLIN) is not None
    asks = source.asks
    edit(store, "first@mfa.kz")  # another worker's write
    clock.now += INTERVAL_S / 2
    assert cat.current() is first and source.asks == asks  # within the interval: no ask at all
    clock.now += INTERVAL_S / 2
    second = cat.current()
    assert second is not first and second.generation == first.generation + 1
    assert second.get(BERLIN).feature["properties"]["email"] == "first@mfa.kz"  # type: ignore[union-attr]
    clock.now += INTERVAL_S
    assert cat.current() is second  # asked (the generation), nothing moved: the same dataset, not rebuilt


def test_refresh_serves_the_workers_own_write_at_once(store: EmbeddedMissionStore) -> None:
    clock, source = Clock(), Reachable(store)
    cat = catalogue(source, clock)
    before = cat.current()
    edit(store, "own@mfa.kz")
    assert cat.current() is before  # the interval has not passed
    after = cat.refresh()
    assert after.generation == before.generation + 1 and cat.current() is after
    assert after.get(BERLIN).feature["properties"]["email"] == "own@mfa.kz"  # type: ignore[union-attr]


def test_an_outage_serves_the_last_good_dataset_asks_after_the_backoff_and_logs_twice(
        store: EmbeddedMissionStore, caplog: pytest.LogCaptureFixture) -> None:
    clock, source = Clock(), Reachable(store)
    cat = catalogue(source, clock)
    good = cat.current()
    source.down = True
    caplog.set_level(logging.WARNING, logger="yurt.missions.service.catalogue")
    clock.now += INTERVAL_S
    asks = source.asks
    for _ in range(50):  # many requests during the outage: each is served, the store is asked once
        assert cat.current() is good
        clock.now += 0.01
    assert source.asks == asks + 1
    clock.now += UNREACHABLE_BACKOFF_S
    assert cat.current() is good and source.asks == asks + 2  # asked again only after the backoff
    edit(store, "after@mfa.kz")  # the store moved on while this worker could not see it
    source.down = False
    clock.now += UNREACHABLE_BACKOFF_S
    recovered = cat.current()
    assert recovered.generation == good.generation + 1
    messages = [r.getMessage() for r in caplog.records if r.name == "yurt.missions.service.catalogue"]
    assert messages == [f"mission store unreachable; serving generation {good.generation}",
                        "mission store reachable again"]


def test_booting_while_the_store_is_down_answers_unavailable_until_the_first_load(
        store: EmbeddedMissionStore) -> None:
    clock, source = Clock(), Reachable(store)
    source.down = True
    cat = catalogue(source, clock)  # boots anyway: gunicorn would halt the server on a worker that fails
    with pytest.raises(StoreUnavailable):
        cat.current()
    source.down = False
    with pytest.raises(StoreUnavailable):
        cat.current()  # still within the backoff: not asked again, nothing to serve
    clock.now += UNREACHABLE_BACKOFF_S
    assert cat.current().generation == store.generation()
