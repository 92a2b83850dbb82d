"""Build ``yurt/domain/data/subdivision_points.csv.gz`` from the PyPI package
``countrystatecity-countries`` (data: the dr5hn "countries-states-cities" database, ODbL-1.0).

Each output row is one reference point labelled with its ISO 3166-2 subdivision:
every city of the source plus each subdivision's own reference point (its capital or
centroid, as the source gives it), so subdivisions with few listed cities still appear.

Run: ``pip install countrystatecity-countries==2.0.1 && python tools/build_subdivision_points.py``.
The output is byte-for-byte reproducible: rows are sorted, coordinates are rounded to
4 decimals (about 11 m, far below the method's own uncertainty) and the gzip header
carries no timestamp.
"""

from __future__ import annotations

import gzip
import importlib.resources
import json
import sys
from pathlib import Path

OUTPUT_PATH = Path(__file__).resolve().parent.parent / "yurt/domain/data/subdivision_points.csv.gz"
HEADER = "country,subdivision,lat,lon\n"


def _rows() -> list[tuple[str, str, float, float]]:
    root = importlib.resources.files("countrystatecity_countries") / "data" / "by-country"
    rows: set[tuple[str, str, float, float]] = set()
    for country_dir in root.iterdir():
        states_file = country_dir / "states.json"
        if not states_file.is_file():
            continue
        country = country_dir.name.upper()
        for state in json.loads(states_file.read_text(encoding="utf-8")):
            code = state.get("iso3166_2") or ""
            # Skip records without a real ISO 3166-2 code (the source invents some).
            if not code.startswith(f"{country}-"):
                continue
            points = [state]
            cities_file = country_dir / "states" / str(state["state_code"]) / "cities.json"
            if cities_file.is_file():
                points.extend(json.loads(cities_file.read_text(encoding="utf-8")))
            for point in points:
                if point.get("latitude") in (None, "") or point.get("longitude") in (None, ""):
                    continue
                lat = round(float(point["latitude"]), 4)
                lon = round(float(point["longitude"]), 4)
                if -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0:
                    rows.add((country, code, lat, lon))
    return sorted(rows)


def main() -> int:
    rows = _rows()
    text = HEADER + "".join(f"{c},{s},{lat:.4f},{lon:.4f}\n" for c, s, lat, lon in rows)
    OUTPUT_PATH.parent.mkdir(parents=True, exist_ok=True)
    with (
        OUTPUT_PATH.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
    ):
        gz.write(text.encode("ascii"))
    print(f"wrote {len(rows)} points to {OUTPUT_PATH} ({OUTPUT_PATH.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
