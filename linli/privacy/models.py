"""What the privacy app records: who accepted which privacy notice, and residents' requests
to correct what the register holds about them (PIPL Art. 46)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.grids.models import WithinPathQuerySet

# Bounds of what a resident types into a correction request; said in the form and the API.
CORRECTION_VALUE_MAX_LENGTH = 100
CORRECTION_NOTE_MAX_LENGTH = 500
DECISION_NOTE_MAX_LENGTH = 300


class PrivacyNoticeAcceptance(models.Model):
    """A person accepted one version of the privacy notice (LINLI_PRIVACY_NOTICE_VERSION)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="privacy_acceptances"
    )
    version = models.CharField(_("version"), max_length=20)
    accepted_at = models.DateTimeField(_("accepted at"))
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        ordering = ["-accepted_at", "-id"]
        verbose_name = _("privacy notice acceptance")
        verbose_name_plural = _("privacy notice acceptances")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "version"], name="privacynoticeacceptance_unique_user_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.version}"


class CorrectionField(models.TextChoices):
    """What a resident may ask to correct. The first four are applied through the register's
    own edit (grids.services.resident_update); anything else is described in the note and
    corrected by staff by hand (an ID number is re-registered, not edited)."""

    NAME = "name", _("Name")
    PHONE = "phone", _("Phone")
    RESIDENCY_TYPE = "residency_type", _("Residency type")
    PARTY_MEMBERSHIP = "party_membership", _("Party membership")
    OTHER = "other", _("Something else (describe it)")


# The fields staff can apply with one click: the value goes through resident_update.
APPLICABLE_FIELDS = (
    CorrectionField.NAME,
    CorrectionField.PHONE,
    CorrectionField.RESIDENCY_TYPE,
    CorrectionField.PARTY_MEMBERSHIP,
)


class CorrectionState(models.TextChoices):
    OPEN = "open", _("Open")
    APPLIED = "applied", _("Corrected")
    DECLINED = "declined", _("Declined")


class CorrectionRequest(models.Model):
    """A resident's request to correct one field of a household member's record: a task for
    staff who may edit the register there, who apply it or decline it with a reason."""

    resident = models.ForeignKey(
        "grids.Resident", on_delete=models.CASCADE, related_name="correction_requests"
    )
    household = models.ForeignKey(
        "grids.Household", on_delete=models.CASCADE, related_name="correction_requests"
    )
    # The resident's household's path: staff whose EDIT_REGISTRY covers it see the request.
    grid_path = models.CharField(max_length=255, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    field = models.CharField(_("what is wrong"), max_length=20, choices=CorrectionField.choices)
    requested_value = models.CharField(
        _("correct value"), max_length=CORRECTION_VALUE_MAX_LENGTH, blank=True
    )
    note = models.TextField(_("note"), max_length=CORRECTION_NOTE_MAX_LENGTH, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=CorrectionState.choices, default=CorrectionState.OPEN
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("decision"), max_length=DECISION_NOTE_MAX_LENGTH, blank=True)
    created_at = models.DateTimeField()

    objects = WithinPathQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("correction request")
        verbose_name_plural = _("correction requests")
        indexes = [models.Index(fields=["state", "grid_path"], name="correction_state_path")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(field__in=CorrectionField.values),
                name="correctionrequest_field_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=CorrectionState.values),
                name="correctionrequest_state_valid",
            ),
            # A request says what is right: a value for a field, a description otherwise.
            models.CheckConstraint(
                condition=~models.Q(requested_value="", note=""),
                name="correctionrequest_says_what",
            ),
            # Handled exactly when it is no longer open; a refusal gives its reason.
            models.CheckConstraint(
                condition=(
                    models.Q(state=CorrectionState.OPEN, handled_at__isnull=True)
                    | (~models.Q(state=CorrectionState.OPEN) & models.Q(handled_at__isnull=False))
                ),
                name="correctionrequest_handled_when_closed",
            ),
            models.CheckConstraint(
                condition=~models.Q(state=CorrectionState.DECLINED, decision_note=""),
                name="correctionrequest_decline_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} · {self.field} · {self.state}"
