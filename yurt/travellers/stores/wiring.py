"""Builds the traveller and meetup stores for the configured mode (embedded or Redis).

Kept apart from ``travellers`` (the interfaces and the embedded store) so that the Redis stores, which import
those interfaces, are never imported back by them: the storage modules form no cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from yurt.core.settings import Settings
from yurt.geo.privacy import UpdatePolicy
from yurt.meetups.stores.meetups import EmbeddedMeetupStore
from yurt.travellers.stores.presence import EmbeddedPresenceStore, TravellerStores, traveller_secret

if TYPE_CHECKING:
    import redis


def build_traveller_stores(settings: Settings, client: redis.Redis | None) -> TravellerStores:
    policy = UpdatePolicy(daily_budget=settings.presence_daily_budget)
    secret = traveller_secret(settings)
    retention_s = settings.meetup_retention_days * 86_400.0
    if client is None:
        return TravellerStores(EmbeddedPresenceStore(policy), EmbeddedMeetupStore(retention_s), secret)
    from yurt.meetups.stores.redis import RedisMeetupStore
    from yurt.travellers.stores.presence_redis import RedisPresenceStore

    return TravellerStores(RedisPresenceStore(client, policy), RedisMeetupStore(client, retention_s), secret)
