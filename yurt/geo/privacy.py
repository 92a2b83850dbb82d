"""Travellers' privacy grid: coarse cells, distance bands, per-viewer and per-session handles and order.

A traveller's position exists only as an H3 cell (Uber H3, https://h3geo.org/docs/core-library/restable):
resolution 7 (average area 5.16 km², edge 1.41 km) for presence, resolution 5 (252 km²) for the storage
index and the area map. Everything a viewer learns about another traveller is a function of the two *cells*,
never of coordinates: the band is the geodesic distance between the two cell centres (WGS-84,
``geodesy.inverse_many``), so spoofing one's own position inside a cell, or across many cells, can at
best recover the victim's cell.

Handles and ordering use HMAC-SHA256 (RFC 2104) with a server secret, so they differ per viewer and cannot be
linked across viewers or predicted without the secret. A traveller's handle (and place in a cell's order) also
depends on the traveller's *presence session*, a random id drawn when a share starts a session (the first
share, or one after an erase, a ``DELETE`` of presence or an expiry): a viewer cannot tell that two sessions
belong to one traveller. Staff handles leave the session out, so staff can follow a reported traveller.

No answer changes with the ``nearby`` radius at a finer grain than the bands: the radius is snapped up to the
next band edge (``snap_radius_km``) and the cut is made by band, never by distance.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import h3
import numpy as np

from yurt.geo.geodesy import inverse_many

PRESENCE_RES = 7
INDEX_RES = 5
AREA_RES = 5
K_ANONYMITY = 3
MAX_RADIUS_KM = 50.0

# (label, exclusive upper bound in km of the cell-centre to cell-centre distance). Adjacent resolution-7
# centres are ~2.4 km apart (edge × √3), so "<2 km" means "the same cell" in practice.
BANDS: tuple[tuple[str, float], ...] = (
    ("<2 km", 2.0),
    ("2–5 km", 5.0),
    ("5–10 km", 10.0),
    ("10–25 km", 25.0),
    ("25–50 km", 50.0 + 1e-9),
)

# The radii a nearby query can cut at: the upper edges of the bands. A radius in between is snapped up to the
# next edge, so a binary search on ``radius_km`` learns the band and nothing finer
# (tests/system/test_privacy_hardening.py).
RADIUS_EDGES_KM: tuple[float, ...] = (2.0, 5.0, 10.0, 25.0, MAX_RADIUS_KM)

# A resolution-5 cell's centre is within this distance of the centre of any of its resolution-7 descendants.
# Descendants lie inside the parent up to H3's aperture-7 approximation; measured over 3,000 random parents
# the largest such distance is 9.7 km, so 12 km leaves a 20% margin (tests/geo/test_privacy.py checks the
# cover against brute force, a pentagon included).
_INDEX_MARGIN_KM = 12.0
_MIN_INDEX_SPACING_KM = 10.0  # smallest distance between adjacent resolution-5 centres (pentagons included)
_ORDER_BITS = 48  # scores must stay exact in a Redis ZSET's float64 score


def presence_cell(lat: float, lon: float) -> str:
    """The only form in which a traveller's position is ever kept."""
    return str(h3.latlng_to_cell(lat, lon, PRESENCE_RES))


def index_cell(cell: str) -> str:
    return str(h3.cell_to_parent(cell, INDEX_RES))


def is_presence_cell(value: str) -> bool:
    return bool(h3.is_valid_cell(value)) and h3.get_resolution(value) == PRESENCE_RES


def cell_centre(cell: str) -> tuple[float, float]:
    """(lat, lon) of the cell's centre."""
    lat, lon = h3.cell_to_latlng(cell)
    return float(lat), float(lon)


def centre_distances_km(origin: str, cells: Sequence[str]) -> list[float]:
    """Geodesic distance on WGS-84 from the centre of ``origin`` to the centre of each cell."""
    if not cells:
        return []
    lat0, lon0 = cell_centre(origin)
    centres = np.array([cell_centre(c) for c in cells], dtype=float)
    distances_km, _ = inverse_many(lat0, lon0, centres[:, 0], centres[:, 1])
    return [float(d) for d in distances_km]


