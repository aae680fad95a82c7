"""Where a person is reached on each channel: the one answer every sender reads.

The address a person gave for contact comes first: the phone set on their notification
preferences, then their login's own phone or e-mail. Apps above notify add what they know
through `register_contact_source` when Django starts (volunteers: the phone on the volunteer
profile; wechat: the bound openid), so that notify imports no domain app and never guesses
a number: a source answers only with an address the person gave for contact.
"""

from collections.abc import Callable

from linli.accounts.models import User
from linli.notify.models import Channel, Notification, NotificationPreference

ContactSource = Callable[[User], str]
_SOURCES: dict[str, list[ContactSource]] = {}


def register_contact_source(channel: str, source: ContactSource) -> None:
    """Add a place an address for `channel` may come from, asked in registration order after
    the person's own settings."""
    sources = _SOURCES.setdefault(channel, [])
    if source not in sources:
        sources.append(source)


def _preference(user: User) -> NotificationPreference | None:
    try:
        return user.notification_preference
    except NotificationPreference.DoesNotExist:
        return None


def contact_address(user: User | None, channel: str) -> str:
    """The person's address on `channel`, or "" when they gave none."""
    if user is None:
        return ""
    if channel == Channel.SMS:
        preference = _preference(user)
        if preference is not None and preference.sms_phone:
            return preference.sms_phone
        if user.phone:
            return user.phone
    elif channel == Channel.EMAIL and user.email:
        return user.email
    for source in _SOURCES.get(channel, []):
        address = source(user)
        if address:
            return address
    return ""


def message_address(notification: Notification, channel: str) -> str:
    """Where one notification goes on `channel`: its own address when it was sent to an
    address (a code to a phone), else the recipient's contact address."""
    if notification.recipient_id is None:
        return notification.address
    return contact_address(notification.recipient, channel)
