"""Builds the traveller stores for the configured mode (embedded or Redis), on the client the composition root
shares; meetups build their own (``yurt.meetups.stores.wiring``).

Kept apart from ``presence`` (the interfaces and the embedded store) so that the Redis stores, which import
those interfaces, are never imported back by them: the storage modules form no cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from yurt.core.settings import Settings
from yurt.geo.privacy import UpdatePolicy
from yurt.travellers.stores.presence import TravellerStores, traveller_secret
from yurt.travellers.stores.presence_embedded import EmbeddedPresenceStore

if TYPE_CHECKING:
    import redis


def build_traveller_stores(settings: Settings, client: redis.Redis | None) -> TravellerStores:
    policy = UpdatePolicy(daily_budget=settings.presence_daily_budget)
    secret = traveller_secret(settings)
    if client is None:
        return TravellerStores(EmbeddedPresenceStore(policy), secret)
    from yurt.travellers.stores.presence_redis import RedisPresenceStore

    return TravellerStores(RedisPresenceStore(client, policy), secret)
