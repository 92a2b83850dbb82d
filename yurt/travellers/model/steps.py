"""The values the travellers' store and its callers hand each other: a presence and its profile, and for the hot
path's one round trip per step, the request's rate-limit charge and its count, the head of a nearby query and of
a presence update, and a page read in one step (``PresenceStore.nearby_head``, ``read_page``, ``update_head``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import orjson

from yurt.core.rate import RateCount
from yurt.geo.privacy import LimiterRecord


@dataclass(frozen=True)
class Profile:
    display_name: str
    languages: tuple[str, ...]
    about: str | None

    def public_json(self) -> bytes:
        """The profile as ``nearby`` shows it, the members of a JSON object without its braces
        (``"display_name":…,"languages":[…],"about":…``): the index keeps it so, and a page is assembled from
        these bytes without decoding or encoding a profile per result. Computed once per profile (kept beside
        its fields: an embedded page shows stored profiles again and again)."""
        members: bytes | None = self.__dict__.get("_public_json")
        if members is None:
            members = orjson.dumps({"display_name": self.display_name, "languages": list(self.languages),
                                    "about": self.about})[1:-1]
            object.__setattr__(self, "_public_json", members)  # not a field: equality and hash ignore it
        return members

    @classmethod
    def from_public_json(cls, members: bytes) -> Profile:
        data = orjson.loads(b"{" + members + b"}")
        return cls(data["display_name"], tuple(data["languages"]), data["about"])


@dataclass(frozen=True)
class Presence:
    tid: str
    cell: str
    expires_at_s: float
    profile: Profile
    session: str = ""  # the presence session id: handles shown to travellers and the cell order derive from it
    established: bool = False  # the account was known for ACCOUNT_AGE_FOR_AREAS_S when it shared: areas count it


@dataclass(frozen=True)
class UpdateHead:
    """What a presence update reads before deciding: the live limiter record (its cell anchors the sticky cell),
    plus the store's own snapshot for its compare-and-set (opaque to callers)."""

    record: LimiterRecord | None
    state: object = None
    rate: RateCount | None = None


@dataclass(frozen=True)
class NearbyHead:
    """The viewer's live presence (None: not sharing) and the occupied cells around it (cell → members)."""

    viewer: Presence | None
    occupied: Mapping[str, int]
    rate: RateCount | None = None


@dataclass(frozen=True)
class NearbyRead:
    """A page read in one step (``PresenceStore.read_page``): the kept members, each as (position of its cell in
    the slots given, tid, presence session, ``Profile.public_json``), and where the page ended (slot position,
    offset)."""

    members: list[tuple[int, str, str, bytes]]
    end: tuple[int, int]


# Lays out a page from a (viewer cell, occupied cells) head: the layout's cells from the page's start as
# (cell, rotation, count) and the offset in the first, or None (nothing to read, or a cursor of another cell).
PagePlan = Callable[[str, Mapping[str, int]], tuple[Sequence[tuple[str, int, int]], int] | None]
