"""One-click unsubscribe links: a signed token saying whose message it was and what it stops
(the follow it came from, or its kind). Nothing is stored; a changed SECRET_KEY voids them."""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.errors import Invalid
from linli.notify.models import Notification

UNSUBSCRIBE_SALT = "linli.notify.unsubscribe"


def unsubscribe_token(notification: Notification) -> str:
    """What a message's unsubscribe link carries: whose, and the follow or the kind to stop."""
    # No timestamp (a plain Signer, not signing.dumps): the link never expires and stays
    # short enough for an SMS.
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign_object(
        [notification.recipient_id, notification.unsubscribe_target, notification.kind],
        compress=True,
    )


def unsubscribe_url(notification: Notification) -> str:
    """The absolute one-click unsubscribe link of a message to a person ("" for an address)."""
    if notification.recipient_id is None:
        return ""
    path = reverse("notify:unsubscribe", args=[unsubscribe_token(notification)])
    return f"{settings.LINLI_SITE_URL}{path}"


@dataclass(frozen=True)
class Unsubscribed:
    user: User
    # The follow that ended ("case:42"), or "" when a kind was muted.
    target: str
    kind: str


def unsubscribe_read(token: str) -> Unsubscribed:
    """What a token would stop, without stopping it; Invalid for a forged or broken one."""
    try:
        user_id, target, kind = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign_object(token)
        user = User.objects.get(pk=user_id)
    except (signing.BadSignature, ValueError, TypeError, User.DoesNotExist):
        raise Invalid(_("This unsubscribe link is not valid."), field="token") from None
    return Unsubscribed(user=user, target=target, kind=kind)
