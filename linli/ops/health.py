"""Readiness: can this process serve requests fully right now?

Each check is a small function that returns a `Check`; any exception inside one is that
check failing, with the exception as its detail. Checks of services outside the database
(cache, broker) run in threads of their own, side by side, each with a deadline, so a hung
Redis makes /readyz answer 503 in about LINLI_READYZ_TIMEOUT_SECONDS instead of hanging the
monitor and a server thread.
"""

import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from linli.ops.logging import redact


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def describe(error: BaseException) -> str:
    message = str(error).strip().splitlines()
    text = f"{type(error).__name__}: {message[0]}" if message else type(error).__name__
    return redact(text)[:300]


def database_check() -> Check:
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        first, _backwards = plan[0]
        return Check(
            "database",
            False,
            f"{len(plan)} unapplied migration(s), first {first.app_label}.{first.name}: "
            "run `linli migrate`",
        )
    return Check("database", True, f"{connection.vendor}, migrations applied")


def cache_check() -> Check:
    cache = caches["default"]
    key = f"linli:readyz:{uuid.uuid4().hex}"
    value = uuid.uuid4().hex
    cache.set(key, value, timeout=30)
    try:
        read = cache.get(key)
    finally:
        cache.delete(key)
    if read != value:
        return Check("cache", False, "a value written was not read back (unreachable or full?)")
    return Check("cache", True, type(cache).__name__)


def broker_check(timeout: float) -> Check:
    url = settings.CELERY_BROKER_URL
    if url.startswith("memory://"):
        return Check("broker", True, "none configured: background tasks run in-process")
    from kombu import Connection

    options = {"socket_timeout": timeout, "socket_connect_timeout": timeout, "max_retries": 0}
    with Connection(url, connect_timeout=timeout, transport_options=options) as connection:
        connection.ensure_connection(max_retries=0, timeout=timeout)
    return Check("broker", True, f"{connection.transport_cls} reachable")


def scheduler_check() -> Check:
    from linli.ops.scheduling import scheduler_readiness

    readiness = scheduler_readiness()
    return Check("scheduler", readiness.ok, readiness.detail)


def disk_check() -> Check:
    minimum = settings.LINLI_READYZ_MIN_FREE_DISK_MB
    free = shutil.disk_usage(settings.VAR_DIR).free // (1024 * 1024)
    detail = f"{free} MB free under the var directory (minimum {minimum} MB)"
    return Check("disk", free >= minimum, detail)


def guarded(name: str, check: Callable[[], Check]) -> Check:
    try:
        return check()
    except Exception as error:
        return Check(name, False, describe(error))


def with_deadlines(checks: list[tuple[str, Callable[[], Check], float]]) -> list[Check]:
    """Each check in its own daemon thread, all at once, each with its own deadline: a hung
    service leaves a thread behind, never the caller, and slow ones do not add up."""
    outcomes: dict[str, Check] = {}

    def run(name: str, check: Callable[[], Check]) -> None:
        try:
            outcomes[name] = guarded(name, check)
        finally:
            connections.close_all()  # This thread's own connections, if the check made any.

    started = time.monotonic()
    workers = []
    for name, check, seconds in checks:
        worker = threading.Thread(target=run, args=(name, check), name=f"readyz-{name}")
        worker.daemon = True
        worker.start()
        workers.append((name, worker, seconds))
    results = []
    for name, worker, seconds in workers:
        worker.join(max(0.0, started + seconds - time.monotonic()))
        if name in outcomes:
            results.append(outcomes[name])
        else:
            results.append(Check(name, False, f"no answer within {seconds:g} s"))
    return results


def readiness_checks() -> list[Check]:
    timeout = settings.LINLI_READYZ_TIMEOUT_SECONDS
    # The broker's own timeouts come first; its deadline is the backstop.
    cache, broker = with_deadlines(
        [("cache", cache_check, timeout), ("broker", lambda: broker_check(timeout), timeout + 1)]
    )
    return [
        guarded("database", database_check),
        cache,
        broker,
        guarded("scheduler", scheduler_check),
        guarded("disk", disk_check),
    ]
