"""One contract for the alert and trip stores, run against the embedded stores, a real Redis and a Redis
Cluster (the ``backend`` fixture of tests/conftest.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Backend
from yurt.alerts.model.record import Trip
from yurt.alerts.stores.embedded import AlertStore, EmbeddedAlertStore
from yurt.alerts.stores.redis import RedisAlertStore
from yurt.alerts.stores.trips import EmbeddedTripStore, RedisTripStore, TripStore
from yurt.core.store_errors import AlreadyExists, NotFound, StalePrecondition

OpenAlertStore = Callable[[], AlertStore]
T0 = 1_800_000_000.0  # 2027-01-15


def doc(alert_id: str = "al-0000000001", severity: str = "warning", **extra: Any) -> dict[str, Any]:
    return {"id": alert_id, "severity": severity, "title": {"en": "Protests", "kk": "Наразылық", "ru": "Протесты"},
            "countries": ["IR"], "valid_from": "2027-01-01T00:00:00Z", "valid_to": None, **extra}


@pytest.fixture
def open_alert_store(backend: Backend) -> Iterator[OpenAlertStore]:
    opened: list[AlertStore] = []

    def open_store() -> AlertStore:
        if backend.embedded:
            opened.append(EmbeddedAlertStore(backend.directory / "var"))
        else:
            opened.append(RedisAlertStore(backend.connect()))
        return opened[-1]

    yield open_store
    for store in opened:
        store.close()


@pytest.fixture
def alert_store(open_alert_store: OpenAlertStore) -> AlertStore:
    return open_alert_store()


def test_create_get_update_delete_with_compare_and_set(alert_store: AlertStore) -> None:
    assert alert_store.generation() == 0 and alert_store.load().records == ()
    created = alert_store.create(doc(), author="alice")
    assert alert_store.get(created.id) == created and alert_store.generation() == 1
    with pytest.raises(AlreadyExists):
        alert_store.create(doc(), author="bob")
    changed = alert_store.update(created.id, doc(severity="evacuation"), if_match=created.etag, author="bob")
    assert changed.etag != created.etag and changed.rev > created.rev
    with pytest.raises(StalePrecondition) as stale:
        alert_store.update(created.id, doc(severity="info"), if_match=created.etag, author="carol")
    assert stale.value.current_etag == changed.etag and stale.value.current == changed.doc
    with pytest.raises(StalePrecondition):
        alert_store.delete(created.id, if_match=created.etag, author="carol")
    with pytest.raises(NotFound):
        alert_store.update("al-00000000ff", doc("al-00000000ff"), if_match='"1.x"', author="carol")
    alert_store.delete(created.id, if_match=changed.etag, author="dave")
    assert alert_store.get(created.id) is None and alert_store.load().records == ()
    with pytest.raises(NotFound):
        alert_store.delete(created.id, if_match=changed.etag, author="dave")
    assert alert_store.generation() == 3


def test_audit_has_kind_author_before_after_newest_first_and_pages(alert_store: AlertStore) -> None:
    a = alert_store.create(doc("al-000000000a"), author="alice")
    b = alert_store.create(doc("al-000000000b"), author="bob")
    a2 = alert_store.update(a.id, doc("al-000000000a", severity="info"), if_match=a.etag, author="carol",
                            action="patch")
    alert_store.delete(b.id, if_match=b.etag, author="dave")
    entries = alert_store.audit()
    assert [(e.action, e.author, e.alert_id) for e in entries] == [
        ("delete", "dave", b.id), ("patch", "carol", a.id), ("create", "bob", b.id), ("create", "alice", a.id)]
    assert [e.seq for e in entries] == [4, 3, 2, 1]
    assert entries[1].before == a.doc and entries[1].after == a2.doc and entries[0].after is None
    assert all(e.to_json()["kind"] == "alert" for e in entries)
    assert [e.seq for e in alert_store.audit(alert_id=a.id)] == [3, 1]
    assert [e.seq for e in alert_store.audit(limit=2, before_seq=4)] == [3, 2]
    assert alert_store.audit(before_seq=1) == []


def test_audit_pages_across_many_entries(alert_store: AlertStore) -> None:
    record = alert_store.create(doc(), author="alice")
    for i in range(150):
        record = alert_store.update(record.id, doc(severity=("info", "warning")[i % 2]), if_match=record.etag,
                                    author=f"s{i}")
    seqs: list[int] = []
    before = None
    while True:
        page = alert_store.audit(limit=40, before_seq=before)
        if not page:
            break
        seqs.extend(e.seq for e in page)
        before = page[-1].seq
    assert seqs == list(range(151, 0, -1))


def test_concurrent_writers_with_one_etag_exactly_one_wins(alert_store: AlertStore) -> None:
    created = alert_store.create(doc(), author="alice")
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def write(i: int) -> None:
        barrier.wait()
        try:
            alert_store.update(created.id, doc(severity="evacuation", sources=[f"w{i}"]), if_match=created.etag,
                               author=f"w{i}")
            outcomes.append("ok")
        except StalePrecondition:
            outcomes.append("stale")

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok"] + ["stale"] * 7
    assert len(alert_store.audit()) == 2


def test_alerts_and_audit_survive_a_restart(open_alert_store: OpenAlertStore) -> None:
    first = open_alert_store()
    created = first.create(doc(), author="alice")
    first.close()
    second = open_alert_store()
    assert second.get(created.id) == created
    assert [e.author for e in second.audit()] == ["alice"]


def test_embedded_audit_drops_a_line_whose_working_copy_never_landed(tmp_path: Path) -> None:
    store = EmbeddedAlertStore(tmp_path)
    created = store.create(doc(), author="alice")
    with (tmp_path / EmbeddedAlertStore.AUDIT).open("ab") as f:  # a crash after the audit append
        f.write(b'{"seq":2,"kind":"alert","at":"x","author":"ghost","action":"delete","alert_id":"al-0000000001",'
                b'"before":null,"after":null,"generation":2}\n')
    assert [e.author for e in store.audit()] == ["alice"]
    store.update(created.id, doc(severity="info"), if_match=created.etag, author="bob")
    assert [(e.seq, e.author) for e in store.audit()] == [(2, "bob"), (1, "alice")]


# -- trips -----------------------------------------------------------------------------------------------------


@pytest.fixture
def trip_store(backend: Backend) -> TripStore:
    if backend.embedded:
        return EmbeddedTripStore()
    return RedisTripStore(backend.connect())


def test_trips_replace_expire_count_and_erase(trip_store: TripStore) -> None:
    portugal = Trip(("PT",), date(2027, 1, 14), date(2027, 1, 20))
    iran_later = Trip(("IR", "IQ"), date(2027, 3, 1), date(2027, 3, 5))
    trip_store.put("t1", [portugal, iran_later], T0)
    trip_store.put("t2", [Trip(("PT", "ES"), date(2027, 1, 10), date(2027, 1, 30))], T0)
    trip_store.put("t3", [Trip(("ES",), date(2027, 1, 1), date(2027, 1, 2))], T0)  # over already
    assert trip_store.get("t1", T0) == [portugal, iran_later]
    assert trip_store.get("t3", T0) == []
    assert trip_store.travellers_in(frozenset({"PT"}), T0) == 2
    assert trip_store.travellers_in(frozenset({"PT", "ES"}), T0) == 2  # each traveller once
    assert trip_store.travellers_in(frozenset({"IR"}), T0) == 0  # not under way yet
    march = Trip(("IR",), date(2027, 3, 1), date(2027, 3, 5)).begins_s + 3600
    assert trip_store.travellers_in(frozenset({"IR"}), march) == 1
    assert trip_store.get("t1", march) == [iran_later]
    trip_store.put("t1", [Trip(("FR",), date(2027, 1, 14), date(2027, 1, 20))], T0)  # replaces the whole list
    assert trip_store.travellers_in(frozenset({"PT"}), T0) == 1
    assert trip_store.travellers_in(frozenset({"IR"}), march) == 0
    trip_store.erase("t2")
    assert trip_store.get("t2", T0) == [] and trip_store.travellers_in(frozenset({"PT", "ES"}), T0) == 0
    trip_store.put("t1", [], T0)
    assert trip_store.get("t1", T0) == []


def test_trip_window_covers_the_dates_in_every_zone() -> None:
    trip = Trip(("FJ",), date(2027, 5, 1), date(2027, 5, 1))
    kiritimati_midnight = 1_809_129_600.0 - 14 * 3600  # 2027-05-01T00:00+14:00
    baker_island_end = 1_809_129_600.0 + 36 * 3600  # 2027-05-02T00:00-12:00
    assert trip.under_way(kiritimati_midnight) and not trip.under_way(kiritimati_midnight - 1)
    assert trip.under_way(baker_island_end - 1) and not trip.under_way(baker_island_end)
