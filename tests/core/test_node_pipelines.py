"""``yurt.core.redis.node_pipelines`` on a real 3-master Redis Cluster: commands go straight to the master of each
command's first key, one write per master on a connection the thread keeps, and the replies come back in the
order of the commands, parsed as redis-py parses them. A master that goes away never leaves another master's
connection with replies unread (the next call would read them as its own)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from tests.harness.cluster import running_cluster
from yurt.core.redis import node_pipelines
from yurt.core.redis.connection import connect
from yurt.core.redis.scripts import reloading_scripts
from yurt.core.settings import Settings

KEYS = [f"{{t:{i}}}:p" for i in range(24)]  # 24 hash tags: every master serves some


@pytest.fixture
def cluster_client(cluster_settings: Settings) -> Iterator[redis.Redis]:
    client = connect(cluster_settings)
    yield client
    client.close()


def _masters_of(client: Any, keys: list[str]) -> set[str]:
    return {client.get_node_from_key(key).name for key in keys}


def test_replies_come_back_in_order_and_parsed_from_every_master(cluster_client: redis.Redis) -> None:
    assert len(_masters_of(cluster_client, KEYS)) == 3
    node_pipelines.run(cluster_client, lambda pipe: [pipe.hset(key, mapping={"n": i}) for i, key in enumerate(KEYS)])
    echo = cluster_client.register_script("return {KEYS[1], ARGV[1]}")

    def build(pipe: Any) -> None:
        for i, key in enumerate(KEYS):
            pipe.hgetall(key)
            pipe.execute_command("EVALSHA", echo.sha, 1, key, i)
            pipe.exists(key)

    replies = reloading_scripts(cluster_client, [echo], lambda: node_pipelines.run(cluster_client, build))
    expected: list[Any] = []
    for i, key in enumerate(KEYS):
        expected += [{b"n": str(i).encode()}, [key.encode(), str(i).encode()], 1]
    assert replies == expected
    before = {name: len(node.redis_connection.client_list())
              for name, node in cluster_client.nodes_manager.nodes_cache.items()}
    assert reloading_scripts(cluster_client, [echo], lambda: node_pipelines.run(cluster_client, build)) == expected
    after = {name: len(node.redis_connection.client_list())
             for name, node in cluster_client.nodes_manager.nodes_cache.items()}
    assert after == before  # the thread's connections are kept, not opened per call


def test_an_error_reply_is_raised_after_every_reply_was_read(cluster_client: redis.Redis) -> None:
    cluster_client.set(KEYS[0], "a string")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        node_pipelines.run(cluster_client, lambda pipe: [pipe.hgetall(KEYS[0]), *(pipe.exists(k) for k in KEYS)])
    assert node_pipelines.run(cluster_client, lambda pipe: [pipe.get(KEYS[0]), pipe.exists(KEYS[1])]) == [
        b"a string", 0]


def test_a_master_going_away_leaves_the_others_connections_in_step(settings: Settings) -> None:
    """A thread that has no connection to the stopped master yet: connecting to it fails after the commands
    for the master of the first key were written; that connection must not keep their replies for later."""
    with running_cluster(masters=3) as cluster:
        client = connect(settings.replace(redis_url=cluster.url, redis_cluster=True, redis_timeout_s=5.0))
        try:
            echo = client.register_script("return ARGV[1]")  # each call's replies tell which call they answer

            def call(number: int, keys: list[str]) -> list[Any]:
                return reloading_scripts(client, [echo], lambda: node_pipelines.run(
                    client, lambda pipe: [pipe.execute_command("EVALSHA", echo.sha, 1, k, number) for k in keys]))

            assert call(0, KEYS) == [b"0"] * len(KEYS)
            first = client.get_node_from_key(KEYS[0]).port
            stopped = next(port for port in cluster.ports if port != first)
            cluster.stop_node(stopped)
            live = [k for k in KEYS if client.get_node_from_key(k).port != stopped]
            outcomes: list[object] = []

            def calls() -> None:
                for number in (1, 2, 3):
                    try:
                        outcomes.append(call(number, KEYS))
                    except (redis.ConnectionError, redis.TimeoutError, redis.exceptions.RedisClusterException):
                        outcomes.append("failed")  # a key of the stopped master: the call fails as a whole
                outcomes.append(call(4, live))

            thread = threading.Thread(target=calls)
            thread.start()
            thread.join()
            assert outcomes == ["failed"] * 3 + [[b"4"] * len(live)]
        finally:
            client.close()
