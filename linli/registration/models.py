"""Self-registration: the requests a building-group leader decides, and the tries that the
throttles count.

A person who scans their building's poster and is matched to the registry gets a login at
once and leaves no row here but their try. Anything that does not match becomes a
`RegistrationRequest`; the login is made only when the leader approves it (an unapproved
request gives nobody an account, and a rejected one leaves nothing to clean up).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli import clock
from linli.accounts.fields import GridPathField
from linli.accounts.privacy import mask_phone
from linli.grids.models import Building, Household, Resident, WithinPathQuerySet

NAME_MAX_LENGTH = 50
ROOM_MAX_LENGTH = 20
# A rejection's reason goes out by SMS, inside one message.
REASON_MAX_LENGTH = 100


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a decision")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class RequestCause(models.TextChoices):
    """Why a registration did not match at once: shown to the leader who decides, never to
    the person registering (who sees one page whatever the cause)."""

    NO_RESIDENT = "no_resident", _("Nobody of that name is registered in that room")
    NOT_CONFIRMED = "not_confirmed", _("The ID number's last four and the phone did not match")
    SEVERAL = "several", _("Several residents of that room have that name")
    ALREADY_LINKED = "already_linked", _("That resident already has a login")
    PHONE_HAS_LOGIN = "phone_has_login", _("That phone number already belongs to a login")
    TOO_MANY_TRIES = "too_many_tries", _("Too many failed tries for that room today")


class RegistrationRequestQuerySet(WithinPathQuerySet):
    def pending(self) -> "RegistrationRequestQuerySet":
        return self.filter(status=RequestStatus.PENDING)


class RegistrationRequest(models.Model):
    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, related_name="+", verbose_name=_("building")
    )
    # The building's grid path: a leader's scope reads it without a join.
    grid_path = GridPathField(editable=False)
    # What the person typed (room and name), and their phone, proved by a code.
    room = models.CharField(_("room"), max_length=ROOM_MAX_LENGTH)
    name = models.CharField(pgettext_lazy("person", "name"), max_length=NAME_MAX_LENGTH)
    phone = models.CharField(_("phone"), max_length=20)
    cause = models.CharField(_("why it waits"), max_length=20, choices=RequestCause.choices)
    # The resident the registry pointed at, if exactly one did: a hint for the leader.
    candidate = models.ForeignKey(
        Resident, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    # Why it was rejected (required then), in the leader's words; the person reads it by SMS.
    reason = models.CharField(_("reason"), max_length=REASON_MAX_LENGTH, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=pgettext_lazy("registration request", "decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # On approval: the resident linked and the login that was made (or the existing login of
    # that phone, which was linked instead).
    resident = models.ForeignKey(
        Resident, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("login"),
    )
    created_user = models.BooleanField(_("login made on approval"), default=False)
    created_at = models.DateTimeField(_("received at"), default=clock.now)

    objects = RegistrationRequestQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("registration request")
        verbose_name_plural = _("registration requests")
        indexes = [
            models.Index(fields=["grid_path", "status"], name="regrequest_path_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=RequestStatus.values),
                name="regrequest_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(cause__in=RequestCause.values), name="regrequest_cause_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status=RequestStatus.PENDING, decided_at__isnull=True)
                | (~models.Q(status=RequestStatus.PENDING) & models.Q(decided_at__isnull=False)),
                name="regrequest_decided_when_not_pending",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=RequestStatus.REJECTED) | ~models.Q(reason=""),
                name="regrequest_rejection_has_reason",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=RequestStatus.APPROVED)
                | models.Q(resident__isnull=False, user__isnull=False),
                name="regrequest_approval_links_login",
            ),
            # One waiting request per phone and building: a second try updates it.
            models.UniqueConstraint(
                fields=["phone", "building"],
                condition=models.Q(status=RequestStatus.PENDING),
                name="regrequest_one_pending_per_phone",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.building.name} {self.room}"

    @property
    def is_pending(self) -> bool:
        return self.status == RequestStatus.PENDING

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)


class RegistrationAttempt(models.Model):
    """One registration sent (its phone code checked or not): what the throttles count.

    Per address, every try; per household, the tries that did not match, so that the last
    four characters of an ID number cannot be guessed by trying. Only the last day counts;
    older rows answer nothing and may be deleted."""

    building = models.ForeignKey(Building, on_delete=models.CASCADE, related_name="+")
    # The household(s) the room pointed at; none when the room named no household.
    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    matched = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        indexes = [
            models.Index(fields=["ip_address", "created_at"], name="regattempt_address"),
            models.Index(fields=["household", "created_at"], name="regattempt_household"),
        ]

    def __str__(self) -> str:
        return f"{self.building_id} {self.created_at:%Y-%m-%d %H:%M}"
