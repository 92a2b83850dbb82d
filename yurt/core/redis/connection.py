"""The one way the service opens Redis: a client for a single server or a Redis Cluster, with the timeouts of
``YURT_REDIS_TIMEOUT_S``, shared by every store and the rate limiter (``yurt.composition``). What a failure of
that connection means for each caller is ``redis_common``'s policy."""

from __future__ import annotations

from typing import Any, cast

import redis

from yurt.core.settings import Settings


def connect(settings: Settings) -> redis.Redis:
    assert settings.redis_url is not None
    options: dict[str, Any] = {
        "socket_timeout": settings.redis_timeout_s,
        "socket_connect_timeout": settings.redis_timeout_s,
        "health_check_interval": 30,
    }
    if settings.redis_cluster:
        from redis.cluster import RedisCluster

        cluster = RedisCluster.from_url(settings.redis_url, **options)
        _script_keys_without_a_round_trip(cluster)
        return cast(redis.Redis, cluster)
    return redis.Redis.from_url(settings.redis_url, **options)


def _script_keys_without_a_round_trip(cluster: Any) -> None:
    """Route EVALSHA/EVAL in cluster pipelines by their declared KEYS, read from the command itself.

    redis-py 8.1's ClusterPipeline asks the server for the keys of commands with movable keys (``COMMAND
    GETKEYS``), one extra round trip per script call in a pipeline, although its own ``determine_slot`` and
    the parser's docstring read them from ``numkeys`` for EVAL/EVALSHA. Same answer, no round trip.
    """
    parser = cluster.commands_parser
    get_keys = parser.get_keys

    def keys_of(redis_conn: Any, *args: Any) -> Any:
        if str(args[0]).upper() in ("EVAL", "EVALSHA") and len(args) > 2:
            return list(args[3:3 + int(args[2])])
        return get_keys(redis_conn, *args)

    parser.get_keys = keys_of
