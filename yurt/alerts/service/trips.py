"""A traveller's trips as they register them: the rules across the list's members (marshmallow checked each
trip's own shape in ``yurt.alerts.http.schemas``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from yurt.alerts.model.record import MAX_TRIP_AHEAD, Trip


class TripsInvalid(Exception):
    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        super().__init__("the trips are invalid: " + ", ".join(sorted(errors)))
        self.errors = dict(errors)


def checked_trips(loaded: Iterable[Mapping[str, Any]], now_s: float) -> list[Trip]:
    """The trips of a loaded body; ``TripsInvalid`` names each trip that ends over a year ahead or is over."""
    today = datetime.fromtimestamp(now_s, UTC).date()
    errors: dict[str, list[str]] = {}
    trips = []
    for i, raw in enumerate(loaded):
        trip = Trip(tuple(raw["countries"]), raw["starts"], raw["ends"])
        if trip.ends > today + MAX_TRIP_AHEAD:
            errors[f"trips[{i}].to"] = [f"may be at most a year ahead (until {today + MAX_TRIP_AHEAD})"]
        elif trip.finishes_s <= now_s:
            errors[f"trips[{i}].to"] = ["is over already"]
        trips.append(trip)
    if errors:
        raise TripsInvalid(errors)
    return trips
