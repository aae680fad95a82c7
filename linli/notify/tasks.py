"""Delivery of outbox messages, one channel sender each.

Senders live in CHANNEL_SENDERS (`channels`, re-exported here): in-app, e-mail, a WeCom
group robot and an SMS gateway. A transport whose settings are missing leaves its
messages pending with the reason, and the periodic sweep delivers them once it is configured.
A failed attempt waits out an exponential back-off before the next; after MAX_ATTEMPTS the
message is failed, and so is one that no retry can deliver (UndeliverableError).

What is guaranteed: at-least-once delivery, and a true record of every attempt.

- A message committed to the outbox is tried until it is sent or failed: a broker outage, a
  channel outage or a worker killed in the middle of a batch only delays it.
- Each attempt is claimed and recorded (OutboxAttempt, `attempts` + 1) in its own committed
  transaction BEFORE the send, and closed with its outcome after. No transaction stays open
  while a gateway is called.
- A claim holds the message for LINLI_OUTBOX_ATTEMPT_TIMEOUT_SECONDS (via next_attempt_at):
  no other worker or sweep sends it meanwhile. If the worker dies during the send, the
  message is due again when that runs out; the next attempt marks the dead one interrupted
  and sends again.
- That resend is the one duplicate possible: the first send may have reached the gateway
  before the worker died. Every attempt of a message carries the message's `dedupe_key`, so
  a gateway that deduplicates drops the copy (SMS: the Idempotency-Key header and the
  "dedupe_key" field; e-mail: the Message-ID, which mail clients use to fold copies). A
  WeCom group robot takes no such key: a resend after a crash can post twice to the group.
  A send that takes longer than the timeout may also be sent twice, with the same key.
"""

import logging
import os
import socket
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from linli import clock
from linli.celery import app
from linli.notify.channels import (
    CHANNEL_SENDERS,  # noqa: F401 - re-exported as tasks.CHANNEL_SENDERS
    DeliveryError,
    Sender,
    UndeliverableError,
    configured_channels,
    sender_for,
)
from linli.notify.models import AttemptOutcome, OutboxAttempt, OutboxMessage, OutboxStatus

logger = logging.getLogger(__name__)

