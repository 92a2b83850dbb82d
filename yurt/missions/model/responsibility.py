"""Which post is responsible for a place, and how sure the data lets us be.

Definitions. A *career post* is an embassy, a consulate general or a consulate (a diplomatic mission counts
as an embassy). The *seat subdivision* of a post is the ISO 3166-2 subdivision the service's locator gives
for the post's own point. Subdivisions of different levels are compared through ISO 3166-2 parent codes, so
a province counts inside its region (a published district "FR-GES" covers a point located in "FR-57").

Rules, in order (``basis`` names the first that decides):
1. ``home``: the place is in Kazakhstan; no post abroad, the ministry itself answers.
2. ``district``: a post in the country publishes a consular district that covers the place's subdivision.
   ``seat``: the place lies in the seat subdivision of a career post and no published district covers it.
   A post always serves the subdivision it sits in: where another post's published list includes the seat
   subdivision of a post, the seat post comes first and the other claim is reported in ``conflict`` (such a
   list is usually older than the post).
3. ``resident``: the embassy in the country covers the rest of it (``country``); where there is none, a career
   consulate there that publishes no district (the Consulate General in Hong Kong covers Hong Kong). Where
   the country also has a career consular post without a published district that is *nearer* than the
   embassy, that post is listed after the embassy as ``assumed`` and the answer is ``uncertain``: no source
   says which of the two serves the place (Novosibirsk: Moscow, and probably Omsk).
4. ``accredited``: a post abroad of any type whose ``accredited_to`` lists the country (Macao: Hong Kong).
5. ``none``: no post covers it (or the place is at sea / in Antarctica).

Every listed post carries its ``district_source``: ``published``, ``seat``, ``country``, ``assumed``,
``accredited``, or ``referred``: a post whose status is limited, suspended or closed may name the post that
stands in for it (``refer_to``), which is listed right after it.

Only posts that can act consularly count: status not ``closed`` (a closed post is listed only to pass its
place on to the post it refers to), and permanent missions and honorary consulates only if they list a
consular service (an honorary consul usually cannot issue documents).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from yurt.geo.subdivisions import subdivision_closure

Basis = Literal["home", "district", "seat", "resident", "accredited", "none"]
DistrictSource = Literal["published", "seat", "country", "assumed", "accredited", "referred"]

BASES: dict[str, str] = {
    "home": "The point is in Kazakhstan: no post abroad; the ministry answers.",
    "district": "A published consular district covers the point's subdivision.",
    "seat": "The point lies in the subdivision where a career post sits, and no published district covers it.",
    "resident": "The embassy in the country (or its only career consulate) covers the rest of the country.",
    "accredited": "A post abroad is accredited to the country.",
    "none": "No post covers the point (or it is at sea or in Antarctica).",
}
DISTRICT_SOURCES: dict[str, str] = {
    "published": "The post's published consular district covers the point.",
    "seat": "The point is in the subdivision where the post sits.",
    "country": "The embassy in the country, for the rest of the country.",
    "assumed": "A consular post nearer than the embassy that publishes no district: probably responsible.",
    "accredited": "The post is accredited to the country.",
    "referred": "The post listed before it refers citizens here (its status is limited, suspended or closed).",
}

CONSULAR_SERVICES = frozenset({"passports", "visas", "notary", "civil_registry", "citizenship",
                               "consular_registration", "legalisation", "return_certificate"})
EMBASSY_TYPES = frozenset({"embassy", "diplomatic_mission"})
CAREER_CONSULATE_TYPES = frozenset({"consulate_general", "consulate"})
CAREER_TYPES = frozenset({"embassy", "consulate_general", "consulate"})
SEAT_TYPES = EMBASSY_TYPES | CAREER_CONSULATE_TYPES
NEEDS_LISTED_SERVICES = frozenset({"permanent_mission", "honorary_consulate"})
REFERRING_STATUSES = frozenset({"limited", "suspended", "closed"})
HOME_COUNTRY = "KZ"


@dataclass(frozen=True, slots=True)
class Listed:
    index: int
    source: DistrictSource


@dataclass(frozen=True, slots=True)
class Responsibility:
    basis: Basis
    listed: tuple[Listed, ...] = ()
    conflict: str | None = None
    uncertain: bool = False

    @property
    def mission_indices(self) -> tuple[int, ...]:
        return tuple(item.index for item in self.listed)


def can_act_consularly(props: Mapping[str, Any]) -> bool:
    if props["status"] == "closed":
        return False
    if props["type"] in NEEDS_LISTED_SERVICES:
        return bool(CONSULAR_SERVICES.intersection(props["services"]))
    return True


def _counts(props: Mapping[str, Any]) -> bool:
    """A post that may be listed: one that acts, or a closed one that names its stand-in."""
    return can_act_consularly(props) or (props["status"] == "closed" and bool(props.get("refer_to")))




def _best_rank(codes: Sequence[str], candidates: Sequence[frozenset[str]]) -> int | None:
    """The rank of the first point candidate that one of ``codes`` covers (0 = the likeliest subdivision)."""
    wanted = set(codes)
    for rank, closure in enumerate(candidates):
        if wanted & closure:
            return rank
    return None


def responsible(
    properties: Sequence[Mapping[str, Any]],
    country: str | None,
    subdivisions: Sequence[str] = (),
    *,
    subdivision_ambiguous: bool = False,
    seats: Sequence[str | None] | None = None,
    distance_km: Callable[[int], float] | None = None,
) -> Responsibility:
    """Decide who is responsible for a place in ``country`` whose subdivision candidates are ``subdivisions``.

    ``seats`` gives each post's seat subdivision (None where unknown); ``distance_km(i)`` the distance from the
    place to post ``i``: without it (a question about a whole country) no post can be ``assumed``.
    """
    if country is None:
        return Responsibility("none")
    if country == HOME_COUNTRY:
        return Responsibility("home")
    in_country = [i for i, p in enumerate(properties) if p["host_country"] == country and _counts(p)]
    candidates = [subdivision_closure(code) for code in subdivisions]
    decided = _by_subdivision(properties, in_country, candidates, seats, distance_km, subdivision_ambiguous)
    if decided is None:
        decided = _by_country(properties, in_country, distance_km)
    if decided is None:
        decided = _by_accreditation(properties, country)
    return _with_referrals(properties, decided)


def _by_subdivision(
    properties: Sequence[Mapping[str, Any]], in_country: list[int], candidates: list[frozenset[str]],
    seats: Sequence[str | None] | None, distance_km: Callable[[int], float] | None, ambiguous: bool,
) -> Responsibility | None:
    if not candidates:
        return None
    claims: list[tuple[int, int, float, int, DistrictSource]] = []  # (rank, seat first, km, index, source)
    for i in in_country:
        p = properties[i]
        seat = seats[i] if seats is not None and p["type"] in SEAT_TYPES else None
        seat_rank = _best_rank([seat], candidates) if seat else None
        published_rank = _best_rank(p["districts"], candidates)
        ranks = [r for r in (seat_rank, published_rank) if r is not None]
        if not ranks:
            continue
        rank = min(ranks)
        source: DistrictSource = "published" if published_rank == rank else "seat"
        km = distance_km(i) if distance_km is not None else 0.0
        claims.append((rank, 0 if seat_rank == rank else 1, km, i, source))
    if not claims:
        return None
    claims.sort()
    top_rank = claims[0][0]
    top = [c for c in claims if c[0] == top_rank]
    seat_posts = [c for c in top if c[1] == 0]
    published = [c for c in top if c[4] == "published"]
    conflict: str | None = None
    if seat_posts and any(c[1] == 1 for c in published):
        conflict = ("a post sits in this subdivision and serves it; another post's published district also "
                    "lists it (such a list is usually older than the post)")
    elif len(published) > 1:
        conflict = "several posts' consular districts cover this subdivision"
    elif len(top) > 1:
        conflict = "several posts sit in this subdivision and no published district says which serves the point"
    if ambiguous and len(candidates) > 1 and {c[3] for c in claims} != {c[3] for c in top}:
        conflict = "the point is too near a subdivision border to tell which district applies"
    basis: Basis = "district" if published else "seat"
    listed = tuple(Listed(c[3], c[4]) for c in claims)
    return Responsibility(basis, listed, conflict, uncertain=conflict is not None)


def _by_country(
    properties: Sequence[Mapping[str, Any]], in_country: list[int], distance_km: Callable[[int], float] | None,
) -> Responsibility | None:
    resident = [i for i in in_country if properties[i]["type"] in EMBASSY_TYPES]
    if not resident:
        resident = [i for i in in_country
                    if properties[i]["type"] in CAREER_CONSULATE_TYPES and not properties[i]["districts"]]
    if not resident:
        return None
    conflict = "several posts are recorded as resident in this country" if len(resident) > 1 else None
    listed = [Listed(i, "country") for i in resident]
    if distance_km is not None:
        embassy_km = min(distance_km(i) for i in resident)
        nearer = sorted((distance_km(i), i) for i in in_country
                        if i not in resident and properties[i]["type"] in CAREER_CONSULATE_TYPES
                        and not properties[i]["districts"] and can_act_consularly(properties[i])
                        and distance_km(i) < embassy_km)
        if nearer:
            listed.append(Listed(nearer[0][1], "assumed"))
    uncertain = conflict is not None or any(item.source == "assumed" for item in listed)
    return Responsibility("resident", tuple(listed), conflict, uncertain)


def _by_accreditation(properties: Sequence[Mapping[str, Any]], country: str) -> Responsibility:
    accredited = tuple(Listed(i, "accredited") for i, p in enumerate(properties)
                       if _counts(p) and country in p["accredited_to"])
    if not accredited:
        return Responsibility("none")
    conflict = "the data lists this country under several posts" if len(accredited) > 1 else None
    return Responsibility("accredited", accredited, conflict, uncertain=conflict is not None)


def _with_referrals(properties: Sequence[Mapping[str, Any]], decided: Responsibility) -> Responsibility:
    """Insert, right after each listed post that refers elsewhere, the post it refers to."""
    if not any(properties[item.index].get("refer_to") for item in decided.listed):
        return decided
    by_id = {p["id"]: i for i, p in enumerate(properties)}
    listed: list[Listed] = []
    seen: set[int] = set()
    for item in decided.listed:
        if item.index in seen:
            continue
        listed.append(item)
        seen.add(item.index)
        chain = properties[item.index]
        # Validation forbids cycles; the bound guards a dataset loaded from elsewhere.
        for _ in range(len(properties)):
            target = by_id.get(chain.get("refer_to") or "") if chain["status"] in REFERRING_STATUSES else None
            if target is None or target in seen:
                break
            listed.append(Listed(target, "referred"))
            seen.add(target)
            chain = properties[target]
    return Responsibility(decided.basis, tuple(listed), decided.conflict, decided.uncertain)
