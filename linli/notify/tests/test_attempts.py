"""Every delivery attempt is recorded, committed before the send; an attempt whose worker died
holds its message for LINLI_OUTBOX_ATTEMPT_TIMEOUT_SECONDS, then the message is sent again
with the same dedupe key.

A worker dying in the middle of a send is played here by a sender that hands the message to
the gateway and then raises SystemExit (nothing in the outbox catches it, as nothing catches
SIGKILL); test_worker_killed.py kills a real worker process.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connections

from linli.conftest import make_user
from linli.notify import tasks
from linli.notify.channels import SmsSender
from linli.notify.models import AttemptOutcome, Channel, OutboxAttempt, OutboxMessage, OutboxStatus
from linli.notify.services import notification_send
from linli.notify.tasks import INTERRUPTED, MAX_ATTEMPTS, outbox_deliver, outbox_retry_pending

T0 = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
TIMEOUT = timedelta(seconds=120)


@pytest.fixture
def sms(settings, gateway):
    settings.LINLI_SMS_GATEWAY_URL = f"{gateway.url}/sms/send"
    settings.LINLI_OUTBOX_ATTEMPT_TIMEOUT_SECONDS = TIMEOUT.total_seconds()
    return gateway


def pending_sms(username: str = "lead") -> OutboxMessage:
    """An SMS in the outbox; inside a test's transaction not yet tried (nothing commits)."""
    user = make_user(username)
    user.phone = "13800138000"
    user.save(update_fields=["phone"])
    notification_send(
        recipients=[user], kind="case_escalated", title="Case 7 escalated", channels=(Channel.SMS,)
    )
    return OutboxMessage.objects.get(notification__recipient=user)


def attempts_of(message: OutboxMessage) -> list[tuple]:
    return list(
        OutboxAttempt.objects.filter(message=message)
        .order_by("number")
        .values_list("number", "outcome", "started_at", "finished_at", "error")
    )


class WorkerDied(SystemExit):
    pass


def dies_after_sending(message):
    """Hand the message to the gateway, then die before the answer is recorded."""
    SmsSender()(message)
    raise WorkerDied


def test_each_attempt_is_recorded_with_its_times_and_outcome(db, sms):
    message = pending_sms()
    sms.answer_with((503, b""), (503, b""))

    assert outbox_deliver(message_ids=[message.pk], now=T0) == 0
    assert outbox_deliver(message_ids=[message.pk], now=T0 + timedelta(seconds=30)) == 0
    assert outbox_deliver(message_ids=[message.pk], now=T0 + timedelta(seconds=90)) == 1

    unavailable = "127.0.0.1 answered HTTP 503"
    assert attempts_of(message) == [
        (1, "failed", T0, T0, unavailable),
        (2, "failed", T0 + timedelta(seconds=30), T0 + timedelta(seconds=30), unavailable),
        (3, "sent", T0 + timedelta(seconds=90), T0 + timedelta(seconds=90), ""),
    ]
    message.refresh_from_db()
    assert (message.status, message.attempts, message.sent_at) == (
        OutboxStatus.SENT,
        3,
        T0 + timedelta(seconds=90),
    )
    # Every attempt carried the same key.
    assert {request.headers["idempotency-key"] for request in sms.requests} == {
        str(message.dedupe_key)
    }


@pytest.mark.django_db(transaction=True)
def test_the_attempt_is_committed_before_the_gateway_is_called(sms):
    seen_by_gateway: list = []

    def look_from_another_connection(request):
        # The gateway's thread has its own database connection: it sees committed rows only.
        try:
            seen_by_gateway.append(
                (
                    list(OutboxAttempt.objects.values_list("number", "outcome")),
                    OutboxMessage.objects.values_list("attempts", flat=True).get(),
                )
            )
        finally:
            connections.close_all()

    sms.on_request = look_from_another_connection
    # Outside a test transaction the send is delivered on commit, as in production.
    message = pending_sms()

    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert seen_by_gateway == [([(1, "started")], 1)]
    assert list(OutboxAttempt.objects.values_list("number", "outcome")) == [(1, "sent")]