def snap_radius_km(radius_km: float) -> float:
    """The smallest band edge at or above ``radius_km`` (callers validate 1 ≤ radius ≤ 50 first)."""
    return next((edge for edge in RADIUS_EDGES_KM if radius_km <= edge), MAX_RADIUS_KM)


def last_band_within(radius_km: float) -> int:
    """Index of the last band a query of ``radius_km`` (snapped up first) includes, whole."""
    return RADIUS_EDGES_KM.index(snap_radius_km(radius_km))


def band_of(distance_km: float) -> int | None:
    """Index into ``BANDS`` for a centre-to-centre distance, or None beyond the last band."""
    for i, (_, upper_km) in enumerate(BANDS):
        if distance_km < upper_km:
            return i
    return None


@lru_cache(maxsize=4096)
def index_cells_for(cell: str, radius_km: float) -> tuple[str, ...]:
    """Resolution-5 cells that may hold a resolution-7 cell whose centre is within ``radius_km`` of ``cell``.

    A superset by construction (margin above); ``test_privacy`` checks it against a brute-force scan.
    """
    origin = index_cell(cell)
    k = math.ceil((radius_km + _INDEX_MARGIN_KM) / _MIN_INDEX_SPACING_KM) + 1
    ring = [str(c) for c in h3.grid_disk(origin, k)]
    distances = centre_distances_km(cell, ring)
    return tuple(c for c, d in zip(ring, distances, strict=True) if d <= radius_km + _INDEX_MARGIN_KM)


def _mac(secret: bytes, *parts: str) -> bytes:
    # hmac.digest: the one-shot C implementation, the same HMAC-SHA256 several times faster than hmac.new()
    return hmac.digest(secret, "\x1f".join(parts).encode(), "sha256")


def _handle(digest: bytes) -> str:
    return "t_" + base64.b32encode(digest[:16]).decode().rstrip("=").lower()


def handle_for(secret: bytes, viewer: str, target: str) -> str:
    """A handle stable across ``target``'s sessions: for staff only (``viewer="staff"``), who must be able to
    follow a reported traveller. Travellers are shown ``session_handle``."""
    return _handle(_mac(secret, "handle", viewer, target))


# The per-viewer derivations below are cached: a traveller's phone asks nearby again and again around the same
# cells, and the HMACs were a third of a page's CPU (issue 15). Bounded; pure functions of their arguments.
@lru_cache(maxsize=32768)
def session_handle(secret: bytes, viewer: str, target: str, session: str) -> str:
    """The handle ``viewer`` is shown for ``target`` during one of ``target``'s presence sessions: stable within
    the session, new in the next one, unlinkable across viewers and across sessions without the secret."""
    return _handle(_mac(secret, "session-handle", viewer, target, session))


def new_session() -> str:
    """A presence session id: 64 random bits (``secrets``), never derived from the traveller."""
    return secrets.token_hex(8)


def session_order(session: str) -> int:
    """A member's place in a cell's hash-ordered set, drawn afresh with each session (the session id is random),
    so the order inside a cell cannot link sessions either; the rotation is per viewer."""
    return int.from_bytes(hashlib.sha256(session.encode()).digest()[:8], "big") >> (64 - _ORDER_BITS)


def viewer_rotation(secret: bytes, viewer: str, cell: str) -> int:
    """Where ``viewer`` starts reading ``cell``'s hash-ordered set: a stable per-viewer shuffle in O(page)."""
    return int.from_bytes(_mac(secret, "rotation", viewer, cell)[:8], "big") >> (64 - _ORDER_BITS)


@dataclass(frozen=True)
class CellSlot:
    """One occupied cell in a viewer's result sequence."""

    band: int
    order_key: bytes  # the per-viewer shuffle key: slots sort by (band, order_key)
    cell: str
    count: int
    rotation: int


