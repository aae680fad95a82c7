"""Partner units (共建单位) and the three lists (三张清单): needs, resources, projects, with
two-way claiming (双向认领).

Every row carries `grid_path` (the community or unit it belongs to), so the same indexed
prefix match that scopes the registry scopes these lists.
"""

from datetime import date

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli import clock
from linli.accounts.fields import GridPathField
from linli.accounts.privacy import mask_phone
from linli.grids.models import WithinPathQuerySet, path_index


class PartnerType(models.TextChoices):
    GOVERNMENT = "government", _("Government unit")
    ENTERPRISE = "enterprise", _("Enterprise")
    UNIVERSITY = "university", _("University")
    COURT = "court", _("Court")
    HOSPITAL = "hospital", _("Hospital")
    SCHOOL = "school", _("School")
    SOCIAL_ORGANISATION = "social_organisation", _("Social organisation")
    BUSINESS = "business", _("Business")


class ServiceCategory(models.TextChoices):
    """What a need asks for and what a resource offers. The first nine are the critical
    categories whose providers the redundancy check counts."""

    MEDICAL = "medical", _("Medical")
    LEGAL = "legal", _("Legal")
    FOOD = "food", _("Food")
    WATER = "water", _("Water")
    SHELTER = "shelter", _("Venue / shelter")
    TRANSPORT = "transport", _("Transport")
    REPAIR = "repair", _("Repair")
    PSYCHOLOGICAL = "psychological", _("Psychological support")
    INFORMATION = "information", _("Information")
    ELDER_CARE = "elder_care", _("Elder care")
    CHILD_CARE = "child_care", _("Child care")
    OTHER = "other", _("Other")


CRITICAL_CATEGORIES = [
    ServiceCategory.MEDICAL,
    ServiceCategory.LEGAL,
    ServiceCategory.FOOD,
    ServiceCategory.WATER,
    ServiceCategory.SHELTER,
    ServiceCategory.TRANSPORT,
    ServiceCategory.REPAIR,
    ServiceCategory.PSYCHOLOGICAL,
    ServiceCategory.INFORMATION,
]


class ResourceKind(models.TextChoices):
    PEOPLE = "people", _("People")
    MATERIAL = "material", _("Material")
    FUNDS = "funds", _("Funds")
    VENUE = "venue", _("Venue")
    PROFESSIONAL = "professional", _("Professional service")


