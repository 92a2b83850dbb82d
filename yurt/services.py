"""The services a running app uses, built once from ``Settings`` and hung on ``app.extensions["yurt"]``.

``build_services`` picks the storage implementation: ``YURT_REDIS_URL`` unset → embedded (working copy on disk,
one process); set → Redis for everything. Blueprints reach the services through
``services()``, which is typed, instead of untyped attributes on the app.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from flask import current_app

from yurt.alerts.wiring import AlertServices, build_alert_services
from yurt.auth import TokenVerifier
from yurt.catalogue import Catalogue
from yurt.dataset import read_collection_file
from yurt.domain.places import Locator
from yurt.quotas import Quotas
from yurt.settings import Settings
from yurt.storage.base import MissionStore
from yurt.storage.embedded import EmbeddedMissionStore
from yurt.storage.reports import EmbeddedReportStore, RedisReportStore, ReportStore
from yurt.storage.traveller_reports import (
    EmbeddedTravellerReportStore,
    RedisTravellerReportStore,
    TravellerReportStore,
)
from yurt.storage.traveller_stores import build_traveller_stores
from yurt.storage.travellers import TravellerStores

if TYPE_CHECKING:
    import redis


@dataclass
class Services:
    settings: Settings
    store: MissionStore
    catalogue: Catalogue
    locator: Locator
    verifier: TokenVerifier
    travellers: TravellerStores
    reports: ReportStore
    traveller_reports: TravellerReportStore
    quotas: Quotas
    alerts: AlertServices
    redis: redis.Redis | None = None

    def close(self) -> None:
        self.store.close()
        self.alerts.close()
        if self.redis is not None:
            self.redis.close()


def build_services(settings: Settings) -> Services:
    locator = Locator()
    seed = read_collection_file(settings.data_file, locator.timezone_at)
    store: MissionStore
    client = None
    if settings.redis_url:
        from yurt.storage.redis_connection import connect
        from yurt.storage.redis_store import RedisMissionStore

        client = connect(settings)
        store = RedisMissionStore(client, seed)
        reports: ReportStore = RedisReportStore(client)
        traveller_reports: TravellerReportStore = RedisTravellerReportStore(client)
    else:
        store = EmbeddedMissionStore(settings.data_dir, seed)
        reports = EmbeddedReportStore(settings.data_dir)
        traveller_reports = EmbeddedTravellerReportStore()
    catalogue = Catalogue(store, reload_interval_s=settings.reload_interval_s, seat_of=locator.seat_subdivision)
    return Services(settings=settings, store=store, catalogue=catalogue, locator=locator,
                    verifier=TokenVerifier(settings), travellers=build_traveller_stores(settings, client),
                    reports=reports, traveller_reports=traveller_reports, quotas=Quotas(settings),
                    alerts=build_alert_services(settings, client), redis=client)


def services() -> Services:
    return cast(Services, current_app.extensions["yurt"])