def nearby_layout(secret: bytes, viewer: str, viewer_cell: str, radius_km: float,
                  occupied: Mapping[str, int]) -> list[CellSlot]:
    """The order in which ``viewer`` reads occupied cells: bands ascending, cells shuffled per viewer within.

    ``occupied`` maps resolution-7 cells to how many travellers they hold (the viewer included; callers drop
    the viewer when reading members). Only whole bands are kept: those up to the one ``radius_km`` snaps to.
    """
    cells = tuple(c for c, n in occupied.items() if n > 0)
    last_band = last_band_within(radius_km)
    slots: list[CellSlot] = []
    for cell, band in zip(cells, _bands(viewer_cell, cells), strict=True):
        if band is None or band > last_band:
            continue
        shuffle_key, rotation = _cell_keys(secret, viewer, cell)
        slots.append(CellSlot(band, shuffle_key, cell, occupied[cell], rotation))
    slots.sort(key=lambda s: (s.band, s.order_key))
    return slots


@lru_cache(maxsize=4096)
def _bands(viewer_cell: str, cells: tuple[str, ...]) -> tuple[int | None, ...]:
    return tuple(band_of(d) for d in centre_distances_km(viewer_cell, list(cells)))


@lru_cache(maxsize=32768)
def _cell_keys(secret: bytes, viewer: str, cell: str) -> tuple[bytes, int]:
    """``viewer``'s shuffle key for ``cell`` among the cells of its band, and its rotation inside it."""
    return _mac(secret, "cell-order", viewer, cell)[:8], viewer_rotation(secret, viewer, cell)


def rotated(members_by_score: Sequence[tuple[str, int]], rotation: int) -> list[str]:
    """Reference order of a cell for one viewer: scores ≥ rotation ascending, then the rest ascending."""
    ordered = sorted(members_by_score, key=lambda m: (m[1], m[0]))
    tail = [m for m, s in ordered if s >= rotation]
    head = [m for m, s in ordered if s < rotation]
    return tail + head


def traveller_id(secret: bytes, sub: str) -> str:
    """The pseudonym under which storage keeps a traveller: the token's ``sub`` itself is never a key."""
    return _mac(secret, "traveller", sub)[:16].hex()


def mission_reporter_id(secret: bytes, sub: str) -> str:
    """The pseudonym a mission report carries: keyed like ``traveller_id`` (an unkeyed hash of a guessable
    ``sub`` can be reversed by hashing candidates) and distinct from it, so it links to no traveller key."""
    return _mac(secret, "mission-reporter", sub)[:8].hex()


@dataclass(frozen=True)
class UpdatePolicy:
    min_interval_s: float = 60.0
    daily_budget: int = 48
    budget_window_s: float = 86_400.0
    max_speed_kmh: float = 1000.0


@dataclass(frozen=True)
class LimiterRecord:
    """What the limiter keeps about a traveller's last position update: a time and a cell, no profile."""

    at_s: float
    cell: str
    window_start_s: float
    count: int

    def expires_at_s(self, policy: UpdatePolicy) -> float:
        return max(self.window_start_s + policy.budget_window_s, self.at_s + policy.min_interval_s)


@dataclass(frozen=True)
class UpdateDecision:
    allowed: bool
    reason: str = ""  # "too_soon" | "budget" | "too_fast"
    retry_after_s: float = 0.0
    record: LimiterRecord | None = None  # the record to store when allowed


def decide_update(record: LimiterRecord | None, cell: str, now_s: float,
                  policy: UpdatePolicy) -> UpdateDecision:
    """Whether a position update may happen now, and the limiter record that results.

    Speed is judged cell-centre to cell-centre, the only positions the service knows.
    """
    if record is None or now_s >= record.expires_at_s(policy):
        return UpdateDecision(True, record=LimiterRecord(now_s, cell, now_s, 1))
    elapsed_s = now_s - record.at_s
    if elapsed_s < policy.min_interval_s:
        return UpdateDecision(False, "too_soon", policy.min_interval_s - elapsed_s)
    if record.count >= policy.daily_budget:
        return UpdateDecision(False, "budget", record.window_start_s + policy.budget_window_s - now_s)
    if cell != record.cell:
        (distance_km,) = centre_distances_km(record.cell, [cell])
        if distance_km / (elapsed_s / 3600.0) > policy.max_speed_kmh:
            return UpdateDecision(False, "too_fast")
    return UpdateDecision(True, record=LimiterRecord(now_s, cell, record.window_start_s, record.count + 1))
