"""A traveller request step in one round trip on a single Redis node (``RedisPresenceStore`` on a non-Cluster
client): ``nearby`` in two (its head with the rate-limit count, then its page), a presence update in two (its
head with the rate-limit count, then the commit with the index and the gauge).

The scripts (``travellers_onetrip_lua``) read and write keys of several hash slots, which only a single node
allows; the key layout is ``travellers_redis``'s, plus two fields: the presence hash's ``ix`` (the resolution-5
index cells each radius edge reads, so the head script needs no client-side H3) and, in the viewer's handle hash
``{t:<tid>}:h``, a "tid|session" field per member a page showed (the handle itself is an HMAC under the traveller
secret, which never reaches Redis: ``resolve_handle`` recomputes it from these).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import orjson
import redis

from yurt.core.rate import RateCharge, RateCount
from yurt.core.redis.common import text, to_ms, traveller_key, visible_key
from yurt.core.redis.scripts import PinnedScripts
from yurt.geo.privacy import (
    RADIUS_EDGES_KM,
    LimiterRecord,
    UpdatePolicy,
    index_cell,
    index_cells_for,
    new_session,
    session_order,
    snap_radius_km,
)
from yurt.travellers.model.area_counts import ACCOUNT_AGE_FOR_AREAS_S, FIRST_SEEN_RETENTION_S
from yurt.travellers.model.steps import NearbyHead, NearbyRead, PagePlan, UpdateHead
from yurt.travellers.stores.onetrip_lua import (
    NEARBY_AT_ONCE,
    NEARBY_HEAD,
    NEARBY_PAGE,
    UPDATE_COMMIT,
    UPDATE_HEAD,
)
from yurt.travellers.stores.presence import HANDLE_TTL_S, Presence, Profile, SuspendedError, admitted_update

MAX_EXAMINED_PER_RESULT = 6  # a page examines at most this many members per result asked (stale or blocked)

_t = traveller_key


def index_group(cell: str) -> list[str]:
    coarse = index_cell(cell)
    g = f"{{g:{coarse}}}:"
    return [f"{g}c:{cell}", f"{g}n", f"{g}x", f"{g}prof", f"{g}est", f"{g}ne"]


def index_cells_by_edge(cell: str) -> str:
    """The presence's ``ix``: "n1,...,n5|c1,c2,...", the first n_i cells being ``index_cells_for`` edge i."""
    ordered: list[str] = []
    seen: set[str] = set()
    edges = []
    for edge in RADIUS_EDGES_KM:
        for coarse in index_cells_for(cell, edge):
            if coarse not in seen:
                seen.add(coarse)
                ordered.append(coarse)
        edges.append(str(len(ordered)))
    return ",".join(edges) + "|" + ",".join(ordered)


class IndexCopy(NamedTuple):
    """A member's profile copy in the index (``{g:<res5>}:prof``, tid → copy)."""

    cell: str
    exp_ms: int
    session: str
    established: bool
    profile_json: bytes  # ``Profile.public_json``


def index_copy(cell: str, exp_ms: int, session: str, established: bool, profile_json: bytes) -> bytes:
    """The copy as stored: "cell|exp_ms|session|est|profile", the profile as nearby shows it. A page script
    checks the cell and the expiry by position (no JSON decode per member: most of a page script's time,
    issue 15) and the page is assembled from the profile's bytes. ``UPDATE_COMMIT`` writes the same form."""
    return b"|".join((cell.encode(), b"%d" % exp_ms, session.encode(), b"1" if established else b"0", profile_json))


def read_copy(raw: bytes) -> IndexCopy:
    """Either form: "cell|exp_ms|session|est|profile", or the JSON object copies were before (a presence
    shared before an upgrade keeps its copy until it expires or moves)."""
    if raw[:1] == b"{":
        data = orjson.loads(raw)
        profile = Profile(data["name"], tuple(data["langs"]), data["about"])
        return IndexCopy(data["cell"], int(data["exp_ms"]), data.get("sid", ""), bool(data.get("est")),
                         profile.public_json())
    cell, exp_ms, session, est, profile_json = raw.split(b"|", 4)
    return IndexCopy(cell.decode(), int(exp_ms), session.decode(), est == b"1", profile_json)


def presence_of(tid: str, raw: Mapping[bytes, bytes]) -> Presence:
    profile = Profile(text(raw[b"name"]), tuple(orjson.loads(raw[b"langs"])), text(raw[b"about"]) or None)
    return Presence(tid, text(raw[b"cell"]), int(raw[b"exp_ms"]) / 1000, profile, text(raw.get(b"sid", b"")),
                    raw.get(b"est") == b"1")


def _edge(radius_km: float) -> int:
    """The radius edge's position (1-based) in a presence's ``ix``."""
    return RADIUS_EDGES_KM.index(snap_radius_km(radius_km)) + 1


