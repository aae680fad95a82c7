"""Reads of a user's own notifications. Nobody reads another person's inbox, whatever
their role, so the scope here is the recipient, not the grid."""

from linli.accounts.models import User
from linli.errors import get_visible_or_404
from linli.notify.models import Notification, NotificationQuerySet


def inbox(user: User) -> NotificationQuerySet:
    """The user's notifications, newest first (empty for an anonymous user)."""
    if not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.for_user(user).order_by("-created_at", "-id")


def unread_count(user: User) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.for_user(user).unread().count()


def notification_get(*, user: User, notification_id: int) -> Notification:
    """One of the user's notifications; someone else's answers 404, like a missing one."""
    return get_visible_or_404(inbox(user), notification_id)
