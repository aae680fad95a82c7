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
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
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
