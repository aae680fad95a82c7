"""A real Redis outage: notifications sent while the broker is down arrive once it is back.

A private redis-server (no persistence) on a free local port is the Celery broker; Celery runs
non-eager for these tests, with an in-process worker. The sequence is the one operators
rely on: stop Redis, send (in a committed transaction), start Redis, and every message is
delivered exactly once.
"""

import importlib.util
import os
from collections import Counter

import kombu.pools
import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import transaction

from linli.celery import app
from linli.conftest import make_user
from linli.notify import tasks
from linli.notify.models import Channel, OutboxMessage, OutboxStatus
from linli.notify.services import notification_send
from linli.ops.tests.services import REDIS_SERVER, RedisServer, wait_until

pytestmark = [
    pytest.mark.skipif(
        not os.access(REDIS_SERVER, os.X_OK),
        reason="redis-server is not installed (Debian: apt-get install redis-server)",
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("redis") is None,
        reason="the redis client library is not installed (pip install 'celery[redis]')",
    ),
]


def reset_broker_connections() -> None:
    # Kombu keeps connection and producer pools per broker URL in process-wide registries,
    # and the app holds on to the ones it used: close and forget them all, so that the
    # next task sent (eagerly, or to the next test's Redis) starts from fresh pools.
    kombu.pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        # Also when the test failed: no redis-server outlives its test.
        server.stop()


@pytest.fixture
def celery_on_redis(redis_server):
    """Celery as in production: tasks go through the Redis broker, not eagerly in-process."""
    keys = (
        "broker_url",
        "task_always_eager",
        "worker_hijack_root_logger",
        "broker_connection_retry_on_startup",
        "task_publish_retry_policy",
    )
    saved = {key: app.conf[key] for key in keys}
    app.conf.update(
        broker_url=redis_server.url,
        task_always_eager=False,
        # The in-process worker must leave pytest's logging alone.
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=False,
        # Fail fast while the broker is down (production keeps Celery's default retries).
        task_publish_retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.1},
    )
    reset_broker_connections()
    try:
        yield redis_server
    finally:
        reset_broker_connections()
        app.conf.update(saved)


@pytest.fixture
def counting_sms(monkeypatch):
    """A fake SMS transport that counts how often each message was handed over."""
    sent: Counter[int] = Counter()

    def deliver(message):
        sent[message.pk] += 1

    monkeypatch.setitem(tasks.CHANNEL_SENDERS, Channel.SMS, deliver)
    return sent


@pytest.fixture
def finished_tasks():
    """Names of the tasks the worker has finished, in order."""
    names: list[str] = []

    def record(sender=None, **kwargs):
        names.append(sender.name)

    task_postrun.connect(record, weak=False)
    try:
        yield names
    finally:
        task_postrun.disconnect(record)


@pytest.mark.django_db(transaction=True)
def test_messages_sent_while_redis_is_down_arrive_once_after_it_is_back(
    celery_on_redis, counting_sms, finished_tasks, caplog
):
    redis_server = celery_on_redis
    recipients = [make_user(f"leader-{number}") for number in range(3)]

    redis_server.stop()
    with transaction.atomic():
        notification_send(
            recipients=recipients,
            kind="emergency_activated",
            title="Emergency operation activated",
            channels=(Channel.INAPP, Channel.SMS),
        )
        notification_send(
            recipients=recipients[:1],
            kind="emergency_task",
            title="Check on building 1",
            channels=(Channel.INAPP, Channel.SMS),
        )

    # Committed, nothing delivered, nothing lost: the broker refused both delivery tasks.
    assert [record.getMessage() for record in caplog.records if record.name == tasks.__name__] == [
        "Could not queue outbox delivery; the sweep will retry."
    ] * 2
    messages = list(OutboxMessage.objects.order_by("id"))
    assert len(messages) == 8
    assert {(m.status, m.attempts) for m in messages} == {(OutboxStatus.PENDING, 0)}
    assert counting_sms == Counter()

    redis_server.start()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        # Beat's periodic sweep, sent through the broker to the worker.
        tasks.retry_outbox.delay()
        wait_until(lambda: len(finished_tasks) == 1, timeout=30, what="the sweep")
        assert not OutboxMessage.objects.pending().exists()
        # A second sweep and a repeated delivery task change nothing.
        tasks.retry_outbox.delay()
        tasks.deliver_outbox.delay([message.pk for message in messages])
        wait_until(lambda: len(finished_tasks) == 3, timeout=30, what="two more tasks")

    assert finished_tasks == ["notify.retry_outbox", "notify.retry_outbox", "notify.deliver_outbox"]

    sms_ids = [m.pk for m in messages if m.channel == Channel.SMS]
    assert counting_sms == Counter(dict.fromkeys(sms_ids, 1))
    assert (
        sorted(OutboxMessage.objects.values_list("status", "attempts", "last_error"))
        == [(OutboxStatus.SENT, 1, "")] * 8
    )


@pytest.mark.django_db(transaction=True)
def test_with_redis_up_the_worker_delivers_right_after_commit(
    celery_on_redis, counting_sms, finished_tasks
):
    leader = make_user("leader")

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        with transaction.atomic():
            notification_send(
                recipients=[leader],
                kind="emergency_activated",
                title="Emergency operation activated",
                channels=(Channel.INAPP, Channel.SMS),
            )
        wait_until(lambda: len(finished_tasks) == 1, timeout=30, what="the delivery task")

    assert finished_tasks == ["notify.deliver_outbox"]
    sms = OutboxMessage.objects.get(channel=Channel.SMS)
    assert counting_sms == Counter({sms.pk: 1})
    assert (sms.status, sms.attempts) == (OutboxStatus.SENT, 1)
