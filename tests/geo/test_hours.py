"""Open-now evaluation: hours, breaks, weekends, dated closures, host-country public holidays, statuses, DST
and the date line, with the clock pinned by an explicit ``now``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yurt.geo.hours import HORIZON, OpenState, open_state, validate_hours

OFFICE = "Mo-Fr 09:00-13:00,14:30-18:00; PH off"
BERLIN = "Europe/Berlin"


def at(zone: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone))


def state(hours: str | None, zone: str, now: datetime, *, country: str = "DE", status: str = "open",
          ) -> OpenState:
    return open_state(hours, timezone=zone, country=country, status=status, now=now)


def test_open_during_hours_reports_the_next_closing() -> None:
    result = state(OFFICE, BERLIN, at(BERLIN, 2026, 3, 27, 11, 0))  # a Friday
    assert result.state == "open"
    assert result.opens_at is None
    assert result.closes_at == at(BERLIN, 2026, 3, 27, 13, 0)
    assert result.next_change_utc == datetime(2026, 3, 27, 12, 0, tzinfo=UTC)


def test_closed_at_lunch_break_reopens_the_same_afternoon() -> None:
    result = state(OFFICE, BERLIN, at(BERLIN, 2026, 3, 27, 13, 45))
    assert result == OpenState("closed", at(BERLIN, 2026, 3, 27, 14, 30), None,
                               datetime(2026, 3, 27, 13, 30, tzinfo=UTC))


@pytest.mark.parametrize("local", [(2026, 3, 27, 18, 0), (2026, 3, 28, 12, 0), (2026, 3, 29, 23, 59)])
def test_closed_on_the_weekend_opens_on_monday(local: tuple[int, int, int, int, int]) -> None:
    result = state(OFFICE, BERLIN, at(BERLIN, *local))
    assert result.state == "closed"
    assert result.closes_at is None
    assert result.opens_at == at(BERLIN, 2026, 3, 30, 9, 0)


def test_now_in_any_zone_is_evaluated_in_the_mission_zone() -> None:
    almaty_now = at("Asia/Almaty", 2026, 3, 27, 15, 0)  # 11:00 in Berlin
    assert state(OFFICE, BERLIN, almaty_now) == state(OFFICE, BERLIN, almaty_now.astimezone(UTC))
    assert state(OFFICE, BERLIN, almaty_now).state == "open"


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="aware"):
        state(OFFICE, BERLIN, datetime(2026, 3, 27, 11, 0))


def test_dated_closure_overrides_the_weekly_hours() -> None:
    hours = "Mo-Fr 09:00-18:00; 2026 Dec 25 off"
    christmas = state(hours, "Asia/Almaty", at("Asia/Almaty", 2026, 12, 25, 10, 0), country="KZ")  # Friday
    assert christmas.state == "closed"
    assert christmas.opens_at == at("Asia/Almaty", 2026, 12, 28, 9, 0)
    assert state(hours, "Asia/Almaty", at("Asia/Almaty", 2026, 12, 18, 10, 0), country="KZ").state == "open"


@pytest.mark.parametrize(("country", "zone", "holiday"), [
    ("DE", BERLIN, date(2026, 10, 3)),  # Tag der Deutschen Einheit (a Saturday)
    ("TR", "Europe/Istanbul", date(2026, 10, 29)),  # Cumhuriyet Bayramı
    ("US", "America/New_York", date(2026, 7, 4)),  # Independence Day, absent from the library's own calendar
    ("US", "America/New_York", date(2026, 7, 3)),  # ... and its observed Friday
    ("TR", "Europe/Istanbul", date(2026, 5, 27)),  # Kurban Bayramı: lunar, absent from the library's calendar
    ("UZ", "Asia/Tashkent", date(2026, 3, 21)),  # Navruz: a country the library does not know at all
])
def test_public_holiday_of_the_host_country_is_honoured(country: str, zone: str, holiday: date) -> None:
    hours = "Mo-Sa 09:00-18:00; PH off"
    noon = at(zone, holiday.year, holiday.month, holiday.day, 12, 0)
    on_holiday = state(hours, zone, noon, country=country)
    assert on_holiday.state == "closed"
    assert on_holiday.opens_at is not None and on_holiday.opens_at.date() > holiday
    assert state(hours, zone, noon - timedelta(days=7), country=country).state == "open"  # same weekday
    assert state(hours, zone, noon, country="JP").state == "open"  # not a holiday there: the country decides


def test_holiday_days_match_the_holidays_package_all_year() -> None:
    """Oracle: the ``holidays`` package's national calendar, day by day through 2026."""
    for country, zone in [("DE", BERLIN), ("TR", "Europe/Istanbul"), ("US", "America/New_York"),
                          ("KZ", "Asia/Almaty")]:
        expected = set(holidays.country_holidays(country, years=2026))
        day = date(2026, 1, 1)
        while day.year == 2026:
            got = state("Mo-Su 09:00-18:00; PH off", zone, at(zone, day.year, day.month, day.day, 12),
                        country=country)
            assert (got.state == "closed") == (day in expected), (country, day)
            day += timedelta(days=1)


