"""Builds the meetup store for the configured mode (embedded or Redis), on the client the composition root
shares."""

from __future__ import annotations

from typing import TYPE_CHECKING

from yurt.core.settings import Settings
from yurt.meetups.stores.meetups import EmbeddedMeetupStore, MeetupStore

if TYPE_CHECKING:
    import redis


def build_meetup_store(settings: Settings, client: redis.Redis | None) -> MeetupStore:
    retention_s = settings.meetup_retention_days * 86_400.0
    if client is None:
        return EmbeddedMeetupStore(retention_s)
    from yurt.meetups.stores.redis import RedisMeetupStore

    return RedisMeetupStore(client, retention_s)
