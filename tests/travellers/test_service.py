"""The traveller use cases without Flask: ``TravellerService`` on a real embedded store, the clock injected."""

from __future__ import annotations

from typing import Any, cast

import orjson
import pytest

from yurt.geo import privacy
from yurt.travellers.model.area_counts import count_band
from yurt.travellers.service import (
    MAX_AREA_SPAN_DEG,
    AreaTooLargeError,
    Eraser,
    NotSharingError,
    Profile,
    RateLimitError,
    StaleCursorError,
    SuspendedError,
    TravellerService,
    TravellerStores,
    UnknownHandleError,
)
from yurt.travellers.stores.presence_embedded import EmbeddedPresenceStore

T0 = 1_800_000_000.0
DUBAI = (25.2048, 55.2708)
DUBAI_NEAR = (25.2148, 55.2808)  # ~1.5 km away
PROFILE = Profile("Aigerim", ("kk", "ru"), "Hello")
DAY = 86_400.0


def nearby(svc: TravellerService, tid: str, radius_km: float, limit: int, cursor: str | None = None,
           now: float = T0) -> dict[str, Any]:
    """A nearby page as a dict (the service may answer the JSON document as bytes, already serialised)."""
    page = svc.nearby(tid, radius_km, limit, cursor, now)
    return cast(dict[str, Any], orjson.loads(page) if isinstance(page, bytes) else page)


def make(erasers: list[Eraser] | None = None) -> TravellerService:
    return TravellerService(TravellerStores(EmbeddedPresenceStore(), b"service-secret"), erasers or [])


def share(svc: TravellerService, sub: str, at: tuple[float, float] = DUBAI, now: float = T0,
          since: float | None = None) -> str:
    tid = svc.traveller_id(sub)
    svc.share(tid, *at, Profile(sub.title(), ("kk",), None), 60, now, since)
    return tid


def test_share_keeps_a_cell_until_it_expires_and_hide_ends_it_at_once() -> None:
    svc = make()
    tid = svc.traveller_id("aigerim")
    assert tid == privacy.traveller_id(b"service-secret", "aigerim") and "aigerim" not in tid
    presence = svc.share(tid, *DUBAI, PROFILE, 30, T0)
    assert presence.cell == privacy.presence_cell(*DUBAI) and presence.expires_at_s == T0 + 1800
    assert svc.presence(tid, T0 + 1799) == presence
    assert svc.presence(tid, T0 + 1800) is None
    svc.share(tid, *DUBAI, PROFILE, 30, T0 + 3600)
    svc.hide(tid, T0 + 3601)
    assert svc.presence(tid, T0 + 3601) is None
    with pytest.raises(RateLimitError) as refused:  # the limiter's record outlives the presence
        svc.share(tid, *DUBAI, PROFILE, 30, T0 + 3610)
    assert refused.value.reason == "too_soon" and refused.value.retry_after_s > 0


def test_share_counts_the_charge_through_settle() -> None:
    svc = make()
    settled: list[object] = []
    svc.share(svc.traveller_id("a"), *DUBAI, PROFILE, 30, T0, settle=settled.append)
    assert settled == [None]  # the embedded store does not count requests: nothing for the limiter to judge


def test_nearby_needs_the_callers_own_presence_and_a_cursor_signed_for_it() -> None:
    svc = make()
    viewer = svc.traveller_id("viewer")
    with pytest.raises(NotSharingError):
        nearby(svc, viewer, 10, 20, None)
    share(svc, "viewer")
    others = {share(svc, f"t{i}", DUBAI_NEAR) for i in range(3)}
    page = nearby(svc, viewer, 3, 2, None)  # snapped up to the 5 km band
    assert page["radius_km"] == 5 and len(page["results"]) == 2 and page["next_cursor"]
    rest = nearby(svc, viewer, 3, 2, page["next_cursor"])
    handles = [r["handle"] for r in page["results"] + rest["results"]]
    assert rest["next_cursor"] is None and len(set(handles)) == 3
    assert {svc.resolve_handle(viewer, h, T0) for h in handles} == others
    with pytest.raises(StaleCursorError):
        nearby(svc, viewer, 25, 2, page["next_cursor"])  # signed for another radius
    with pytest.raises(StaleCursorError):
        nearby(svc, viewer, 3, 2, "not-a-cursor")


