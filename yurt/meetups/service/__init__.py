"""The meetup use cases (``MeetupService``) and what they refuse."""

from yurt.core.quotas import QuotaExceeded
from yurt.meetups.service.errors import InvalidMeetupError, InvalidWindowError, MeetupError, MeetupNotFoundError
from yurt.meetups.service.meetups import Attendee, MeetupService, MeetupView
from yurt.meetups.stores.meetups import Meetup, MeetupConflictError, NotOrganiserError, TooManyActiveError

__all__ = ["Attendee", "InvalidMeetupError", "InvalidWindowError", "Meetup", "MeetupConflictError", "MeetupError",
           "MeetupNotFoundError", "MeetupService", "MeetupView", "NotOrganiserError", "QuotaExceeded",
           "TooManyActiveError"]
