"""One contract for every ``MissionStore``: the embedded store on real files, the Redis store on a real
redis-server and on a Redis Cluster. Compare-and-set, audit, bulk replace and undo, and state that survives a
restart."""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis

from tests.conftest import Backend
from yurt.core.store_errors import MAX_ID, AlreadyExists, NotFound, StalePrecondition
from yurt.missions.model.dataset import dataset_etag
from yurt.missions.schemas.dataset import Collection
from yurt.missions.stores.base import MissionStore
from yurt.missions.stores.embedded import AUDIT_LOG, EmbeddedMissionStore
from yurt.missions.stores.redis import RedisMissionStore

BERLIN = "kz-embassy-de-berlin"
OSLO = "kz-embassy-no-oslo"

OpenStore = Callable[[], MissionStore]


@pytest.fixture
def open_store(backend: Backend, seed: Collection) -> Iterator[OpenStore]:
    """A factory: each call opens the same underlying state anew, as a restarted process would."""
    opened: list[MissionStore] = []

    def factory() -> MissionStore:
        if backend.embedded:
            opened.append(EmbeddedMissionStore(backend.directory / "var", seed))
        else:
            opened.append(RedisMissionStore(backend.connect(), seed))
        return opened[-1]

    yield factory
    for store in opened:
        store.close()


def _feature(store: MissionStore, mission_id: str) -> tuple[dict[str, Any], str]:
    record = next(r for r in store.load().records if r.id == mission_id)
    return copy.deepcopy(dict(record.feature)), record.etag


def _with_email(feature: dict[str, Any], email: str) -> dict[str, Any]:
    changed = copy.deepcopy(feature)
    changed["properties"]["email"] = email
    return changed


def _dataset_etag(store: MissionStore) -> str:
    state = store.load()
    return dataset_etag(state.meta, [r.feature for r in state.records])


def test_seeded_from_the_collection(open_store: OpenStore, seed: Collection) -> None:
    state = open_store().load()
    assert sorted(r.id for r in state.records) == sorted(f["properties"]["id"] for f in seed.features)
    assert state.meta == seed.meta


def test_update_is_compare_and_set(open_store: OpenStore) -> None:
    store = open_store()
    feature, etag = _feature(store, BERLIN)
    generation = store.generation()
    record = store.update(BERLIN, _with_email(feature, "a@example.kz"), if_match=etag, author="alice")
    assert record.etag != etag
    assert store.generation() != generation
    with pytest.raises(StalePrecondition) as stale:
        store.update(BERLIN, _with_email(feature, "b@example.kz"), if_match=etag, author="bob")
    assert stale.value.current_etag == record.etag
    assert stale.value.current is not None and stale.value.current["properties"]["email"] == "a@example.kz"
    assert _feature(store, BERLIN)[0]["properties"]["email"] == "a@example.kz"


def test_an_edit_to_another_post_does_not_make_this_one_stale(open_store: OpenStore) -> None:
    store = open_store()
    berlin, berlin_etag = _feature(store, BERLIN)
    oslo, oslo_etag = _feature(store, OSLO)
    store.update(OSLO, _with_email(oslo, "oslo@example.kz"), if_match=oslo_etag, author="alice")
    record = store.update(BERLIN, _with_email(berlin, "berlin@example.kz"), if_match=berlin_etag,
                          author="bob")
    assert _feature(store, BERLIN) == (record.feature, record.etag)


