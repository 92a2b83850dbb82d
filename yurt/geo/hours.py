"""Whether a mission is open now, and until when: OSM ``opening_hours`` evaluated in the mission's local time.

Parsing and evaluation use ``opening-hours-py`` (the Rust ``opening-hours`` crate). Every datetime handed to
it is aware and in the mission's own ``ZoneInfo``, which the parsed object also carries, so wall-clock rules
like ``09:00-18:00`` stay right across DST switches. The library rejects ``datetime.timezone`` objects (it
reads ``tzinfo.key``) and evaluates naive datetimes in whatever zone the caller meant, hence the conversion.

Public holidays (``PH``) come from the ``holidays`` package, not from the library. The library can resolve
``PH`` itself when given ``country=``, but from a calendar frozen into its binary at build time (a nager.date
snapshot, years 2020-2050). Compared with ``holidays`` for 2026 it lacks many host countries of Kazakhstan's
missions outright (UnknownCountryError for UZ, KG, AZ, TM, TJ, AE, SA, IR, IN, IL, QA, ...), misses lunar and
Islamic holidays where it has the country (TR Ramazan/Kurban Bayrami, EG, ID, CN Spring Festival) and keeps
only the observed day of a shifted US holiday (open on 2026-07-04). ``holidays`` (national public category) is
maintained and released monthly, so it is the source of truth.

How ``PH`` is evaluated: each expression is parsed twice. ``regular`` is parsed with no country, so the
library never matches ``PH`` (a non-holiday day). ``on_holiday`` is the library's canonical form of the same
expression with every ``PH`` selector replaced by ``Mo-Su`` (every day is a holiday). The library's canonical
form joins ``PH Mo-Fr`` into ``PH,Mo-Fr`` (a union), so the replacement keeps its own semantics. Each local
day then takes its state from ``on_holiday`` if ``holidays`` lists it for the host country, else from
``regular``. Limits: ``PH +N days`` flags the day N days after a holiday, as if every PH selector in that
expression had the offset; ``SH`` (school holidays) never matches; a span crossing midnight out of a holiday
is cut at midnight; a country unknown to ``holidays`` has no holidays.

A comment on an open interval (``Mo-Fr 09:00-12:00 "by appointment"``) makes the state "unknown": following
opening_hours.js, a comment without an explicit ``open`` is unknown, and the library does not say which one
the rule used, so both are treated the conservative way.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

import holidays
import opening_hours
from opening_hours import OpeningHours, State

# Raised for invalid syntax; present at run time but missing from the package's generated stub (2.1.4).
ParserError: type[Exception] = opening_hours.ParserError  # type: ignore[attr-defined]

StateName = Literal["open", "closed", "unknown"]

HORIZON = timedelta(days=14)  # the next opening/closing is searched this far ahead, then reported as None
_MAX_INTERVAL_DAYS = HORIZON.days + 1  # lets the library give up on longer gaps (its docs: a big speed-up)
_CLOSED_STATUSES = frozenset({"suspended", "closed"})
_PH_TOKEN = re.compile(r"\bPH\b(?:\s*([+-]?\d+)\s*days?\b)?")


@dataclass(frozen=True, slots=True)
class OpenState:
    state: StateName
    # Both aware in the mission's zone; None if in that state now, if unknown, or if beyond HORIZON.
    opens_at: datetime | None
    closes_at: datetime | None
    # The next change of the reported state in UTC: when a cached value must expire. It is min(opens_at,
    # closes_at) except when a closed or open spell runs into an "unknown" one first.
    next_change_utc: datetime | None


_UNKNOWN = OpenState("unknown", None, None, None)
_CLOSED_BY_STATUS = OpenState("closed", None, None, None)


@dataclass(frozen=True, slots=True)
class _Compiled:
    regular: OpeningHours  # PH never matches
    on_holiday: OpeningHours | None  # every day is PH; None without PH or when it cannot be rewritten
    has_ph: bool
    ph_offsets_days: tuple[int, ...]  # day offsets of the PH selectors (0 for plain PH)


def validate_hours(expr: str) -> str | None:
    """Return None if ``expr`` is valid OSM opening_hours syntax this module can evaluate, else a message."""
    if not expr.strip():
        return "the expression is empty"
    try:
        compiled = _compile(expr, None)
    except ParserError as exc:
        return _parser_message(str(exc))
    if compiled.has_ph and compiled.on_holiday is None:
        return "public holiday (PH) selector in a form that cannot be evaluated"
    return None


def open_state(hours: str | None, *, timezone: str, country: str, status: str, now: datetime) -> OpenState:
    """State of a mission at ``now`` (aware, any zone), evaluated in its local ``timezone``."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if status in _CLOSED_STATUSES:
        return _CLOSED_BY_STATUS
    if hours is None or not hours.strip():
        return _UNKNOWN
    try:
        compiled = _compile(hours, timezone)
    except ParserError:
        return _UNKNOWN  # stored hours that no longer parse say nothing about the mission
    zone = _zone(timezone)
    local_now = now.astimezone(zone)
    return _summarise(_segments(compiled, country.upper(), local_now, local_now + HORIZON), zone)


