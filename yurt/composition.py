"""The composition root: every store and service of a running app, built once from ``Settings``.

``build_services`` picks the storage implementation: ``YURT_REDIS_URL`` unset → embedded (working copy on disk,
one process); set → Redis for everything, on one client the stores and the rate limiter share. ``install``
hangs the bundle on ``app.extensions["yurt"]`` (read by the app factory, the CLI and the app-wide HTTP in
``yurt.api``) and each feature's service under ``app.extensions["yurt.<feature>"]``, where that feature's own
HTTP module reads it: features never import this module (import-linter).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from flask import Flask, current_app

from yurt.alerts.service.wiring import AlertServices, build_alert_services
from yurt.core.auth import TokenVerifier
from yurt.core.quotas import Quotas
from yurt.core.settings import Settings
from yurt.geo.places import Locator
from yurt.missions.schemas.dataset import read_collection_file
from yurt.missions.service.catalogue import Catalogue
from yurt.missions.stores.base import MissionStore
from yurt.missions.stores.embedded import EmbeddedMissionStore
from yurt.reports.stores.missions import EmbeddedReportStore, RedisReportStore, ReportStore
from yurt.reports.stores.travellers import (
    EmbeddedTravellerReportStore,
    RedisTravellerReportStore,
    TravellerReportStore,
)
from yurt.travellers.stores.presence import TravellerStores
from yurt.travellers.stores.wiring import build_traveller_stores

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

    def features(self) -> dict[str, object]:
        """Each feature's service by the ``app.extensions`` key its HTTP module reads."""
        return {}

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
        from yurt.core.redis.connection import connect
        from yurt.missions.stores.redis import RedisMissionStore

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
                    reports=reports, traveller_reports=traveller_reports, quotas=Quotas(settings, client),
                    alerts=build_alert_services(settings, client), redis=client)


def install(app: Flask, built: Services) -> None:
    """Hang the bundle, and each feature's service where that feature's HTTP reads it."""
    app.extensions["yurt"] = built
    for key, service in built.features().items():
        app.extensions[key] = service


def services() -> Services:
    return cast(Services, current_app.extensions["yurt"])
