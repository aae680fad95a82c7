"""Concurrency on PostgreSQL: two workers delivering the same outbox row send it once."""

import time

import pytest
from django.db import connection

from linli.conftest import make_user, run_together
from linli.notify import tasks
from linli.notify.models import Channel, OutboxMessage, OutboxStatus
from linli.notify.services import notification_send

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks are a PostgreSQL matter"
    ),
]


@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_the_same_message_send_it_once(monkeypatch):
    notification_send(
        recipients=[make_user("lead")], kind="case_escalated", title="t", channels=("sms",)
    )
    message = OutboxMessage.objects.get()
    assert message.last_error == tasks.NO_TRANSPORT
    sent: list[int] = []

    def slow_sms(outbox_message):
        # Hold the row lock long enough for the other worker to reach it.
        time.sleep(0.3)
        sent.append(outbox_message.pk)

    monkeypatch.setitem(tasks.CHANNEL_SENDERS, Channel.SMS, slow_sms)

    def deliver():
        tasks.outbox_deliver(message_ids=[message.pk])

    assert run_together(deliver, deliver) == []
    assert sent == [message.pk]
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 1)