def test_holiday_specific_hours_and_unions_with_weekdays() -> None:
    istanbul = "Europe/Istanbul"
    short = state("Mo-Fr 09:00-18:00; PH 10:00-12:00", istanbul, at(istanbul, 2026, 10, 29, 11, 0),
                  country="TR")
    assert short.state == "open" and short.closes_at == at(istanbul, 2026, 10, 29, 12, 0)
    union = state("Mo-Fr,PH 10:00-12:00", BERLIN, at(BERLIN, 2026, 10, 3, 11, 0))  # a Saturday holiday
    assert union.state == "open"
    assert state("Mo-Fr,PH 10:00-12:00", BERLIN, at(BERLIN, 2026, 10, 10, 11, 0)).state == "closed"


def test_next_opening_skips_a_holiday() -> None:
    result = state("Mo-Sa 09:00-18:00; PH off", BERLIN, at(BERLIN, 2026, 10, 2, 19, 0))  # Fri before Oct 3
    assert result.opens_at == at(BERLIN, 2026, 10, 5, 9, 0)


def test_day_after_holiday_offset() -> None:
    hours = "Mo-Su 09:00-18:00; PH +1 day off"
    assert state(hours, BERLIN, at(BERLIN, 2026, 10, 4, 12, 0)).state == "closed"
    assert state(hours, BERLIN, at(BERLIN, 2026, 10, 3, 12, 0)).state == "open"


@pytest.mark.parametrize("hours", [None, "", "   ", "Mo-Fr unknown", 'Mo-Fr "by appointment"',
                                   'Mo-Fr 09:00-18:00 "by appointment"', "not opening hours at all"])
def test_unknown_hours_are_unknown_never_closed(hours: str | None) -> None:
    result = state(hours, BERLIN, at(BERLIN, 2026, 3, 27, 11, 0), status="limited")
    assert result.state == "unknown"
    assert result.opens_at is None and result.closes_at is None


def test_closed_to_unknown_to_open_reports_both_the_change_and_the_opening() -> None:
    result = state("Mo-Fr 09:00-18:00; Sa unknown", BERLIN, at(BERLIN, 2026, 3, 27, 19, 0))
    assert result.state == "closed"
    assert result.opens_at == at(BERLIN, 2026, 3, 30, 9, 0)
    assert result.next_change_utc == at(BERLIN, 2026, 3, 28, 0, 0).astimezone(UTC)


@pytest.mark.parametrize("status", ["suspended", "closed"])
def test_suspended_or_closed_mission_is_closed_with_no_opening(status: str) -> None:
    assert state("24/7", BERLIN, at(BERLIN, 2026, 3, 27, 11, 0), status=status) == \
        OpenState("closed", None, None, None)
    assert state(None, BERLIN, at(BERLIN, 2026, 3, 27, 11, 0), status=status).state == "closed"


def test_limited_status_evaluates_hours() -> None:
    assert state(OFFICE, BERLIN, at(BERLIN, 2026, 3, 27, 11, 0), status="limited").state == "open"
    assert state(OFFICE, BERLIN, at(BERLIN, 2026, 3, 28, 11, 0), status="limited").state == "closed"


def test_changes_beyond_the_horizon_are_none() -> None:
    far = state("2026 Dec 25 10:00-12:00", BERLIN, at(BERLIN, 2026, 1, 10, 12, 0))
    assert far == OpenState("closed", None, None, None)
    always = state("24/7", BERLIN, at(BERLIN, 2026, 1, 10, 12, 0))
    assert always == OpenState("open", None, None, None)
    inside = at(BERLIN, 2026, 12, 25, 10, 0) - HORIZON + timedelta(hours=1)
    near = state("2026 Dec 25 10:00-12:00", BERLIN, inside)
    assert near.opens_at == at(BERLIN, 2026, 12, 25, 10, 0)


