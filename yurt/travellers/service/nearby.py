"""One page of ``GET /v1/travellers/nearby``: plan reads from cell counts, fetch, filter, sign the cursor.

The viewer's result sequence is: occupied resolution-7 cells in bands ascending, cells shuffled per viewer
within a band (``privacy.nearby_layout``), and inside each cell the members in hash order rotated per viewer.
Handles are per viewer and per presence session of the traveller shown (``privacy.session_handle``).
A page reads only the cells and offsets it needs (from the per-cell counts), so its cost does not grow with
how many travellers share the city. The cursor names a position by the (band, shuffle key) of a cell and an
offset — never a cell id — and is signed for the viewer, the viewer's cell and the radius, so it cannot be
replayed by someone else or after the viewer moves.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import orjson

from yurt.core.rate import RateCharge, RateCount
from yurt.geo.privacy import BANDS, CellSlot, nearby_layout, session_handle
from yurt.travellers.service.errors import NotSharingError, StaleCursorError
from yurt.travellers.stores.presence import MemberRead, Presence, TravellerStores

MAX_ROUNDS = 6  # each round is three pipelined store calls; stale or blocked members may need another round
NOT_SHARING = ("share your presence first (PUT /v1/travellers/me/presence): nearby is only ever computed around "
               "your own current cell")


@dataclass(frozen=True)
class Position:
    band: int
    order_key: bytes
    offset: int


def _cursor_mac(secret: bytes, viewer: tuple[str, str], radius_km: float, payload: bytes) -> bytes:
    context = f"cursor\x1f{viewer[0]}\x1f{viewer[1]}\x1f{radius_km!r}\x1f".encode()
    return hmac.digest(secret, context + payload, "sha256")[:12]  # one-shot C HMAC: hmac.new's bytes, faster


def encode_cursor(secret: bytes, viewer: tuple[str, str], radius_km: float, position: Position) -> str:
    """A cursor for ``viewer`` (tid, cell) and this radius only."""
    payload = orjson.dumps([position.band, position.order_key.hex(), position.offset])
    token = _cursor_mac(secret, viewer, radius_km, payload) + payload
    return base64.urlsafe_b64encode(token).decode().rstrip("=")


def decode_cursor(secret: bytes, viewer: tuple[str, str], radius_km: float, cursor: str) -> Position:
    stale = StaleCursorError("the cursor does not belong to this query (or you moved); start again without it")
    try:
        token = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        tag, payload = token[:12], token[12:]
        if not hmac.compare_digest(tag, _cursor_mac(secret, viewer, radius_km, payload)):
            raise stale
        band, key_hex, offset = orjson.loads(payload)
        return Position(int(band), bytes.fromhex(key_hex), int(offset))
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise stale from None


def _start(layout: list[CellSlot], position: Position | None) -> tuple[int, int]:
    if position is None:
        return 0, 0
    for i, slot in enumerate(layout):
        if (slot.band, slot.order_key) == (position.band, position.order_key):
            return i, position.offset
        if (slot.band, slot.order_key) > (position.band, position.order_key):
            return i, 0  # that cell emptied since the last page: continue with the next one
    return len(layout), 0


def _plan(layout: list[CellSlot], i: int, offset: int, wanted: int
          ) -> tuple[list[MemberRead], list[int], int, int]:
    """Reads covering the next ``wanted`` members by the counts, each read's slot, and the end position."""
    reads: list[MemberRead] = []
    slots: list[int] = []
    while wanted > 0 and i < len(layout):
        take = min(max(layout[i].count - offset, 0), wanted)
        if take > 0:
            reads.append(MemberRead(layout[i].cell, layout[i].rotation, offset, take))
            slots.append(i)
            wanted -= take
            offset += take
        if offset >= layout[i].count:
            i, offset = i + 1, 0
    return reads, slots, i, offset


_BAND_JSON = tuple(orjson.dumps(label) for label, _ in BANDS)
_BANDS_JSON = orjson.dumps([label for label, _ in BANDS])


def _result(handle: str, profile_json: bytes, band: int) -> bytes:
    """One result as JSON: handle, the profile's members (``Profile.public_json``, as stored), band."""
    return b'{"handle":"' + handle.encode() + b'",' + profile_json + b',"band":' + _BAND_JSON[band] + b"}"


