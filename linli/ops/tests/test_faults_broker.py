"""A hung Redis broker does not stall the web: a send costs about one timeout, and what it
carried waits in the outbox for the sweep.

The fault probe found that broker sends had no timeout: ten dispatches against a paused
(SIGSTOP) Redis took all eight gunicorn threads and an unrelated API call waited 30 s. Here a
real redis-server of the test's own is paused, and Celery is configured exactly as
settings.py configures a deployment with LINLI_CELERY_BROKER_URL=redis://….
"""

import logging
import threading
import time

import pytest
import redis

from linli.notify import tasks
from linli.ops.tests.services import (
    celery_on,
    needs_redis_server,
    production_settings,
    running_redis,
)

pytestmark = [pytest.mark.faults, needs_redis_server]

QUEUED_LATER = "Could not queue outbox delivery; the sweep will retry."


@pytest.fixture
def broker(tmp_path):
    with running_redis(tmp_path) as server:
        production = production_settings(LINLI_CELERY_BROKER_URL=server.url)
        with celery_on(server.url, **production):
            yield server


def queued(server) -> int:
    return redis.Redis.from_url(server.url, socket_timeout=2).llen("celery")


def test_the_redis_deployment_gives_the_broker_short_timeouts():
    production = production_settings(LINLI_CELERY_BROKER_URL="redis://127.0.0.1:6379/0")
    assert production["CELERY_BROKER_CONNECTION_TIMEOUT"] == 1
    assert production["CELERY_BROKER_TRANSPORT_OPTIONS"] == {
        "socket_connect_timeout": 1,
        "socket_timeout": 1,
    }


def test_ten_sends_to_a_hung_broker_each_give_up_after_about_one_timeout(broker, caplog):
    caplog.set_level(logging.WARNING, logger=tasks.__name__)
    tasks.deliver_outbox_later([1])
    assert queued(broker) == 1

    broker.pause()
    durations: list[float] = []
    start = threading.Barrier(10)

    def send(number: int) -> None:
        start.wait()
        began = time.monotonic()
        tasks.deliver_outbox_later([number])
        durations.append(time.monotonic() - began)

    threads = [threading.Thread(target=send, args=(number,)) for number in range(10)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    elapsed = time.monotonic() - began

    assert len(durations) == 10, "a send is still hanging"
    # One socket timeout (1 s) each, side by side: not the 30 s and more found before.
    assert max(durations) < 2.5, durations
    assert elapsed < 3.0
    warnings = [r.getMessage() for r in caplog.records if r.name == tasks.__name__]
    assert warnings == [QUEUED_LATER] * 10

    broker.resume()
    caplog.clear()
    tasks.deliver_outbox_later([11])
    assert [r.getMessage() for r in caplog.records if r.name == tasks.__name__] == []
    # The first send, the one after; and maybe some of the ten, which Redis may have read
    # from its socket after it woke (an ambiguous outcome: delivery is idempotent).
    assert 2 <= queued(broker) <= 12
