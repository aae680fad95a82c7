"""民情 cases: problems found in the community, carried through the closed loop of digital
urban management (信息收集 → 立案 → 派遣 → 处置 → 反馈 → 核查 → 结案 → 评价).

Every case carries `grid_path` (the path of the grid unit that owns its location), so the
same indexed prefix match that scopes the registry scopes cases. Photos (CasePhoto) belong to
a case and, through a timeline event, to the step that took them.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from linli import clock
from linli.accounts.fields import GridPathField
from linli.grids.models import WithinPathQuerySet, path_index


class CaseCategory(models.Model):
    """A two-level tree: a major class (no parent) groups minor classes; a case is filed
    under a minor class, which carries the time limit and the handling rules."""

    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("major class"),
    )
    code = models.CharField(_("code"), max_length=20, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=50)
    name_en = models.CharField(_("English name"), max_length=80)
    sla_hours = models.PositiveIntegerField(_("time limit (hours)"), null=True, blank=True)
    acceptance_condition = models.TextField(_("acceptance condition"), blank=True)
    closing_condition = models.TextField(_("closing condition"), blank=True)
    usual_handler = models.CharField(_("usual handler"), max_length=100, blank=True)
    # Some problems (neighbour disputes) concern named people and stay off the public board.
    is_public = models.BooleanField(_("shown on the public board"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(default=0)

    # Not a column: set by cases.selectors.category_tree_with_counts for the editor page, the
    # open cases of a minor class inside the reader's own grids.
    open_cases: int

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("case category")
        verbose_name_plural = _("case categories")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(parent__isnull=True) | models.Q(sla_hours__gt=0),
                name="casecategory_minor_has_sla",
            ),
            models.CheckConstraint(
                condition=models.Q(parent__isnull=False) | models.Q(sla_hours__isnull=True),
                name="casecategory_major_has_no_sla",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The name in the active language: Chinese first, English when the page is English."""
        return (
            self.name_en
            if (get_language() or "").startswith("en") and self.name_en
            else self.name_zh
        )

    @property
    def is_major(self) -> bool:
        return self.parent_id is None

    @property
    def time_limit(self) -> timedelta:
        """The time a case of this minor class has to be handled. A major class has none, and
        no case is filed under one."""
        if self.sla_hours is None:
            raise ValueError(f"{self.code} is a major class: it has no time limit")
        return timedelta(hours=self.sla_hours)


class CaseSource(models.TextChoices):
    VISIT = "visit", _("Visit finding")
    RESIDENT_REPORT = "resident_report", _("Resident report")
    STAFF = "staff", _("Staff entry")
    HOTLINE_12345 = "hotline_12345", _("12345 hotline transfer")
    PATROL = "patrol", _("Patrol")
    EMERGENCY = "emergency", _("Emergency")
    OPEN311 = "open311", _("Open311 client")
    # A resident's SMS or WeChat message, filed by staff (linli.inbound).
    SMS = "sms", _("SMS from a resident")
    WECHAT = "wechat", _("WeChat message from a resident")


