"""The in-app inbox and the delivery outbox.

A Notification is what a person reads in their inbox; an OutboxMessage carries it over one
channel, and each OutboxAttempt is one try at that. The outbox is a table (not a broker
queue) so that a message written in the caller's transaction survives a broker outage and is
retried by a sweep. Delivery is at least once: see linli.notify.tasks.
`notify` is called by anyone and imports no domain app.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class NotificationQuerySet(models.QuerySet):
    def unread(self):
        return self.filter(read_at__isnull=True)

    def for_user(self, user):
        return self.filter(recipient=user)


class Notification(models.Model):
    # A person with a login, or else (codes, invitations, answers to people who registered
    # without a login yet) a bare `address` on the one channel the message goes by.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
        null=True,
        blank=True,
    )
    address = models.CharField(_("address"), max_length=254, blank=True)
    # A short code (e.g. "case_escalated") so that channels and filters can tell kinds apart
    # without notify knowing the domain apps that send them.
    kind = models.CharField(_("kind"), max_length=64)
    # The title as sent, in the site's language (what other channels carry) ...
    title = models.CharField(_("title"), max_length=200)
    # ... and, when the sender gave one, its message id and parameters, so that the inbox
    # shows it in the reader's language at reading time.
    title_template = models.CharField(max_length=200, blank=True)
    title_params = models.JSONField(default=dict, blank=True)
    body = models.TextField(_("body"), blank=True)
    # What a group channel (a WeCom group) may carry, in the site's language: no address, no
    # name, no health data; the detail stays behind login. Empty: the group gets only a
    # sentence saying there is news in Linli (linli.notify.channels.group_text).
    group_title = models.CharField(_("group message"), max_length=200, blank=True)
    # A path inside the site (e.g. "/cases/42/"), never an external URL.
    link = models.CharField(_("link"), max_length=500, blank=True)
    # What the message's unsubscribe link stops: the follow it came from ("case:42"), or
    # empty for a message about the person's own business, whose link mutes its kind.
    unsubscribe_target = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        # The inbox and the unread badge both filter by recipient and read_at, newest first.
        indexes = [
            models.Index(fields=["recipient", "read_at", "created_at"], name="notification_inbox")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(recipient__isnull=False, address="")
                | Q(recipient__isnull=True) & ~Q(address=""),
                name="notification_recipient_or_address",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def display_title(self) -> str:
        """The title in the active language when it was sent as a message id."""
        if not self.title_template:
            return self.title
        try:
            return gettext(self.title_template) % self.title_params
        except (KeyError, TypeError, ValueError):
            # A catalogue whose translation lost a placeholder must not break the inbox.
            return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Channel(models.TextChoices):
    INAPP = "inapp", _("In-app inbox")
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    EMAIL = "email", _("Email")
    # One group robot of a WeCom (企业微信) group chat, e.g. the community's duty group.
    WECOM = "wecom", _("WeCom group")


# Channels that post to a group rather than to a person: one send to several recipients is
# one post, not one per recipient (a group robot is also rate-limited, 20 posts a minute).
GROUP_CHANNELS = frozenset({Channel.WECOM})


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    # Kept for the recipient's daily digest (NotificationPreference.daily_digest) ...
    HELD = "held", _("Held for the daily digest")
    # ... and then carried by it (`sent_at`: when the digest went).
    DIGESTED = "digested", _("Sent in the daily digest")


class OutboxMessageQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=OutboxStatus.PENDING)

    def due(self, now):
        """Pending and not waiting out the back-off of a failed attempt."""
        return self.pending().filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))


class OutboxMessage(models.Model):
    notification = models.ForeignKey(
        Notification,
        on_delete=models.CASCADE,
        related_name="outbox_messages",
        verbose_name=_("notification"),
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    # Set after a failed attempt (exponential back-off); the sweep leaves the message alone
    # until then. Null: try at the next chance.
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Sent with every attempt to a gateway that deduplicates (SMS: Idempotency-Key; e-mail:
    # the Message-ID), so that a retry of a send whose answer was lost is recognised. Random,
    # not the row id: two installations, or a database restored from a backup, must never
    # share one with a gateway.
    dedupe_key = models.UUIDField(_("dedupe key"), default=uuid.uuid4, unique=True, editable=False)

    objects = OutboxMessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [models.Index(fields=["status", "created_at"], name="outbox_status_created")]
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "channel"], name="outbox_one_per_channel"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="outbox_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=OutboxStatus.values), name="outbox_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=OutboxStatus.SENT) | Q(sent_at__isnull=False),
                name="outbox_sent_has_sent_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel}: {self.notification_id} ({self.status})"


class AttemptOutcome(models.TextChoices):
    # Claimed and handed to the channel; no answer recorded yet. One that stays so past
    # LINLI_OUTBOX_ATTEMPT_TIMEOUT_SECONDS belonged to a worker that died during the send.
    STARTED = "started", pgettext_lazy("delivery attempt", "Started")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed, will be retried")
    REFUSED = "refused", _("Refused, not retried")
    # Found unfinished by the next attempt: the message may or may not have gone out.
    INTERRUPTED = "interrupted", _("Interrupted, outcome unknown")


class OutboxAttempt(models.Model):
    """One try at delivering an outbox message, written (and committed) before the send, so
    that a worker killed during a send leaves a trace and the count of tries is true."""

    message = models.ForeignKey(
        OutboxMessage,
        on_delete=models.CASCADE,
        related_name="delivery_attempts",
        verbose_name=_("outbox message"),
    )
    # 1 for the first try of the message, and so on (OutboxMessage.attempts at the claim).
    number = models.PositiveIntegerField(pgettext_lazy("delivery attempt", "number"))
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    outcome = models.CharField(
        pgettext_lazy("delivery attempt", "outcome"),
        max_length=16,
        choices=AttemptOutcome.choices,
        default=AttemptOutcome.STARTED,
    )
    error = models.TextField(_("error"), blank=True)
    # Host and process id of the worker that made the attempt (which one died, if one did).
    worker = models.CharField(
        pgettext_lazy("delivery attempt", "worker"), max_length=100, blank=True
    )

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["message", "number"]
        constraints = [
            models.UniqueConstraint(fields=["message", "number"], name="outbox_attempt_number"),
            models.CheckConstraint(
                condition=Q(outcome__in=AttemptOutcome.values), name="outbox_attempt_outcome"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} #{self.number} ({self.outcome})"


class NotificationPreference(models.Model):
    """How a person wants to be reached. In-app is always on; a person without a row has
    the defaults (every channel the event uses and an address exists for, at once).

    Staff may set it on behalf of a resident who asks by phone (`updated_by` says who)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preference",
        verbose_name=_("person"),
    )
    sms = models.BooleanField(_("SMS"), default=True)
    email = models.BooleanField(_("Email"), default=True)
    wechat = models.BooleanField(_("WeChat"), default=True)
    # A phone for SMS that overrides every other (the login's, the volunteer profile's).
    sms_phone = models.CharField(_("phone for SMS"), max_length=20, blank=True)
    # Local time (Asia/Shanghai) during which nothing but urgent messages leave by SMS,
    # e-mail or WeChat; they go at the end of it. Both set or both empty; may wrap midnight.
    quiet_from = models.TimeField(_("quiet from"), null=True, blank=True)
    quiet_until = models.TimeField(_("quiet until"), null=True, blank=True)
    # One message a day (at LINLI_NOTIFY_DIGEST_HOUR) instead of one per event, on each
    # channel; urgent messages still go at once.
    daily_digest = models.BooleanField(_("daily digest"), default=False)
    # Event kinds whose messages stay in the inbox only (unsubscribed from a message).
    muted_kinds = models.JSONField(_("muted kinds"), default=list, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.CheckConstraint(
                condition=Q(quiet_from__isnull=True, quiet_until__isnull=True)
                | Q(quiet_from__isnull=False, quiet_until__isnull=False),
                name="preference_quiet_hours_both_or_neither",
            ),
        ]

    def __str__(self) -> str:
        return str(self.user)

    def allows(self, channel: str) -> bool:
        return {Channel.SMS: self.sms, Channel.EMAIL: self.email, Channel.WECHAT: self.wechat}.get(
            channel, True
        )


class Subscription(models.Model):
    """A person follows something: a case, a topic, an activity series, or an area's new
    public cases. `target` is "<kind>:<id>" ("case:42", "topic:7", "series:3") or
    "area:<grid path>"; notify does not know what they are, the app that sends does."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="subscriptions",
        verbose_name=_("person"),
    )
    target = models.CharField(_("followed"), max_length=120)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target"], name="subscription_target")]
        constraints = [
            models.UniqueConstraint(fields=["user", "target"], name="subscription_once"),
            models.CheckConstraint(
                condition=Q(target__contains=":"), name="subscription_target_has_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.target}"
