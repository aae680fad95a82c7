"""The cache fails soft: Redis stopped or hung, or a cache directory that cannot be written,
costs at most one short timeout, never a 500 (linli.ops.cache).

Against a real redis-server of the test's own (linli.ops.tests.services), configured exactly
as settings.py configures a deployment with LINLI_REDIS_URL.
"""

import logging
import time

import pytest
import redis.exceptions
from django.core.cache.backends.redis import RedisCache

from linli.accounts.roles import Role
from linli.ops import cache as fail_soft
from linli.ops.tests.services import needs_redis_server, production_settings, running_redis

pytestmark = [pytest.mark.faults, needs_redis_server]


@pytest.fixture
def redis_server(tmp_path):
    with running_redis(tmp_path) as server:
        yield server


def redis_cache_settings(server) -> dict:
    return production_settings(LINLI_REDIS_URL=server.url)["CACHES"]


def build(cache_settings: dict, backend=None):
    """A fresh backend instance from a CACHES entry, as django.core.cache would make one."""
    from django.utils.module_loading import import_string

    entry = cache_settings["default"]
    backend = backend or import_string(entry["BACKEND"])
    return backend(entry["LOCATION"], {"OPTIONS": entry.get("OPTIONS", {})})


@pytest.fixture(autouse=True)
def _no_rest_left_over():
    # The rest is per process and per location: one test's outage must not carry over.
    fail_soft._resting_until.clear()
    yield
    fail_soft._resting_until.clear()


def cache_warnings(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == fail_soft.__name__]


def test_the_deployment_with_redis_uses_the_fail_soft_backend_with_short_timeouts(redis_server):
    entry = redis_cache_settings(redis_server)["default"]
    assert entry["BACKEND"] == "linli.ops.cache.FailSoftRedisCache"
    assert entry["OPTIONS"] == {"socket_connect_timeout": 1, "socket_timeout": 1}


def test_with_redis_stopped_reads_miss_writes_drop_and_one_warning_is_logged(redis_server, caplog):
    settings_with_redis = redis_cache_settings(redis_server)
    cache = build(settings_with_redis)
    cache.set("greeting", "你好", 60)
    assert cache.get("greeting") == "你好"

    redis_server.stop()
    # The fault: Django's own backend raises, which made activations roll back with a 500.
    with pytest.raises(redis.exceptions.ConnectionError):
        build(settings_with_redis, RedisCache).get("greeting")

    caplog.set_level(logging.WARNING, logger=fail_soft.__name__)
    assert cache.get("greeting", "fallback") == "fallback"
    assert cache.set("greeting", "again", 60) is None
    assert cache.add("other", 1) is False
    assert cache.delete("greeting") is False
    assert cache.get_many(["greeting", "other"]) == {}
    assert cache.set_many({"a": 1, "b": 2}) == ["a", "b"]
    assert cache.has_key("greeting") is False
    assert cache.get_or_set("computed", lambda: 42) == 42
    with pytest.raises(ValueError):
        cache.incr("counter")
    [warning] = cache_warnings(caplog)
    assert warning.startswith(f"Cache {redis_server.url} unavailable (get: ConnectionError: ")
    assert warning.endswith("serving from the database for 5 s")

    # Back up (empty, no persistence): after the rest the cache is used again.
    redis_server.start()
    fail_soft.recover(cache.location)
    cache.set("greeting", "back", 60)
    assert cache.get("greeting") == "back"


def test_a_hung_redis_costs_one_timeout_then_nothing_until_the_rest_is_over(
    redis_server, monkeypatch
):
    monkeypatch.setattr(fail_soft, "REST_SECONDS", 2.0)
    cache = build(redis_cache_settings(redis_server))
    cache.set("greeting", "你好", 60)

    redis_server.pause()
    started = time.monotonic()
    assert cache.get("greeting") is None
    first = time.monotonic() - started
    # One socket timeout (1 s), not the kernel's minutes.
    assert 0.9 <= first < 2.0

    started = time.monotonic()
    for _ in range(50):
        assert cache.get("greeting") is None
        cache.delete("greeting")
    assert time.monotonic() - started < 0.2  # resting: Redis is not asked at all

    redis_server.resume()
    time.sleep(2.1)
    assert cache.get("greeting") == "你好"


def test_pages_answer_from_the_database_while_redis_is_hung(redis_server, world, client, settings):
    settings.CACHES = redis_cache_settings(redis_server)
    client.force_login(world.users[Role.SECRETARY])
    assert client.get("/").status_code == 200

    redis_server.pause()
    durations = []
    for _ in range(5):
        started = time.monotonic()
        response = client.get("/")
        durations.append(time.monotonic() - started)
        assert response.status_code == 200
    # The first page pays one timeout, the next ones none (the cache is resting).
    assert durations[0] < 2.5
    assert max(durations[1:]) < 1.0, durations


def test_a_cache_directory_that_cannot_be_made_fails_soft(tmp_path, caplog):
    # A file where the directory should be: making the directory fails (also for root,
    # who ignores permissions), as it would on a read-only or full file system.
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    caplog.set_level(logging.WARNING, logger=fail_soft.__name__)

    cache = fail_soft.FailSoftFileBasedCache(str(blocker / "cache"), {})
    assert cache.set("greeting", "你好", 60) is None
    assert cache.get("greeting", "fallback") == "fallback"
    assert cache.add("greeting", 1) is False
    assert cache.delete("greeting") is False
    cache.clear()
    [warning] = cache_warnings(caplog)
    assert "NotADirectoryError" in warning


def test_the_cache_is_named_in_logs_without_the_password_of_its_url():
    cache = fail_soft.FailSoftRedisCache("redis://:s3cret@127.0.0.1:6390/2", {})
    assert cache.location == "redis://127.0.0.1:6390/2"
