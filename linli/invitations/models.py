"""Invitations in bulk: staff pick households, print letters with a personal QR code or send
the link by SMS, and the resident who scans it registers with their room already filled in.

An invitation's token is shown once, on the letter or in the SMS, and stored only as its
SHA-256: a stolen database holds no working link. A batch is what one staff action created
(who, when, which households, by which channel), so that staff can see what went out and
reprint it; reprinting makes new tokens and revokes the old ones of the batch.
"""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.fields import GridPathField
from linli.accounts.privacy import mask_phone
from linli.grids.models import Household, Resident, WithinPathQuerySet, path_index

DAYS_DEFAULT = 30
DAYS_MIN = 1
DAYS_MAX = 90


def token_hash(token: str) -> str:
    """What is stored of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class InvitationChannel(models.TextChoices):
    LETTER = "letter", _("Printed letter")
    SMS = "sms", _("SMS")


class InvitationSelection(models.TextChoices):
    """How the households of a batch were picked."""

    BUILDING = "building", _("A building")
    GRID_UNIT = "grid_unit", _("A building group or micro-grid")
    ELDERLY_ALONE = "elderly_alone", _("All elderly living alone")


class InvitationBatch(models.Model):
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # The unit the selection was made in: who may see the batch (scope) and where it sits.
    grid_path = GridPathField(editable=False)
    selection = models.CharField(_("selection"), max_length=20, choices=InvitationSelection.choices)
    # In words, as staff picked it: "1号楼", "第一微网格", "独居老人 · A社区".
    description = models.CharField(_("households"), max_length=200)
    channel = models.CharField(_("channel"), max_length=10, choices=InvitationChannel.choices)
    days = models.PositiveSmallIntegerField(_("valid for (days)"))
    print_names = models.BooleanField(_("print names"), default=False)
    skip_registered = models.BooleanField(_("skip households with a login"), default=True)
    # Invitations made by the last printing or sending (reprints replace, not add).
    count = models.PositiveIntegerField(_("invitations"), default=0)
    skipped_registered = models.PositiveIntegerField(default=0)
    # SMS batches: households left out because nobody in them has a registered phone.
    no_phone_households = models.ManyToManyField(Household, blank=True, related_name="+")
    printings = models.PositiveSmallIntegerField(default=1)
    last_printed_at = models.DateTimeField(default=timezone.now)

    objects = WithinPathQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("invitation batch")
        verbose_name_plural = _("invitation batches")
        indexes = [models.Index(fields=["grid_path"], name="invitation_batch_path")]
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=InvitationChannel.values),
                name="invitationbatch_channel_valid",
            ),
            models.CheckConstraint(
                condition=Q(selection__in=InvitationSelection.values),
                name="invitationbatch_selection_valid",
            ),
            models.CheckConstraint(
                condition=Q(days__gte=DAYS_MIN) & Q(days__lte=DAYS_MAX),
                name="invitationbatch_days_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.description} ({self.get_channel_display()})"


class InvitationQuerySet(WithinPathQuerySet):
    def live(self, now):
        """Usable at `now`: not used, not revoked, not expired."""
        return self.filter(used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)


class Invitation(models.Model):
    batch = models.ForeignKey(InvitationBatch, on_delete=models.CASCADE, related_name="invitations")
    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="invitations", db_index=False
    )
    # The person invited (the elderly resident living alone, the household's contact), if
    # the household has one on the register.
    resident = models.ForeignKey(
        Resident, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations"
    )
    grid_path = GridPathField(editable=False)
    token_hash = models.CharField(max_length=64, editable=False)
    channel = models.CharField(_("channel"), max_length=10, choices=InvitationChannel.choices)
    # The registered phone the SMS went to (SMS invitations only).
    phone = models.CharField(max_length=20, blank=True)
    expires_at = models.DateTimeField(_("valid until"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitations_used",
    )
    # Replaced by a reprint of its batch.
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["batch_id", "grid_path", "id"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        indexes = [
            path_index("invitation"),
            models.Index(fields=["household", "used_at"], name="invitation_household_used"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["token_hash"], name="invitation_unique_token_hash"),
            models.CheckConstraint(
                condition=Q(channel__in=InvitationChannel.values),
                name="invitation_channel_valid",
            ),
            models.CheckConstraint(
                condition=Q(channel=InvitationChannel.LETTER) | ~Q(phone=""),
                name="invitation_sms_has_phone",
            ),
            models.CheckConstraint(
                condition=Q(used_by__isnull=True) | Q(used_at__isnull=False),
                name="invitation_used_by_has_used_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household} ({self.get_channel_display()})"

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    def is_live(self, now) -> bool:
        return self.used_at is None and self.revoked_at is None and self.expires_at > now
