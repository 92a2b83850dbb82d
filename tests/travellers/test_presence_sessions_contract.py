"""Presence sessions and established accounts: one contract, run against the embedded store, a real Redis and a
Redis Cluster.

A share that finds no live presence starts a new session (a new random id: handles and the cell order derive
from it); a share during a live one keeps it. The store remembers when it first saw an account (or the token's
``iat``, if earlier) and marks presences *established* once that is a day old; only those count in areas.
"""

from __future__ import annotations

import pytest

from tests.conftest import Backend
from tests.travellers.test_store_contract import DUBAI, DUBAI_EAST, POLICY, PROFILE, T0
from yurt.geo import privacy
from yurt.travellers.model.area_counts import ACCOUNT_AGE_FOR_AREAS_S, FIRST_SEEN_RETENTION_S
from yurt.travellers.stores.presence import MemberRead, PresenceStore
from yurt.travellers.stores.presence_embedded import EmbeddedPresenceStore
from yurt.travellers.stores.presence_redis import RedisPresenceStore

DAY = 86_400.0


@pytest.fixture
def s(backend: Backend) -> PresenceStore:
    if backend.embedded:
        return EmbeddedPresenceStore(POLICY)
    return RedisPresenceStore(backend.connect(), POLICY)


def put(store: PresenceStore, tid: str, now: float, cell: str = DUBAI, minutes: float = 60,
        since: float | None = None) -> str:
    presence = store.put_presence(tid, cell, now + minutes * 60, PROFILE, now, since)
    assert store.get_presence(tid, now) == presence
    return presence.session


def established(store: PresenceStore, tid: str, now: float) -> bool:
    presence = store.get_presence(tid, now)
    assert presence is not None
    return presence.established


def test_a_session_starts_after_delete_expiry_and_erase_only(s: PresenceStore) -> None:
    first = put(s, "a", T0)
    assert put(s, "a", T0 + 120, DUBAI_EAST) == first  # moving within a session keeps it
    s.delete_presence("a", T0 + 130)
    after_delete = put(s, "a", T0 + 240, minutes=15)
    assert after_delete != first
    after_expiry = put(s, "a", T0 + 240 + 15 * 60)  # exactly at the expiry: no longer live
    assert after_expiry not in (first, after_delete)
    s.erase("a", T0 + 1300)
    after_erase = put(s, "a", T0 + 1400)
    assert len({first, after_delete, after_expiry, after_erase}) == 4
    # Every read path carries the session, and the cell order follows it.
    (members,) = s.read_members([MemberRead(DUBAI, 0, 0, 10)], T0 + 1400)
    assert [(t, p.session if p else None) for t, p in members] == [("a", after_erase)]
    assert s.presences(["a"], T0 + 1400)["a"].session == after_erase


def test_only_established_presences_count_in_areas(s: PresenceStore) -> None:
    coarse = privacy.index_cells_for(DUBAI, 10)
    put(s, "fresh", T0)  # no iat: first seen now
    put(s, "token-says-old", T0, since=T0 - ACCOUNT_AGE_FOR_AREAS_S)
    put(s, "token-says-young", T0, DUBAI_EAST, since=T0 - ACCOUNT_AGE_FOR_AREAS_S + 1)
    assert [established(s, t, T0) for t in ("fresh", "token-says-old", "token-says-young")] == [False, True, False]
    assert s.occupied(coarse, T0) == {DUBAI: 2, DUBAI_EAST: 1}
    assert s.occupied(coarse, T0, established_only=True) == {DUBAI: 1}
    # A day after its first share, the account without an iat is established too, from its next share on.
    later = T0 + DAY
    put(s, "fresh", later)
    put(s, "token-says-old", later, DUBAI_EAST)
    assert s.occupied(coarse, later, established_only=True) == {DUBAI: 1, DUBAI_EAST: 1}
    s.delete_presence("fresh", later)
    assert s.occupied(coarse, later, established_only=True) == {DUBAI_EAST: 1}


def test_first_sight_goes_with_erase_and_after_retention(s: PresenceStore) -> None:
    put(s, "erased", T0)
    put(s, "lapsed", T0)
    put(s, "kept", T0)
    s.erase("erased", T0 + DAY - 10)
    put(s, "erased", T0 + DAY)
    put(s, "kept", T0 + DAY)
    assert not established(s, "erased", T0 + DAY) and established(s, "kept", T0 + DAY)
    # The first sight is forgotten FIRST_SEEN_RETENTION_S after the last share.
    put(s, "lapsed", T0 + FIRST_SEEN_RETENTION_S + 1)
    assert not established(s, "lapsed", T0 + FIRST_SEEN_RETENTION_S + 1)
    put(s, "kept", T0 + DAY + FIRST_SEEN_RETENTION_S - 1)
    assert established(s, "kept", T0 + DAY + FIRST_SEEN_RETENTION_S - 1)
