"""Reads of a user's own notifications. Nobody reads another person's inbox, whatever
their role, so the scope here is the recipient, not the grid."""

from django.db.models import QuerySet

from linli.accounts.grid_paths import path_ancestors
from linli.accounts.models import User
from linli.errors import get_visible_or_404
from linli.notify.models import (
    Notification,
    NotificationPreference,
    NotificationQuerySet,
    OutboxMessage,
    OutboxStatus,
    Subscription,
)


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


# Following ------------------------------------------------------------------------------


def area_target(grid_path: str) -> str:
    """The follow target of an area (a building group, a micro-grid): its new public cases."""
    return f"area:{grid_path}"


def followers(target: str) -> QuerySet[User]:
    """The active people who follow `target` ("case:42")."""
    return User.objects.filter(subscriptions__target=target, is_active=True).distinct()


def area_followers(grid_path: str) -> QuerySet[User]:
    """The active people who follow the area `grid_path` lies in, or any area above it."""
    targets = [area_target(path) for path in path_ancestors(grid_path)]
    return User.objects.filter(subscriptions__target__in=targets, is_active=True).distinct()


def is_following(*, user: User, target: str) -> bool:
    if not user.is_authenticated:
        return False
    return Subscription.objects.filter(user=user, target=target).exists()


def subscriptions_of(user: User) -> QuerySet[Subscription]:
    if not user.is_authenticated:
        return Subscription.objects.none()
    return Subscription.objects.filter(user=user).order_by("-created_at", "-id")


def preference_of(user: User) -> NotificationPreference:
    """The person's preferences, unsaved defaults when they never set any."""
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(
        user=user
    )


def undeliverable_messages(*, recipient_ids=None) -> QuerySet[OutboxMessage]:
    """Messages to people that no retry can deliver (no address, refused), newest first: what
    staff fix by correcting a phone or an e-mail. `recipient_ids` narrows to the people the
    caller may see (the caller's scope; notify knows no grid)."""
    messages = OutboxMessage.objects.filter(
        status=OutboxStatus.FAILED, notification__recipient__isnull=False
    ).select_related("notification__recipient")
    if recipient_ids is not None:
        messages = messages.filter(notification__recipient_id__in=recipient_ids)
    return messages.order_by("-created_at", "-id")
