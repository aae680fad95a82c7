"""Delivery of outbox messages, one channel sender each.

Senders live in CHANNEL_SENDERS so that a later transport (SMS gateway, WeChat template
messages, e-mail) plugs in by adding one entry; until then its messages stay pending with
the reason, and the periodic sweep delivers them once the transport exists.
"""

import logging
from collections.abc import Callable, Iterable

from django.db import transaction
from django.utils import timezone

from linli.celery import app
from linli.notify.models import Channel, OutboxMessage, OutboxStatus

logger = logging.getLogger(__name__)

# After this many failed sends a message is marked failed and the sweep leaves it alone.
MAX_ATTEMPTS = 5
NO_TRANSPORT = "no transport configured"


class DeliveryError(Exception):
    """A sender could not deliver; the message is retried until MAX_ATTEMPTS."""


def _send_inapp(message: OutboxMessage) -> None:
    # The Notification row already is the inbox entry: delivering it is only bookkeeping.
    return None


Sender = Callable[[OutboxMessage], None]

CHANNEL_SENDERS: dict[str, Sender] = {
    Channel.INAPP: _send_inapp,
}


def outbox_deliver(*, message_ids: Iterable[int]) -> int:
    """Try each pending message once; returns how many were sent.

    Each message is delivered in its own transaction with its row locked (skip_locked), so
    two workers, or a worker and the sweep, never send the same message twice.
    """
    sent = 0
    for message_id in list(message_ids):
        with transaction.atomic():
            message = (
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .select_related("notification")
                .filter(pk=message_id, status=OutboxStatus.PENDING)
                .first()
            )
            if message is None:
                continue  # already sent or failed, or another worker holds it
            sender = CHANNEL_SENDERS.get(message.channel)
            if sender is None:
                # Not an attempt: nothing was tried, and a transport configured later
                # should find the message untouched.
                message.last_error = NO_TRANSPORT
                message.save(update_fields=["last_error"])
                continue
            message.attempts += 1
            try:
                sender(message)
            except DeliveryError as error:
                message.last_error = str(error) or error.__class__.__name__
                if message.attempts >= MAX_ATTEMPTS:
                    message.status = OutboxStatus.FAILED
                message.save(update_fields=["attempts", "last_error", "status"])
                continue
            message.status = OutboxStatus.SENT
            message.sent_at = timezone.now()
            message.last_error = ""
            message.save(update_fields=["attempts", "status", "sent_at", "last_error"])
            sent += 1
    return sent


def outbox_retry_pending(*, batch_size: int = 500) -> int:
    """The periodic sweep: retry pending messages, oldest first; returns how many were sent."""
    ids = list(
        OutboxMessage.objects.pending()
        .order_by("created_at", "id")
        .values_list("id", flat=True)[:batch_size]
    )
    return outbox_deliver(message_ids=ids)


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
