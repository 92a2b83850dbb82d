"""Open-now states of a dataset's missions, memoised until each one's next opening-hours change.

A nearest query evaluates up to 50 missions; evaluating opening hours costs tens of microseconds each. A state
stays true until its ``next_change_utc`` (the next opening or closing), so it is kept until then and never
longer than ``MAX_AGE`` (a bound for states with no change inside the search horizon, e.g. a holiday rule far
ahead). One ``OpenNow`` belongs to one immutable dataset, so an edit to a mission's hours starts afresh.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from yurt.geo.hours import OpenState, open_state

MAX_AGE = timedelta(hours=1)


class OpenNow:
    def __init__(self, properties: Sequence[Mapping[str, Any]]) -> None:
        self._properties = properties
        self._memo: dict[int, tuple[datetime, datetime, OpenState]] = {}

    def state(self, index: int, now: datetime) -> OpenState:
        cached = self._memo.get(index)
        if cached is not None and cached[0] <= now < cached[1]:
            return cached[2]
        props = self._properties[index]
        result = open_state(props.get("hours"), timezone=props["timezone"], country=props["host_country"],
                            status=props["status"], now=now)
        valid_until = now + MAX_AGE
        if result.next_change_utc is not None and result.next_change_utc < valid_until:
            valid_until = result.next_change_utc
        self._memo[index] = (now, valid_until, result)  # a dict store is atomic under the GIL
        return result

    def is_open(self, index: int, now: datetime) -> bool:
        return self.state(index, now).state == "open"
