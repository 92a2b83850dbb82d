"""What the meetup use cases refuse, as domain errors; the HTTP layer maps each to its problem.

The meetup store's own refusals (``MeetupConflictError``, ``NotOrganiserError``, ``TooManyActiveError``) and
the core's ``QuotaExceeded`` are domain errors too: ``yurt.meetups.service`` re-exports them beside these.
"""

from __future__ import annotations


class MeetupError(Exception):
    """Base class of the meetup use cases' refusals; ``str(error)`` is the detail a client reads."""


class MeetupNotFoundError(MeetupError):
    def __init__(self, meetup_id: str) -> None:
        super().__init__(f"no meetup {meetup_id!r}")
        self.meetup_id = meetup_id


class InvalidMeetupError(MeetupError):
    """The meetup (new, or merged with a change) breaks a rule: ``field`` names the culprit, ``reason`` in short."""

    def __init__(self, detail: str, field: str, reason: str) -> None:
        super().__init__(detail)
        self.field = field
        self.reason = reason


class InvalidWindowError(MeetupError):
    """A search window that ends before it starts (or before now)."""
