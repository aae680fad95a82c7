"""Writes for notifications: send, mark read.

`notification_send` only writes rows; delivery runs after the caller's transaction commits,
so a caller that rolls back has notified nobody, and a caller that commits has a durable
outbox row even when the broker is down (the periodic sweep picks it up).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.models import User
from linli.errors import Invalid, NotAllowed
from linli.notify.contacts import contact_address
from linli.notify.events import event_for, is_urgent
from linli.notify.models import (
    GROUP_CHANNELS,
    Channel,
    Notification,
    NotificationPreference,
    OutboxMessage,
    OutboxStatus,
    Subscription,
)
from linli.notify.tasks import deliver_outbox_later
from linli.notify.unsubscribe import Unsubscribed, unsubscribe_read


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


def _preferences_of(users: list[User]) -> None:
    """Read every recipient's preferences in one query and cache them on the users, so
    that resolving channels and addresses costs no query per person."""
    found = {
        preference.user_id: preference
        for preference in NotificationPreference.objects.filter(user__in=[u.pk for u in users])
    }
    cache_name = NotificationPreference._meta.get_field("user").remote_field.cache_name
    for user in users:
        user._state.fields_cache[cache_name] = found.get(user.pk)


def _preference(user: User) -> NotificationPreference | None:
    try:
        return user.notification_preference
    except NotificationPreference.DoesNotExist:
        return None


def quiet_hours_end(preference: NotificationPreference | None, moment: datetime) -> datetime | None:
    """When the person's quiet hours around `moment` end, or None outside quiet hours."""
    if preference is None or preference.quiet_from is None or preference.quiet_until is None:
        return None
    local = timezone.localtime(moment)
    start, end, now_time = preference.quiet_from, preference.quiet_until, local.time()
    if start == end:
        return None
    inside = start <= now_time < end if start < end else (now_time >= start or now_time < end)
    if not inside:
        return None
    ending = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if ending <= local:
        ending += timedelta(days=1)
    return ending


def _plan(
    user: User,
    *,
    kind: str,
    channels: tuple[str, ...] | None,
    urgent: bool,
    moment: datetime,
) -> list[tuple[str, str, datetime | None]]:
    """The outbox rows of one recipient: (channel, status, next_attempt_at).

    `channels` None: the event's default channels that the person has not turned off and
    has an address for. Given: those channels, less what the person turned off (unless the
    event is urgent). Outside the inbox a non-urgent message waits out quiet hours, or is
    held for the daily digest."""
    preference = _preference(user)
    if channels is None:
        event = event_for(kind)
        wanted = event.channels if event else (Channel.INAPP,)
        wanted = tuple(
            channel
            for channel in wanted
            if channel == Channel.INAPP or contact_address(user, channel)
        )
    else:
        wanted = channels
    muted = preference is not None and kind in (preference.muted_kinds or [])
    rows: list[tuple[str, str, datetime | None]] = []
    quiet_end = None if urgent else quiet_hours_end(preference, moment)
    for channel in wanted:
        if channel == Channel.INAPP or channel in GROUP_CHANNELS:
            rows.append((channel, OutboxStatus.PENDING, None))
            continue
        if not urgent and preference is not None and (muted or not preference.allows(channel)):
            continue
        if not urgent and preference is not None and preference.daily_digest:
            rows.append((channel, OutboxStatus.HELD, None))
        else:
            rows.append((channel, OutboxStatus.PENDING, quiet_end))
    return rows


@transaction.atomic
def notification_send(
    *,
    recipients: Iterable[User],
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    channels: tuple[str, ...] | None = (Channel.INAPP,),
    title_params: dict | None = None,
    group_title: str = "",
    group_title_params: dict | None = None,
    unsubscribe_target: str = "",
) -> list[Notification]:
    """One notification per distinct recipient, one outbox row per channel (per send for
    a group channel such as WeCom, which posts to one group whoever the recipients are).

    `channels=None` lets each recipient's preferences choose among the event's default
    channels (linli.notify.events): in-app always, SMS, e-mail and WeChat where the person
    has an address and has not turned the channel or the kind off. Outside the inbox, a
    non-urgent message waits out the person's quiet hours or is held for their daily
    digest; an urgent event's (an emergency's) goes at once.

    With `title_params`, `title` is a message id (mark it with gettext_noop): the inbox
    renders it in each reader's language, and the stored `title` is the site language's.

    A group channel (WeCom) never carries the title or the body, which may hold an address
    or a health need: it carries `group_title` (a message id rendered with
    `group_title_params` in the site's language when those are given), written so that it
    names nobody and no household, or else only a sentence saying there is news in Linli.

    `unsubscribe_target` names the follow ("case:42") the message was sent for, so that its
    unsubscribe link ends that follow; without one the link mutes the kind.

    Runs inside the caller's transaction (atomic nests as a savepoint) and schedules delivery
    for after the outermost commit.
    """
    if channels is not None:
        channels = tuple(dict.fromkeys(channels))  # keep order, drop repeats
    title_template = ""
    if title_params is not None:
        title_template, title = title, _render_title(title, title_params)
    if group_title:
        group_title = _render_title(group_title, group_title_params or {})
    _validate(
        kind=kind,
        title=title,
        link=link,
        channels=channels if channels is not None else (Channel.INAPP,),
    )
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
    users = list(unique.values())
    _preferences_of(users)
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
                unsubscribe_target=unsubscribe_target,
            )
            for user in users
        ]
    )
    urgent = is_urgent(kind)
    moment = clock.now()
    rows = []
    for position, (user, notification) in enumerate(zip(users, notifications, strict=True)):
        for channel, status, next_attempt_at in _plan(
            user, kind=kind, channels=channels, urgent=urgent, moment=moment
        ):
            # A group channel carries the send once, on the first recipient's notification.
            if position and channel in GROUP_CHANNELS:
                continue
            rows.append(
                OutboxMessage(
                    notification=notification,
                    channel=channel,
                    status=status,
                    next_attempt_at=next_attempt_at,
                )
            )
    messages = OutboxMessage.objects.bulk_create(rows)
    message_ids = [
        message.pk
        for message in messages
        if message.status == OutboxStatus.PENDING and message.next_attempt_at is None
    ]
    if message_ids:
        transaction.on_commit(lambda: deliver_outbox_later(message_ids))
    return notifications


