"""Cache backends that fail soft: the cache is an optimisation, never a reason for a 500.

Linli keeps nothing in the cache that the database does not also hold (the live emergencies
of the banner, readiness probes): when the cache cannot be reached every read is a miss and
every write is dropped, and pages and the emergency switch work from the database. Before,
a stopped Redis made the activation's `cache.delete` raise inside its transaction (500, rolled
back) and every logged-in page a 500 (the banner reads the cache).

Two backends, one rule:

- `FailSoftRedisCache` (production, LINLI_REDIS_URL): Django's RedisCache with short socket
  timeouts (settings), so a hung Redis costs a request at most one timeout;
- `FailSoftFileBasedCache` (the embedded default): Django's file cache under var/cache, which
  every process on the machine shares (a full disk or a read-only directory fails soft too).

After a failure the backend rests: for REST_SECONDS every call in this process goes straight
to the fallback, without touching the service. A hung Redis therefore costs one timeout per
process every few seconds, not one per cache call, and the log gets one warning per rest,
not one per page. Reads and writes during a rest are misses and no-ops; an invalidation
(`delete`) lost that way is bounded by the entry's own expiry (the banner's is 30 s).

`incr`/`decr` raise ValueError while the cache is unavailable, as for a key the cache lost,
which callers must handle anyway. Login throttling (django-axes) keeps its state in the
database (AxesDatabaseHandler), not in the cache.
"""

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

# How long a process leaves a failed cache alone before trying it again.
REST_SECONDS = 5.0

# When each cache location may be tried again (time.monotonic()), shared by every thread of
# the process: Django builds one backend instance per thread, and a hung Redis should cost the
# process one timeout per rest, not one per thread.
_resting_until: dict[str, float] = {}
_resting_lock = threading.Lock()


def resting(location: str) -> bool:
    return _resting_until.get(location, 0.0) > time.monotonic()


def rest(location: str, operation: str, error: BaseException) -> None:
    with _resting_lock:
        already = resting(location)
        _resting_until[location] = time.monotonic() + REST_SECONDS
    if not already:
        # Never the value or the key's arguments: the error names the host and the failure.
        logger.warning(
            "Cache %s unavailable (%s: %s: %s); serving from the database for %g s",
            location,
            operation,
            type(error).__name__,
            error,
            REST_SECONDS,
        )


def recover(location: str) -> None:
    """Forget a rest (tests; an operator who fixed the service need not wait)."""
    with _resting_lock:
        _resting_until.pop(location, None)


class FailSoftMixin:
    """Wraps each primitive of a Django cache backend: an `unavailable_errors` exception is
    logged and answered with the fallback a cache miss or a dropped write would give."""

    # Exceptions that mean "the service is unavailable", not "the caller made a mistake".
    unavailable_errors: tuple[type[BaseException], ...] = ()
    # A name for logs and for the rest: the server or directory, never a password.
    location: str = ""

    def _soft(self, operation: str, fallback: Callable[[], Any], call: Callable[[], Any]):
        if resting(self.location):
            return fallback()
        try:
            return call()
        except self.unavailable_errors as error:
            rest(self.location, operation, error)
            return fallback()

    # Each method binds the backend's own (`parent = super()`) before the lambda: zero-argument
    # super() does not work inside a lambda.
    def get(self, key, default=None, version=None):
        parent = super()
        return self._soft("get", lambda: default, lambda: parent.get(key, default, version))

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        parent = super()
        return self._soft("set", lambda: None, lambda: parent.set(key, value, timeout, version))

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        parent = super()
        return self._soft("add", lambda: False, lambda: parent.add(key, value, timeout, version))

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        parent = super()
        return self._soft("touch", lambda: False, lambda: parent.touch(key, timeout, version))

    def delete(self, key, version=None):
        parent = super()
        return self._soft("delete", lambda: False, lambda: parent.delete(key, version))

    def has_key(self, key, version=None):
        parent = super()
        return self._soft("has_key", lambda: False, lambda: parent.has_key(key, version))

    def get_many(self, keys, version=None):
        parent = super()
        return self._soft("get_many", dict, lambda: parent.get_many(keys, version))

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        parent = super()
        # Django's contract: the keys that were not stored.
        return self._soft(
            "set_many", lambda: list(data), lambda: parent.set_many(data, timeout, version)
        )

    def delete_many(self, keys, version=None):
        parent = super()
        return self._soft("delete_many", lambda: None, lambda: parent.delete_many(keys, version))

    def incr(self, key, delta=1, version=None):
        parent = super()

        def missing():
            raise ValueError(f"Key '{key}' not found (the cache is unavailable)")

        return self._soft("incr", missing, lambda: parent.incr(key, delta, version))

    def clear(self):
        parent = super()
        return self._soft("clear", lambda: None, lambda: parent.clear())


def _redis_errors() -> tuple[type[BaseException], ...]:
    import redis.exceptions

    # Refused, reset, timed out, still loading its data, a read-only replica after a
    # fail-over: the service, not the call. OSError: a socket error redis-py did not wrap.
    return (
        redis.exceptions.ConnectionError,
        redis.exceptions.TimeoutError,
        redis.exceptions.ReadOnlyError,
        OSError,
    )


class FailSoftRedisCache(FailSoftMixin, RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self.unavailable_errors = _redis_errors()
        # host:port/db of each server, without a password that a URL may carry.
        self.location = ",".join(_without_password(url) for url in self._servers)


class FailSoftFileBasedCache(FailSoftMixin, FileBasedCache):
    # A full disk, a read-only or missing directory, a file of another user. A missing
    # file is a plain miss, which FileBasedCache handles itself.
    unavailable_errors = (OSError,)

    def __init__(self, dir, params):
        self.location = str(dir)
        try:
            super().__init__(dir, params)
        except OSError as error:
            # The directory could not be made (read-only var directory): every call falls
            # back until it can, since `set` tries to make it again.
            rest(self.location, "create directory", error)


def _without_password(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return parts._replace(netloc=f"{host}{port}").geturl()
