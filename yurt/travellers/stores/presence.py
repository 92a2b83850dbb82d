"""Traveller storage: the ``PresenceStore`` interface and the store bundle (embedded: ``presence_embedded``;
Redis: ``presence_redis``).

Travellers are known to storage only by a pseudonym (``privacy.traveller_id``) and their position only as an
H3 resolution-7 cell. A share that finds no live presence (the first, or one after a ``DELETE``, an erase or an
expiry) starts a new *presence session* with a random id: per-viewer handles and the order inside a cell derive
from it, so sessions cannot be linked; blocks, reports and suspensions are kept against the pseudonym and hold
across sessions. The store also keeps when it first saw a traveller (or the token's ``iat`` if earlier), so
that area counts include only established accounts (``area_counts.ACCOUNT_AGE_FOR_AREAS_S``).

Every method takes the time explicitly (``now_s``, seconds since the epoch), so expiry is exact and tests
never sleep. One contract suite
(tests/travellers/test_store_contract.py) runs against both.
"""

from __future__ import annotations

import abc
import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from yurt.core.rate import RateCharge
from yurt.core.settings import Settings, SettingsError
from yurt.core.store_errors import StoreError
from yurt.geo.privacy import (
    LimiterRecord,
    UpdatePolicy,
    decide_update,
    index_cells_for,
)
from yurt.travellers.model.steps import NearbyHead, NearbyRead, PagePlan, UpdateHead
from yurt.travellers.model.steps import Presence as Presence  # re-exported: the value callers import from here
from yurt.travellers.model.steps import Profile as Profile

HANDLE_TTL_S = 86_400.0  # a viewer can block or report a handle for a day after seeing it


class RateLimitError(StoreError):
    def __init__(self, reason: str, retry_after_s: float) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s


class ImplausibleMoveError(StoreError):
    """The update implies travelling faster than the policy allows since the last update."""


class SuspendedError(StoreError):
    """Staff suspended this traveller's visibility."""


def admitted_update(tid: str, record: LimiterRecord | None, cell: str, now_s: float,
                    policy: UpdatePolicy) -> LimiterRecord:
    """The limiter record after an accepted presence update (an expired ``record`` counts as none), for every
    store; raises ``ImplausibleMoveError`` or ``RateLimitError`` when the policy refuses the update."""
    if record is not None and record.expires_at_s(policy) <= now_s:
        record = None
    decision = decide_update(record, cell, now_s, policy)
    if not decision.allowed:
        if decision.reason == "too_fast":
            raise ImplausibleMoveError(tid)
        raise RateLimitError(decision.reason, decision.retry_after_s)
    assert decision.record is not None
    return decision.record


@dataclass(frozen=True)
class MemberRead:
    """Read ``count`` members of ``cell``'s hash-ordered set, ``offset`` places after ``rotation``."""

    cell: str
    rotation: int
    offset: int
    count: int


