"""Concurrency on PostgreSQL: two workers delivering the same outbox row send it once."""

import threading

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
    claim_held = threading.Event()  # a worker has claimed the message and is sending it
    other_worker_tried = threading.Event()  # the other worker has tried it meanwhile

    def sms_sent_after_the_other_worker_tried(outbox_message):
        claim_held.set()
        # No timing: the claim is held until the other worker has tried the message. If
        # both claim it (the race lost), both senders wait here, each sends when the wait
        # times out, and the message goes out twice.
        other_worker_tried.wait(timeout=10)
        sent.append(outbox_message.pk)

    monkeypatch.setitem(tasks.CHANNEL_SENDERS, Channel.SMS, sms_sent_after_the_other_worker_tried)

    def deliver():
        if tasks.outbox_deliver(message_ids=[message.pk]) == 0:
            # Refused at once (the row locked by the other's claim, or already held): try
            # again, as the sweep would, while the other worker holds its claim.
            claim_held.wait(timeout=10)
            tasks.outbox_deliver(message_ids=[message.pk])
            other_worker_tried.set()

    assert run_together(deliver, deliver) == []
    assert sent == [message.pk]
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 1)
