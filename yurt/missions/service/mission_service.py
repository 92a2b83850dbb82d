"""``MissionService``: what the missions use cases work with, built once by the composition root
(``yurt.composition``) and read by the missions HTTP through ``yurt.missions.http.service()``."""

from __future__ import annotations

from dataclasses import dataclass

from yurt.alerts.service.book import AlertBook
from yurt.geo.places import Locator
from yurt.missions.service.catalogue import Catalogue
from yurt.missions.stores.base import MissionStore


@dataclass(frozen=True)
class MissionService:
    store: MissionStore  # the record of truth (writes, audit)
    catalogue: Catalogue  # this worker's current Dataset (reads)
    locator: Locator  # country, subdivision and time zone of a point
    alerts: AlertBook  # the alerts in force, attached to answers through yurt.alerts.service.answers
    base_url: str | None = None  # YURT_BASE_URL: absolute links of the OGC answers (else the request's Host)
