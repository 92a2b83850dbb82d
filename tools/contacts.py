"""Contact facts from ``tools/contacts.tsv`` applied to the built records, and every source dated.

``contacts.tsv`` holds one fact a row (``id``, ``field``, ``value``, ``source_url``, ``source_date``), each
found in a public page by a search of the stored ministry and news pages (November 2026) and checked against
the page. ``source_date`` is the page's own date, ``~YYYY[-MM]`` where only the content dates it (a holiday
notice for December 2019), or ``undated``. Fields: ``phone_main|consular|emergency|fax``, ``hours`` (OSM
opening_hours), ``districts`` (ISO 3166-2, comma-separated), ``address``, ``email``, ``website``.

Rules. Phones are added beside those already known (same number once). For hours and districts the newest
dated source wins (an undated one only where nothing dated exists). Address, e-mail and website fill a gap,
never overwrite. Every source becomes ``{"source": text, "date": "YYYY[-MM[-DD]]" | null}``; a source
written as text gets the date its own text states (its newest year, with the month where one is named), or
null. ``checked_on`` is the newest date among the sources that confirm the record's contacts (the rows
applied here and, failing those, any dated source of the record), never the day the file was built.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

CONTACTS_PATH = Path(__file__).resolve().parent / "contacts.tsv"
PHONE_KINDS = {"phone_main": "main", "phone_consular": "consular", "phone_emergency": "emergency",
               "phone_fax": "fax"}
MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
_ISO = re.compile(r"\b((?:19|20)\d\d)-(\d\d)(?:-(\d\d))?\b")
_MONTH_YEAR = re.compile(r"\b(?:\d{1,2} )?(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? ((?:19|20)\d\d)\b",
                         re.IGNORECASE)
_YEAR = re.compile(r"(?<![\d/-])((?:19|20)\d\d)(?![\d/-])")


def read_contacts(path: Path = CONTACTS_PATH) -> dict[str, list[dict[str, str]]]:
    by_id: dict[str, list[dict[str, str]]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            by_id.setdefault(row["id"], []).append(row)
    return by_id


def normal_date(text: str) -> str | None:
    """``2019-12``, ``~2019-12`` → ``2019-12``; ``undated`` → None."""
    match = re.fullmatch(r"~?((?:19|20)\d\d(?:-\d\d(?:-\d\d)?)?)", text.strip())
    return match.group(1) if match else None


def date_in_text(text: str) -> str | None:
    """The newest date a source's own description states (ISO, month and year, or a year), or None."""
    found: list[str] = []
    for y, m, d in _ISO.findall(text):
        found.append(f"{y}-{m}-{d}" if d else f"{y}-{m}")
    for month, year in _MONTH_YEAR.findall(text):
        found.append(f"{year}-{MONTHS[month[:3].lower()]:02d}")
    # Years in a URL are often ids or paths; only the description (after the URL) counts for bare years.
    description = re.sub(r"https?://\S+", "", text)
    found += _YEAR.findall(description)
    return max(found) if found else None


def _date_key(date: str | None) -> str:
    return date or ""


def _best(rows: list[dict[str, str]]) -> dict[str, str]:
    return max(rows, key=lambda r: _date_key(normal_date(r["source_date"])))


def _source(row: dict[str, str], what: str) -> dict[str, Any]:
    return {"source": f"{row['source_url']} ({what})", "date": normal_date(row["source_date"])}


def apply_contacts(props: dict[str, Any], rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Apply one record's contact rows in place; returns the sources that confirm what was applied."""
    confirming: list[dict[str, Any]] = []
    known = {p["number"].replace(" ", "").replace("-", "") for p in props["phones"]}
    for row in rows:
        kind = PHONE_KINDS.get(row["field"])
        if kind is None:
            continue
        number = row["value"]
        key = number.replace(" ", "").replace("-", "")
        if key in known:
            confirming.append(_source(row, f"{kind} phone"))
            continue
        known.add(key)
        date = normal_date(row["source_date"])
        phone: dict[str, Any] = {"number": number, "kind": kind}
        phone["note"] = f"source dated {date}" if date else "undated source"
        props["phones"].append(phone)
        confirming.append(_source(row, f"{kind} phone"))
    hours = [r for r in rows if r["field"] == "hours"]
    if hours:
        row = _best(hours)
        props["hours"] = row["value"]
        date = normal_date(row["source_date"])
        props["hours_note"] = (f"Consular reception hours as published ({date or 'undated'}); "
                               "check with the post before a visit.")
        confirming.append(_source(row, "hours"))
    districts = [r for r in rows if r["field"] == "districts"]
    if districts:
        row = _best(districts)
        props["districts"] = sorted(set(row["value"].split(",")))
        confirming.append(_source(row, "consular district"))
    for field in ("address", "email", "website"):
        candidates = [r for r in rows if r["field"] == field]
        if candidates and not props.get(field):
            row = _best(candidates)
            props[field] = row["value"]
            confirming.append(_source(row, field))
    return confirming


def dated_sources(sources: list[Any]) -> list[dict[str, Any]]:
    out = []
    for source in sources:
        if isinstance(source, dict):
            out.append(source)
        else:
            out.append({"source": source, "date": date_in_text(source)})
    return out


def merge_sources(existing: list[dict[str, Any]], added: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen = {s["source"] for s in existing}
    merged = list(existing)
    for source in added:
        if source["source"] not in seen:
            seen.add(source["source"])
            merged.append(source)
    return merged


def checked_on(confirming: list[dict[str, Any]], all_sources: list[dict[str, Any]]) -> str | None:
    """The newest date of the sources confirming the contacts, else of any source; as a full ISO date."""
    dates = [s["date"] for s in confirming if s.get("date")] or [s["date"] for s in all_sources if s.get("date")]
    if not dates:
        return None
    newest = max(dates)
    # A month or a year only: its first day, so checked_on never claims a later check than the source shows.
    return {4: f"{newest}-01-01", 7: f"{newest}-01"}.get(len(newest), newest)