class Urgency(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Recurrence(models.TextChoices):
    ONCE = "once", _("Once")
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")


class NeedSource(models.TextChoices):
    RESIDENT = "resident", _("Resident")
    VISIT = "visit", _("Visit")
    CASE = "case", _("Case")
    STAFF = "staff", _("Staff")


class NeedState(models.TextChoices):
    OPEN = "open", _("Open")
    CLAIMED = "claimed", _("Fully claimed")
    FULFILLED = "fulfilled", _("Fulfilled")
    CANCELLED = "cancelled", _("Cancelled")


class ClaimState(models.TextChoices):
    CLAIMED = "claimed", _("Claimed")
    IN_PROGRESS = "in_progress", _("In progress")
    DELIVERED = "delivered", _("Delivered")
    CONFIRMED = "confirmed", _("Confirmed")
    CANCELLED = "cancelled", _("Cancelled")


class ClaimDirection(models.TextChoices):
    # A partner or volunteer takes a need from the list.
    PROVIDER_CLAIMS_NEED = "provider", _("Provider claims a need")
    # The community takes an offered resource for a need.
    COMMUNITY_CLAIMS_RESOURCE = "community", _("Community claims a resource")


class ProjectState(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


# Partners ---------------------------------------------------------------------------------


class Partner(models.Model):
    """共建单位: an organisation that works with one community."""

    name = models.CharField(_("name"), max_length=100)
    partner_type = models.CharField(_("type"), max_length=24, choices=PartnerType.choices)
    grid_unit = models.ForeignKey(
        "grids.GridUnit",
        on_delete=models.PROTECT,
        related_name="partners",
        verbose_name=_("community"),
    )
    grid_path = GridPathField(editable=False)
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    offers = models.TextField(_("what they offer"), blank=True, max_length=2000)
    address = models.CharField(_("address"), max_length=200, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WithinPathQuerySet.as_manager()

    class Meta:
        ordering = ["grid_path", "name"]
        verbose_name = _("partner unit")
        verbose_name_plural = _("partner units")
        indexes = [path_index("partner")]
        constraints = [
            models.UniqueConstraint(
                fields=["grid_unit", "name"], name="partner_unique_name_in_community"
            ),
            models.CheckConstraint(
                condition=models.Q(partner_type__in=PartnerType.values), name="partner_type_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def contact_phone_masked(self) -> str:
        return mask_phone(self.contact_phone)

    def valid_agreement(self, on: date | None = None) -> "Agreement | None":
        on = on or clock.localdate()
        return (
            self.agreements.filter(starts_on__lte=on, ends_on__gte=on).order_by("-ends_on").first()
        )


class Agreement(models.Model):
    """共建协议: what makes a partner's offers binding, for a limited time."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="agreements")
    title = models.CharField(_("title"), max_length=200)
    starts_on = models.DateField(_("valid from"))
    ends_on = models.DateField(_("valid until"))
    notes = models.TextField(_("notes"), blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-ends_on", "-id"]
        verbose_name = _("cooperation agreement")
        verbose_name_plural = _("cooperation agreements")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="agreement_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner} · {self.title}"

    def is_valid_on(self, on: date) -> bool:
        return self.starts_on <= on <= self.ends_on


class PartnerLiaison(models.Model):
    """A liaison's login acts for exactly one partner unit."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="partner_liaison"
    )
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="liaisons")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("partner liaison")
        verbose_name_plural = _("partner liaisons")

    def __str__(self) -> str:
        return f"{self.user} → {self.partner}"


class LiaisonInvitationQuerySet(models.QuerySet):
    def open(self) -> "LiaisonInvitationQuerySet":
        """Neither used nor revoked nor expired: the link still works."""
        return self.filter(
            used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=clock.now()
        )


class LiaisonInvitation(models.Model):
    """A link that makes whoever opens it, and proves a phone, a liaison of the partner unit
    (linli.partners.services.liaison_invitations). Single use, valid until `expires_at`. The
    token is shown once, when staff create the link; only its SHA-256 is stored, so a copy of
    the table opens nothing."""

    partner = models.ForeignKey(
        Partner,
        on_delete=models.CASCADE,
        related_name="liaison_invitations",
        verbose_name=_("partner unit"),
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("used by"),
    )
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    objects = LiaisonInvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("liaison invitation")
        verbose_name_plural = _("liaison invitations")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="liaisoninvitation_expires_after_made",
            ),
            # Used or revoked, never both: a used link is over, a revoked one was never used.
            models.CheckConstraint(
                condition=models.Q(used_at__isnull=True) | models.Q(revoked_at__isnull=True),
                name="liaisoninvitation_used_or_revoked",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner} · {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.used_at is None and self.revoked_at is None and self.expires_at > clock.now()


# Needs --------------------------------------------------------------------------------------


class NeedQuerySet(WithinPathQuerySet):
    def open(self) -> "NeedQuerySet":
        return self.filter(state=NeedState.OPEN)


class Need(models.Model):
    """需求清单: one thing a household or the community needs, possibly recurring."""

    grid_unit = models.ForeignKey(
        "grids.GridUnit", on_delete=models.PROTECT, related_name="needs", verbose_name=_("where")
    )
    grid_path = GridPathField(editable=False)
    household = models.ForeignKey(
        "grids.Household",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="needs",
        verbose_name=_("beneficiary household"),
    )
    beneficiary = models.ForeignKey(
        "grids.Resident",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="needs",
        verbose_name=_("beneficiary"),
    )
    source = models.CharField(_("source"), max_length=10, choices=NeedSource.choices)
    visit = models.ForeignKey(
        "grids.Visit", null=True, blank=True, on_delete=models.SET_NULL, related_name="needs"
    )
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="needs"
    )
    category = models.CharField(_("kind"), max_length=16, choices=ServiceCategory.choices)
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    urgency = models.CharField(
        _("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    recurrence = models.CharField(
        _("recurrence"), max_length=8, choices=Recurrence.choices, default=Recurrence.ONCE
    )
    # Sum of the quantities of the claims that are not cancelled; kept by claim services
    # under the need's row lock, and bounded by a CHECK so no race can over-claim.
    claimed_quantity = models.PositiveIntegerField(default=0, editable=False)
    state = models.CharField(
        _("state"), max_length=10, choices=NeedState.choices, default=NeedState.OPEN
    )
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When the list keepers were last told that the need waits for a claim (partners.
    # services.notices.waiting_needs_notify): at most once every LINLI_NEED_WAITING_DAYS.
    waiting_notice_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = NeedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("need")
        verbose_name_plural = _("needs")
        indexes = [
            path_index("need"),
            models.Index(fields=["state", "category"], name="need_state_category"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="need_quantity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(claimed_quantity__lte=models.F("quantity")),
                name="need_claimed_within_quantity",
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=NeedState.values), name="need_state_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(category__in=ServiceCategory.values),
                name="need_category_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def remaining(self) -> int:
        return self.quantity - self.claimed_quantity


# Resources ----------------------------------------------------------------------------------


class Resource(models.Model):
    """资源清单: what a partner or volunteer offers."""

    partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.CASCADE, related_name="resources"
    )
    volunteer = models.ForeignKey(
        "volunteers.Volunteer",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="resources",
    )
    grid_unit = models.ForeignKey(
        "grids.GridUnit", on_delete=models.PROTECT, related_name="resources"
    )
    grid_path = GridPathField(editable=False)
    kind = models.CharField(_("kind"), max_length=14, choices=ResourceKind.choices)
    category = models.CharField(_("for"), max_length=16, choices=ServiceCategory.choices)
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    # Reserved by the community's claims on this resource (not cancelled).
    committed_quantity = models.PositiveIntegerField(default=0, editable=False)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    available_from = models.DateField(_("available from"), null=True, blank=True)
    available_until = models.DateField(_("available until"), null=True, blank=True)
    availability = models.CharField(_("availability"), max_length=200, blank=True)
    conditions = models.TextField(_("conditions"), blank=True, max_length=1000)
    is_active = models.BooleanField(_("active"), default=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WithinPathQuerySet.as_manager()

    class Meta:
        ordering = ["grid_path", "category", "id"]
        verbose_name = _("resource")
        verbose_name_plural = _("resources")
        indexes = [
            path_index("resource"),
            models.Index(fields=["category", "is_active"], name="resource_category_active"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(partner__isnull=False) & models.Q(volunteer__isnull=True))
                | (models.Q(partner__isnull=True) & models.Q(volunteer__isnull=False)),
                name="resource_one_provider",
            ),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="resource_quantity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(committed_quantity__lte=models.F("quantity")),
                name="resource_committed_within_quantity",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=ResourceKind.values), name="resource_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(category__in=ServiceCategory.values),
                name="resource_category_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(available_from__isnull=True)
                | models.Q(available_until__isnull=True)
                | models.Q(available_until__gte=models.F("available_from")),
                name="resource_availability_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def remaining(self) -> int:
        return self.quantity - self.committed_quantity

    def is_available_on(self, on: date) -> bool:
        return (
            self.is_active
            and (self.available_from is None or self.available_from <= on)
            and (self.available_until is None or on <= self.available_until)
        )

    @property
    def provider_name(self) -> str:
        return str(self.partner) if self.partner_id else str(self.volunteer)


# Claims -------------------------------------------------------------------------------------


class Claim(models.Model):
    """双向认领: a provider takes (part of) a need, or the community takes a resource for it."""

    need = models.ForeignKey(Need, on_delete=models.PROTECT, related_name="claims")
    resource = models.ForeignKey(
        Resource, null=True, blank=True, on_delete=models.PROTECT, related_name="claims"
    )
    direction = models.CharField(_("direction"), max_length=10, choices=ClaimDirection.choices)
    partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="claims"
    )
    volunteer = models.ForeignKey(
        "volunteers.Volunteer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="claims",
    )
    grid_path = GridPathField(editable=False)
    quantity = models.PositiveIntegerField(_("quantity"))
    state = models.CharField(
        _("state"), max_length=12, choices=ClaimState.choices, default=ClaimState.CLAIMED
    )
    hours = models.DecimalField(
        _("service hours"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=300, blank=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # Hours above settings.LINLI_HOURS_APPROVAL_ABOVE wait, once the delivery is confirmed,
    # for staff covering the need to approve them before they reach the volunteer's ledger.
    hours_pending = models.BooleanField(_("hours awaiting approval"), default=False)
    hours_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    hours_approved_at = models.DateTimeField(null=True, blank=True)

    objects = WithinPathQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        indexes = [path_index("claim")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="claim_quantity_positive"
            ),
            models.CheckConstraint(
                condition=(models.Q(partner__isnull=False) & models.Q(volunteer__isnull=True))
                | (models.Q(partner__isnull=True) & models.Q(volunteer__isnull=False)),
                name="claim_one_provider",
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=ClaimState.values), name="claim_state_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(state="cancelled") | ~models.Q(cancel_reason=""),
                name="claim_cancel_needs_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(hours__isnull=True) | models.Q(hours__gt=0),
                name="claim_hours_positive",
            ),
            # Only a confirmed claim with hours can be waiting for their approval.
            models.CheckConstraint(
                condition=models.Q(hours_pending=False)
                | (models.Q(state="confirmed") & models.Q(hours__isnull=False)),
                name="claim_pending_hours_confirmed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.need} · {self.provider_name} × {self.quantity}"

    @property
    def provider_name(self) -> str:
        return str(self.partner) if self.partner_id else str(self.volunteer)

    @property
    def is_active(self) -> bool:
        return self.state != ClaimState.CANCELLED


class ClaimEvent(models.Model):
    """Append-only timeline of a claim."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=20)
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("claim event")
        verbose_name_plural = _("claim events")

    def __str__(self) -> str:
        return f"{self.claim_id} {self.action}"


# Projects -----------------------------------------------------------------------------------


class Project(models.Model):
    """项目清单: a need matched to a resource, with an owner, a schedule and milestones."""

    need = models.ForeignKey(Need, on_delete=models.PROTECT, related_name="projects")
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="projects")
    grid_path = GridPathField(editable=False)
    title = models.CharField(_("title"), max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_projects",
        verbose_name=_("owner"),
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    schedule = models.CharField(_("schedule"), max_length=200, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=ProjectState.choices, default=ProjectState.PLANNED
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WithinPathQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "-id"]
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        indexes = [path_index("project")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="project_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=ProjectState.values), name="project_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Milestone(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("title"), max_length=200)
    due_on = models.DateField(_("due on"))
    done_on = models.DateField(_("done on"), null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")

    def __str__(self) -> str:
        return self.title