ADDRESS_CHANNELS = (Channel.SMS, Channel.EMAIL, Channel.WECHAT)


@transaction.atomic
def message_send_to_address(
    *, channel: str, address: str, kind: str, title: str, body: str = "", link: str = ""
) -> Notification:
    """A message to a bare address on one channel, for someone who has no login yet (a sign-in
    code, an invitation, the answer to a registration request). Goes through the outbox like
    any other, so it is retried and recorded; no inbox shows it."""
    errors = {}
    if channel not in ADDRESS_CHANNELS:
        errors["channel"] = _("Send to an address by SMS, e-mail or WeChat.")
    if not address.strip():
        errors["address"] = _("Give the address to send to.")
    if errors:
        raise ValidationError(errors)
    _validate(kind=kind, title=title, link=link, channels=(channel,))
    notification = Notification.objects.create(
        address=address.strip(), kind=kind, title=title, body=body, link=link
    )
    message = OutboxMessage.objects.create(notification=notification, channel=channel)
    transaction.on_commit(lambda: deliver_outbox_later([message.pk]))
    return notification


@dataclass(frozen=True)
class AddressMessage:
    address: str
    title: str
    body: str = ""


# Rows per delivery task: a batch of thousands is spread over the worker in chunks.
ADDRESS_DELIVERY_CHUNK = 500


@transaction.atomic
def messages_send_to_addresses(
    *, channel: str, kind: str, messages: Iterable[AddressMessage]
) -> int:
    """Many `message_send_to_address` at once (invitations to thousands of households): the
    rows are written in bulk and handed to the worker in chunks after commit. Returns how
    many were queued; a bad address or title refuses the whole batch, naming its row."""
    rows = list(messages)
    if channel not in ADDRESS_CHANNELS:
        raise Invalid(_("Send to an address by SMS, e-mail or WeChat."), field="channel")
    for position, row in enumerate(rows, start=1):
        if not row.address.strip():
            raise Invalid(
                _("Row %(row)d: give the address to send to.") % {"row": position},
                field="address",
            )
        _validate(kind=kind, title=row.title, link="", channels=(channel,))
    notifications = Notification.objects.bulk_create(
        [
            Notification(address=row.address.strip(), kind=kind, title=row.title, body=row.body)
            for row in rows
        ]
    )
    outbox = OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(notification=notification, channel=channel)
            for notification in notifications
        ]
    )
    ids = [message.pk for message in outbox]
    for start in range(0, len(ids), ADDRESS_DELIVERY_CHUNK):
        chunk = ids[start : start + ADDRESS_DELIVERY_CHUNK]
        transaction.on_commit(partial(deliver_outbox_later, chunk))
    return len(ids)


# Following ------------------------------------------------------------------------------


def _validate_target(target: str) -> None:
    kind, _separator, rest = target.partition(":")
    max_length = Subscription._meta.get_field("target").max_length or 0
    if not kind or not rest or len(target) > max_length:
        raise Invalid(_("Name what to follow as kind:id."), field="target")


@transaction.atomic
def follow(*, user: User, target: str) -> Subscription:
    """Follow `target` ("case:42", "area:/S/B/"); idempotent. The caller checks that the
    person may see what they follow."""
    if not user.is_authenticated:
        raise NotAllowed(_("Log in to follow."), field="target")
    _validate_target(target)
    subscription, _created = Subscription.objects.get_or_create(user=user, target=target)
    return subscription


