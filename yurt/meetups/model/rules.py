"""Rules a meetup keeps, whoever checks them (the request schemas, and the service on a merged change)."""

from __future__ import annotations

from datetime import timedelta

MAX_MEETUP_DURATION = timedelta(days=7)
