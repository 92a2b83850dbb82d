"""Which post is responsible for a place: the consular district, the resident embassy, or an accredited one.

Rules (in order; the first that yields a post decides the basis):
1. ``home``: the place is in Kazakhstan — no post abroad; the ministry itself answers.
2. ``district``: a post in the country whose ``districts`` (ISO 3166-2) contain the place's subdivision.
3. ``resident``: the embassy (or diplomatic mission) whose host country is the place's country; where there is
   none, a career consulate there that publishes no districts (it covers the whole territory, e.g. the
   Consulate General in Hong Kong).
4. ``accredited``: an embassy whose ``accredited_to`` lists the country.
5. ``none``: no post covers it (or the place is at sea / in Antarctica).

Only posts that can act consularly count: status not ``closed``, and permanent missions and honorary
consulates only if they list a consular service (an honorary consul usually cannot issue documents). When
several posts qualify on the same basis (overlapping districts, a country listed by two embassies, a
subdivision that cannot be told near a border), all are returned and ``conflict`` says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Basis = Literal["district", "resident", "accredited", "home", "none"]

CONSULAR_SERVICES = frozenset({"passports", "visas", "notary", "civil_registry", "citizenship",
                               "consular_registration", "legalisation", "return_certificate"})
EMBASSY_TYPES = frozenset({"embassy", "diplomatic_mission"})
CAREER_CONSULATE_TYPES = frozenset({"consulate_general", "consulate"})
NEEDS_LISTED_SERVICES = frozenset({"permanent_mission", "honorary_consulate"})
HOME_COUNTRY = "KZ"


@dataclass(frozen=True, slots=True)
class Responsibility:
    basis: Basis
    mission_indices: tuple[int, ...]
    conflict: str | None = None


def can_act_consularly(props: Mapping[str, Any]) -> bool:
    if props["status"] == "closed":
        return False
    if props["type"] in NEEDS_LISTED_SERVICES:
        return bool(CONSULAR_SERVICES.intersection(props["services"]))
    return True


def responsible(
    properties: Sequence[Mapping[str, Any]], country: str | None, subdivisions: Sequence[str] = (),
    *, subdivision_ambiguous: bool = False,
) -> Responsibility:
    if country is None:
        return Responsibility("none", ())
    if country == HOME_COUNTRY:
        return Responsibility("home", ())
    eligible = [i for i, p in enumerate(properties) if can_act_consularly(p)]

    wanted = set(subdivisions)
    district = tuple(i for i in eligible
                     if properties[i]["host_country"] == country and wanted.intersection(properties[i]["districts"]))
    if district:
        conflict = None
        if len(district) > 1:
            conflict = "several posts' consular districts cover this subdivision"
        if subdivision_ambiguous:
            conflict = "the point is too near a subdivision border to tell which district applies"
        return Responsibility("district", district, conflict)

    resident = tuple(i for i in eligible
                     if properties[i]["host_country"] == country and properties[i]["type"] in EMBASSY_TYPES)
    if not resident:
        resident = tuple(i for i in eligible
                         if properties[i]["host_country"] == country
                         and properties[i]["type"] in CAREER_CONSULATE_TYPES and not properties[i]["districts"])
    if resident:
        return Responsibility("resident", resident,
                              "several posts are recorded as resident in this country" if len(resident) > 1
                              else None)

    accredited = tuple(i for i in eligible
                       if properties[i]["type"] in EMBASSY_TYPES and country in properties[i]["accredited_to"])
    if accredited:
        return Responsibility("accredited", accredited,
                              "the data lists this country under several embassies" if len(accredited) > 1
                              else None)
    return Responsibility("none", ())
