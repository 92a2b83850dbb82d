"""A dataset's sub-index over the missions one filter accepts answers what its full index answers with that
filter: the same missions, distances, bearings and order (ties by id included)."""

from __future__ import annotations

import math
import random

from yurt.core.settings import Settings
from yurt.missions.model.dataset import Dataset, MissionRecord
from yurt.missions.schemas.dataset import read_collection_file


def _dataset() -> Dataset:
    seed = read_collection_file(Settings().data_file)
    return Dataset.build(seed.meta, [MissionRecord(f, 1) for f in seed.features], 1)


def test_subset_index_agrees_with_the_filtered_full_index() -> None:
    dataset = _dataset()

    def career_open(p: object) -> bool:
        assert isinstance(p, dict)
        return p["type"] in {"embassy", "consulate_general", "consulate"} and p["status"] in {"open", "limited"}

    subset = dataset.subset_index("test_career_open", career_open)
    assert dataset.subset_index("test_career_open", career_open) is subset  # built once per dataset
    rng = random.Random(15)
    points = [(math.degrees(math.asin(2 * rng.random() - 1)), rng.uniform(-180, 180)) for _ in range(400)]
    points += [(0.0, 180.0), (0.0, -180.0), (89.9, 10.0), (-89.9, -10.0), (52.52, 13.405), (46.2044, 6.1432)]
    accepted = [career_open(p) for p in dataset.properties]
    for lat, lon in points:
        limit = rng.randint(1, 12)
        expected = dataset.index.nearest(lat, lon, limit, accepted.__getitem__)
        assert subset.nearest(lat, lon, limit) == expected, (lat, lon, limit)
    assert len(subset.nearest(0.0, 0.0, 10_000)) == sum(accepted)