class LastHeads:
    """The last head this process read per (viewer, radius edge): its cell and occupied cells, which predict
    the next head (a phone asks again and again while few around it move). Bounded, oldest out first; a head
    with more occupied cells than ``MAX_CELLS`` is not kept (at most a few MB per process)."""

    MAX_ENTRIES = 4096
    MAX_CELLS = 64

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._heads: dict[tuple[str, int], tuple[str, Mapping[str, int]]] = {}

    def remember(self, tid: str, edge: int, cell: str, occupied: Mapping[str, int]) -> None:
        with self._lock:
            self._heads.pop((tid, edge), None)
            if len(occupied) > self.MAX_CELLS:
                return
            self._heads[(tid, edge)] = (cell, occupied)
            if len(self._heads) > self.MAX_ENTRIES:
                del self._heads[next(iter(self._heads))]

    def get(self, tid: str, edge: int) -> tuple[str, Mapping[str, int]] | None:
        with self._lock:
            return self._heads.get((tid, edge))


def _rate(reply: Any) -> RateCount | None:
    return RateCount(int(reply[0]), int(reply[1])) if reply else None


class OneTrip:
    """The single-node paths of ``RedisPresenceStore``; the store wraps each in its fail-closed policy."""

    def __init__(self, client: redis.Redis, policy: UpdatePolicy) -> None:
        self._r = client
        self.policy = policy
        self._call = PinnedScripts(client)
        self._nearby_head, self._nearby_page, self._nearby_at_once, self._update_head, self._update_commit = (
            client.register_script(src)
            for src in (NEARBY_HEAD, NEARBY_PAGE, NEARBY_AT_ONCE, UPDATE_HEAD, UPDATE_COMMIT))
        self._last_heads = LastHeads()

    def nearby_head(self, tid: str, radius_km: float, now_s: float, charge: RateCharge | None
                    ) -> tuple[NearbyHead, bool]:
        """The head, and whether the presence lacked ``ix`` (written before it existed: occupied is empty)."""
        keys = [_t(tid, "p")] + ([charge.key] if charge else [])
        edge = _edge(radius_km)
        reply = self._call(self._nearby_head, keys, [to_ms(now_s), edge, charge.window_s if charge else 0])
        return self._head(tid, edge, reply)

    def _head(self, tid: str, edge: int, reply: Sequence[Any]) -> tuple[NearbyHead, bool]:
        rate, raw, counts = reply[0], reply[1], reply[2]
        if not raw:
            return NearbyHead(None, {}, _rate(rate)), False
        fields = dict(zip(raw[0::2], raw[1::2], strict=True))
        occupied = {text(c): int(n) for c, n in zip(counts[0::2], counts[1::2], strict=True) if int(n) > 0
                    } if counts is not None else {}
        viewer = presence_of(tid, fields)
        if counts is not None:
            self._last_heads.remember(tid, edge, viewer.cell, occupied)
        return NearbyHead(viewer, occupied, _rate(rate)), counts is None

    def nearby_at_once(self, tid: str, radius_km: float, now_s: float, charge: RateCharge | None, plan: PagePlan,
                       limit: int) -> tuple[NearbyHead, bool, NearbyRead | None]:
        """The head and, in the same call, the page ``plan`` lays out from the head this process saw last for
        ``tid`` (viewer cell, occupied cells): read only if the head finds exactly that again, so the page is the
        one the real head would plan. None for the page: plan again from the head, and ``read_page``."""
        edge = _edge(radius_km)
        last = self._last_heads.get(tid, edge)
        planned = plan(*last) if last is not None and limit > 0 else None
        if last is None or planned is None:
            head, without_ix = self.nearby_head(tid, radius_km, now_s, charge)
            return head, without_ix, None
        cells, offset = planned
        keys = [_t(tid, "p"), _t(tid, "blk"), _t(tid, "h")] + ([charge.key] if charge else [])
        predicted = ",".join(sorted(f"{cell}={n}" for cell, n in last[1].items()))
        reply = self._call(self._nearby_at_once, keys, [
            to_ms(now_s), edge, charge.window_s if charge else 0, charge.most if charge else 0, last[0], predicted,
            *self._page_args(tid, cells, offset, limit, now_s)])
        head, without_ix = self._head(tid, edge, reply)
        return head, without_ix, self._page(reply[3]) if reply[3] else None

    @staticmethod
    def _page_args(tid: str, cells: Sequence[tuple[str, int, int]], offset: int, limit: int, now_s: float
                   ) -> list[Any]:
        return [tid, to_ms(now_s), limit, limit * MAX_EXAMINED_PER_RESULT, int(HANDLE_TTL_S), offset,
                ";".join(f"{index_cell(cell)},{cell},{rotation},{count}" for cell, rotation, count in cells)]

    @staticmethod
    def _page(reply: Sequence[Any]) -> NearbyRead:
        position, end_offset, flat = reply
        members = []
        for slot, member, raw in zip(flat[0::3], flat[1::3], flat[2::3], strict=True):
            if raw[:1] == b"{":  # a copy in the JSON form of before
                copy = read_copy(raw)
                members.append((slot - 1, member.decode(), copy.session, copy.profile_json))
            else:  # "cell|exp_ms|session|est|profile" (``index_copy``): what a page shows, without the rest
                _, _, session, _, profile_json = raw.split(b"|", 4)
                members.append((slot - 1, member.decode(), session.decode(), profile_json))
        return NearbyRead(members, (int(position) - 1, int(end_offset)))

    def read_page(self, viewer: Presence, cells: Sequence[tuple[str, int, int]], offset: int, limit: int,
                  now_s: float) -> NearbyRead:
        keys = [_t(viewer.tid, "blk"), _t(viewer.tid, "h")]
        return self._page(self._call(self._nearby_page, keys, self._page_args(viewer.tid, cells, offset, limit, now_s)))

    def update_head(self, tid: str, now_s: float, charge: RateCharge | None) -> UpdateHead:
        keys = [_t(tid, "lim"), _t(tid, "susp"), _t(tid, "p")] + ([charge.key] if charge else [])
        rate, suspended, raw_record, presence = self._call(self._update_head, keys, [charge.window_s if charge else 0])
        record = None
        if raw_record:
            fields = dict(zip(raw_record[0::2], raw_record[1::2], strict=True))
            record = LimiterRecord(int(fields[b"at_ms"]) / 1000, text(fields[b"cell"]),
                                   int(fields[b"win_ms"]) / 1000, int(fields[b"count"]))
            at_ms = text(fields[b"at_ms"])
        else:
            at_ms = ""
        live = record if record is not None and record.expires_at_s(self.policy) > now_s else None
        old_cell, _, old_sid = (text(v) if v is not None else "" for v in presence)
        return UpdateHead(live, _HeadState(bool(suspended), record, at_ms, old_cell, old_sid), _rate(rate))

    def put(self, tid: str, cell: str, expires_at_s: float, profile: Profile, now_s: float,
            account_since_s: float | None, head: UpdateHead | None) -> Presence:
        since_s = now_s if account_since_s is None else min(now_s, account_since_s)
        exp_ms = to_ms(expires_at_s)
        profile_json = profile.public_json()
        ix = index_cells_by_edge(cell)
        while True:
            if head is None or not isinstance(head.state, _HeadState):
                head = self.update_head(tid, now_s, None)
            state = head.state
            assert isinstance(state, _HeadState)
            if state.suspended:
                raise SuspendedError(tid)
            record = state.record
            new = admitted_update(tid, record, cell, now_s, self.policy)
            fresh = new_session()
            keys = [_t(tid, "lim"), _t(tid, "p"), _t(tid, "susp"), _t(tid, "seen"), visible_key(tid)]
            keys += index_group(cell)
            if state.old_cell and state.old_cell != cell:
                keys += index_group(state.old_cell)
            outcome = self._call(self._update_commit, keys, [
                state.at_ms, to_ms(new.at_s), new.cell, to_ms(new.window_start_s), new.count,
                max(1, to_ms(new.expires_at_s(self.policy) - now_s)),
                cell, exp_ms, profile.display_name, orjson.dumps(list(profile.languages)),
                profile.about if profile.about is not None else "", max(1, to_ms(expires_at_s - now_s)),
                fresh, to_ms(now_s), to_ms(since_s), to_ms(FIRST_SEEN_RETENTION_S),
                to_ms(now_s + FIRST_SEEN_RETENTION_S), to_ms(ACCOUNT_AGE_FOR_AREAS_S),
                state.old_cell, state.old_sid, tid, session_order(fresh),
                session_order(state.old_sid) if state.old_sid else 0, profile_json, ix])
            if outcome[0] == b"ok":
                return Presence(tid, cell, expires_at_s, profile, text(outcome[2]), text(outcome[3]) == "1")
            if outcome[0] == b"suspended":
                raise SuspendedError(tid)
            head = None  # a concurrent change of this traveller: read again


class _HeadState:
    """The head's read, for the commit's compare-and-set: the limiter (expired or not) and the presence's cell
    and session ('' when none)."""

    __slots__ = ("at_ms", "old_cell", "old_sid", "record", "suspended")

    def __init__(self, suspended: bool, record: LimiterRecord | None, at_ms: str, old_cell: str, old_sid: str
                 ) -> None:
        self.suspended, self.record, self.at_ms = suspended, record, at_ms
        self.old_cell, self.old_sid = old_cell, old_sid
