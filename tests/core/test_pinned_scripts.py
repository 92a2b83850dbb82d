"""``yurt.core.redis.scripts.PinnedScripts``: the hot path's EVALSHA on a connection each thread keeps (issue 15).
It must fail and recover as redis-py does: a dropped connection is reopened once, lost scripts are loaded again,
a script error leaves the connection usable, and a thread's connection goes back to the pool when it ends."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import redis

from yurt.core.redis.scripts import PinnedScripts

ECHO = "return {KEYS[1], ARGV[1]}"


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url, socket_timeout=5.0)
    yield connection
    connection.close()


def test_calls_reuse_one_connection_and_survive_a_dropped_one(client: redis.Redis) -> None:
    call, script = PinnedScripts(client), client.register_script(ECHO)
    assert call(script, ["k"], ["a"]) == [b"k", b"a"]
    first = client.client_list()
    assert call(script, ["k"], ["b"]) == [b"k", b"b"]
    assert len(client.client_list()) == len(first)  # the same connection, no new one per call
    ours = [c for c in first if c["cmd"] == "evalsha"]
    assert len(ours) == 1
    client.client_kill_filter(_id=ours[0]["id"])  # Redis drops it (a restart, a network cut)
    assert call(script, ["k"], ["c"]) == [b"k", b"c"]  # reopened once, transparently


def test_lost_scripts_are_loaded_again_and_script_errors_keep_the_connection(client: redis.Redis) -> None:
    call, script = PinnedScripts(client), client.register_script(ECHO)
    client.script_flush()
    assert call(script, ["k"], ["a"]) == [b"k", b"a"]
    failing = client.register_script("return redis.error_reply('NOPE refused')")
    client.script_load(failing.script)
    with pytest.raises(redis.ResponseError, match="refused"):
        call(failing, [], [])
    assert call(script, ["k"], ["b"]) == [b"k", b"b"]


def test_a_server_that_is_gone_raises_a_connection_error(redis_url: str) -> None:
    gone = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    with pytest.raises(redis.ConnectionError):
        PinnedScripts(gone)(gone.register_script(ECHO), ["k"], ["a"])


def test_a_threads_connection_returns_to_the_pool_when_the_thread_ends(client: redis.Redis) -> None:
    call, script = PinnedScripts(client), client.register_script(ECHO)
    pool = client.connection_pool
    thread = threading.Thread(target=lambda: call(script, ["k"], ["a"]))
    thread.start()
    thread.join()
    del thread
    assert not pool._in_use_connections  # released, not leaked
    assert len(pool._available_connections) == 1
