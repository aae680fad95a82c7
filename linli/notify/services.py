"""Writes for notifications: send, mark read.

`notification_send` only writes rows; delivery runs after the caller's transaction commits,
so a caller that rolls back has notified nobody, and a caller that commits has a durable
outbox row even when the broker is down (the periodic sweep picks it up).
"""

from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.models import User
from linli.errors import NotAllowed
from linli.notify.models import GROUP_CHANNELS, Channel, Notification, OutboxMessage
from linli.notify.tasks import deliver_outbox_later


def _column_length(name: str) -> int:
    """What one of Notification's text columns holds (each has a max_length)."""
    field = Notification._meta.get_field(name)
    if not isinstance(field, models.CharField) or field.max_length is None:
        raise TypeError(f"Notification.{name} is not a CharField with a max_length")
    return field.max_length


KIND_MAX_LENGTH = _column_length("kind")
TITLE_MAX_LENGTH = _column_length("title")
LINK_MAX_LENGTH = _column_length("link")


def _validate(*, kind: str, title: str, link: str, channels: tuple[str, ...]) -> None:
    errors: dict[str, str] = {}
    if not kind or len(kind) > KIND_MAX_LENGTH:
        errors["kind"] = _("Give a kind code of at most %(max)d characters.") % {
            "max": KIND_MAX_LENGTH
        }
    if not title.strip() or len(title) > TITLE_MAX_LENGTH:
        errors["title"] = _("Give a title of at most %(max)d characters.") % {
            "max": TITLE_MAX_LENGTH
        }
    # A path on this site only: "//host" would make the inbox an open redirect.
    if link and (not link.startswith("/") or link.startswith("//") or len(link) > LINK_MAX_LENGTH):
        errors["link"] = _("The link must be a path on this site, starting with /.")
    if not channels:
        errors["channels"] = _("Give at least one channel.")
    elif unknown := sorted(set(channels) - set(Channel.values)):
        errors["channels"] = _("Unknown channel: %(channels)s.") % {"channels": ", ".join(unknown)}
    if errors:
        raise ValidationError(errors)


def _render_title(template: str, params: dict) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        try:
            return translation.gettext(template) % params
        except (KeyError, TypeError, ValueError):
            raise ValidationError(
                {"title": _("The title's parameters do not match its placeholders.")}
            ) from None


@transaction.atomic
def notification_send(
    *,
    recipients: Iterable[User],
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    channels: tuple[str, ...] = (Channel.INAPP,),
    title_params: dict | None = None,
    group_title: str = "",
    group_title_params: dict | None = None,
) -> list[Notification]:
    """One notification per distinct recipient, one outbox row per channel (per send for
    a group channel such as WeCom, which posts to one group whoever the recipients are).

    With `title_params`, `title` is a message id (mark it with gettext_noop): the inbox
    renders it in each reader's language, and the stored `title` is the site language's.

    A group channel (WeCom) never carries the title or the body, which may hold an address
    or a health need: it carries `group_title` (a message id rendered with
    `group_title_params` in the site's language when those are given), written so that it
    names nobody and no household, or else only a sentence saying there is news in Linli.

    Runs inside the caller's transaction (atomic nests as a savepoint) and schedules delivery
    for after the outermost commit.
    """
    channels = tuple(dict.fromkeys(channels))  # keep order, drop repeats
    title_template = ""
    if title_params is not None:
        title_template, title = title, _render_title(title, title_params)
    if group_title:
        group_title = _render_title(group_title, group_title_params or {})
    _validate(kind=kind, title=title, link=link, channels=channels)
    if len(group_title) > TITLE_MAX_LENGTH:
        raise ValidationError(
            {
                "group_title": _("Give a title of at most %(max)d characters.")
                % {"max": TITLE_MAX_LENGTH}
            }
        )
    # A person listed twice (e.g. owner and member of the new owner unit) is told once.
    unique = {user.pk: user for user in recipients if user is not None}
    if not unique:
        return []
    notifications = Notification.objects.bulk_create(
        [
            Notification(
                recipient=user,
                kind=kind,
                title=title,
                title_template=title_template,
                title_params=title_params or {},
                body=body,
                group_title=group_title,
                link=link,
            )
            for user in unique.values()
        ]
    )
    messages = OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(notification=notification, channel=channel)
            for position, notification in enumerate(notifications)
            for channel in channels
            # A group channel carries the send once, on the first recipient's notification.
            if position == 0 or channel not in GROUP_CHANNELS
        ]
    )
    message_ids = [message.pk for message in messages]

    transaction.on_commit(lambda: deliver_outbox_later(message_ids))
    return notifications


@transaction.atomic
def notification_mark_read(*, user: User, notification: Notification) -> Notification:
    """Mark one of the user's own notifications read; idempotent (the first read time stays)."""
    if not user.is_authenticated or notification.recipient_id != user.pk:
        # Same words whether the row exists or belongs to someone else: nothing is revealed.
        raise NotAllowed(_("Notification not found."), field="notification")
    now = clock.now()
    # A conditional update: two tabs marking at once keep the earliest read time.
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
    notification.refresh_from_db(fields=["read_at"])
    return notification


@transaction.atomic
def notifications_mark_all_read(*, user: User) -> int:
    """Mark every unread notification of the user read; returns how many changed."""
    if not user.is_authenticated:
        return 0
    return Notification.objects.for_user(user).unread().update(read_at=clock.now())
