"""Geodesy on the WGS-84 ellipsoid: inverse geodesics (distance, initial bearing) and ECEF coordinates.

Distances and bearings come from pyproj's ``Geod(ellps="WGS84")``, which wraps GeographicLib's C
implementation of Karney's algorithm (C. F. F. Karney, "Algorithms for geodesics", J. Geodesy 87:43-55, 2013;
doi:10.1007/s00190-012-0578-z): accurate to ~15 nm for any pair of points, antipodal and polar ones included.
It is the same algorithm geopy's ``geodesic`` uses, but in C and vectorised over numpy arrays.

Axis order: every function here takes ``lat`` before ``lon`` (degrees); pyproj takes lon first, and the
conversion happens here, once, at the boundary.

``ecef_m`` maps surface points to Earth-centred, Earth-fixed Cartesian coordinates (metres, height 0). The
straight chord between two such points is never longer than the geodesic between them (a segment is the
shortest path in space), which is what lets ``yurt.geo.spatial_index`` prune with a 3-D k-d tree and stay
exact.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from pyproj import Geod

FloatArray = npt.NDArray[np.float64]

# WGS-84 defining constants (NIMA TR8350.2, table 3.1); pyproj's "WGS84" ellipsoid uses the same a and 1/f.
WGS84_A_M = 6_378_137.0
WGS84_F = 1.0 / 298.257223563
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)  # first eccentricity squared

# A Geod holds only the ellipsoid's constants and pyproj releases the GIL around the read-only C struct, so
# one shared instance is safe for every thread.
_GEOD = Geod(ellps="WGS84")


def check_point(lat: float, lon: float) -> None:
    """Raise ``ValueError`` unless ``lat`` is in [-90, 90] and ``lon`` in [-180, 180] (both finite)."""
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise ValueError(f"lat must be a finite number in [-90, 90], got {lat!r}")
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        raise ValueError(f"lon must be a finite number in [-180, 180], got {lon!r}")


def bearing_0_360(azimuth_deg: FloatArray) -> FloatArray:
    """Map azimuths in [-180, 180] to [0, 360).

    A plain ``% 360`` is not enough: a tiny negative azimuth such as -1e-15 maps to 360 - 1e-15, which rounds
    to exactly 360.0 in binary64, so values that land on 360 are folded back to 0.
    """
    bearing_deg = np.mod(azimuth_deg, 360.0)
    bearing_deg[bearing_deg >= 360.0] = 0.0
    return bearing_deg


def inverse_many(lat: float, lon: float, lats: FloatArray, lons: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Geodesics from one point to each of many: ``(distance_km, initial bearing_deg in [0, 360))`` arrays.

    One vectorised Karney call; the result for a given pair does not depend on the other pairs in the call, so an
    index and a brute-force scan computing the same pair get bitwise-identical distances.

    It calls ``Geod._inv``, the C loop ``Geod.inv`` itself ends in, on buffers made here: ``Geod.inv`` first tries
    its scalar path (an exception for arrays), then copies and converts each of its four arguments, which costs
    more than the geodesics of a query's few points (about 10 µs of 20 for two pairs, pyproj 3.7, measured).
    ``_inv`` writes its answers into the buffers it reads (azimuths into the first, distances into the third),
    so every buffer is a fresh copy. tests/geo/test_geodesy.py checks it against ``Geod.inv`` bit for bit.
    """
    lats2 = np.array(lats, dtype=np.float64)  # copies: _inv needs writeable buffers and overwrites them
    lons2 = np.array(lons, dtype=np.float64)
    if lats2.size == 0:
        return np.empty(0, dtype=np.float64), np.empty(0, dtype=np.float64)
    lats1 = np.full(lats2.shape, lat, dtype=np.float64)
    lons1 = np.full(lats2.shape, lon, dtype=np.float64)
    _GEOD._inv(lons1, lats1, lons2, lats2, radians=False, return_back_azimuth=False)
    return lons2 / 1000.0, bearing_0_360(lons1)  # lons2 now holds distances (m), lons1 forward azimuths


def geodesic_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Geodesic distance in kilometres between two points on the WGS-84 ellipsoid."""
    _, _, distance_m = _GEOD.inv(lon1, lat1, lon2, lat2, return_back_azimuth=False)
    return float(distance_m) / 1000.0


def ecef_point_m(lat: float, lon: float) -> tuple[float, float, float]:
    """``ecef_m`` for one point in scalar arithmetic (a query's hot path: no 1-element arrays)."""
    phi, lam = math.radians(lat), math.radians(lon)
    n_m = WGS84_A_M / math.sqrt(1.0 - WGS84_E2 * math.sin(phi) ** 2)
    return (n_m * math.cos(phi) * math.cos(lam), n_m * math.cos(phi) * math.sin(lam),
            n_m * (1.0 - WGS84_E2) * math.sin(phi))


def ecef_m(lats: FloatArray, lons: FloatArray) -> FloatArray:
    """ECEF coordinates (n, 3) in metres of surface points (height 0) on the WGS-84 ellipsoid.

    Geodetic to ECEF: N = a / sqrt(1 - e² sin²φ); x = N cosφ cosλ, y = N cosφ sinλ, z = N (1 - e²) sinφ
    (NIMA TR8350.2, eq. 4-14 with h = 0).
    """
    phi = np.radians(np.asarray(lats, dtype=np.float64))
    lam = np.radians(np.asarray(lons, dtype=np.float64))
    sin_phi = np.sin(phi)
    cos_phi = np.cos(phi)
    n_m = WGS84_A_M / np.sqrt(1.0 - WGS84_E2 * sin_phi * sin_phi)
    return np.column_stack(
        (n_m * cos_phi * np.cos(lam), n_m * cos_phi * np.sin(lam), n_m * (1.0 - WGS84_E2) * sin_phi)
    )
