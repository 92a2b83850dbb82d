"""The traveller use cases (``TravellerService``) and what they refuse: what other features may use of
travellers (meetups, reports, alerts go through here, never through travellers' HTTP or stores)."""

from yurt.travellers.service.errors import (
    AreaTooLargeError,
    NotSharingError,
    StaleCursorError,
    TravellerError,
    UnknownHandleError,
)
from yurt.travellers.service.travellers import MAX_AREA_SPAN_DEG, Eraser, TravellerService
from yurt.travellers.stores.presence import (
    ImplausibleMoveError,
    Presence,
    PresenceStore,
    Profile,
    RateLimitError,
    SuspendedError,
    TravellerStores,
)

__all__ = ["MAX_AREA_SPAN_DEG", "AreaTooLargeError", "Eraser", "ImplausibleMoveError", "NotSharingError", "Presence",
           "PresenceStore", "Profile", "RateLimitError", "StaleCursorError", "SuspendedError", "TravellerError",
           "TravellerService", "TravellerStores", "UnknownHandleError"]
