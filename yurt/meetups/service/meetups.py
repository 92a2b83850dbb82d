"""The meetup use cases: organise, change, cancel, attend, leave, find, and erase a traveller's part.

``MeetupService`` holds the meetup store and what it uses of the rest: the traveller service (pseudonyms, and
the organiser's handles for attendees: meetups go to travellers through their service only, never back), the
quotas, the venue's time zone (the locator's ``timezone_at``) and the organiser's cap
(``YURT_MEETUPS_PER_ORGANISER``). Every use case takes the request's clock (``now_s``) from its caller; the
token's ``sub`` identifies the caller and never leaves the service. Refusals are domain errors.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from yurt.core.quotas import Quotas
from yurt.core.store_errors import NotFound
from yurt.meetups.model.rules import MAX_MEETUP_DURATION
from yurt.meetups.service.errors import InvalidMeetupError, InvalidWindowError, MeetupNotFoundError
from yurt.meetups.stores.meetups import Meetup, MeetupStore
from yurt.travellers.service import Profile, TravellerService

EDITABLE = ("title", "description", "place_name", "capacity", "lat", "lon")


@dataclass(frozen=True)
class Attendee:
    """An attendee as the organiser sees them: the organiser's handle, and the profile shared now (if any)."""

    handle: str
    profile: Profile | None


@dataclass(frozen=True)
class MeetupView:
    meetup: Meetup
    attendees: list[Attendee] | None  # for the organiser only
    you_attend: bool


@dataclass
class MeetupService:
    store: MeetupStore
    travellers: TravellerService
    quotas: Quotas
    timezone_at: Callable[[float, float], str | None]
    max_active: int

    def create(self, sub: str, fields: Mapping[str, Any], now_s: float) -> Meetup:
        """Organise a meetup. ``fields``: title, description, starts_at_s, ends_at_s, lat, lon, place_name,
        capacity (each checked by the request schema)."""
        tid = self.travellers.traveller_id(sub)
        if fields["ends_at_s"] <= now_s:
            raise InvalidMeetupError("the meetup would already be over", "ends_at", "in the past")
        self.quotas.charge("meetup", tid)
        zone = self.timezone_at(fields["lat"], fields["lon"])
        meetup = Meetup(secrets.token_urlsafe(9), sub, fields["title"], fields["description"], fields["starts_at_s"],
                        fields["ends_at_s"], fields["lat"], fields["lon"], fields["place_name"], fields["capacity"],
                        zone)
        return self.store.create(meetup, tid, now_s, self.max_active)

    def search(self, lat: float, lon: float, radius_km: float, limit: int, from_s: float | None,
               to_s: float | None, now_s: float) -> list[tuple[Meetup, float]]:
        """Active meetups within ``radius_km`` of a point overlapping [from, to] (from now on), nearest first,
        each with its exact geodesic distance in km."""
        window_start = max(now_s, from_s) if from_s is not None else now_s
        window_end = to_s if to_s is not None else float("inf")
        if window_end <= window_start:
            raise InvalidWindowError("`to` must be after `from` (and after now)")
        return self.store.search(lat, lon, radius_km, limit, window_start, window_end, now_s)

    def get(self, meetup_id: str) -> Meetup:
        meetup = self.store.get(meetup_id)
        if meetup is None:
            raise MeetupNotFoundError(meetup_id)
        return meetup

    def view(self, meetup_id: str, sub: str, now_s: float) -> MeetupView:
        """A meetup as ``sub`` sees it: its organiser also gets the attendees, as handles of their own."""
        meetup = self.get(meetup_id)
        attendees = None
        if meetup.organiser and meetup.organiser == sub:
            attendees = self.attendees(meetup_id, self.travellers.traveller_id(sub), now_s)
        return MeetupView(meetup, attendees, self.store.is_attending(meetup_id, sub))

    def attendees(self, meetup_id: str, organiser_tid: str, now_s: float) -> list[Attendee]:
        """The organiser's view of attendees (``TravellerService.handles_for``): outside a presence session
        shared with the organiser, a handle belongs to this meetup alone. A ``sub`` never leaves here."""
        tids = [self.travellers.traveller_id(s) for s in self.store.attendees(meetup_id)]
        return [Attendee(handle, profile) for handle, profile
                in self.travellers.handles_for(organiser_tid, tids, f"meetup:{meetup_id}", now_s)]

    def update(self, meetup_id: str, sub: str, changes: Mapping[str, Any], now_s: float) -> Meetup:
        """Change a meetup's details (its organiser only); the merged meetup is checked like a new one.
        ``changes``: any of ``EDITABLE``, ``starts_at_s``, ``ends_at_s``."""
        current = self.get(meetup_id)
        record: dict[str, Any] = {key: changes[key] for key in EDITABLE if key in changes}
        starts = changes.get("starts_at_s", current.starts_at_s)
        ends = changes.get("ends_at_s", current.ends_at_s)
        if ends <= starts or ends - starts > MAX_MEETUP_DURATION.total_seconds():
            raise InvalidMeetupError("ends_at must be after starts_at, within 7 days", "ends_at", "out of range")
        record.update(starts_at_s=starts, ends_at_s=ends)
        lat, lon = record.get("lat", current.lat), record.get("lon", current.lon)
        if "lat" in record:
            record["time_zone"] = self.timezone_at(lat, lon)
        try:
            return self.store.update(meetup_id, sub, self.travellers.traveller_id(sub), record, now_s)
        except NotFound:
            raise MeetupNotFoundError(meetup_id) from None

    def cancel(self, meetup_id: str, sub: str) -> Meetup:
        """Cancel (its organiser only): it leaves search at once; attendees still see it as cancelled."""
        try:
            return self.store.cancel(meetup_id, sub, self.travellers.traveller_id(sub))
        except NotFound:
            raise MeetupNotFoundError(meetup_id) from None

    def join(self, meetup_id: str, sub: str, now_s: float) -> Meetup:
        try:
            return self.store.join(meetup_id, sub, self.travellers.traveller_id(sub), now_s)
        except NotFound:
            raise MeetupNotFoundError(meetup_id) from None

    def leave(self, meetup_id: str, sub: str) -> Meetup:
        try:
            return self.store.leave(meetup_id, sub, self.travellers.traveller_id(sub))
        except NotFound:
            raise MeetupNotFoundError(meetup_id) from None

    def erase_traveller(self, sub: str, tid: str) -> None:
        """The traveller's erasure, as far as meetups go: attendance ends, meetups they organise are cancelled
        (the composition root hands this to ``TravellerService`` as an eraser)."""
        self.store.erase(sub, tid)
