"""The alert feature's stores and book, built once per app from the settings and the one Redis client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from yurt.alerts.service.book import AlertBook
from yurt.alerts.stores.embedded import AlertStore, EmbeddedAlertStore
from yurt.alerts.stores.trips import EmbeddedTripStore, TripStore
from yurt.core.settings import Settings

if TYPE_CHECKING:
    import redis


@dataclass
class AlertServices:
    store: AlertStore
    book: AlertBook
    trips: TripStore

    def close(self) -> None:
        self.store.close()


def build_alert_services(settings: Settings, client: redis.Redis | None) -> AlertServices:
    store: AlertStore
    trips: TripStore
    if client is None:
        store, trips = EmbeddedAlertStore(settings.data_dir), EmbeddedTripStore()
    else:
        from yurt.alerts.stores.redis import RedisAlertStore
        from yurt.alerts.stores.trips import RedisTripStore

        store, trips = RedisAlertStore(client), RedisTripStore(client)
    return AlertServices(store, AlertBook(store, reload_interval_s=settings.reload_interval_s), trips)
