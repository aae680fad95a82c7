"""A real worker process killed (SIGKILL) in the middle of a batch: the outbox shows what it
did, and the sweep finishes the batch, resending only what was in flight, with its key.

The fault probe found that a worker killed mid-batch re-sent the two SMS in flight and the
outbox still showed one attempt. Here a worker process (`outbox_deliver`, as the Celery task
runs it) sends five SMS to a local gateway that holds the third request unanswered; the
test kills the worker there, then a second process runs the sweep.

The processes share the test's database: on PostgreSQL the test database itself; on SQLite
(whose test database lives in memory) a file copy, copied back before the assertions.
"""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from linli.conftest import make_user
from linli.notify.models import Channel, OutboxAttempt, OutboxMessage, OutboxStatus
from linli.notify.services import notification_send
from linli.notify.tasks import INTERRUPTED

pytestmark = [pytest.mark.faults]

# Short, so that the test need not wait two minutes for the dead attempt's hold to end.
ATTEMPT_TIMEOUT_SECONDS = 2
WORKER = """
import django, json
django.setup()
from linli.notify import tasks
ids = json.loads({ids!r})
print(tasks.outbox_deliver(message_ids=ids) if ids else tasks.outbox_retry_pending())
"""


def wait_until(condition, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


@contextmanager
def shared_database(directory: Path):
    """The DATABASE_URL under which other processes see this test's database."""
    database = connection.settings_dict
    if connection.vendor == "postgresql":
        user = database["USER"] or "postgres"
        host = database["HOST"] or "127.0.0.1"
        port = database["PORT"] or 5432
        yield f"postgres://{user}@{host}:{port}/{database['NAME']}"
        return
    copy = directory / "outbox.sqlite3"
    connection.ensure_connection()
    with sqlite3.connect(copy) as target:
        connection.connection.backup(target)
    target.close()
    yield f"sqlite:///{copy}"
    with sqlite3.connect(copy) as source:
        source.backup(connection.connection)
    source.close()


def start_worker(database_url: str, directory: Path, gateway_url: str, ids: list[int]):
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "linli.settings",
        "DATABASE_URL": database_url,
        "LINLI_VAR_DIR": str(directory / "var"),
        "LINLI_SECRET_KEY": settings.SECRET_KEY,
        "LINLI_FIELD_KEY": settings.FIELD_ENCRYPTION_KEY,
        "LINLI_CELERY_BROKER_URL": "memory://",
        "LINLI_SMS_GATEWAY_URL": gateway_url,
        "LINLI_OUTBOX_ATTEMPT_TIMEOUT_SECONDS": str(ATTEMPT_TIMEOUT_SECONDS),
        "LINLI_LOG_FORMAT": "text",
        "no_proxy": "127.0.0.1,localhost",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    environment.pop("LINLI_REDIS_URL", None)
    log = open(directory / f"worker-{len(ids)}-{time.monotonic_ns()}.log", "w")  # noqa: SIM115 - the worker process writes it; closed with the process
    process = subprocess.Popen(
        [sys.executable, "-c", WORKER.format(ids=str(ids))],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    return process, log


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_leaves_a_trace_and_the_sweep_resends_with_the_same_key(
    gateway, tmp_path, settings
):
    # Written with SMS not configured, so that nothing in this process delivers them.
    settings.LINLI_SMS_GATEWAY_URL = ""
    people = []
    for number in range(5):
        person = make_user(f"leader-{number}")
        person.phone = f"1380013800{number}"
        person.save(update_fields=["phone"])
        people.append(person)
    notification_send(
        recipients=people, kind="emergency_task", title="Check building 1", channels=(Channel.SMS,)
    )
    messages = list(OutboxMessage.objects.order_by("id"))
    assert [m.attempts for m in messages] == [0] * 5

    # The third send reaches the gateway and is never answered: the worker dies waiting.
    in_flight = threading.Event()
    release = threading.Event()

    def hold_the_third(request):
        if len(gateway.requests) == 3:
            in_flight.set()
            release.wait(30)

    gateway.on_request = hold_the_third
    gateway_url = f"{gateway.url}/sms/send"

    with shared_database(tmp_path) as database_url:
        worker, log = start_worker(
            database_url, tmp_path, gateway_url, [message.pk for message in messages]
        )
        try:
            wait_until(in_flight.is_set, timeout=60, what="the worker's third send")
            worker.send_signal(signal.SIGKILL)
            assert worker.wait(timeout=10) == -signal.SIGKILL
        finally:
            worker.kill()
            worker.wait()
            log.close()
            release.set()
        assert len(gateway.requests) == 3

        # Past the dead attempt's hold, the sweep (another process) finishes the batch.
        time.sleep(ATTEMPT_TIMEOUT_SECONDS + 0.2)
        sweep, log = start_worker(database_url, tmp_path, gateway_url, [])
        try:
            output, _ = sweep.communicate(timeout=60)
        finally:
            log.close()
        assert sweep.returncode == 0, (tmp_path / log.name).read_text()
        assert output.strip() == "3"

    # Every message delivered; the gateway saw one duplicate, with the same key.
    keys = {str(m.dedupe_key): m for m in OutboxMessage.objects.order_by("id")}
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxStatus.SENT}
    received = [(r.json()["dedupe_key"], r.headers["idempotency-key"]) for r in gateway.requests]
    assert all(body == header for body, header in received)
    assert set(keys) == {key for key, _ in received}
    third = messages[2]
    assert Counter(key for key, _ in received) == {
        str(m.dedupe_key): 2 if m.pk == third.pk else 1 for m in messages
    }
    duplicates = [
        r.json() for r in gateway.requests if r.json()["dedupe_key"] == str(third.dedupe_key)
    ]
    assert duplicates[0] == duplicates[1]

    # The attempts table tells the story: the killed worker's attempt, then the sweep's.
    attempts = {
        message.pk: list(
            OutboxAttempt.objects.filter(message=message)
            .order_by("number")
            .values_list("number", "outcome", "error", "worker")
        )
        for message in messages
    }
    hostname = socket.gethostname()
    first_pid, sweep_pid = f"{hostname}:{worker.pid}", f"{hostname}:{sweep.pid}"
    assert attempts == {
        messages[0].pk: [(1, "sent", "", first_pid)],
        messages[1].pk: [(1, "sent", "", first_pid)],
        third.pk: [(1, "interrupted", INTERRUPTED, first_pid), (2, "sent", "", sweep_pid)],
        messages[3].pk: [(1, "sent", "", sweep_pid)],
        messages[4].pk: [(1, "sent", "", sweep_pid)],
    }
    assert list(OutboxMessage.objects.order_by("id").values_list("attempts", flat=True)) == [
        1,
        1,
        2,
        1,
        1,
    ]
    interrupted = OutboxAttempt.objects.get(message=third, number=1)
    assert interrupted.finished_at is None
