"""Schemathesis, long run: every operation of /openapi.json with valid tokens, at least 1,000 generated cases.

    python bench/fuzz_schemathesis.py [--examples 40] [--seed 0] [--redis-url redis://127.0.0.1:6379/15]

With --redis-url the app runs in Redis mode against that (scratch!) database, which is flushed first. Prints
the case count, the statuses seen and every failure; exits 1 on any failure (a 5xx, or a response that does
not match the document).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis

from tests.harness.fuzz import fuzz_app, run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=40, help="generated cases per operation")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--redis-url", default=None, help="scratch Redis database for Redis mode (flushed)")
    args = parser.parse_args()
    if args.redis_url:
        redis.Redis.from_url(args.redis_url).flushdb()
    with tempfile.TemporaryDirectory() as tmp, fuzz_app(Path(tmp), args.redis_url) as app:
        report = run(app, args.examples, seed=args.seed)
    print(report.summary())
    for failure in report.failures:
        print("-", failure, "\n")
    return 1 if report.failures or report.cases < 1000 else 0


if __name__ == "__main__":
    sys.exit(main())