def test_block_hides_both_ways_and_takes_only_handles_shown() -> None:
    svc = make()
    viewer, other = share(svc, "viewer"), share(svc, "other", DUBAI_NEAR)
    handle = nearby(svc, viewer, 5, 20, None)["results"][0]["handle"]
    with pytest.raises(UnknownHandleError):
        svc.block(other, handle, T0)  # a handle is the viewer's own
    with pytest.raises(UnknownHandleError):
        svc.resolve_handle(viewer, handle, T0 + DAY + 1)  # remembered for a day
    svc.block(viewer, handle, T0)
    assert nearby(svc, viewer, 5, 20, None)["results"] == []
    assert nearby(svc, other, 5, 20, None)["results"] == []


def test_areas_count_established_accounts_never_the_caller_and_refuse_wide_boxes() -> None:
    svc = make()
    now = T0 + 2 * DAY
    caller = share(svc, "caller", now=now, since=T0)
    for i in range(3):
        share(svc, f"old{i}", now=now, since=T0)
    share(svc, "new", now=now)  # an account seen for the first time: not counted
    box = (DUBAI[1] - 0.5, DUBAI[0] - 0.5, DUBAI[1] + 0.5, DUBAI[0] + 0.5)
    answer = svc.areas(caller, box, now)
    assert answer["k_anonymity"] == privacy.K_ANONYMITY
    assert [(a["count"], a["count_band"]) for a in answer["areas"]] == [(3, count_band(3)[1])]
    with pytest.raises(AreaTooLargeError, match=r"at most 6\.5° each way"):
        svc.areas(caller, (0.0, 0.0, 7.0, 1.0), now)
    # The span is the whole rule: the largest box it allows, on the equator (where a box holds the most cells),
    # is answered, not refused by the cell count.
    assert svc.areas(caller, (0.0, -3.25, MAX_AREA_SPAN_DEG, 3.25), now)["areas"] == []


def test_erase_calls_the_injected_erasers_then_forgets_the_presence() -> None:
    calls: list[tuple[str, str]] = []
    svc = make([lambda sub, tid: calls.append(("trips", tid)), lambda sub, tid: calls.append((sub, tid))])
    tid = share(svc, "gone")
    svc.erase("gone", tid, T0 + 1)
    assert calls == [("trips", tid), ("gone", tid)]
    assert svc.presence(tid, T0 + 1) is None


def test_suspend_hides_and_refuses_new_presence() -> None:
    svc = make()
    tid = share(svc, "s")
    svc.suspend(tid, T0)
    assert svc.presence(tid, T0) is None and svc.visible_count(T0) == 0
    with pytest.raises(SuspendedError):
        svc.share(tid, *DUBAI, PROFILE, 30, T0 + 3600)


def test_handles_for_follow_nearby_while_shared_and_belong_to_the_context_otherwise() -> None:
    svc = make()
    organiser, shown = share(svc, "organiser"), share(svc, "shown", DUBAI_NEAR)
    hidden = svc.traveller_id("not-sharing")
    nearby_handle = nearby(svc, organiser, 5, 20, None)["results"][0]["handle"]
    views = dict(svc.handles_for(organiser, [shown, hidden], "meetup:m1", T0))
    assert views[nearby_handle] == Profile("Shown", ("kk",), None)
    other = next(h for h in views if h != nearby_handle)
    assert views[other] is None
    assert other == privacy.session_handle(svc.secret, organiser, hidden, "meetup:m1")
    assert svc.resolve_handle(organiser, other, T0) == hidden  # remembered: blocks and reports take it
    assert list(views) == sorted(views)
