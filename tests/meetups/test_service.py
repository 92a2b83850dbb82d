"""The meetup use cases without Flask: ``MeetupService`` on real embedded stores, the clock injected."""

from __future__ import annotations

import pytest

from yurt.core.quotas import Quotas
from yurt.core.settings import Settings
from yurt.meetups.service import (
    InvalidMeetupError,
    InvalidWindowError,
    MeetupConflictError,
    MeetupNotFoundError,
    MeetupService,
    NotOrganiserError,
    QuotaExceeded,
    TooManyActiveError,
)
from yurt.meetups.stores.meetups import EmbeddedMeetupStore
from yurt.travellers.service import Profile, TravellerService, TravellerStores
from yurt.travellers.stores.presence_embedded import EmbeddedPresenceStore

T0 = 1_800_000_000.0
HOUR = 3600.0
VENUE = (25.2048, 55.2708)


def zone_of(lat: float, lon: float) -> str | None:
    return "Asia/Dubai" if lon > 50 else "Europe/London"


def make(meetup_rate: str = "100/hour", max_active: int = 5) -> MeetupService:
    travellers = TravellerService(TravellerStores(EmbeddedPresenceStore(), b"meetup-secret"))
    quotas = Quotas(Settings(meetup_rate=meetup_rate))
    return MeetupService(EmbeddedMeetupStore(), travellers, quotas, zone_of, max_active)


def fields(**changes: object) -> dict[str, object]:
    return {"title": "Nauryz picnic", "description": "", "starts_at_s": T0 + HOUR, "ends_at_s": T0 + 3 * HOUR,
            "lat": VENUE[0], "lon": VENUE[1], "place_name": "Safa Park", "capacity": 2, **changes}


def test_create_checks_the_end_the_quota_and_the_organisers_cap() -> None:
    svc = make(meetup_rate="3/hour", max_active=2)
    with pytest.raises(InvalidMeetupError) as past:
        svc.create("org", fields(starts_at_s=T0 - 2 * HOUR, ends_at_s=T0), T0)
    assert (past.value.field, past.value.reason) == ("ends_at", "in the past")
    created = svc.create("org", fields(), T0)
    assert created.organiser == "org" and created.time_zone == "Asia/Dubai" and created.attending == 0
    assert svc.get(created.id) == created
    svc.create("org", fields(), T0)
    with pytest.raises(TooManyActiveError) as cap:
        svc.create("org", fields(), T0)
    assert cap.value.max_active == 2
    with pytest.raises(QuotaExceeded):  # the refused one was counted: three this hour
        svc.create("org", fields(), T0)


def test_search_finds_active_meetups_in_the_window() -> None:
    svc = make()
    created = svc.create("org", fields(), T0)
    found = svc.search(*VENUE, 5, 10, None, None, T0)
    assert [(m.id, round(d, 6)) for m, d in found] == [(created.id, 0.0)]
    assert svc.search(*VENUE, 5, 10, T0 + 4 * HOUR, None, T0) == []  # starts after it ended
    with pytest.raises(InvalidWindowError):
        svc.search(*VENUE, 5, 10, None, T0 - 1, T0)  # `to` before now


def test_the_organiser_sees_attendees_as_handles_others_do_not() -> None:
    svc = make()
    meetup = svc.create("org", fields(), T0)
    guest = svc.travellers.traveller_id("guest")
    svc.travellers.share(guest, *VENUE, Profile("Guest", ("kk",), None), 60, T0)
    assert svc.join(meetup.id, "guest", T0).attending == 1
    svc.join(meetup.id, "quiet", T0)
    view = svc.view(meetup.id, "org", T0)
    assert view.you_attend is False and view.attendees is not None
    assert sorted(a.profile.display_name if a.profile else "" for a in view.attendees) == ["", "Guest"]
    organiser = svc.travellers.traveller_id("org")
    assert {svc.travellers.resolve_handle(organiser, a.handle, T0) for a in view.attendees} == {
        guest, svc.travellers.traveller_id("quiet")}
    seen_by_guest = svc.view(meetup.id, "guest", T0)
    assert seen_by_guest.attendees is None and seen_by_guest.you_attend is True
    with pytest.raises(MeetupConflictError, match="full"):
        svc.join(meetup.id, "third", T0)
    assert svc.leave(meetup.id, "quiet").attending == 1


def test_update_checks_the_merged_meetup_and_who_asks() -> None:
    svc = make()
    meetup = svc.create("org", fields(), T0)
    with pytest.raises(InvalidMeetupError, match="within 7 days"):
        svc.update(meetup.id, "org", {"ends_at_s": T0 + 8 * 86_400}, T0)
    with pytest.raises(InvalidMeetupError):
        svc.update(meetup.id, "org", {"starts_at_s": T0 + 4 * HOUR}, T0)  # after the unchanged end
    with pytest.raises(NotOrganiserError):
        svc.update(meetup.id, "guest", {"title": "Mine"}, T0)
    moved = svc.update(meetup.id, "org", {"lat": 51.5, "lon": -0.12, "title": "Nauryz in London"}, T0)
    assert (moved.title, moved.time_zone, moved.lat) == ("Nauryz in London", "Europe/London", 51.5)
    with pytest.raises(MeetupNotFoundError, match="'nope'"):
        svc.update("nope", "org", {"title": "x"}, T0)


def test_unknown_meetups_are_not_found_and_cancel_is_the_organisers() -> None:
    svc = make()
    for attempt in (lambda: svc.view("nope", "a", T0), lambda: svc.join("nope", "a", T0),
                    lambda: svc.leave("nope", "a"), lambda: svc.cancel("nope", "a")):
        with pytest.raises(MeetupNotFoundError):
            attempt()
    meetup = svc.create("org", fields(), T0)
    with pytest.raises(NotOrganiserError):
        svc.cancel(meetup.id, "guest")
    assert svc.cancel(meetup.id, "org").status == "cancelled"
    assert svc.search(*VENUE, 5, 10, None, None, T0) == []


def test_erasing_a_traveller_through_the_injected_eraser_cancels_and_leaves() -> None:
    svc = make()
    travellers = TravellerService(svc.travellers.stores, [svc.erase_traveller])
    own = svc.create("gone", fields(), T0)
    other = svc.create("org", fields(), T0)
    svc.join(other.id, "gone", T0)
    travellers.erase("gone", travellers.traveller_id("gone"), T0)
    assert svc.get(own.id).status == "cancelled" and svc.get(own.id).organiser == ""
    assert svc.get(other.id).attending == 0
