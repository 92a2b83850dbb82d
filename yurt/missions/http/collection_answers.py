"""What ``GET /v1/missions`` answers, shared by the Flask view (``missions.list_missions``) and its lean route
(``missions.LeanCollection``): the caching headers, the filtered view's ETag and body, and the answers kept per
dataset version. Both select with ``Dataset.select`` (column arrays, ``yurt.missions.model.filter_columns``);
tests/missions/test_bbox_lean.py compares the two paths' bytes over generated queries.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from yurt.missions.model.dataset import Dataset, collection_body

# A phone keeps the whole dataset offline: revalidate every 5 minutes with If-None-Match (a 304 costs a few
# bytes), keep using the stale copy while revalidating (a day) and when the server cannot be reached (30 days).
COLLECTION_CACHE_CONTROL = "public, max-age=300, stale-while-revalidate=86400, stale-if-error=2592000"
LIST_RULE = "/v1/missions"

# The view's filter names (``MissionListQuery``), the ones the lean route answers.
FILTERS = frozenset({"country", "type", "service", "status", "q", "bbox"})


def filtered_etag(dataset: Dataset, filters: Mapping[str, Any]) -> str:
    """The filtered view's ETag: it changes exactly when the dataset or the filters do."""
    key = repr(sorted(filters.items())).encode()
    return f'"{dataset.etag.strip(chr(34))}-{hashlib.sha256(key).hexdigest()[:12]}"'


def filtered_body(dataset: Dataset, indices: Sequence[int]) -> bytes:
    """The FeatureCollection of the missions at ``indices`` (pre-serialised Features, joined)."""
    features = dataset.feature_bytes
    return collection_body(dataset.meta, [features[i] for i in indices], numberMatched=len(indices))


# What ``FilteredAnswers`` keeps per worker: about 20 answers as large as the whole collection, or hundreds of a
# city's or a country's. Its cost is memory only (a worker's RSS is about 176 MB).
ANSWER_CACHE_BYTES = 4 * 1024 * 1024


class FilteredAnswers:
    """The filtered answers of one dataset version (ETag and body), by raw query string: a query string always
    loads to the same filters, so a repeated one (a map's opening view, a country's page) costs a dict look-up.
    Only loaded queries are stored; the oldest answers are dropped past ``budget_bytes`` of bodies. Built anew
    for each dataset version, so nothing outlives the version it was computed from."""

    def __init__(self, dataset: Dataset, budget_bytes: int = ANSWER_CACHE_BYTES) -> None:
        self.dataset = dataset
        # ``collection_body``'s bytes before the count: ``{"type":"FeatureCollection","dataset":{…}`` (orjson
        # writes the count, an int, as its decimal digits).
        self._head = collection_body(dataset.meta, [])[:-len(b',"features":[]}')] + b',"numberMatched":'
        # Each Feature followed by the comma that separates it from the next: a body is then one join, one copy.
        self._with_comma = tuple(feature + b"," for feature in dataset.feature_bytes)
        self._budget = budget_bytes
        self._answers: dict[str, tuple[str, bytes]] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, query_string: str) -> tuple[str, bytes] | None:
        return self._answers.get(query_string)

    def body(self, filters: Mapping[str, Any]) -> bytes:
        """``filtered_body`` of the missions ``filters`` select, with the dataset's part of the head written once."""
        indices = self.dataset.select(country=filters.get("country"), type_=filters.get("type"),
                                      service=filters.get("service"), status=filters.get("status"),
                                      text=filters.get("q"), bbox=filters.get("bbox"))
        parts = [self._head, str(len(indices)).encode(), b',"features":[']
        if indices:
            with_comma = self._with_comma
            parts.extend([with_comma[i] for i in indices[:-1]])
            parts.append(self.dataset.feature_bytes[indices[-1]])
        parts.append(b"]}")
        return b"".join(parts)

    def keep(self, query_string: str, answer: tuple[str, bytes]) -> None:
        """Keep the answer to ``query_string`` (one the view's schema loads), dropping the oldest past the budget."""
        size = len(answer[1])
        if size <= self._budget:
            with self._lock:
                if query_string not in self._answers:
                    while self._bytes + size > self._budget:
                        self._bytes -= len(self._answers.pop(next(iter(self._answers)))[1])
                    self._answers[query_string] = answer
                    self._bytes += size