def test_concurrent_writers_with_one_etag_exactly_one_wins(open_store: OpenStore) -> None:
    stores = [open_store() for _ in range(4)]  # separate connections / file handles, like separate workers
    feature, etag = _feature(stores[0], BERLIN)
    outcomes: list[str] = []
    barrier = threading.Barrier(len(stores))

    def write(i: int) -> None:
        barrier.wait()
        try:
            stores[i].update(BERLIN, _with_email(feature, f"w{i}@example.kz"), if_match=etag, author=f"w{i}")
            outcomes.append(f"w{i}")
        except StalePrecondition:
            outcomes.append("stale")

    threads = [threading.Thread(target=write, args=(i,)) for i in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [o for o in outcomes if o != "stale"]
    assert len(winners) == 1 and outcomes.count("stale") == len(stores) - 1
    assert _feature(stores[0], BERLIN)[0]["properties"]["email"] == f"{winners[0]}@example.kz"
    assert len(stores[0].audit(mission_id=BERLIN)) == 1


def test_create_delete_and_not_found(open_store: OpenStore) -> None:
    store = open_store()
    berlin, _ = _feature(store, BERLIN)
    new = copy.deepcopy(berlin)
    new["id"] = new["properties"]["id"] = "kz-embassy-de-bonn"
    record = store.create(new, author="alice")
    with pytest.raises(AlreadyExists):
        store.create(new, author="bob")
    with pytest.raises(StalePrecondition):
        store.delete("kz-embassy-de-bonn", if_match='"1.0000000000000000"', author="bob")
    store.delete("kz-embassy-de-bonn", if_match=record.etag, author="alice")
    assert "kz-embassy-de-bonn" not in {r.id for r in store.load().records}
    with pytest.raises(NotFound):
        store.update("kz-embassy-de-bonn", new, if_match=record.etag, author="alice")
    with pytest.raises(NotFound):
        store.delete("kz-embassy-de-bonn", if_match=record.etag, author="alice")
    history = store.audit(mission_id="kz-embassy-de-bonn")
    assert [e.action for e in history] == ["delete", "create"]  # the closed post stays in history
    assert history[0].before == new and history[0].after is None
    assert history[1].before is None and history[1].after == new


def test_audit_has_author_before_after_and_pages(open_store: OpenStore) -> None:
    store = open_store()
    feature, etag = _feature(store, BERLIN)
    emails = [f"v{i}@example.kz" for i in range(5)]
    previous = feature
    for i, email in enumerate(emails):
        record = store.update(BERLIN, _with_email(feature, email), if_match=etag, author=f"staff-{i}",
                              action="patch")
        etag = record.etag
    entries = store.audit(mission_id=BERLIN, limit=100)
    assert [e.author for e in entries] == [f"staff-{i}" for i in reversed(range(5))]
    assert all(e.action == "patch" and e.mission_id == BERLIN for e in entries)
    for newer, older in itertools.pairwise(entries):
        assert newer.seq > older.seq and newer.before == older.after
    assert entries[-1].before == previous and entries[0].after["properties"]["email"] == emails[-1]
    first_page = store.audit(limit=2)
    second_page = store.audit(limit=2, before_seq=first_page[-1].seq)
    assert [e.seq for e in first_page + second_page] == [e.seq for e in entries[:4]]
    assert store.audit_entry(entries[2].seq) == entries[2]
    assert store.audit_entry(10_000) is None
    for beyond in (MAX_ID + 1, 2**63, 2**64, 10**30):  # Redis's LINDEX refuses these: no 500
        assert store.audit_entry(beyond) is None and store.audit_entry(-beyond) is None
        assert store.audit(limit=2, before_seq=beyond) == first_page
        assert store.audit(limit=2, before_seq=-beyond) == []
    assert entries[0].at.endswith("Z")


def test_bulk_replace_is_all_or_nothing_and_can_be_undone(open_store: OpenStore) -> None:
    store = open_store()
    original = store.load()
    original_etag = _dataset_etag(store)
    _oslo, oslo_etag = _feature(store, OSLO)
    kept = [dict(r.feature) for r in original.records if r.id != BERLIN]
    with pytest.raises(StalePrecondition) as stale:
        store.replace_all(original.meta, kept, if_match='"not-the-dataset"', author="alice")
    assert stale.value.current_etag == original_etag
    assert _dataset_etag(store) == original_etag  # nothing changed

    state = store.replace_all({**original.meta, "title": "Edited"}, kept, if_match=original_etag,
                              author="alice")
    assert BERLIN not in {r.id for r in state.records} and state.meta["title"] == "Edited"
    assert _feature(store, OSLO)[1] == oslo_etag  # unchanged posts keep their ETag
    bulk = store.audit(limit=1)[0]
    assert bulk.action == "replace_all" and bulk.author == "alice" and bulk.mission_id is None
    assert bulk.before is not None and len(bulk.before["features"]) == len(original.records)
    assert bulk.after is not None and len(bulk.after["features"]) == len(kept)
    assert store.audit(mission_id=OSLO, limit=1)[0].seq == bulk.seq  # listed in every post's history

    # Undo: restore the entry's `before`, itself audited.
    before = store.audit_entry(bulk.seq)
    assert before is not None and before.before is not None
    store.replace_all(before.before["dataset"], before.before["features"], if_match=_dataset_etag(store),
                      author="bob", action="restore")
    assert _dataset_etag(store) == original_etag
    assert store.audit(limit=1)[0].action == "restore" and store.audit(limit=1)[0].author == "bob"


def test_state_revisions_and_audit_survive_a_restart(open_store: OpenStore) -> None:
    store = open_store()
    feature, etag = _feature(store, BERLIN)
    record = store.update(BERLIN, _with_email(feature, "kept@example.kz"), if_match=etag, author="alice")
    generation, audit = store.generation(), store.audit()
    store.close()

    again = open_store()
    assert again.generation() == generation
    assert _feature(again, BERLIN) == (record.feature, record.etag)
    assert again.audit() == audit
    # Revisions are never reused: a write after the restart gets an ETag no earlier version had.
    newer = again.update(BERLIN, feature, if_match=record.etag, author="bob")
    assert newer.etag not in {etag, record.etag}
    with pytest.raises(StalePrecondition):
        again.update(BERLIN, feature, if_match=etag, author="mallory")


def test_embedded_drops_an_audit_line_whose_write_never_landed(tmp_path: Path, seed: Collection) -> None:
    """A process killed between appending the audit entry and renaming the working copy leaves an orphan
    line; a live second process must not let its next write pass that orphan off as real."""
    store = EmbeddedMissionStore(tmp_path, seed)
    feature, etag = _feature(store, BERLIN)
    record = store.update(BERLIN, _with_email(feature, "a@example.kz"), if_match=etag, author="alice")
    orphan = {"seq": 2, "at": "2026-01-01T00:00:00.000Z", "author": "ghost", "action": "patch",
              "mission_id": OSLO, "before": None, "after": None, "generation": store.generation() + 1}
    with (tmp_path / AUDIT_LOG).open("ab") as audit:
        audit.write(orjson.dumps(orphan) + b"\n" + b'{"seq": 3, "torn')
    assert [e.author for e in store.audit()] == ["alice"]  # invisible to readers
    store.update(BERLIN, feature, if_match=record.etag, author="bob")
    assert [(e.seq, e.author) for e in store.audit()] == [(2, "bob"), (1, "alice")]
    store.close()


def test_audit_pages_across_many_entries(open_store: OpenStore) -> None:
    store = open_store()
    feature, etag = _feature(store, OSLO)
    for i in range(70):  # more than one Redis chunk
        etag = store.update(OSLO, _with_email(feature, f"n{i}@example.kz"), if_match=etag, author="a").etag
    seen: list[int] = []
    before: int | None = None
    while page := store.audit(mission_id=OSLO, limit=30, before_seq=before):
        seen += [e.seq for e in page]
        before = page[-1].seq
    assert seen == list(range(70, 0, -1))
    assert store.audit_entry(35) is not None and store.audit_entry(35).seq == 35  # type: ignore[union-attr]
    assert store.audit_entry(0) is None and store.audit_entry(71) is None


def test_redis_that_lost_its_data_is_seeded_again_never_served_empty(redis_url: str, seed: Collection) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        store = RedisMissionStore(client, seed)
        feature, etag = _feature(store, BERLIN)
        store.update(BERLIN, _with_email(feature, "edited@example.org"), if_match=etag, author="staff")
        client.flushdb()  # what a restart without persistence looks like
        assert store.generation() == 1
        state = store.load()
        assert len(state.records) == len(seed.features)
        assert _feature(store, BERLIN)[0] == next(f for f in seed.features if f["properties"]["id"] == BERLIN)
    finally:
        client.close()
