"""/healthz and /readyz: liveness that needs nothing outside the process, readiness that
names what is down, with real services (a database server that is not there, a throw-away
Redis stopped and paused)."""

import json
import time

import pytest
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client

from linli.ops import scheduling
from linli.ops.scheduling import Readiness
from linli.ops.tests.support import captured_logs, throwaway_redis, with_database_unreachable

CHECKS = ["database", "cache", "broker", "scheduler", "disk"]


@pytest.fixture
def scheduler_ready(monkeypatch):
    # The scheduler's own readiness is the jobs module's (tested there); here it answers as a
    # scheduler with a fresh heartbeat would, so that the other checks decide.
    monkeypatch.setattr(
        scheduling, "scheduler_readiness", lambda: Readiness(ok=True, detail="heartbeat 4 s ago")
    )


def readyz(client=None, **headers):
    response = (client or Client()).get("/readyz", **headers)
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    return response.status_code, json.loads(response.content)


def test_healthz_answers_ok_without_touching_the_database(client):
    # No `db` fixture: pytest-django refuses any database access, so a query would be a 500.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok"}
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]


def test_healthz_stays_200_and_readyz_names_the_database_when_it_is_unreachable(
    db, tmp_path, scheduler_ready
):
    def both():
        client = Client()
        return client.get("/healthz"), readyz(client)

    health, (status, body) = with_database_unreachable(both, tmp_path)
    assert health.status_code == 200
    assert json.loads(health.content) == {"status": "ok"}
    assert status == 503
    assert body["status"] == "fail"
    assert body["failing"] == ["database"]
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["database"]["detail"].startswith("OperationalError: ")


def test_readyz_is_200_when_every_check_passes(db, scheduler_ready):
    status, body = readyz()
    assert status == 200
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert list(body["checks"]) == CHECKS
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["database"]["detail"].endswith("migrations applied")
    assert body["checks"]["scheduler"]["detail"] == "heartbeat 4 s ago"
    assert "MB free under the var directory" in body["checks"]["disk"]["detail"]


def test_readyz_names_an_unapplied_migration(db, scheduler_ready):
    last = MigrationRecorder.Migration.objects.filter(app="cases").latest("id")
    last.delete()
    status, body = readyz()
    assert status == 503
    assert body["failing"] == ["database"]
    detail = body["checks"]["database"]["detail"]
    assert detail.startswith("1 unapplied migration(s), first cases.")
    assert last.name in detail
    assert "linli migrate" in detail


def test_a_scheduler_check_that_raises_fails_with_the_error_as_detail(db, monkeypatch):
    def broken():
        raise RuntimeError("no heartbeat table")

    monkeypatch.setattr(scheduling, "scheduler_readiness", broken)
    status, body = readyz()
    assert status == 503
    assert body["failing"] == ["scheduler"]
    assert body["checks"]["scheduler"] == {
        "ok": False,
        "detail": "RuntimeError: no heartbeat table",
    }


def test_a_late_job_fails_readiness(db, monkeypatch):
    monkeypatch.setattr(
        scheduling,
        "scheduler_readiness",
        lambda: Readiness(ok=False, detail="cases.escalate_overdue is 40 minutes late"),
    )
    with captured_logs() as stream:
        status, body = readyz()
    assert status == 503
    assert body["failing"] == ["scheduler"]
    assert body["checks"]["scheduler"]["detail"] == "cases.escalate_overdue is 40 minutes late"
    # One request line; no "Service Unavailable" error line at every poll of a monitor.
    [entry] = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert (entry["logger"], entry["route"], entry["status"]) == ("linli.request", "readyz", 503)


def test_readyz_fails_when_free_disk_is_below_the_threshold(db, settings, scheduler_ready):
    settings.LINLI_READYZ_MIN_FREE_DISK_MB = 10**12  # An exabyte: never free.
    status, body = readyz()
    assert status == 503
    assert body["failing"] == ["disk"]
    assert body["checks"]["disk"]["detail"].endswith("(minimum 1000000000000 MB)")


def test_callers_elsewhere_learn_which_checks_fail_but_not_why(db, settings, monkeypatch):
    monkeypatch.setattr(
        scheduling, "scheduler_readiness", lambda: Readiness(ok=False, detail="secret detail")
    )
    settings.LINLI_METRICS_TOKEN = "monitor-token-123456"
    remote = Client(REMOTE_ADDR="203.0.113.9")
    status, body = readyz(remote)
    assert status == 503
    assert body["failing"] == ["scheduler"]
    assert body["checks"]["scheduler"] == {"ok": False}
    assert all(set(check) == {"ok"} for check in body["checks"].values())
    # Through a proxy on this machine, too; the token shows the details.
    assert readyz(HTTP_X_FORWARDED_FOR="203.0.113.9")[1]["checks"]["scheduler"] == {"ok": False}
    status, body = readyz(remote, HTTP_AUTHORIZATION="Bearer monitor-token-123456")
    assert body["checks"]["scheduler"] == {"ok": False, "detail": "secret detail"}


@pytest.fixture
def redis_everywhere(settings, tmp_path):
    """A throw-away Redis as the cache and the broker."""
    with throwaway_redis(tmp_path) as redis:
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": redis.url,
            }
        }
        settings.CELERY_BROKER_URL = redis.url
        # Generous enough for the first use of the Redis client libraries on a busy machine.
        settings.LINLI_READYZ_TIMEOUT_SECONDS = 3
        yield redis


def test_readyz_with_redis_up_stopped_and_paused(db, scheduler_ready, redis_everywhere):
    status, body = readyz()
    assert (status, body["failing"]) == (200, []), body
    assert body["checks"]["cache"]["detail"] == "RedisCache"
    assert body["checks"]["broker"]["detail"] == "redis reachable"

    # Paused (SIGSTOP): connections are accepted by the kernel and never answered.
    redis_everywhere.pause()
    started = time.monotonic()
    status, body = readyz()
    elapsed = time.monotonic() - started
    assert (status, body["failing"]) == (503, ["cache", "broker"]), body
    assert body["checks"]["cache"]["detail"] == "no answer within 3 s"
    assert body["checks"]["database"]["ok"] is True
    # Cache and broker wait side by side, 3 s each: not the sum, nor a hung client's forever.
    assert elapsed < 7, elapsed

    redis_everywhere.stop()
    started = time.monotonic()
    status, body = readyz()
    assert time.monotonic() - started < 5
    assert (status, body["failing"]) == (503, ["cache", "broker"]), body
    assert body["checks"]["cache"]["detail"].startswith("ConnectionError: "), body
    assert body["checks"]["broker"]["detail"].startswith("OperationalError: "), body