# After this many attempts a message is marked failed and the sweep leaves it alone. Ten
# attempts with the default back-off (30 s doubling, capped at 1 h) span about three hours:
# a channel outage that long delays messages without losing them. Interrupted attempts count
# too, so that a message that kills its worker every time ends.
MAX_ATTEMPTS = 10
NO_TRANSPORT = "no transport configured"
INTERRUPTED = "the worker stopped during the send: delivery unknown, sent again"
GAVE_UP = "gave up after %d attempts"


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt: doubling from the base, capped."""
    base = settings.LINLI_OUTBOX_BACKOFF_SECONDS
    cap = settings.LINLI_OUTBOX_BACKOFF_MAX_SECONDS
    # The exponent is bounded: a long-failing message must not build a huge integer.
    return timedelta(seconds=min(cap, base * 2 ** min(attempts - 1, 32)))


def attempt_timeout() -> timedelta:
    """How long a claimed attempt holds its message before another may try again."""
    return timedelta(seconds=settings.LINLI_OUTBOX_ATTEMPT_TIMEOUT_SECONDS)


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def _claim(
    message_id: int, current: datetime, failing_channels: set[str]
) -> tuple[OutboxMessage, OutboxAttempt, Sender] | None:
    """Record the next attempt at a due message and hold the message for it; committed
    before anything is sent. None when there is nothing to try now."""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.due(current)
            # of=self: lock the outbox row only, not the notification and user joined in.
            # skip_locked: another worker claiming it right now has it.
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("notification__recipient")
            .filter(pk=message_id)
            .first()
        )
        if message is None or message.channel in failing_channels:
            return None  # sent, failed, not due yet, held by an attempt, channel down
        sender = sender_for(message.channel)
        if sender is None:
            # Not an attempt: nothing was tried, and a transport configured later
            # should find the message untouched.
            if message.last_error != NO_TRANSPORT:
                message.last_error = NO_TRANSPORT
                message.save(update_fields=["last_error"])
            return None
        if message.attempts:
            # Due with an attempt still open: its worker died (or overran the timeout).
            interrupted = message.delivery_attempts.filter(outcome=AttemptOutcome.STARTED)
            if interrupted.update(outcome=AttemptOutcome.INTERRUPTED, error=INTERRUPTED):
                message.last_error = INTERRUPTED
        if message.attempts >= MAX_ATTEMPTS:
            message.status = OutboxStatus.FAILED
            message.next_attempt_at = None
            message.last_error = GAVE_UP % message.attempts
            message.save(update_fields=["status", "next_attempt_at", "last_error"])
            return None
        message.attempts += 1
        # The hold: due again only if this attempt has not answered by then.
        message.next_attempt_at = current + attempt_timeout()
        message.save(update_fields=["attempts", "next_attempt_at", "last_error"])
        attempt = OutboxAttempt.objects.create(
            message=message, number=message.attempts, started_at=current, worker=_worker_name()
        )
    return message, attempt, sender


def _finish(attempt: OutboxAttempt, finished: datetime, error: DeliveryError | None) -> None:
    """Close the attempt with its outcome and move the message on; its own transaction."""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(of=("self",))
            .filter(pk=attempt.message_id)
            .first()
        )
        if message is None:
            return  # deleted meanwhile (its notification or recipient), attempts with it
        attempt.finished_at = finished
        if error is None:
            attempt.outcome = AttemptOutcome.SENT
            # Sent is sent, also when a later attempt took over after this one overran.
            if message.status != OutboxStatus.SENT:
                message.status = OutboxStatus.SENT
                message.sent_at = finished
                message.last_error = ""
                message.next_attempt_at = None
                message.save(update_fields=["status", "sent_at", "last_error", "next_attempt_at"])
        else:
            undeliverable = isinstance(error, UndeliverableError)
            attempt.outcome = AttemptOutcome.REFUSED if undeliverable else AttemptOutcome.FAILED
            attempt.error = str(error) or error.__class__.__name__
            # Only the latest attempt decides what comes next: a late answer to an attempt
            # that another has since replaced is kept on its own row.
            if message.status == OutboxStatus.PENDING and message.attempts == attempt.number:
                message.last_error = attempt.error
                if undeliverable or message.attempts >= MAX_ATTEMPTS:
                    message.status = OutboxStatus.FAILED
                    message.next_attempt_at = None
                else:
                    message.next_attempt_at = finished + retry_delay(message.attempts)
                message.save(update_fields=["last_error", "status", "next_attempt_at"])
        attempt.save(update_fields=["finished_at", "outcome", "error"])


def outbox_deliver(*, message_ids: Iterable[int], now: datetime | None = None) -> int:
    """Try each due pending message once; returns how many were sent.

    Each attempt is claimed in one transaction, sent outside any, and recorded in another
    (see the module's docstring), so two workers, or a worker and the sweep, never send the
    same message at once. A message still waiting out its back-off, or held by an attempt
    under way, is left alone. `now` is for tests; by default the clock.
    """
    sent = 0
    # A channel that just failed is not tried again in this run: during an outage a batch
    # costs one timeout, not one per message; the rest wait, untouched, for the next sweep.
    failing_channels: set[str] = set()
    for message_id in list(message_ids):
        claimed = _claim(message_id, now or clock.now(), failing_channels)
        if claimed is None:
            continue
        message, attempt, sender = claimed
        try:
            sender(message)
        except DeliveryError as error:
            _finish(attempt, now or clock.now(), error)
            if not isinstance(error, UndeliverableError):
                failing_channels.add(message.channel)
            logger.warning(
                "Outbox message %s (%s) attempt %s failed: %s",
                message.pk,
                message.channel,
                attempt.number,
                attempt.error,
            )
            continue
        except Exception as error:
            # A fault in a sender, not in the channel: recorded and retried with back-off
            # like a failure (failed for good after MAX_ATTEMPTS), and the batch goes on.
            reason = DeliveryError(f"unexpected {type(error).__name__}: {error}")
            _finish(attempt, now or clock.now(), reason)
            logger.exception(
                "Outbox message %s (%s) attempt %s raised",
                message.pk,
                message.channel,
                attempt.number,
            )
            continue
        _finish(attempt, now or clock.now(), None)
        sent += 1
    return sent


def outbox_retry_pending(*, batch_size: int = 500, now: datetime | None = None) -> int:
    """The periodic sweep: retry due messages of configured channels, oldest first.

    Returns how many were sent. Messages of a channel without a transport are skipped, so
    that a sweep does not rewrite them every time.
    """
    current = now or clock.now()
    ids = list(
        OutboxMessage.objects.due(current)
        .filter(channel__in=configured_channels())
        .order_by("created_at", "id")
        .values_list("id", flat=True)[:batch_size]
    )
    return outbox_deliver(message_ids=ids, now=current)


@app.task(name="notify.deliver_outbox")
def deliver_outbox(message_ids: list[int]) -> int:
    return outbox_deliver(message_ids=message_ids)


@app.task(name="notify.retry_outbox")
def retry_outbox() -> int:
    return outbox_retry_pending()


def deliver_outbox_later(message_ids: list[int]) -> None:
    """Hand the messages to Celery; if the broker is down or hung they wait for the sweep.

    Runs on commit of a web request: one try, bounded by the broker's timeouts
    (LINLI_REDIS_TIMEOUT_SECONDS), no publish retries. The rows are committed already, so a
    broker that does not answer costs this request about one timeout, not the delivery.
    """
    try:
        deliver_outbox.apply_async((message_ids,), retry=False)
    except Exception:
        # The rows are committed and pending: losing the broker only delays delivery.
        logger.exception("Could not queue outbox delivery; the sweep will retry.")


@app.task(name="notify.send_digests")
def send_digests() -> int:
    """The daily digest of held messages (NotificationPreference.daily_digest)."""
    # Imported here: services imports this module (deliver_outbox_later).
    from linli.notify.services import digests_send

    return digests_send()
