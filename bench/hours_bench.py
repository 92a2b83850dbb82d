"""Per-call cost of ``yurt.geo.hours.open_state`` on cached (already parsed) expressions.

Run: ``python bench/hours_bench.py``. Prints microseconds per call for expressions without PH, with PH and no
holiday within the 14-day horizon (fast path), and with a holiday inside it (the day-splicing path), plus the
cost of a first parse.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable as a plain script from anywhere

from yurt.geo.hours import _compile, open_state

OFFICE = "Mo-Fr 09:00-13:00,14:30-18:00; PH off"
CASES = [
    ("no PH", "Mo-Fr 09:00-13:00,14:30-18:00", "DE", datetime(2026, 6, 10, 10, 0, tzinfo=UTC)),
    ("PH, none in horizon", OFFICE, "DE", datetime(2026, 6, 10, 10, 0, tzinfo=UTC)),
    ("PH, holiday in horizon", OFFICE, "DE", datetime(2026, 9, 28, 10, 0, tzinfo=UTC)),
    ("24/7", "24/7", "DE", datetime(2026, 6, 10, 10, 0, tzinfo=UTC)),
]


def per_call_us(hours: str, country: str, start: datetime, calls: int = 20_000) -> float:
    nows = [start + timedelta(minutes=7 * i % 600) for i in range(calls)]  # spread across open and closed
    began = time.perf_counter()
    for now in nows:
        open_state(hours, timezone="Europe/Berlin", country=country, status="open", now=now)
    return (time.perf_counter() - began) / calls * 1e6


def main() -> None:
    for label, hours, country, start in CASES:
        per_call_us(hours, country, start, 100)  # warm the caches
        print(f"{label:24s} {per_call_us(hours, country, start):6.1f} µs/call")
    began = time.perf_counter()
    for i in range(2000):
        expr = f"Mo-Fr 09:00-{10 + i % 8:02d}:{i % 60:02d}; PH off; 2026 Dec {1 + i % 28} off"
        _compile(expr, "Europe/Berlin")
    print(f"{'first parse (2 variants)':24s} {(time.perf_counter() - began) / 2000 * 1e6:6.1f} µs/expr")


if __name__ == "__main__":
    main()
