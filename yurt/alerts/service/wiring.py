"""The alert feature's service, built once per app from the settings, the one Redis client and what it needs of
the other features (handed in by the composition root)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from yurt.alerts.service.alerts import AlertService
from yurt.alerts.service.book import AlertBook
from yurt.alerts.service.presence import Presences
from yurt.alerts.stores.embedded import AlertStore, EmbeddedAlertStore
from yurt.alerts.stores.trips import EmbeddedTripStore, TripStore
from yurt.core.settings import Settings
from yurt.geo.places import Locator

if TYPE_CHECKING:
    import redis


def build_alert_service(settings: Settings, client: redis.Redis | None, *, presences: Presences, locator: Locator,
                        secret: bytes, mission_exists: Callable[[str], bool]) -> AlertService:
    store: AlertStore
    trips: TripStore
    if client is None:
        store, trips = EmbeddedAlertStore(settings.data_dir), EmbeddedTripStore()
    else:
        from yurt.alerts.stores.redis import RedisAlertStore
        from yurt.alerts.stores.trips import RedisTripStore

        store, trips = RedisAlertStore(client), RedisTripStore(client)
    return AlertService(store, AlertBook(store, reload_interval_s=settings.reload_interval_s), trips,
                        presences=presences, locator=locator, secret=secret, mission_exists=mission_exists,
                        max_vertices=settings.alert_max_vertices, max_age_cap_s=settings.alerts_max_age_s)
