"""Messages residents send in by the channels they have (an SMS reply, a message to the
WeChat Official Account), waiting for staff to turn them into a case or a help request."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.accounts.fields import GridPathField
from linli.accounts.privacy import mask_phone
from linli.grids.models import WithinPathQuerySet


class InboundChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")


class InboundState(models.TextChoices):
    NEW = "new", _("Waiting for staff")
    CASE_FILED = "case_filed", _("Filed as a case")
    HELP_FILED = "help_filed", _("Filed as a help request")
    DISMISSED = "dismissed", _("Dismissed")


class InboundMessage(models.Model):
    channel = models.CharField(_("channel"), max_length=10, choices=InboundChannel.choices)
    # The gateway's or WeChat's id of the message: a resent push is stored once.
    external_id = models.CharField(max_length=100)
    # A mobile number (SMS) or an openid (WeChat).
    sender = models.CharField(_("sender"), max_length=100)
    text = models.TextField(_("message"), max_length=2000)
    received_at = models.DateTimeField(_("received at"))
    # Matched by the sender's phone (the registry, a login) or WeChat binding; the grid path
    # is the resident's, empty when nobody matched (then street staff see it).
    resident = models.ForeignKey(
        "grids.Resident",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("resident"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    grid_path = GridPathField(blank=True)
    state = models.CharField(
        _("state"), max_length=12, choices=InboundState.choices, default=InboundState.NEW
    )
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    help_request = models.ForeignKey(
        "emergency.HelpRequest", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    dismiss_reason = models.CharField(_("why dismissed"), max_length=300, blank=True)

    objects = WithinPathQuerySet.as_manager()

    class Meta:
        verbose_name = _("message from a resident")
        verbose_name_plural = _("messages from residents")
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["state", "grid_path"], name="inbound_state_path")]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], name="inbound_once_per_external_id"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=InboundChannel.values), name="inbound_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(state__in=InboundState.values), name="inbound_state_valid"
            ),
            models.CheckConstraint(
                condition=~Q(state=InboundState.CASE_FILED) | Q(case__isnull=False),
                name="inbound_case_filed_has_case",
            ),
            models.CheckConstraint(
                condition=~Q(state=InboundState.DISMISSED) | ~Q(dismiss_reason=""),
                name="inbound_dismissal_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.received_at:%Y-%m-%d %H:%M}"

    @property
    def sender_masked(self) -> str:
        return mask_phone(self.sender) if self.channel == InboundChannel.SMS else "WeChat"
