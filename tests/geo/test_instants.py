"""One way to write an instant: RFC 3339 in UTC with a ``Z``, from an aware datetime in any zone or epoch seconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from yurt.geo.instants import utc_iso, utc_now_iso

ALMATY = timezone(timedelta(hours=5))


def test_any_zone_and_epoch_seconds_read_the_same() -> None:
    moment = datetime(2026, 3, 21, 19, 0, 0, 123456, tzinfo=ALMATY)
    assert utc_iso(moment) == "2026-03-21T14:00:00Z"
    assert utc_iso(moment.timestamp()) == "2026-03-21T14:00:00Z"
    assert utc_iso(1_800_000_000) == "2027-01-15T08:00:00Z"
    assert utc_iso(moment, "milliseconds") == "2026-03-21T14:00:00.123Z"
    assert utc_iso(moment, "auto") == "2026-03-21T14:00:00.123456Z"
    assert utc_iso(moment.replace(microsecond=0), "auto") == "2026-03-21T14:00:00Z"


def test_now_is_to_the_millisecond() -> None:
    before = datetime.now(UTC)
    stamp = utc_now_iso()
    assert len(stamp) == len("2026-03-21T14:00:00.000Z") and stamp.endswith("Z")
    assert abs(datetime.fromisoformat(stamp) - before) < timedelta(seconds=5)