def test_dst_spring_forward_berlin() -> None:
    # 2026-03-29, last Sunday of March: 02:00 CET jumps to 03:00 CEST.
    before = state("Mo-Su 09:00-18:00", BERLIN, at(BERLIN, 2026, 3, 28, 20, 0))
    assert before.opens_at == at(BERLIN, 2026, 3, 29, 9, 0)
    assert before.opens_at is not None and before.opens_at.utcoffset() == timedelta(hours=2)
    assert before.next_change_utc == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    night = state("Mo-Su 22:00-06:00", BERLIN, datetime(2026, 3, 28, 23, 0, tzinfo=UTC))  # 00:00 CET
    assert night.state == "open"
    assert night.next_change_utc == datetime(2026, 3, 29, 4, 0, tzinfo=UTC)  # 06:00 CEST: 5 real hours on
    gap = state("Mo-Su 02:30-04:00", BERLIN, datetime(2026, 3, 29, 0, 45, tzinfo=UTC))  # 01:45 CET
    assert gap.state == "closed"  # 02:30 never happens that night; the library opens at 03:00 CEST
    assert gap.next_change_utc == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


def test_dst_fall_back_berlin() -> None:
    # 2026-10-25, last Sunday of October: 03:00 CEST falls back to 02:00 CET.
    before = state("Mo-Su 09:00-18:00", BERLIN, at(BERLIN, 2026, 10, 24, 20, 0))
    assert before.opens_at is not None and before.opens_at.utcoffset() == timedelta(hours=1)
    assert before.next_change_utc == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)
    night = state("Mo-Su 22:00-06:00", BERLIN, datetime(2026, 10, 24, 22, 0, tzinfo=UTC))  # 00:00 CEST
    assert night.state == "open"
    assert night.next_change_utc == datetime(2026, 10, 25, 5, 0, tzinfo=UTC)  # 06:00 CET: 7 real hours on


@pytest.mark.parametrize("zone", ["Pacific/Auckland", "Pacific/Fiji"])
def test_mission_across_the_date_line_uses_its_own_weekday(zone: str) -> None:
    sunday_utc = datetime(2026, 6, 7, 22, 0, tzinfo=UTC)  # already Monday 10:00 at UTC+12
    monday = state("Mo-Fr 09:00-17:00", zone, sunday_utc, country="NZ" if "Auckland" in zone else "FJ")
    assert monday.state == "open"
    assert monday.closes_at == at(zone, 2026, 6, 8, 17, 0)
    friday_utc = datetime(2026, 6, 12, 22, 0, tzinfo=UTC)  # Saturday 10:00 there
    saturday = state("Mo-Fr 09:00-17:00", zone, friday_utc, country="NZ")
    assert saturday.state == "closed"
    assert saturday.opens_at == at(zone, 2026, 6, 15, 9, 0)


@pytest.mark.parametrize("expr", [OFFICE, "24/7", "Mo-Fr 09:00-18:00; 2026 Dec 25 off", "Sa,Su,PH off",
                                  "Mo-Fr 22:00-02:00", "PH +1 day off; Mo-Fr 10:00-12:00",
                                  'Mo "by appointment"'])
def test_validate_hours_accepts_good_expressions(expr: str) -> None:
    assert validate_hours(expr) is None


@pytest.mark.parametrize(("expr", "fragment"), [("", "empty"), ("garbage", "character 1"),
                                                ("Mo-Fr 25:00-26:00", "character 7"),
                                                ("Mo-Fr 09:00-", "character")])
def test_validate_hours_explains_bad_expressions(expr: str, fragment: str) -> None:
    message = validate_hours(expr)
    assert message is not None and fragment in message and "\n" not in message


@settings(max_examples=60, deadline=None)
@given(minutes=st.integers(min_value=0, max_value=60 * 24 * 60),
       expr=st.sampled_from([OFFICE, "Mo-Sa 09:00-18:00; PH off", "Mo-Su 22:00-06:00", "Mo-Fr 08:00-12:00"]))
def test_reported_changes_are_where_the_state_flips(minutes: int, expr: str) -> None:
    """Oracle: re-evaluating just before and at each reported instant (DST months included)."""
    now = datetime(2026, 2, 20, tzinfo=UTC) + timedelta(minutes=minutes)
    result = state(expr, BERLIN, now)
    assert result.state != "unknown"
    assert result.next_change_utc is not None
    change = result.next_change_utc
    assert change > now
    assert state(expr, BERLIN, change - timedelta(seconds=1)).state == result.state
    assert state(expr, BERLIN, change).state != result.state
    target = result.closes_at or result.opens_at
    assert target is not None and target.tzinfo == ZoneInfo(BERLIN)
