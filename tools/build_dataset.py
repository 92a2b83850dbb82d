"""Build ``data/embassies.geojson`` (RFC 7946 FeatureCollection) from the compiled missions CSV and the
hand-written tables in ``tools/dataset_supplement.json`` (kk/ru name forms, phones, OSM hours, districts,
status decisions and the extra posts we confirmed).

Run: ``PYTHONPATH=. python tools/build_dataset.py --facts ../shared/reference/missions-facts.csv
--out data/embassies.geojson``.
The output is byte-for-byte reproducible: features sorted by id, coordinates rounded to 6 decimals (~0.1 m,
finer than any source), no timestamps. ``--check`` validates the written file and prints counts.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

# city_uncertainty and contacts sit beside this file: run as a script (python tools/build_dataset.py), its
# folder is on sys.path, so they import as top-level modules; yurt comes from PYTHONPATH=. (the service's own
# schema checks the result).
from city_uncertainty import city_location_uncertainty_km
from contacts import apply_contacts, checked_on, dated_sources, merge_sources, read_contacts
from timezonefinder import TimezoneFinder

from yurt.missions.schemas.dataset import DatasetError, read_collection_file
from yurt.missions.schemas.record import EMAIL_PATTERN, SERVICES

SUPPLEMENT_PATH = Path(__file__).resolve().parent / "dataset_supplement.json"
# A new citation starts after " | ", or after "; " when the next token is a URL or a bare domain, and only
# outside parentheses: "(…; inform.kz a3999491 gives 1997)" is one citation's comment, not a second citation.
SOURCE_SPLIT = re.compile(r"\s+\|\s+|\s*;\s+(?=https?://|[\w.-]+\.(?:kz|com|org|ru|net|az|de|uz|tv|asia)\b)")

Record = dict[str, Any]


def split_sources(text: str) -> list[str]:
    parts: list[str] = []
    start = depth = 0
    for match in SOURCE_SPLIT.finditer(text):
        depth = _depth(text, start, match.start(), depth)
        if depth == 0:
            parts.append(text[start:match.start()])
            start = match.end()
            depth = 0
    parts.append(text[start:])
    return [part.strip(" ;") for part in parts if part.strip(" ;")]


def _depth(text: str, start: int, end: int, depth: int) -> int:
    """Parenthesis depth at ``end``, scanning from ``start`` where it was ``depth``."""
    for ch in text[start:end]:
        depth += (ch == "(") - (ch == ")")
    return max(depth, 0)


def _names(row: Record, sup: Record) -> dict[str, str]:
    kind, mission_id = row["type"], row["id"]
    if kind == "permanent_mission":
        ru, kk = sup["mission_names"][mission_id]
    elif kind == "embassy":
        ru_country, kk_country = sup["country_forms"][row["host_country"]]
        ru = f"Посольство Республики Казахстан {ru_country}"
        kk = f"Қазақстан Республикасының {kk_country} Елшілігі"
    else:
        ru_city, kk_city = sup["city_forms"][row["city"]]
        ru_head, kk_tail = {
            "consulate_general": ("Генеральное консульство", "Бас консулдығы"),
            "consulate": ("Консульство", "Консулдығы"),
            "honorary_consulate": ("Почётное консульство", "Құрметті консулдығы"),
        }[kind]
        ru = f"{ru_head} Республики Казахстан {ru_city}"
        kk = f"Қазақстан Республикасының {kk_city} {kk_tail}"
    return {"en": row["name_en"], "kk": kk, "ru": ru}


def _default_services(kind: str) -> list[str]:
    if kind in ("permanent_mission", "honorary_consulate", "diplomatic_mission"):
        return []
    return list(SERVICES)


def _contact_fields(row: Record, notes: list[str]) -> tuple[str | None, str | None]:
    """E-mail and website from the CSV's free text; dated or non-https leftovers go to the note."""
    email_text = (row.get("email") or "").strip()
    email = None
    if email_text:
        # The first word that is an e-mail address by the schema's own (anchored) pattern.
        email = next((word for word in re.split(r"[\s,;()<>]+", email_text) if EMAIL_PATTERN.match(word)), None)
        rest = email_text.replace(email or "", "").strip()
        if rest:
            notes.append(f"E-mail {email} {rest}.")
    website_text = (row.get("website") or "").strip()
    website = None
    if website_text:
        url = website_text.split()[0]
        if url.startswith("https://"):
            website = url
            if url != website_text:
                notes.append(f"Website {website_text}.")
        else:
            notes.append(f"Former website (not https, dated): {website_text}.")
    return email, website


