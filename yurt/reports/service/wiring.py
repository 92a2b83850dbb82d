"""The reports feature's service, built once per app from the settings, the one Redis client and what it needs
of the missions and travellers features (handed in by the composition root)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from yurt.core.quotas import Quotas
from yurt.core.settings import Settings
from yurt.reports.service.reports import ReportService, ResolveHandle
from yurt.reports.stores.missions import EmbeddedReportStore, RedisReportStore, ReportStore
from yurt.reports.stores.travellers import (
    EmbeddedTravellerReportStore,
    RedisTravellerReportStore,
    TravellerReportStore,
)

if TYPE_CHECKING:
    import redis


def build_report_service(settings: Settings, client: redis.Redis | None, *, quotas: Quotas, secret: bytes,
                         mission_exists: Callable[[str], bool], resolve_handle: ResolveHandle,
                         suspend_presence: Callable[[str, float], None]) -> ReportService:
    missions: ReportStore
    travellers: TravellerReportStore
    if client is None:
        missions, travellers = EmbeddedReportStore(settings.data_dir), EmbeddedTravellerReportStore()
    else:
        missions, travellers = RedisReportStore(client), RedisTravellerReportStore(client)
    return ReportService(missions, travellers, quotas, secret, mission_exists, resolve_handle=resolve_handle,
                         suspend_presence=suspend_presence)