def _summarise(segments: Iterator[tuple[datetime, StateName]], zone: ZoneInfo) -> OpenState:
    """Fold (start_utc, state) segments, the first one current, into an OpenState."""
    first = next(segments, None)
    if first is None:
        return _UNKNOWN
    current = first[1]
    next_change: datetime | None = None
    for start_utc, state in segments:
        if state == current:
            continue
        if next_change is None:
            next_change = start_utc
        if current == "open":
            return OpenState("open", None, start_utc.astimezone(zone), next_change)
        if current == "unknown":
            return OpenState("unknown", None, None, next_change)
        if state == "open":
            return OpenState("closed", start_utc.astimezone(zone), None, next_change)
    return OpenState(current, None, None, next_change)


def _segments(compiled: _Compiled, country: str, start: datetime, end: datetime,
              ) -> Iterator[tuple[datetime, StateName]]:
    """Yield (start_utc, state) of successive spells from ``start`` (the first one holds at ``start``)."""
    days = _holiday_flags(compiled, country, start.date(), end.date())
    if days is None:
        yield from _spells(compiled.regular, start, end)
        return
    zone = start.tzinfo
    run_start = start
    day = start.date()
    while day <= end.date():
        flag = days[(day - start.date()).days]
        run_end_day = day + timedelta(days=1)
        while run_end_day <= end.date() and days[(run_end_day - start.date()).days] == flag:
            run_end_day += timedelta(days=1)
        run_end = min(end, datetime.combine(run_end_day, time(), tzinfo=zone))
        if not flag:
            yield from _spells(compiled.regular, run_start, run_end)
        elif compiled.on_holiday is not None:
            yield from _spells(compiled.on_holiday, run_start, run_end)
        else:
            yield run_start.astimezone(UTC), "unknown"
        run_start, day = run_end, run_end_day


def _spells(oh: OpeningHours, start: datetime, end: datetime) -> Iterator[tuple[datetime, StateName]]:
    """The library's intervals over [start, end) as (start_utc, state); the first is clamped to ``start``."""
    start_utc = start.astimezone(UTC)
    end_utc = end.astimezone(UTC)
    for begin, _stop, state, comment in oh.intervals(start, end):
        # Compare in UTC: aware datetimes sharing a tzinfo compare by wall clock, ignoring DST fold.
        begin_utc = max(begin.astimezone(UTC), start_utc)
        if begin_utc >= end_utc:
            return
        yield begin_utc, _state_name(state, comment)


def _state_name(state: State, comment: str) -> StateName:
    if state == State.OPEN:
        return "unknown" if comment else "open"
    return "closed" if state == State.CLOSED else "unknown"


def _holiday_flags(compiled: _Compiled, country: str, first: date, last: date) -> list[bool] | None:
    """Per day in [first, last], whether it takes the holiday variant; None if no day does (fast path)."""
    if not compiled.has_ph:
        return None
    dates = _holiday_dates(country, first.year - 1, last.year + 1)
    offsets = compiled.ph_offsets_days
    lo = bisect_left(dates, first - timedelta(days=max(offsets)))
    hi = bisect_left(dates, last - timedelta(days=min(offsets)) + timedelta(days=1))
    if lo == hi:
        return None
    near = set(dates[lo:hi])
    span = (last - first).days + 1
    flags = [any(first + timedelta(days=i - k) in near for k in offsets) for i in range(span)]
    return flags if any(flags) else None


@lru_cache(maxsize=512)
def _holiday_dates(country: str, first_year: int, last_year: int) -> tuple[date, ...]:
    """Sorted national public holidays of ``country`` (ISO alpha-2) per the ``holidays`` package."""
    try:
        calendar = holidays.country_holidays(country, years=range(first_year, last_year + 1))
    except NotImplementedError:  # a country the package does not cover: no holidays known
        return ()
    return tuple(sorted(calendar.keys()))


@lru_cache(maxsize=4096)
def _compile(expr: str, timezone: str | None) -> _Compiled:
    """Parse ``expr`` once per (expression, zone); the host country is applied at evaluation time."""
    zone = _zone(timezone) if timezone is not None else None
    regular = OpeningHours(expr, timezone=zone, max_interval_days=_MAX_INTERVAL_DAYS)
    canonical = str(regular)
    parts = canonical.split('"')  # even parts are outside comments, which may say "PH" in prose
    offsets = sorted({int(m.group(1) or 0) for part in parts[::2] for m in _PH_TOKEN.finditer(part)})
    if not offsets:
        return _Compiled(regular, None, False, (0,))
    parts[::2] = [_PH_TOKEN.sub("Mo-Su", part) for part in parts[::2]]
    try:
        on_holiday = OpeningHours('"'.join(parts), timezone=zone, max_interval_days=_MAX_INTERVAL_DAYS)
    except ParserError:
        on_holiday = None
    return _Compiled(regular, on_holiday, True, tuple(offsets))


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


_PARSER_POSITION = re.compile(r"-->\s*(\d+):(\d+)")
_PARSER_EXPECTED = re.compile(r"=\s*(.+)$", re.MULTILINE)


def _parser_message(raw: str) -> str:
    """Turn the library's multi-line pest diagnostic into one line: position and what was expected."""
    position = _PARSER_POSITION.search(raw)
    expected = _PARSER_EXPECTED.search(raw)
    if position is None or expected is None:
        return " ".join(raw.split())
    return f"at character {position.group(2)}: {expected.group(1).strip()}"
