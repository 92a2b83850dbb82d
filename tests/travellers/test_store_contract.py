"""One contract for the traveller stores, run against the embedded store, a real Redis and a Redis Cluster."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.conftest import Backend
from yurt.core.store_errors import NotFound, StoreUnavailable
from yurt.geo import privacy
from yurt.geo.privacy import UpdatePolicy
from yurt.meetups.stores.meetups import (
    EmbeddedMeetupStore,
    Meetup,
    MeetupConflictError,
    MeetupStore,
    NotOrganiserError,
)
from yurt.meetups.stores.redis import RedisMeetupStore
from yurt.travellers.stores.presence import (
    ImplausibleMoveError,
    MemberRead,
    PresenceStore,
    Profile,
    RateLimitError,
    SuspendedError,
)
from yurt.travellers.stores.presence_embedded import EmbeddedPresenceStore
from yurt.travellers.stores.presence_redis import RedisPresenceStore

SECRET = b"contract-secret"
T0 = 1_800_000_000.0
DUBAI = privacy.presence_cell(25.2048, 55.2708)
DUBAI_EAST = privacy.presence_cell(25.2048, 55.3208)  # ~5 km east
LONDON = privacy.presence_cell(51.5074, -0.1278)
PROFILE = Profile("Aigerim", ("kk", "ru"), "Hello")
POLICY = UpdatePolicy(min_interval_s=60, daily_budget=5, budget_window_s=86_400, max_speed_kmh=1000)


@dataclass
class Stores:
    presence: PresenceStore
    meetups: MeetupStore


@pytest.fixture
def stores(backend: Backend) -> Stores:
    if backend.embedded:
        return Stores(EmbeddedPresenceStore(POLICY), EmbeddedMeetupStore())
    client = backend.connect()
    return Stores(RedisPresenceStore(client, POLICY), RedisMeetupStore(client))


def put(store: PresenceStore, tid: str, cell: str = DUBAI, now: float = T0, minutes: float = 60) -> None:
    store.put_presence(tid, cell, now + minutes * 60, PROFILE, now)


def test_presence_round_trip_and_exact_expiry(stores: Stores) -> None:
    put(stores.presence, "a", minutes=15)
    got = stores.presence.get_presence("a", T0 + 1)
    assert got is not None and got.cell == DUBAI and got.profile == PROFILE
    assert got.expires_at_s == T0 + 900
    assert stores.presence.get_presence("a", T0 + 899.999) is not None
    assert stores.presence.get_presence("a", T0 + 900) is None
    assert stores.presence.occupied(privacy.index_cells_for(DUBAI, 10), T0 + 900) == {}


def test_occupied_counts_follow_moves_and_deletes(stores: Stores) -> None:
    s = stores.presence
    for tid in ("a", "b", "c"):
        put(s, tid)
    put(s, "d", DUBAI_EAST)
    coarse = privacy.index_cells_for(DUBAI, 10)
    assert s.occupied(coarse, T0) == {DUBAI: 3, DUBAI_EAST: 1}
    put(s, "a", DUBAI_EAST, now=T0 + 120)
    assert s.occupied(coarse, T0 + 120) == {DUBAI: 2, DUBAI_EAST: 2}
    s.delete_presence("b", T0 + 120)
    assert s.occupied(coarse, T0 + 120) == {DUBAI: 1, DUBAI_EAST: 2}
    assert s.occupied(privacy.index_cells_for(LONDON, 10), T0) == {}


def test_limits_too_soon_budget_too_fast(stores: Stores) -> None:
    s = stores.presence
    put(s, "a")
    with pytest.raises(RateLimitError) as soon:
        put(s, "a", now=T0 + 30)
    assert soon.value.reason == "too_soon" and soon.value.retry_after_s == pytest.approx(30)
    with pytest.raises(ImplausibleMoveError):  # Dubai → London in two minutes
        put(s, "a", LONDON, now=T0 + 120)
    for i in range(1, 5):
        put(s, "a", now=T0 + 60 * i)
    with pytest.raises(RateLimitError) as budget:
        put(s, "a", now=T0 + 600)
    assert budget.value.reason == "budget"
    assert budget.value.retry_after_s == pytest.approx(86_400 - 600)
    put(s, "a", LONDON, now=T0 + 86_400)  # a new window, and a day is enough to fly to London


def test_limiter_record_outlives_delete_and_erase(stores: Stores) -> None:
    s = stores.presence
    put(s, "a")
    s.delete_presence("a", T0 + 1)
    assert s.get_presence("a", T0 + 1) is None
    with pytest.raises(RateLimitError):
        put(s, "a", now=T0 + 2)
    s.erase("a", T0 + 3)
    record = s.limiter_record("a", T0 + 3)
    assert record is not None and record.cell == DUBAI and record.count == 1
    assert s.limiter_record("a", T0 + 86_400) is None


def test_members_in_rotated_hash_order_page_exactly_once(stores: Stores) -> None:
    s = stores.presence
    tids = [f"t{i:02d}" for i in range(23)]
    for tid in tids:
        put(s, tid)
    rotation = privacy.viewer_rotation(SECRET, "viewer", DUBAI)
    presences = [s.get_presence(t, T0) for t in tids]
    scored = [(p.tid, privacy.session_order(p.session)) for p in presences if p is not None]
    assert len(scored) == len(tids)
    expected = privacy.rotated(scored, rotation)  # the order derives from each member's (random) session
    pages = [s.read_members([MemberRead(DUBAI, rotation, off, 5)], T0)[0] for off in range(0, 25, 5)]
    assert [t for page in pages for t, _ in page] == expected
    assert all(p is not None and p.profile == PROFILE and p.cell == DUBAI for page in pages for _, p in page)
    scores = sorted(score for _, score in scored)
    other = scores[(sum(score < rotation for score in scores) + 11) % len(scores)]  # another starting member
    assert [t for t, _ in s.read_members([MemberRead(DUBAI, other, 0, 23)], T0)[0]] != expected


def test_members_carry_only_live_presences_in_that_cell(stores: Stores) -> None:
    s = stores.presence
    put(s, "a", minutes=15)
    put(s, "b")
    read = MemberRead(DUBAI, 0, 0, 10)
    assert sorted(t for t, p in s.read_members([read], T0 + 900)[0] if p is not None) == ["b"]
    put(s, "b", DUBAI_EAST, now=T0 + 120)
    assert all(t != "b" or p is None for t, p in s.read_members([read], T0 + 120)[0])
    moved = s.read_members([MemberRead(DUBAI_EAST, 0, 0, 10)], T0 + 120)[0]
    assert [(t, p.cell if p else None) for t, p in moved] == [("b", DUBAI_EAST)]


def test_presences_skip_expired_and_suspended(stores: Stores) -> None:
    s = stores.presence
    put(s, "a", minutes=15)
    put(s, "b", minutes=60)
    put(s, "c", minutes=60)
    s.suspend("c", T0)
    assert set(s.presences(["a", "b", "c", "zz"], T0 + 10)) == {"a", "b"}
    assert set(s.presences(["a", "b"], T0 + 900)) == {"b"}
    with pytest.raises(SuspendedError):
        put(s, "c", now=T0 + 86_400)


def test_handles_blocks_and_erase(stores: Stores) -> None:
    s = stores.presence
    put(s, "a")
    s.remember_handles("a", {"t_x": "b"}, T0)
    assert s.resolve_handle("a", "t_x", T0) == "b"
    assert s.resolve_handle("b", "t_x", T0) is None
    s.block("a", "b")
    assert s.hidden_from("a", ["b", "c"]) == {"b"}
    assert s.hidden_from("b", ["a", "c"]) == {"a"}
    s.erase("a", T0 + 5)
    assert s.get_presence("a", T0 + 5) is None
    assert s.resolve_handle("a", "t_x", T0 + 5) is None
    assert s.hidden_from("b", ["a"]) == set()


def meetup(mid: str, organiser: str = "org", capacity: int = 2, ends: float = T0 + 7200) -> Meetup:
    return Meetup(mid, organiser, "Nauryz picnic", "Bring baursaks", T0 + 3600, ends, 25.2, 55.27,
                  "Safa Park", capacity, "Asia/Dubai")


def test_meetup_lifecycle(stores: Stores) -> None:
    m = stores.meetups
    m.create(meetup("m1"), "org-tid", T0, 5)
    assert m.get("m1") == meetup("m1")
    assert m.get("nope") is None
    assert m.join("m1", "u1", "u1-tid", T0).attending == 1
    assert m.join("m1", "u1", "u1-tid", T0).attending == 1  # idempotent
    m.join("m1", "u2", "u2-tid", T0)
    with pytest.raises(MeetupConflictError, match="full"):
        m.join("m1", "u3", "u3-tid", T0)
    with pytest.raises(MeetupConflictError, match="organiser"):
        m.join("m1", "org", "org-tid", T0)
    assert m.attendees("m1") == ["u1", "u2"] and m.is_attending("m1", "u2")
    assert m.leave("m1", "u2", "u2-tid").attending == 1
    with pytest.raises(NotOrganiserError):
        m.update("m1", "u1", "u1-tid", {"title": "x"}, T0)
    with pytest.raises(MeetupConflictError, match="capacity_below_attendance"):
        m.update("m1", "org", "org-tid", {"capacity": 0}, T0)
    assert m.update("m1", "org", "org-tid", {"title": "Nauryz", "capacity": 5}, T0).title == "Nauryz"
    assert [x.id for x, _ in m.search(25.2, 55.27, 5, 10, T0, math.inf, T0)] == ["m1"]
    assert m.search(25.2, 55.27, 5, 10, T0, math.inf, T0 + 7200) == []  # ended
    m.cancel("m1", "org", "org-tid")
    assert m.search(25.2, 55.27, 5, 10, T0, math.inf, T0) == []
    with pytest.raises(MeetupConflictError, match="closed"):
        m.join("m1", "u9", "u9-tid", T0)
    with pytest.raises(NotFound):
        m.join("nope", "u1", "u1-tid", T0)


def test_meetup_erase_leaves_and_cancels(stores: Stores) -> None:
    m = stores.meetups
    m.create(meetup("m1", organiser="alice"), "alice-tid", T0, 5)
    m.create(meetup("m2", organiser="bob"), "bob-tid", T0, 5)
    m.join("m2", "alice", "alice-tid", T0)
    m.erase("alice", "alice-tid")
    first, second = m.get("m1"), m.get("m2")
    assert first is not None and first.status == "cancelled" and first.organiser == ""
    assert second is not None and second.attending == 0


def test_capacity_holds_under_concurrent_joins(stores: Stores) -> None:
    m = stores.meetups
    m.create(meetup("m1", capacity=10), "org-tid", T0, 5)
    barrier = threading.Barrier(100)
    outcomes: list[str] = []

    def join(i: int) -> None:
        barrier.wait()
        try:
            m.join("m1", f"u{i}", f"u{i}-tid", T0)
            outcomes.append("joined")
        except MeetupConflictError as exc:
            outcomes.append(exc.reason)

    threads = [threading.Thread(target=join, args=(i,)) for i in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("joined") == 10 and outcomes.count("full") == 90
    assert len(m.attendees("m1")) == 10


def test_redis_failure_fails_closed() -> None:
    client = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, socket_timeout=0.2,
                         retry=Retry(NoBackoff(), 0))
    with pytest.raises(StoreUnavailable):
        RedisPresenceStore(client).get_presence("a", T0)
    with pytest.raises(StoreUnavailable):
        RedisMeetupStore(client).get("m1")


def test_redis_store_reloads_scripts_after_a_flush(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    store = RedisPresenceStore(client, POLICY)
    client.script_flush()
    put(store, "a")
    assert [t for t, _ in store.read_members([MemberRead(DUBAI, 0, 0, 5)], T0)[0]] == ["a"]
    client.close()