class CasePriority(models.TextChoices):
    LOW = "low", pgettext_lazy("priority", "Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class CaseState(models.TextChoices):
    REPORTED = "reported", _("Reported")
    ACCEPTED = "accepted", _("Accepted (立案)")
    DISPATCHED = "dispatched", _("Dispatched (派遣)")
    IN_PROGRESS = "in_progress", _("In progress (处置)")
    RESOLVED = "resolved", _("Resolved (反馈)")
    VERIFIED = "verified", _("Verified (核查)")
    CLOSED = "closed", _("Closed (结案)")
    REJECTED = "rejected", _("Rejected (不予立案)")
    DUPLICATE = "duplicate", _("Duplicate")
    RETURNED = "returned", _("Returned to dispatcher")


# The clock runs while nobody has answered the problem yet; a resolved case waits for
# verification, which is not the handler's delay.
ACTIVE_STATES = (
    CaseState.REPORTED,
    CaseState.ACCEPTED,
    CaseState.DISPATCHED,
    CaseState.IN_PROGRESS,
    CaseState.RETURNED,
)
OPEN_STATES = (*ACTIVE_STATES, CaseState.RESOLVED, CaseState.VERIFIED)
FINISHED_STATES = (CaseState.CLOSED, CaseState.REJECTED, CaseState.DUPLICATE)


class EscalationLevel(models.TextChoices):
    """The grid levels a case climbs; the block level has no post that handles cases."""

    BUILDING_GROUP = "building_group", _("Building group")
    MICRO_GRID = "micro_grid", _("Micro-grid")
    COMMUNITY = "community", _("Community")
    STREET = "street", _("Street")


ESCALATION_ORDER = [level.value for level in EscalationLevel]


class CaseQuerySet(WithinPathQuerySet):
    def open(self) -> "CaseQuerySet":
        return self.filter(state__in=OPEN_STATES)

    def overdue(self, now) -> "CaseQuerySet":
        return self.filter(state__in=ACTIVE_STATES, due_at__lt=now)


class Case(models.Model):
    reference = models.CharField(_("reference"), max_length=32, unique=True)
    source = models.CharField(_("source"), max_length=20, choices=CaseSource.choices)
    hotline_reference = models.CharField(_("12345 reference"), max_length=50, blank=True)
    category = models.ForeignKey(
        CaseCategory, on_delete=models.PROTECT, related_name="cases", verbose_name=_("category")
    )
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), max_length=2000)
    grid_unit = models.ForeignKey(
        "grids.GridUnit",
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("grid unit"),
    )
    grid_path = GridPathField(editable=False)
    building = models.ForeignKey(
        "grids.Building",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("building"),
    )
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reported_cases",
    )
    reporter_resident = models.ForeignKey(
        "grids.Resident",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reported_cases",
    )
    visit = models.ForeignKey(
        "grids.Visit", null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=CasePriority.choices, default=CasePriority.NORMAL
    )
    state = models.CharField(
        _("state"), max_length=12, choices=CaseState.choices, default=CaseState.REPORTED
    )
    owner_unit = models.ForeignKey(
        "grids.GridUnit",
        on_delete=models.PROTECT,
        related_name="owned_cases",
        verbose_name=_("owning grid unit"),
    )
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_cases",
    )
    handler_text = models.CharField(_("handler"), max_length=100, blank=True)
    due_at = models.DateTimeField(_("due"))
    # The first time limit, kept for 按期结案率 after escalations and extensions move due_at.
    original_due_at = models.DateTimeField(_("original due"))
    escalation_level = models.CharField(
        _("escalation level"),
        max_length=20,
        choices=EscalationLevel.choices,
        default=EscalationLevel.BUILDING_GROUP,
    )
    extension_count = models.PositiveSmallIntegerField(default=0)
    extension_pending = models.BooleanField(default=False)
    reopen_count = models.PositiveSmallIntegerField(default=0)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction"), null=True, blank=True)
    satisfaction_comment = models.CharField(_("comment"), max_length=500, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Optimistic concurrency: a client sends the version it saw; a stale one is refused.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [
            path_index("case"),
            models.Index(fields=["state", "due_at"], name="case_state_due"),
            models.Index(fields=["category", "created_at"], name="case_category_created"),
            # The workbench: a unit's open cases by due time. Open cases are a small share of
            # all cases, so the partial index stays small (2.7 MB at 1M cases) and answers the
            # page and its count without touching closed rows (bench/cases_workbench.py).
            models.Index(
                fields=["grid_path", "due_at", "id"],
                condition=models.Q(state__in=OPEN_STATES),
                name="case_open_path_due",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(source__in=CaseSource.values), name="case_source_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=CaseState.values), name="case_state_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(priority__in=CasePriority.values), name="case_priority_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(escalation_level__in=EscalationLevel.values),
                name="case_escalation_level_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(satisfaction__isnull=True)
                | (models.Q(satisfaction__gte=1) & models.Q(satisfaction__lte=5)),
                name="case_satisfaction_range",
            ),
            models.CheckConstraint(
                condition=models.Q(extension_count__lte=2), name="case_extension_cap"
            ),
            models.CheckConstraint(
                condition=~models.Q(source="hotline_12345") | ~models.Q(hotline_reference=""),
                name="case_hotline_has_reference",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="duplicate") | models.Q(duplicate_of__isnull=False),
                name="case_duplicate_names_original",
            ),
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True, longitude__isnull=True)
                | models.Q(latitude__isnull=False, longitude__isnull=False),
                name="case_point_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def is_overdue(self, now=None) -> bool:
        return self.state in ACTIVE_STATES and self.due_at < (now or clock.now())


class CaseEvent(models.Model):
    """The append-only timeline of a case: no service updates or deletes a row."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(_("action"), max_length=30)
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12, blank=True)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("case event")
        verbose_name_plural = _("case events")

    def __str__(self) -> str:
        return f"{self.case_id} {self.action} {self.from_state}→{self.to_state}"


class Coordination(models.Model):
    """会商: the community party branch's meeting on an escalated case."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="coordinations")
    held_at = models.DateTimeField(_("held at"))
    participants = models.TextField(_("participants"))
    partner_units = models.TextField(_("partner units"), blank=True)
    decision = models.TextField(_("decision"))
    units_assigned = models.TextField(_("units assigned"), blank=True)
    due_at = models.DateTimeField(_("due"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-held_at", "-id"]
        verbose_name = _("coordination meeting")
        verbose_name_plural = _("coordination meetings")

    def __str__(self) -> str:
        return f"{self.case_id} {self.held_at:%Y-%m-%d}"


# Photos ------------------------------------------------------------------------------------

PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def case_photo_upload_to(instance: "CasePhoto", filename: str) -> str:
    """cases/<yyyy>/<mm>/<uuid>.<ext>: never the uploaded name, which can carry a person's
    name or a room number, and is chosen by the client."""
    now = clock.now()
    extension = PHOTO_EXTENSIONS.get(instance.content_type, "bin")
    return f"cases/{now:%Y}/{now:%m}/{uuid.uuid4().hex}.{extension}"


class CasePhoto(models.Model):
    """A photo of the problem or of the result. Stored re-encoded without metadata (phone
    photos carry GPS), outside any public URL: served only through the scoped view."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="photos")
    # The timeline step the photo belongs to: filing, resolving with the result, ...
    event = models.ForeignKey(
        CaseEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="photos"
    )
    image = models.ImageField(_("photo"), upload_to=case_photo_upload_to, max_length=200)
    content_type = models.CharField(max_length=30)
    size = models.PositiveIntegerField(_("size (bytes)"))
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("case photo")
        verbose_name_plural = _("case photos")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(size__lte=PHOTO_MAX_BYTES), name="casephoto_size_max_10mb"
            ),
            models.CheckConstraint(
                condition=models.Q(content_type__in=list(PHOTO_EXTENSIONS)),
                name="casephoto_content_type_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} photo {self.pk}"
