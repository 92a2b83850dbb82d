"""An approximate outline of a consular district's subdivision, from its labelled places.

No package we know of ships first-level subdivision polygons with ISO 3166-2 codes offline (see
``yurt.geo.subdivisions``), so the console shows a subdivision as the labelled places the subdivision
lookup uses, and around them their convex hull (shapely), marked approximate: it covers the towns the lookup
knows, may overlap a neighbour and misses empty country beyond the last town.

Longitudes: a subdivision that straddles the antimeridian (Chukotka, Fiji's Northern division) would get a
hull around the whole world; when its places span more than 180° of longitude, western ones are shifted by
+360°, which a web map draws continuously past 180°.
"""

from __future__ import annotations

from collections.abc import Sequence

from shapely.geometry import MultiPoint, Polygon


def unwrapped(places: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """(lat, lon) pairs with longitudes made continuous across the antimeridian when they straddle it."""
    lons = [lon for _, lon in places]
    if not lons or max(lons) - min(lons) <= 180:
        return list(places)
    return [(lat, lon + 360 if lon < 0 else lon) for lat, lon in places]


def hull_ring(places: Sequence[tuple[float, float]]) -> list[list[float]] | None:
    """The convex hull of the places as a closed GeoJSON ring of [lon, lat]; None under three distinct places
    or when they lie on one line."""
    points = unwrapped(places)
    if len({(round(lat, 4), round(lon, 4)) for lat, lon in points}) < 3:
        return None
    hull = MultiPoint([(lon, lat) for lat, lon in points]).convex_hull
    if not isinstance(hull, Polygon) or hull.area == 0:
        return None
    return [[round(x, 4), round(y, 4)] for x, y in hull.exterior.coords]