@transaction.atomic
def unfollow(*, user: User, target: str) -> bool:
    """Stop following; True when something was followed."""
    if not user.is_authenticated:
        return False
    deleted, _rows = Subscription.objects.filter(user=user, target=target).delete()
    return bool(deleted)


# Preferences ------------------------------------------------------------------------------


@transaction.atomic
def preference_update(*, user: User, updated_by: User, values: dict) -> NotificationPreference:
    """Set a person's channels, quiet hours, digest and SMS phone. `values` holds any of the
    preference's fields; `updated_by` is the person or staff acting on their behalf (the
    caller checks that staff may)."""
    allowed = {"sms", "email", "wechat", "sms_phone", "quiet_from", "quiet_until", "daily_digest"}
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise Invalid(_("Unknown setting."), field=unknown[0])
    if (values.get("quiet_from") is None) != (values.get("quiet_until") is None) and (
        "quiet_from" in values or "quiet_until" in values
    ):
        raise Invalid(_("Give both ends of the quiet hours, or neither."), field="quiet_until")
    preference, _created = NotificationPreference.objects.select_for_update().get_or_create(
        user=user
    )
    for name, value in values.items():
        setattr(preference, name, value)
    preference.updated_by = updated_by
    preference.full_clean(exclude=["user", "updated_by"])
    preference.save()
    return preference


# Unsubscribing ------------------------------------------------------------------------------


@transaction.atomic
def unsubscribe_apply(token: str) -> Unsubscribed:
    """End the follow the message came from, or mute its kind outside the inbox (urgent
    kinds, emergencies, cannot be muted: the link then changes nothing). Idempotent."""
    unsubscribed = unsubscribe_read(token)
    if unsubscribed.target:
        Subscription.objects.filter(user=unsubscribed.user, target=unsubscribed.target).delete()
    elif not is_urgent(unsubscribed.kind):
        preference, _created = NotificationPreference.objects.select_for_update().get_or_create(
            user=unsubscribed.user
        )
        if unsubscribed.kind not in preference.muted_kinds:
            preference.muted_kinds = [*preference.muted_kinds, unsubscribed.kind]
            preference.save(update_fields=["muted_kinds", "updated_at"])
    return unsubscribed


@transaction.atomic
def mute_kind_undo(*, user: User, kind: str) -> None:
    """Hear of a muted kind again on the person's channels."""
    preference = NotificationPreference.objects.select_for_update().filter(user=user).first()
    if preference is not None and kind in preference.muted_kinds:
        preference.muted_kinds = [k for k in preference.muted_kinds if k != kind]
        preference.save(update_fields=["muted_kinds", "updated_at"])


# The daily digest ---------------------------------------------------------------------------

DIGEST_KIND = "digest"
DIGEST_LINES = 20


def digests_send(*, now: datetime | None = None) -> int:
    """Gather every held message into one digest per person and channel; returns how many
    people got one. Each person in their own transaction: one failure holds nobody else's."""
    moment = now or clock.now()
    user_ids = list(
        OutboxMessage.objects.filter(status=OutboxStatus.HELD)
        .values_list("notification__recipient", flat=True)
        .distinct()
    )
    sent = 0
    for user_id in user_ids:
        if user_id is not None and _digest_one(user_id=user_id, moment=moment):
            sent += 1
    return sent


@transaction.atomic
def _digest_one(*, user_id: int, moment: datetime) -> bool:
    held = list(
        OutboxMessage.objects.select_for_update(of=("self",))
        .filter(status=OutboxStatus.HELD, notification__recipient_id=user_id)
        .select_related("notification")
        .order_by("created_at", "id")
    )
    if not held:
        return False
    user = User.objects.get(pk=user_id)
    titles = list(dict.fromkeys(message.notification.title for message in held))
    with translation.override(settings.LANGUAGE_CODE):
        title = translation.ngettext(
            "Linli: %(count)d update today", "Linli: %(count)d updates today", len(titles)
        ) % {"count": len(titles)}
        lines = [f"· {line}" for line in titles[:DIGEST_LINES]]
        if len(titles) > DIGEST_LINES:
            lines.append(translation.gettext("… and more in your inbox."))
    digest = Notification.objects.create(
        recipient=user,
        kind=DIGEST_KIND,
        title=title[:TITLE_MAX_LENGTH],
        body="\n".join(lines),
        link=reverse("notify:inbox"),
        # Every line is in the inbox already: the digest must not add to the unread count.
        read_at=moment,
    )
    channels = list(dict.fromkeys(message.channel for message in held))
    messages = OutboxMessage.objects.bulk_create(
        [OutboxMessage(notification=digest, channel=channel) for channel in channels]
    )
    OutboxMessage.objects.filter(pk__in=[message.pk for message in held]).update(
        status=OutboxStatus.DIGESTED, sent_at=moment
    )
    message_ids = [message.pk for message in messages]
    transaction.on_commit(lambda: deliver_outbox_later(message_ids))
    return True


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