def test_a_worker_dying_mid_send_holds_the_message_until_the_timeout_then_it_is_resent(
    db, sms, monkeypatch
):
    message = pending_sms()
    other = pending_sms("other")
    with monkeypatch.context() as patch, pytest.raises(WorkerDied):
        patch.setitem(tasks.CHANNEL_SENDERS, Channel.SMS, dies_after_sending)
        outbox_deliver(message_ids=[message.pk, other.pk], now=T0)

    # The trace the dead worker left: one attempt, started and never finished.
    message.refresh_from_db()
    assert (message.status, message.attempts, message.next_attempt_at) == (
        OutboxStatus.PENDING,
        1,
        T0 + TIMEOUT,
    )
    assert attempts_of(message) == [(1, "started", T0, None, "")]
    assert attempts_of(other) == []

    # While the attempt may still be under way, no sweep sends the message again.
    assert outbox_retry_pending(now=T0 + TIMEOUT - timedelta(seconds=1)) == 1  # `other` only
    assert [r.json()["dedupe_key"] for r in sms.requests] == [
        str(message.dedupe_key),
        str(other.dedupe_key),
    ]

    # After the timeout it is sent again, with the same key; the dead attempt says so.
    assert outbox_retry_pending(now=T0 + TIMEOUT) == 1
    assert [r.json()["dedupe_key"] for r in sms.requests][2:] == [str(message.dedupe_key)]
    assert attempts_of(message) == [
        (1, "interrupted", T0, None, INTERRUPTED),
        (2, "sent", T0 + TIMEOUT, T0 + TIMEOUT, ""),
    ]
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (OutboxStatus.SENT, 2, "")


def test_a_late_answer_from_an_attempt_that_overran_does_not_undo_the_next(db, sms):
    message = pending_sms()
    # Attempt 1 is claimed and its worker hangs past the timeout; attempt 2 takes over.
    claimed = tasks._claim(message.pk, T0, set())
    assert claimed is not None
    assert outbox_deliver(message_ids=[message.pk], now=T0 + TIMEOUT) == 1

    # Attempt 1's gateway call finally fails: recorded on its row, the message stays sent.
    _, first_attempt, _ = claimed
    tasks._finish(first_attempt, T0 + TIMEOUT * 2, tasks.DeliveryError("timed out"))

    message.refresh_from_db()
    assert (message.status, message.attempts, message.sent_at) == (
        OutboxStatus.SENT,
        2,
        T0 + TIMEOUT,
    )
    assert [row[:2] + row[4:] for row in attempts_of(message)] == [
        (1, "failed", "timed out"),
        (2, "sent", ""),
    ]


def test_a_message_that_kills_its_worker_every_time_fails_after_the_last_attempt(
    db, sms, monkeypatch
):
    message = pending_sms()
    monkeypatch.setitem(tasks.CHANNEL_SENDERS, Channel.SMS, dies_after_sending)
    now = T0
    for _ in range(MAX_ATTEMPTS):
        with pytest.raises(WorkerDied):
            outbox_retry_pending(now=now)
        now += TIMEOUT

    assert outbox_retry_pending(now=now) == 0
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (
        OutboxStatus.FAILED,
        MAX_ATTEMPTS,
        f"gave up after {MAX_ATTEMPTS} attempts",
    )
    assert (
        list(message.delivery_attempts.values_list("outcome", flat=True))
        == [AttemptOutcome.INTERRUPTED] * MAX_ATTEMPTS
    )
    assert len(sms.requests) == MAX_ATTEMPTS
    assert {request.json()["dedupe_key"] for request in sms.requests} == {str(message.dedupe_key)}


def test_a_fault_in_a_sender_is_recorded_and_the_batch_goes_on(db, sms, monkeypatch, caplog):
    broken, fine = pending_sms(), pending_sms("other")

    def sender(message):
        if message.pk == broken.pk:
            raise RuntimeError("boom")
        SmsSender()(message)

    monkeypatch.setitem(tasks.CHANNEL_SENDERS, Channel.SMS, sender)
    assert outbox_deliver(message_ids=[broken.pk, fine.pk], now=T0) == 1

    assert attempts_of(broken) == [(1, "failed", T0, T0, "unexpected RuntimeError: boom")]
    broken.refresh_from_db()
    assert (broken.status, broken.next_attempt_at) == (
        OutboxStatus.PENDING,
        T0 + timedelta(seconds=30),
    )
    assert [r.json()["dedupe_key"] for r in sms.requests] == [str(fine.dedupe_key)]
    assert f"Outbox message {broken.pk} (sms) attempt 1 raised" in caplog.text
