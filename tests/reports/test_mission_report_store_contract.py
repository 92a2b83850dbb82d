"""One contract for every ``ReportStore`` (embedded files, real Redis, Redis Cluster): submit, per-traveller
limit, list, resolve."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import Backend
from yurt.core.store_errors import NotFound
from yurt.reports.stores.missions import (
    AlreadyResolvedError,
    EmbeddedReportStore,
    RateLimitError,
    RedisReportStore,
    ReportLimit,
    ReportStore,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LIMIT = ReportLimit(max_reports=3, window_s=3600)


@pytest.fixture
def store(backend: Backend) -> ReportStore:
    if backend.embedded:
        return EmbeddedReportStore(backend.directory)
    return RedisReportStore(backend.connect())


def test_submit_list_and_resolve(store: ReportStore) -> None:
    first = store.submit("kz-a", "phone", "wrong number", reporter="p1", now=T0, limit=LIMIT)
    second = store.submit("kz-b", "hours", "closed on Friday", reporter="p2", now=T0, limit=LIMIT)
    assert second.id > first.id and first.status == "open"
    assert (first.reporter, second.reporter) == ("p1", "p2")  # the pseudonym the caller computed (keyed HMAC)
    assert [r.id for r in store.list()] == [second.id, first.id]
    assert [r.id for r in store.list(mission_id="kz-a")] == [first.id]
    assert [r.id for r in store.list(limit=1, before_id=second.id)] == [first.id]
    done = store.resolve(first.id, resolution="fixed", note="updated", author="alice", now=T0)
    assert (done.status, done.resolved_by, done.resolution) == ("resolved", "alice", "fixed")
    assert [r.id for r in store.list(status="open")] == [second.id]
    assert store.list(status="resolved")[0] == done
    with pytest.raises(AlreadyResolvedError):
        store.resolve(first.id, resolution="spam", note=None, author="bob", now=T0)
    with pytest.raises(NotFound):
        store.resolve(9999, resolution="fixed", note=None, author="bob", now=T0)


def test_rate_limit_per_traveller_with_retry_after(store: ReportStore) -> None:
    for minute in range(3):
        store.submit("kz-a", "other", "text", reporter="p1", now=T0 + timedelta(minutes=minute),
                     limit=LIMIT)
    late = T0 + timedelta(minutes=10)
    with pytest.raises(RateLimitError) as limited:
        store.submit("kz-a", "other", "text", reporter="p1", now=late, limit=LIMIT)
    # The oldest of the three leaves the window at T0 + 1 h, 50 minutes after `late`.
    assert 50 * 60 <= limited.value.retry_after_s <= 50 * 60 + 1
    store.submit("kz-a", "other", "another traveller", reporter="p2", now=late, limit=LIMIT)
    store.submit("kz-a", "other", "window moved on", reporter="p1",
                 now=T0 + timedelta(hours=1, seconds=1), limit=LIMIT)