def build_record(row: Record, sup: Record, tz_finder: TimezoneFinder, contacts: dict[str, list[dict[str, str]]]
                 ) -> dict[str, Any]:
    mission_id = row["id"]
    lat, lon = round(float(row["lat"]), 6), round(float(row["lon"]), 6)
    notes: list[str] = [row["note"]] if row.get("note") else []
    email, website = _contact_fields(row, notes)
    status, status_note = sup["status"].get(mission_id, ["open", None])
    accredited = [c for c in (row.get("accredited_to") or "").split(";") if c]
    sources = list(row["sources"]) if "sources" in row else split_sources(row["source"])
    if mission_id in sup["extra_accredited"]:
        codes, source = sup["extra_accredited"][mission_id]
        accredited += [c for c in codes if c not in accredited]
        sources.append(source)
    if "services" in row:
        services, services_default = list(row["services"]), False
    else:
        services, services_default = _default_services(row["type"]), True
    hours, hours_note = sup["hours"].get(mission_id, [None, None])
    districts_text = row.get("districts_note") or row.get("districts") or None
    if mission_id in sup["districts_notes"]:
        districts_text = f"{districts_text}. {sup['districts_notes'][mission_id]}" if districts_text else (
            sup["districts_notes"][mission_id])
    props: dict[str, Any] = {
        "id": mission_id,
        "type": row["type"],
        "status": status,
        "status_note": status_note,
        "host_country": row["host_country"],
        "city": row["city"],
        "name": _names(row, sup),
        "name_unsourced": ["kk", "ru"],
        "address": row.get("address") or None,
        "phones": sup["phones"].get(mission_id, []),
        "email": email,
        "website": website,
        "timezone": tz_finder.timezone_at(lng=lon, lat=lat),
        "hours": hours,
        "hours_note": hours_note,
        "services": services,
        "services_default": services_default,
        "accredited_to": sorted(c for c in accredited if c != row["host_country"]),
        "districts": list(sup["districts"].get(mission_id, row.get("district_codes", []))),
        "districts_note": districts_text,
        "location_precision": row["location_precision"],
        "sources": sources,
        "checked_on": None,
        "note": " ".join(notes) or None,
    }
    props["phones"] = [dict(p) for p in props["phones"]]
    confirming = apply_contacts(props, contacts.get(mission_id, []))
    props["sources"] = merge_sources(dated_sources(sources), confirming)
    props["checked_on"] = checked_on(confirming, props["sources"])
    return {
        "type": "Feature",
        "id": mission_id,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": props,
    }


def _extra_rows(sup: Record) -> list[Record]:
    rows = []
    for post in sup["extra_posts"]:
        row = dict(post)
        row["location_precision"] = "city"
        row["district_codes"] = post.get("districts", [])
        row.pop("districts", None)
        rows.append(row)
    return rows


def build(facts_path: Path, sup: Record) -> dict[str, Any]:
    with facts_path.open(encoding="utf-8", newline="") as handle:
        csv_rows: list[Record] = list(csv.DictReader(handle))
    # Every CSV phone must have a hand-converted entry, so no contact fact is silently dropped.
    missing = [r["id"] for r in csv_rows if r["phone"].strip() and r["id"] not in sup["phones"]]
    if missing:
        raise SystemExit(f"phones not converted in the supplement: {missing}")
    tz_finder = TimezoneFinder()
    rows = csv_rows + _extra_rows(sup)
    contacts = read_contacts()
    unknown = sorted(set(contacts) - {r["id"] for r in rows})
    if unknown:
        raise SystemExit(f"contacts.tsv names posts that do not exist: {unknown}")
    features = sorted((build_record(r, sup, tz_finder, contacts) for r in rows), key=lambda f: str(f["id"]))
    return {"type": "FeatureCollection", "dataset": _dataset_meta(features), "features": features}


def _dataset_meta(features: list[dict[str, Any]]) -> dict[str, Any]:
    uncertainty_km, basis = city_location_uncertainty_km(features)
    dates = [f["properties"]["checked_on"] for f in features if f["properties"]["checked_on"]]
    return {
        "title": "Missions of the Republic of Kazakhstan abroad",
        "publisher": "Yurt Geo",
        "consular_hotline": None,
        "checked_on": max(dates),
        "city_location_uncertainty_km": uncertainty_km,
        "licence": (
            "Open Database License (ODbL) 1.0. The timezone field is derived from timezone boundaries "
            "© OpenStreetMap contributors (ODbL), via timezonefinder; building-level points come from "
            "Wikidata (CC0); other facts are from the sources cited in each record."
        ),
        "sources": [
            "Compiled missions facts (public sources up to early 2026); each record cites its own sources",
            "Wikidata via database-of-embassies/database-of-embassies (commit b1987a6, 2022-11-16), CC0",
            "timezonefinder boundary data, © OpenStreetMap contributors, ODbL",
        ],
        "note": (
            "consular_hotline is null: no 24-hour consular line of the Kazakh MFA was confirmed in the "
            "sources searched (Nov 2026; news of 2022-2026 says the ministry opened emergency lines but prints "
            "no number); use each mission's own phones. checked_on is the newest date of a source confirming "
            "the record's contacts. city_location_uncertainty_km: the 95th percentile of the distances from "
            f"the {basis} building-level posts with a matching city to their city's centre point "
            "(tools/city_uncertainty.py); a city-level point may be that far from the post."
        ),
    }


def dump(collection: dict[str, Any]) -> str:
    return json.dumps(collection, ensure_ascii=False, indent=1) + "\n"


def check(path: Path) -> None:
    """Validate the dataset as the service loads it (the mission schema, all or nothing) and print counts (the
    README quotes these figures)."""
    try:
        features = read_collection_file(path).features
    except DatasetError as exc:
        sys.exit(str(exc))
    for kind, count in sorted(Counter(f["properties"]["type"] for f in features).items()):
        print(f"{kind}: {count}")
    print(f"total: {len(features)}")
    building = sum(1 for f in features if f["properties"]["location_precision"] == "building")
    print(f"building precision: {building}")
    print(f"with hours: {sum(1 for f in features if f['properties']['hours'])}")
    print(f"with districts: {sum(1 for f in features if f['properties']['districts'])}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--facts", type=Path, default=Path("../shared/reference/missions-facts.csv"))
    parser.add_argument("--out", type=Path, default=Path("data/embassies.geojson"))
    parser.add_argument("--check", action="store_true", help="validate --out and print counts (no rebuild)")
    args = parser.parse_args(argv)
    if not args.check:
        supplement = json.loads(SUPPLEMENT_PATH.read_text(encoding="utf-8"))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(dump(build(args.facts, supplement)), encoding="utf-8")
    check(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
