"""Fixed-window request counters in Redis, on the service's one Redis client (a Cluster routes by the key).

The window starts with a key's first hit and ends when the key expires, as in the ``limits`` library's Redis
storage. One EVALSHA per hit; ``travellers_onetrip`` counts the same keys inside its own scripts. Raises the
client's own errors: each caller states its failure policy (the request limiter fails open, quotas closed).
"""

from __future__ import annotations

from typing import cast

import redis

from yurt.core.rate import RateCharge, RateCount
from yurt.core.redis import node_pipelines
from yurt.core.redis.scripts import is_cluster, reloading_scripts

# The fixed-window counter of ``yurt.core.limits`` (same semantics as the ``limits`` library's Redis storage: the
# window starts with the first hit and ends with the key's expiry). Returns {count, ms left in the window}.
RATE_FUNCTION = """
local function rate_hit(key, window_s)
  local n = redis.call('INCR', key)
  if n == 1 then redis.call('EXPIRE', key, window_s) end
  return {n, redis.call('PTTL', key)}
end
"""
# KEYS: the counter. ARGV: window (s).
RATE_HIT = RATE_FUNCTION + "return rate_hit(KEYS[1], ARGV[1])"


class RedisWindowCounter:
    def __init__(self, client: redis.Redis) -> None:
        self._client = client
        self._hit = client.register_script(RATE_HIT)
        self._cluster = is_cluster(client)

    def hit(self, charge: RateCharge) -> RateCount:
        if self._cluster:  # straight to the counter's master (``node_pipelines``), not redis-py's cluster routing
            command = ("EVALSHA", self._hit.sha, 1, charge.key, charge.window_s)
            count, ttl_ms = reloading_scripts(self._client, [self._hit],
                                              lambda: node_pipelines.send(self._client, [(command, {})]))[0]
        else:
            count, ttl_ms = cast(list[int], self._hit(keys=[charge.key], args=[charge.window_s]))
        return RateCount(int(count), int(ttl_ms))
