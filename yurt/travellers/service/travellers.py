"""The traveller use cases: presence, nearby, blocks, areas, handle resolution, suspension and erasure.

``TravellerService`` holds the traveller stores and what the composition root injects: the other features'
erasure of a traveller (``erasers``, each called with the token's ``sub`` and the pseudonym), since travellers
import no other feature. Every use case takes the request's clock (``now_s``) from its caller; none reads a
clock, Flask or the settings. Refusals are domain errors (``yurt.travellers.service.errors`` and the presence
store's ``RateLimitError``, ``ImplausibleMoveError``, ``SuspendedError``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from yurt.core.rate import RateCharge, RateCount
from yurt.geo import privacy
from yurt.geo.sticky_cells import sticky_cell
from yurt.travellers.model.area_counts import area_cells_in_bbox, area_counts
from yurt.travellers.service.errors import AreaTooLargeError, UnknownHandleError
from yurt.travellers.service.nearby import nearby_page, resolve_handle
from yurt.travellers.stores.presence import Presence, Profile, TravellerStores

MAX_AREA_CELLS = 3000  # resolution-5 cells, about a 900 km × 900 km box
# H3 fills polygons along great circles: keep boxes small enough to mean what they say. 6.5° each way is at most
# 2,731 resolution-5 cells (a box on the equator, measured), under MAX_AREA_CELLS: the span is the whole rule a
# client follows (at 10°, an equatorial box of 6,016 cells passed the span check and was refused by the count).
MAX_AREA_SPAN_DEG = 6.5

Eraser = Callable[[str, str], None]  # (sub, traveller id): another feature forgets the traveller
Settle = Callable[[RateCount | None], None]


def _no_settle(_: RateCount | None) -> None:
    pass


@dataclass
class TravellerService:
    stores: TravellerStores
    erasers: Sequence[Eraser] = ()

    @property
    def secret(self) -> bytes:
        return self.stores.secret

    def traveller_id(self, sub: str) -> str:
        """The pseudonym the stores know the token's ``sub`` by."""
        return privacy.traveller_id(self.stores.secret, sub)

    def share(self, tid: str, lat: float, lon: float, profile: Profile, share_minutes: float, now_s: float,
              account_since_s: float | None = None, charge: RateCharge | None = None,
              settle: Settle = _no_settle) -> Presence:
        """Become visible until ``share_minutes`` from now; the position is kept as a (sticky) cell only.
        ``charge``/``settle``: the request's rate-limit hit, counted by the store's first round trip when it can."""
        presence_store = self.stores.presence
        head = presence_store.update_head(tid, now_s, charge)
        settle(head.rate)
        anchor = head.record  # the last accepted update, if any: its cell anchors the sticky cell
        cell = sticky_cell(lat, lon, anchor.cell if anchor is not None else None)
        return presence_store.put_presence(tid, cell, now_s + share_minutes * 60, profile, now_s, account_since_s,
                                           head)

    def presence(self, tid: str, now_s: float) -> Presence | None:
        return self.stores.presence.get_presence(tid, now_s)

    def presences(self, tids: Sequence[str], now_s: float) -> dict[str, Presence]:
        """The live, unsuspended presences among ``tids``."""
        return self.stores.presence.presences(tids, now_s)

    def hide(self, tid: str, now_s: float) -> None:
        """Invisible at once: presence and profile go; the update limiter's record stays until its window ends."""
        self.stores.presence.delete_presence(tid, now_s)

    def erase(self, sub: str, tid: str, now_s: float) -> None:
        """Everything about the traveller: first what the other features keep (``erasers``), then presence,
        profile, blocks and handles."""
        for eraser in self.erasers:
            eraser(sub, tid)
        self.stores.presence.erase(tid, now_s)

    def nearby(self, tid: str, radius_km: float, limit: int, cursor: str | None, now_s: float,
               charge: RateCharge | None = None, settle: Settle = _no_settle) -> bytes:
        """One nearby page around the caller's own cell, as the JSON document to answer (``nearby_page``); the
        radius is snapped to a band edge."""
        return nearby_page(self.stores, tid, privacy.snap_radius_km(radius_km), limit, cursor, now_s, charge,
                           settle)

    def owner_of(self, viewer: str, handle: str, now_s: float) -> str | None:
        """The traveller behind a handle ``viewer`` was shown in the last day, if any."""
        return resolve_handle(self.stores, viewer, handle, now_s)

    def resolve_handle(self, viewer: str, handle: str, now_s: float) -> str:
        """The traveller behind a handle ``viewer`` was shown in the last day, else ``UnknownHandleError``."""
        target = self.owner_of(viewer, handle, now_s)
        if target is None:
            raise UnknownHandleError("no traveller with this handle was shown to you in the last day")
        return target

    def block(self, viewer: str, handle: str, now_s: float) -> None:
        """Hide both from each other, for good."""
        self.stores.presence.block(viewer, self.resolve_handle(viewer, handle, now_s))

    def suspend(self, tid: str, now_s: float) -> None:
        """Staff hide a traveller: presence removed, new presence refused."""
        self.stores.presence.suspend(tid, now_s)

    def visible_count(self, now_s: float) -> int:
        return self.stores.presence.visible_count(now_s)

    def areas(self, tid: str, bbox: tuple[float, float, float, float], now_s: float) -> dict[str, Any]:
        """Visible established compatriots per resolution-5 cell in bands, never counting the caller."""
        min_lon, min_lat, max_lon, max_lat = bbox
        if max_lat - min_lat > MAX_AREA_SPAN_DEG or (max_lon - min_lon) % 360 > MAX_AREA_SPAN_DEG:
            raise AreaTooLargeError(f"the bbox may span at most {MAX_AREA_SPAN_DEG:g}° each way; zoom in")
        boxes = ([(min_lon, min_lat, max_lon, max_lat)] if min_lon <= max_lon
                 else [(min_lon, min_lat, 180.0, max_lat), (-180.0, min_lat, max_lon, max_lat)])
        cells: list[str] = []
        for box in boxes:
            found = area_cells_in_bbox(*box, limit=MAX_AREA_CELLS - len(cells))
            if found is None:
                raise AreaTooLargeError("the bbox is too large for the area map; zoom in")
            cells.extend(found)
        counts = self.stores.presence.occupied(cells, now_s, established_only=True)
        me = self.stores.presence.get_presence(tid, now_s)
        if me is not None and me.established and counts.get(me.cell, 0) > 0:
            counts[me.cell] -= 1  # the caller's own presence never counts
        return {"resolution": privacy.AREA_RES, "k_anonymity": privacy.K_ANONYMITY,
                "areas": [a.__dict__ for a in area_counts(counts.items())]}

    def handles_for(self, viewer: str, tids: Sequence[str], context: str, now_s: float
                    ) -> list[tuple[str, Profile | None]]:
        """``viewer``'s handles for travellers met outside nearby (a meetup's attendees), remembered so blocks and
        reports accept them, each with the profile shared now (None while either blocked the other, or while
        not sharing or suspended); ordered by handle, so the order says nothing about the accounts. The handle
        follows nearby's rule (``privacy.session_handle``): while the traveller shares presence visibly to the
        viewer it is the one nearby shows in that session; otherwise it belongs to ``context`` alone, so it
        links no presence session."""
        presence_store, secret = self.stores.presence, self.stores.secret
        shared = presence_store.presences(tids, now_s)
        hidden = presence_store.hidden_from(viewer, list(shared))
        visible = {tid: p for tid, p in shared.items() if tid not in hidden}
        handles = {privacy.session_handle(secret, viewer, tid, visible[tid].session if tid in visible else context): tid
                   for tid in tids}
        presence_store.remember_handles(viewer, handles, now_s)
        return [(handle, visible[tid].profile if tid in visible else None) for handle, tid in sorted(handles.items())]
