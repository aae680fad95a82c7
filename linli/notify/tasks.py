"""Delivery of outbox messages, one channel sender each.

Senders live in CHANNEL_SENDERS (`channels`, re-exported here): in-app, e-mail, a WeCom
group robot and an SMS gateway. A transport whose settings are missing leaves its
messages pending with the reason, and the periodic sweep delivers them once it is configured.
A failed attempt waits out an exponential back-off before the next; after MAX_ATTEMPTS the
message is failed, and so is one that no retry can deliver (UndeliverableError).
"""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from linli.celery import app
from linli.notify.channels import (
    CHANNEL_SENDERS,  # noqa: F401 - re-exported as tasks.CHANNEL_SENDERS
    DeliveryError,
    UndeliverableError,
    configured_channels,
    sender_for,
)
from linli.notify.models import OutboxMessage, OutboxStatus

logger = logging.getLogger(__name__)

# After this many failed sends a message is marked failed and the sweep leaves it alone.
# Ten attempts with the default back-off (30 s doubling, capped at 1 h) span about three
# hours: a channel outage that long delays messages without losing them.
MAX_ATTEMPTS = 10
NO_TRANSPORT = "no transport configured"


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt: doubling from the base, capped."""
    base = settings.LINLI_OUTBOX_BACKOFF_SECONDS
    cap = settings.LINLI_OUTBOX_BACKOFF_MAX_SECONDS
    # The exponent is bounded: a long-failing message must not build a huge integer.
    return timedelta(seconds=min(cap, base * 2 ** min(attempts - 1, 32)))


def outbox_deliver(*, message_ids: Iterable[int], now: datetime | None = None) -> int:
    """Try each due pending message once; returns how many were sent.

    Each message is delivered in its own transaction with its row locked (skip_locked), so
    two workers, or a worker and the sweep, never send the same message twice. A message
    still waiting out its back-off is left alone. `now` is for tests; by default the clock.
    """
    sent = 0
    # A channel that just failed is not tried again in this run: during an outage a batch
    # costs one timeout, not one per message; the rest wait, untouched, for the next sweep.
    failing_channels: set[str] = set()
    for message_id in list(message_ids):
        current = now or timezone.now()
        with transaction.atomic():
            message = (
                OutboxMessage.objects.due(current)
                # of=self: lock the outbox row only, not the notification and user joined in
                # (a slow gateway must not block a login that updates the user).
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("notification__recipient")
                .filter(pk=message_id)
                .first()
            )
            if message is None or message.channel in failing_channels:
                continue  # sent, failed, not due yet, another worker holds it, channel down
            sender = sender_for(message.channel)
            if sender is None:
                # Not an attempt: nothing was tried, and a transport configured later
                # should find the message untouched.
                if message.last_error != NO_TRANSPORT:
                    message.last_error = NO_TRANSPORT
                    message.save(update_fields=["last_error"])
                continue
            message.attempts += 1
            try:
                sender(message)
            except DeliveryError as error:
                message.last_error = str(error) or error.__class__.__name__
                if isinstance(error, UndeliverableError) or message.attempts >= MAX_ATTEMPTS:
                    message.status = OutboxStatus.FAILED
                    message.next_attempt_at = None
                else:
                    message.next_attempt_at = current + retry_delay(message.attempts)
                if not isinstance(error, UndeliverableError):
                    failing_channels.add(message.channel)
                message.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
                logger.warning(
                    "Outbox message %s (%s) attempt %s failed: %s",
                    message.pk,
                    message.channel,
                    message.attempts,
                    message.last_error,
                )
                continue
            message.status = OutboxStatus.SENT
            message.sent_at = current
            message.last_error = ""
            message.next_attempt_at = None
            message.save(
                update_fields=["attempts", "status", "sent_at", "last_error", "next_attempt_at"]
            )
            sent += 1
    return sent


def outbox_retry_pending(*, batch_size: int = 500, now: datetime | None = None) -> int:
    """The periodic sweep: retry due messages of configured channels, oldest first.

    Returns how many were sent. Messages of a channel without a transport are skipped, so
    that a sweep does not rewrite them every time.
    """
    current = now or timezone.now()
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
    """Hand the messages to Celery; if the broker is down they wait for the sweep."""
    try:
        deliver_outbox.delay(message_ids)
    except Exception:
        # The rows are committed and pending: losing the broker only delays delivery.
        logger.exception("Could not queue outbox delivery; the sweep will retry.")
