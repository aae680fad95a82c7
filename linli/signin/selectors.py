"""Reads of the sign-in app: the trial page's SMS messages.

With no SMS gateway configured (the embedded default), codes cannot leave the machine; the
street administrator reads them on the trial page instead, so that a demo works end to end.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from linli import clock
from linli.accounts.models import User
from linli.accounts.privacy import mask_phone
from linli.accounts.roles import Role
from linli.errors import NotVisible
from linli.grids.selectors import scope_for
from linli.notify.channels import notification_text, sender_for
from linli.notify.contacts import message_address
from linli.notify.models import Channel, OutboxMessage, OutboxStatus

# The page lists what waits from the last day, at most this many messages.
TRIAL_WINDOW = timedelta(hours=24)
TRIAL_MAX_MESSAGES = 200


def sms_gateway_configured() -> bool:
    return sender_for(Channel.SMS) is not None


def trial_page_visible(user: User) -> bool:
    """Only a street administrator (or a superuser, who holds every role) reads the codes
    waiting in the outbox: they let whoever reads them log in as anyone."""
    return Role.STREET_ADMIN in scope_for(user).roles


@dataclass(frozen=True)
class TrialMessage:
    phone: str
    text: str
    created_at: datetime


def trial_sms_messages(*, user: User) -> list[TrialMessage]:
    """The SMS messages waiting in the outbox from the last 24 hours, newest first; none
    when a gateway is configured (they leave by it). NotVisible for anyone but a street
    administrator."""
    if not trial_page_visible(user):
        raise NotVisible()
    if sms_gateway_configured():
        return []
    messages = (
        OutboxMessage.objects.filter(
            channel=Channel.SMS,
            status=OutboxStatus.PENDING,
            created_at__gte=clock.now() - TRIAL_WINDOW,
        )
        .select_related("notification__recipient__notification_preference")
        .order_by("-created_at", "-id")[:TRIAL_MAX_MESSAGES]
    )
    return [
        TrialMessage(
            # Shown as 138****1234 (DESIGN §5): enough for the person trying it to know theirs.
            phone=mask_phone(message_address(message.notification, Channel.SMS)),
            text=notification_text(message.notification),
            created_at=message.created_at,
        )
        for message in messages
    ]
