"""What the traveller use cases refuse, as domain errors; the HTTP layer maps each to its problem.

The presence store's own refusals (``RateLimitError``, ``ImplausibleMoveError``, ``SuspendedError``) are
domain errors too: ``yurt.travellers.service`` re-exports them beside these.
"""

from __future__ import annotations


class TravellerError(Exception):
    """Base class of the traveller use cases' refusals; ``str(error)`` is the detail a client reads."""


class NotSharingError(TravellerError):
    """Nearby is only computed around the caller's own presence, and the caller shares none."""


class StaleCursorError(TravellerError):
    """The cursor was signed for another viewer, cell or radius (or was forged)."""


class UnknownHandleError(TravellerError):
    """No traveller with this handle was shown to the caller in the last day."""


class AreaTooLargeError(TravellerError):
    """The bbox of an area map spans too much."""
