"""The Redis Cluster paths of ``RedisPresenceStore`` (its single-node paths are ``travellers_onetrip``): each step
in as few round trips as the hash slots allow, every slot's part one command or one per-slot script, all of a
round trip sent together, one write per master (``node_pipelines``), not through redis-py's per-command
cluster routing (issue 15).

- The heads count the request's rate-limit hit in their round trip (the counter has its own slot): a nearby
  head reads the viewer's presence with it, a presence update's head the suspension marker and the limiter.
- ``occupied``: one script per index group (resolution-5 cell), which sweeps the group's expired members and
  answers its counts: what the single node's Python sweep does, in one command per group instead of two plus
  a call per expired member.
- The handles a page showed: one script on the viewer's slot (the hash and its TTL together, as MULTI does).

Semantics are the single node's: the same keys, the same compare-and-set commit (``COMMIT``), the same
sweeps; only how the commands travel differs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from redis.commands.core import Script

from yurt.core.rate import RateCharge, RateCount
from yurt.core.redis.common import text, to_ms, traveller_key, visible_key
from yurt.geo.privacy import LimiterRecord, UpdatePolicy, new_session, session_order
from yurt.travellers.model.area_counts import ACCOUNT_AGE_FOR_AREAS_S, FIRST_SEEN_RETENTION_S
from yurt.travellers.model.steps import Presence, Profile, UpdateHead
from yurt.travellers.stores.onetrip import index_copy, index_group
from yurt.travellers.stores.presence import SuspendedError, admitted_update

Command = tuple[tuple[Any, ...], dict[str, Any]]
Send = Callable[[list[Command]], list[Any]]
_t = traveller_key
_NO_OPTIONS: dict[str, Any] = {}


def evalsha(script: Script, keys: Sequence[str], args: Sequence[Any]) -> Command:
    return ("EVALSHA", script.sha, len(keys), *keys, *args), _NO_OPTIONS


def command(*args: Any) -> Command:
    return args, _NO_OPTIONS


class ClusterHead:
    """An update head's read on a Cluster, for the commit that follows: the suspension marker and the limiter
    hash as read (its ``at_ms`` is the compare-and-set's expectation)."""

    __slots__ = ("raw_record", "suspended")

    def __init__(self, suspended: bool, raw_record: Mapping[bytes, bytes]) -> None:
        self.suspended, self.raw_record = suspended, raw_record


def limiter_record(raw: Mapping[bytes, bytes]) -> LimiterRecord | None:
    if not raw:
        return None
    return LimiterRecord(int(raw[b"at_ms"]) / 1000, text(raw[b"cell"]), int(raw[b"win_ms"]) / 1000,
                         int(raw[b"count"]))


@dataclass(frozen=True)
class ClusterScripts:
    rate: Script  # ``counters.RATE_HIT``
    occupied: Script
    remember: Script
    commit: Script
    index_add: Script
    index_remove: Script


class ClusterSteps:
    """The per-slot steps; ``send`` runs commands (node pipelines, reloading lost scripts)."""

    def __init__(self, send: Send, policy: UpdatePolicy, scripts: ClusterScripts) -> None:
        self._send = send
        self.policy = policy
        self._s = scripts

    def _with_rate(self, charge: RateCharge | None, commands: list[Command]) -> tuple[RateCount | None, list[Any]]:
        if charge is None:
            return None, self._send(commands)
        replies = self._send([evalsha(self._s.rate, [charge.key], [charge.window_s]), *commands])
        return RateCount(int(replies[0][0]), int(replies[0][1])), replies[1:]

    def presence_head(self, tid: str, charge: RateCharge | None) -> tuple[RateCount | None, Mapping[bytes, bytes]]:
        """A nearby head's first round trip: the rate-limit count and the viewer's presence hash."""
        rate, (raw,) = self._with_rate(charge, [command("HGETALL", _t(tid, "p"))])
        return rate, raw

    def update_head(self, tid: str, now_s: float, charge: RateCharge | None) -> UpdateHead:
        rate, (suspended, raw) = self._with_rate(charge, [command("EXISTS", _t(tid, "susp")),
                                                          command("HGETALL", _t(tid, "lim"))])
        record = limiter_record(raw)
        live = record if record is not None and record.expires_at_s(self.policy) > now_s else None
        return UpdateHead(live, ClusterHead(bool(suspended), raw), rate)

    def occupied(self, index_cells: Sequence[str], now_s: float, established_only: bool) -> dict[str, int]:
        kind, now_ms = ("ne" if established_only else "n"), to_ms(now_s)
        replies = self._send([evalsha(self._s.occupied, [f"{{g:{coarse}}}:x", f"{{g:{coarse}}}:{kind}"],
                                      [coarse, now_ms]) for coarse in index_cells])
        counts: dict[str, int] = {}
        for flat in replies:
            for cell, n in zip(flat[0::2], flat[1::2], strict=True):
                if int(n) > 0:
                    counts[text(cell)] = int(n)
        return counts

    def remember_handles(self, viewer: str, handles: Mapping[str, str], ttl_s: int) -> None:
        self._send([evalsha(self._s.remember, [_t(viewer, "h")],
                            [ttl_s, *(x for pair in handles.items() for x in pair)])])

    def put(self, tid: str, cell: str, expires_at_s: float, profile: Profile, now_s: float,
            account_since_s: float | None, head: UpdateHead | None) -> Presence:
        lim, presence_key, susp, seen = _t(tid, "lim"), _t(tid, "p"), _t(tid, "susp"), _t(tid, "seen")
        since_s = now_s if account_since_s is None else min(now_s, account_since_s)
        state = head.state if head is not None and isinstance(head.state, ClusterHead) else None
        while True:
            # Read (or take the head's read), decide in Python (the speed check needs geodesy), then
            # compare-and-set on the traveller's own slot: three round trips in all, the head's included, and a
            # concurrent update of the same traveller retries.
            if state is None:
                suspended, raw_record = self._send([command("EXISTS", susp), command("HGETALL", lim)])
            else:
                suspended, raw_record, state = state.suspended, state.raw_record, None
            if suspended:
                raise SuspendedError(tid)
            new = admitted_update(tid, limiter_record(raw_record), cell, now_s, self.policy)
            expected = text(raw_record[b"at_ms"]) if raw_record else ""
            (outcome,) = self._send([evalsha(self._s.commit, [lim, presence_key, susp, seen], [
                expected, to_ms(new.at_s), new.cell, to_ms(new.window_start_s), new.count,
                max(1, to_ms(new.expires_at_s(self.policy) - now_s)),
                cell, to_ms(expires_at_s), profile.display_name, orjson.dumps(list(profile.languages)),
                profile.about if profile.about is not None else "", max(1, to_ms(expires_at_s - now_s)),
                new_session(), to_ms(now_s), to_ms(since_s), to_ms(FIRST_SEEN_RETENTION_S),
                to_ms(now_s + FIRST_SEEN_RETENTION_S), to_ms(ACCOUNT_AGE_FOR_AREAS_S)])])
            if outcome[0] == b"ok":
                break
            if outcome[0] == b"suspended":
                raise SuspendedError(tid)
        old_cell = text(outcome[1]) if outcome[1] else None
        session, established = text(outcome[2]), text(outcome[3]) == "1"
        exp_ms = to_ms(expires_at_s)
        copy = index_copy(cell, exp_ms, session, established, profile.public_json())
        index = [evalsha(self._s.index_remove, index_group(old_cell), [tid, old_cell, "+inf"])
                 ] if old_cell is not None and old_cell != cell else []
        index += [evalsha(self._s.index_add, index_group(cell),
                          [tid, cell, session_order(session), exp_ms, copy, int(established)]),
                  command("ZADD", visible_key(tid), exp_ms, tid)]
        self._send(index)
        return Presence(tid, cell, expires_at_s, profile, session, established)
