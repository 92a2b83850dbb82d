"""The data quality report: per post, what a traveller would miss, and what was searched for it.

Checks (each names a field staff can fill): ``phone`` (no phone other than a fax), ``hours``, ``emergency``
(no phone of kind ``emergency``), ``districts`` (a consulate or consulate general with no published district
and no ``districts_note``), ``building`` (the point is a city centre), ``old_sources`` (the newest dated
source is older than three years, or no source is dated). Closed posts are reported but not counted as
gaps. ``searched`` comes from ``data/quality-searched.tsv``: what a search of the public pages (November
2026) tried for that post and did not find.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

CHECKS = ("phone", "hours", "emergency", "districts", "building", "old_sources")
CONSULATE_TYPES = frozenset({"consulate_general", "consulate"})
OLD_AFTER_DAYS = 3 * 365
SEARCHED_PATH = Path(__file__).resolve().parents[3] / "data" / "quality-searched.tsv"


@dataclass(frozen=True, slots=True)
class PostQuality:
    id: str
    type: str
    status: str
    host_country: str
    missing: tuple[str, ...]
    newest_source: str | None
    searched: str | None


def read_searched(path: Path = SEARCHED_PATH) -> dict[str, str]:
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["id"]: f"{row['fields']}: {row['searched']}" for row in csv.DictReader(handle, delimiter="\t")}


def _newest_source(props: Mapping[str, Any]) -> str | None:
    dates = [str(s["date"]) for s in props["sources"] if isinstance(s, dict) and s.get("date")]
    return max(dates) if dates else None


def _as_date(text: str) -> date:
    parts = [int(p) for p in text.split("-")] + [1, 1]
    return date(parts[0], parts[1], parts[2])


def post_quality(props: Mapping[str, Any], today: date, searched: Mapping[str, str]) -> PostQuality:
    phones = props.get("phones") or []
    missing = []
    if not any(p["kind"] != "fax" for p in phones):
        missing.append("phone")
    if not props.get("hours"):
        missing.append("hours")
    if not any(p["kind"] == "emergency" for p in phones):
        missing.append("emergency")
    if props["type"] in CONSULATE_TYPES and not props.get("districts") and not props.get("districts_note"):
        missing.append("districts")
    if props["location_precision"] != "building":
        missing.append("building")
    newest = _newest_source(props)
    if newest is None or (today - _as_date(newest)).days > OLD_AFTER_DAYS:
        missing.append("old_sources")
    return PostQuality(props["id"], props["type"], props["status"], props["host_country"], tuple(missing), newest,
                       searched.get(props["id"]))


def quality_report(properties: Sequence[Mapping[str, Any]], today: date,
                   searched: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The whole report: posts (id order) and totals of posts lacking each field (closed posts aside)."""
    searched = read_searched() if searched is None else searched
    posts = [post_quality(p, today, searched) for p in sorted(properties, key=lambda p: str(p["id"]))]
    counted = [q for q in posts if q.status != "closed"]
    career = [q for q in counted if q.type in ("embassy", "consulate_general", "consulate")]
    totals = {check: sum(1 for q in counted if check in q.missing) for check in CHECKS}
    consulates = [q for q in counted if q.type in CONSULATE_TYPES]
    return {
        "consulates": len(consulates),
        "as_of": today.isoformat(),
        "posts_counted": len(counted),
        "career_posts": len(career),
        "missing": totals,
        "career_missing": {check: sum(1 for q in career if check in q.missing) for check in CHECKS},
        "posts": [{"id": q.id, "type": q.type, "status": q.status, "host_country": q.host_country,
                   "missing": list(q.missing), "newest_source": q.newest_source, "searched": q.searched}
                  for q in posts],
    }


def markdown_table(report: Mapping[str, Any]) -> str:
    """The README's data table: how many posts have each field (all posts, and career posts)."""
    labels = {"phone": "a phone", "hours": "opening hours", "emergency": "a 24-hour emergency line",
              "districts": "published districts or a districts note (consulates)", "building":
              "a building-level point", "old_sources": "a source dated within three years"}
    lines = [f"| field | posts that have it (of {report['posts_counted']}) | career posts "
             f"(of {report['career_posts']}) |", "|---|---|---|"]
    for check in CHECKS:
        has_all = report["posts_counted"] - report["missing"][check]
        has_career = report["career_posts"] - report["career_missing"][check]
        if check == "districts":  # only consulates are expected to publish districts
            lines.append(f"| {labels[check]} | – | {report['consulates'] - report['missing'][check]} of "
                         f"{report['consulates']} consulates |")
            continue
        lines.append(f"| {labels[check]} | {has_all} | {has_career} |")
    return "\n".join(lines)