def _read_in_rounds(stores: TravellerStores, viewer: Presence, layout: list[CellSlot], i: int, offset: int,
                    limit: int, now_s: float) -> tuple[list[bytes], int, int]:
    """Stores that cannot read a page in one step: rounds of member reads and block checks, then the handles."""
    store = stores.presence
    results: list[bytes] = []
    handles: dict[str, str] = {}
    for _ in range(MAX_ROUNDS):
        if len(results) >= limit or i >= len(layout):
            break
        reads, read_slots, i, offset = _plan(layout, i, offset, limit - len(results))
        batches = store.read_members(reads, now_s)
        candidates = [(tid, presence, layout[s]) for batch, s in zip(batches, read_slots, strict=True)
                      for tid, presence in batch if tid != viewer.tid and presence is not None]
        hidden = store.hidden_from(viewer.tid, [tid for tid, _, _ in candidates])
        for tid, presence, slot in candidates:
            if tid in hidden:
                continue  # blocked, either way
            handle = session_handle(stores.secret, viewer.tid, tid, presence.session)
            handles[handle] = tid
            results.append(_result(handle, presence.profile.public_json(), slot.band))
    store.remember_handles(viewer.tid, handles, now_s)
    return results, i, offset


def nearby_page(stores: TravellerStores, tid: str, radius_km: float, limit: int, cursor: str | None,
                now_s: float, charge: RateCharge | None = None,
                settle: Callable[[RateCount | None], None] = lambda _: None) -> bytes:
    """One page for traveller ``tid``, as the JSON document the endpoint answers (assembled from the stored
    profiles' bytes). ``charge``: the request's rate-limit hit, counted by the store in its first round trip
    when it can (``settle`` then judges the count); ``NotSharingError`` if ``tid`` is not sharing.

    A store that predicts the head (``nearby_at_once``) reads the page this plans from the prediction in the
    same step, and only if the real head matches it: the layout, hence the page, is the same either way."""
    secret, store = stores.secret, stores.presence
    planned: list[tuple[list[CellSlot], int]] = []

    def plan(cell: str, occupied: Mapping[str, int]) -> tuple[list[tuple[str, int, int]], int] | None:
        layout = nearby_layout(secret, tid, cell, radius_km, occupied)
        try:
            position = decode_cursor(secret, (tid, cell), radius_km, cursor) if cursor else None
        except StaleCursorError:
            return None  # judged against the real head, after it
        i, offset = _start(layout, position)
        if i >= len(layout):
            return None
        planned.append((layout, i))
        return [(s.cell, s.rotation, s.count) for s in layout[i:]], offset

    head, page = store.nearby_at_once(tid, radius_km, now_s, charge, plan, limit)
    settle(head.rate)
    viewer = head.viewer
    if viewer is None:
        raise NotSharingError(NOT_SHARING)
    if page is not None:  # the head was as predicted: the planned layout is the real one
        layout, i = planned[-1]
    else:
        layout = nearby_layout(secret, tid, viewer.cell, radius_km, head.occupied)
        i, offset = _start(layout, decode_cursor(secret, (tid, viewer.cell), radius_km, cursor) if cursor else None)
        if i < len(layout) and limit > 0:
            page = store.read_page(viewer, [(s.cell, s.rotation, s.count) for s in layout[i:]], offset, limit, now_s)
    if page is None:
        results, i, offset = _read_in_rounds(stores, viewer, layout, i, offset, limit, now_s)
    else:
        results = [_result(session_handle(secret, tid, member, session), profile_json, layout[i + slot].band)
                   for slot, member, session, profile_json in page.members]
        i, offset = i + page.end[0], page.end[1]
    next_cursor = None
    if i < len(layout):
        slot = layout[i]
        next_cursor = encode_cursor(secret, (tid, viewer.cell), radius_km,
                                    Position(slot.band, slot.order_key, offset))
    return (b'{"results":[' + b",".join(results) + b'],"next_cursor":' + orjson.dumps(next_cursor)
            + b',"radius_km":' + orjson.dumps(radius_km) + b',"bands":' + _BANDS_JSON + b"}")


def resolve_handle(stores: TravellerStores, viewer: str, handle: str, now_s: float) -> str | None:
    """The traveller behind a handle ``viewer`` was shown in the last day: remembered by the store, or
    recomputed from the (traveller, session) pairs a one-step page read recorded."""
    target = stores.presence.resolve_handle(viewer, handle, now_s)
    if target is not None:
        return target
    for tid, session in stores.presence.shown(viewer, now_s):
        if hmac.compare_digest(session_handle(stores.secret, viewer, tid, session), handle):
            return tid
    return None