class PresenceStore(abc.ABC):
    """Presence, its index by cell, blocks, handles and suspensions (reports: ``traveller_reports``). Thread-safe.

    ``counts_requests``: the store counts a ``RateCharge`` inside ``nearby_head`` and ``update_head`` (one round
    trip for both); otherwise those ignore it and the caller counts it on its own.
    """

    policy: UpdatePolicy
    counts_requests = False

    def nearby_head(self, tid: str, radius_km: float, now_s: float, charge: RateCharge | None = None
                    ) -> NearbyHead:
        """The viewer's presence and the occupied cells a query of ``radius_km`` around it reads."""
        viewer = self.get_presence(tid, now_s)
        if viewer is None:
            return NearbyHead(None, {})
        return NearbyHead(viewer, self.occupied(index_cells_for(viewer.cell, radius_km), now_s))

    def nearby_at_once(self, tid: str, radius_km: float, now_s: float, charge: RateCharge | None, plan: PagePlan,
                       limit: int) -> tuple[NearbyHead, NearbyRead | None]:
        """``nearby_head``, and where the store can, in the same step the page ``plan`` lays out from a predicted
        head (viewer cell, occupied cells), read only if the real head matches the prediction exactly. None for
        the page: the caller plans from the head and reads (``read_page``)."""
        return self.nearby_head(tid, radius_km, now_s, charge), None

    def read_page(self, viewer: Presence, cells: Sequence[tuple[str, int, int]], offset: int, limit: int,
                  now_s: float) -> NearbyRead | None:
        """Up to ``limit`` visible members of ``cells`` ((cell, rotation, count) in order, from ``offset`` in the
        first), neither blocked by nor blocking the viewer, remembered as shown to the viewer (``shown``): in
        one step where the store can. None: the caller reads in rounds (``read_members``, ``hidden_from``)."""
        return None

    def shown(self, viewer: str, now_s: float) -> list[tuple[str, str]]:
        """(tid, session) pairs ``read_page`` showed ``viewer`` in the last ``HANDLE_TTL_S``: a handle not in
        ``resolve_handle`` is recomputed from them."""
        return []

    def update_head(self, tid: str, now_s: float, charge: RateCharge | None = None) -> UpdateHead:
        return UpdateHead(self.limiter_record(tid, now_s))

    @abc.abstractmethod
    def put_presence(self, tid: str, cell: str, expires_at_s: float, profile: Profile, now_s: float,
                     account_since_s: float | None = None, head: UpdateHead | None = None) -> Presence:
        """Publish (or move) a presence after the update limits, in the live session or a new one.

        ``account_since_s``: when the caller's token says the account existed (its ``iat``), if it says; the
        store keeps the earliest of that and its own first sight of ``tid`` (for ``FIRST_SEEN_RETENTION_S``
        after the last share) and marks the presence established when that is ``ACCOUNT_AGE_FOR_AREAS_S`` old.
        """

    @abc.abstractmethod
    def get_presence(self, tid: str, now_s: float) -> Presence | None: ...

    @abc.abstractmethod
    def delete_presence(self, tid: str, now_s: float) -> None:
        """Remove presence and profile at once; the limiter record stays until its window ends."""

    @abc.abstractmethod
    def limiter_record(self, tid: str, now_s: float) -> LimiterRecord | None: ...

    @abc.abstractmethod
    def occupied(self, index_cells: Sequence[str], now_s: float, established_only: bool = False
                 ) -> dict[str, int]:
        """Resolution-7 cell → number of live presences (only established ones if asked), for the given
        resolution-5 index cells."""

    @abc.abstractmethod
    def read_members(self, reads: Sequence[MemberRead], now_s: float) -> list[list[tuple[str, Presence | None]]]:
        """For each read, members in the viewer's rotated hash order, each with its live presence in that cell
        (None when it expired or moved: the index entry is stale)."""

    @abc.abstractmethod
    def presences(self, tids: Sequence[str], now_s: float) -> dict[str, Presence]:
        """The live, unsuspended presences among ``tids``."""

    @abc.abstractmethod
    def remember_handles(self, viewer: str, handles: Mapping[str, str], now_s: float) -> None: ...

    @abc.abstractmethod
    def resolve_handle(self, viewer: str, handle: str, now_s: float) -> str | None: ...

    @abc.abstractmethod
    def block(self, viewer: str, target: str) -> None: ...

    @abc.abstractmethod
    def hidden_from(self, viewer: str, targets: Sequence[str]) -> set[str]:
        """Targets that ``viewer`` blocked or that blocked ``viewer``."""

    @abc.abstractmethod
    def suspend(self, tid: str, now_s: float) -> None:
        """Hide a traveller: presence removed, new presence refused."""

    @abc.abstractmethod
    def erase(self, tid: str, now_s: float) -> None:
        """Presence, profile, blocks, handles and first sight of ``tid``, atomically (the limiter record
        stays)."""

    @abc.abstractmethod
    def visible_count(self, now_s: float) -> int:
        """How many travellers are visible now (for the metrics gauge; one cheap read)."""


@dataclass(frozen=True)
class TravellerStores:
    """What the traveller use cases need: the presence store and the HMAC key for pseudonyms and handles."""

    presence: PresenceStore
    secret: bytes


def traveller_secret(settings: Settings) -> bytes:
    """YURT_TRAVELLER_SECRET, else a key derived from YURT_JWT_SECRET (HMAC as a KDF, RFC 5869 §2.2 style).

    Embedded mode without either falls back to a per-process random key: its state lives in that process
    anyway. Redis mode must be stable across workers and restarts, so it refuses to start without one.
    """
    if settings.traveller_secret:
        return settings.traveller_secret.encode()
    if settings.jwt_secret:
        return hmac.new(settings.jwt_secret.encode(), b"yurt-traveller-secret", hashlib.sha256).digest()
    if settings.redis_url:
        raise SettingsError("Redis mode needs YURT_TRAVELLER_SECRET (or YURT_JWT_SECRET to derive it from)")
    return secrets.token_bytes(32)
