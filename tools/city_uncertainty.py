"""How far a city-level point may be from the post it stands for: one figure, derived from the data.

76 posts are placed at their city's centre because no source places the building. How wrong is such a point?
The posts whose building *is* known tell us: for each building-level post, the geodesic distance (WGS-84,
geopy's Karney implementation) from the building to the centre point of its city in the same city list the
city-level points come from (the ``countrystatecity-countries`` package, dr5hn database, ODbL). The 95th
percentile of those distances is the ``city_location_uncertainty_km`` of the dataset: a city-level distance
is honest to within about that much for 19 posts in 20.

Run: ``python tools/city_uncertainty.py data/embassies.geojson`` prints every offset and the figure;
``tools/build_dataset.py`` calls ``city_location_uncertainty_km`` and writes the figure into the dataset.
"""

from __future__ import annotations

import importlib.resources
import json
import math
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any

from geopy.distance import geodesic

PERCENTILE = 95
# City names as our records write them → the name the city list uses, where they differ.
# Where a name occurs in several states (Washington), the candidate nearest the building is taken: same-named
# places lie hundreds of km apart, far beyond any city's size. Jakarta is five cities in the list, none "Jakarta":
# it stays unmatched rather than picking one.
ALIASES = {"washington, d.c.": "washington d.c.", "new york": "new york city"}


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).strip()


def _city_points(country: str) -> dict[str, list[tuple[float, float]]]:
    root = importlib.resources.files("countrystatecity_countries") / "data" / "by-country" / country / "states"
    points: dict[str, list[tuple[float, float]]] = {}
    if not root.is_dir():
        return points
    for state_dir in sorted(root.iterdir(), key=lambda p: p.name):
        cities = state_dir / "cities.json"
        if cities.is_file():
            for city in json.loads(cities.read_text(encoding="utf-8")):
                points.setdefault(_fold(city["name"]), []).append((float(city["latitude"]), float(city["longitude"])))
    return points


def offsets_km(features: list[dict[str, Any]]) -> tuple[list[tuple[str, float]], list[str]]:
    """(post id, km from its building to its city's centre) for building-level posts; and the unmatched ids."""
    found: list[tuple[str, float]] = []
    unmatched: list[str] = []
    cache: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for feature in features:
        props = feature["properties"]
        if props["location_precision"] != "building":
            continue
        country = props["host_country"]
        points = cache.setdefault(country, _city_points(country))
        name = _fold(props["city"])
        name = ALIASES.get(name, re.sub(r"\s*\(.*\)$", "", name))
        centres = points.get(name)
        if not centres:
            unmatched.append(props["id"])
            continue
        lon, lat = feature["geometry"]["coordinates"]
        found.append((props["id"], min(geodesic((lat, lon), c).km for c in centres)))  # geopy takes (lat, lon)
    return found, unmatched


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (the smallest value with at least q % of the values at or below it)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def city_location_uncertainty_km(features: list[dict[str, Any]]) -> tuple[float, int]:
    """The figure (km, rounded to 0.1) and how many building-level posts it rests on."""
    found, _ = offsets_km(features)
    return round(percentile([km for _, km in found], PERCENTILE), 1), len(found)


def main(argv: list[str]) -> int:
    features = json.loads(Path(argv[1] if len(argv) > 1 else "data/embassies.geojson").read_text("utf-8"))["features"]
    found, unmatched = offsets_km(features)
    for mission_id, km in sorted(found, key=lambda row: row[1]):
        print(f"{km:8.2f} km  {mission_id}")
    print(f"unmatched city names: {unmatched}")
    figure, n = city_location_uncertainty_km(features)
    print(f"p{PERCENTILE} of {n} building-to-city-centre distances: {figure} km")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
