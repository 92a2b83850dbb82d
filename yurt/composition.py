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

from yurt.alerts.service.alerts import AlertService
from yurt.alerts.service.wiring import build_alert_service
from yurt.core.auth import TokenVerifier
from yurt.core.quotas import Quotas
from yurt.core.settings import Settings
from yurt.geo.places import Locator
from yurt.meetups.service import MeetupService
from yurt.meetups.stores.wiring import build_meetup_store
from yurt.missions.http import EXTENSION as MISSIONS
from yurt.missions.schemas.dataset import read_collection_file
from yurt.missions.service.catalogue import Catalogue
from yurt.missions.service.mission_service import MissionService
from yurt.missions.stores.base import MissionStore
from yurt.missions.stores.embedded import EmbeddedMissionStore
from yurt.reports.service.reports import ReportService
from yurt.reports.service.wiring import build_report_service
from yurt.travellers.service import Eraser, TravellerService, TravellerStores
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
    traveller_service: TravellerService
    meetup_service: MeetupService
    reports: ReportService
    quotas: Quotas
    alerts: AlertService
    missions: MissionService
    redis: redis.Redis | None = None

    @property
    def travellers(self) -> TravellerStores:
        """The traveller stores (the metrics gauge, the limiter and tests read them)."""
        return self.traveller_service.stores

    def features(self) -> dict[str, object]:
        """Each feature's service by the ``app.extensions`` key its HTTP module reads."""
        return {MISSIONS: self.missions, "yurt.reports": self.reports, "yurt.alerts": self.alerts,
                "yurt.travellers": self.traveller_service, "yurt.meetups": self.meetup_service}

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
    else:
        store = EmbeddedMissionStore(settings.data_dir, seed)
    catalogue = Catalogue(store, reload_interval_s=settings.reload_interval_s, seat_of=locator.seat_subdivision)
    erasers: list[Eraser] = []  # what other features keep about a traveller, erased with it: filled below
    travellers = TravellerService(build_traveller_stores(settings, client), erasers)
    quotas = Quotas(settings, client)

    def mission_exists(mission_id: str) -> bool:
        return catalogue.current().get(mission_id) is not None

    report_service = build_report_service(settings, client, quotas=quotas, secret=travellers.secret,
                                          mission_exists=mission_exists,
                                          resolve_handle=travellers.owner_of, suspend_presence=travellers.suspend)
    alert_service = build_alert_service(settings, client, presences=travellers.stores.presence, locator=locator,
                                        secret=travellers.secret, mission_exists=mission_exists)
    missions = MissionService(store=store, catalogue=catalogue, locator=locator, alerts=alert_service.book,
                              base_url=settings.base_url)
    meetups = MeetupService(build_meetup_store(settings, client), travellers, quotas, locator.timezone_at,
                            settings.meetups_per_organiser)
    # Travellers import no other feature: the traveller's erasure reaches trips, then meetups, through these.
    erasers += [lambda sub, _tid: alert_service.forget_trips(sub), meetups.erase_traveller]
    return Services(settings=settings, store=store, catalogue=catalogue, locator=locator,
                    verifier=TokenVerifier(settings), traveller_service=travellers, meetup_service=meetups,
                    reports=report_service, quotas=quotas, alerts=alert_service, missions=missions, redis=client)


def install(app: Flask, built: Services) -> None:
    """Hang the bundle, and each feature's service where that feature's HTTP reads it."""
    app.extensions["yurt"] = built
    for key, service in built.features().items():
        app.extensions[key] = service


def services() -> Services:
    return cast(Services, current_app.extensions["yurt"])
