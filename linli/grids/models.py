"""Structure: the five-level grid, the resident registry, posts and visits.

Every registry row carries `grid_path`, the materialised path of the grid unit it belongs
to, so that one indexed prefix match answers "is this inside the user's subtree" without
joins, for a building group of ten rows or a street of a million.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli import clock
from linli.accounts.fields import GridPathField
from linli.accounts.grid_paths import PATH_SEPARATOR, path_ancestors, within
from linli.accounts.privacy import mask_phone
from linli.accounts.roles import Role


class GridLevel(models.TextChoices):
    STREET = "street", _("Street grid")
    BLOCK = "block", _("Block grid")
    COMMUNITY = "community", _("Community grid")
    MICRO_GRID = "micro_grid", _("Micro-grid")
    BUILDING_GROUP = "building_group", _("Building group")


GRID_LEVEL_ORDER = [level.value for level in GridLevel]


def parent_level(level: str) -> str | None:
    position = GRID_LEVEL_ORDER.index(level)
    return GRID_LEVEL_ORDER[position - 1] if position else None


class WithinPathQuerySet(models.QuerySet):
    """Querysets of rows that carry `grid_path` (or `path` for grid units)."""

    path_field = "grid_path"

    def within(self, paths: list[str]):
        """Rows inside any of the subtrees named by `paths`; nothing when `paths` is empty."""
        if not paths:
            return self.none()
        return self.filter(within(paths, self.path_field))


def path_index(model_name: str, field: str = "grid_path") -> models.Index:
    # A plain btree: GridPathField's "C" collation on PostgreSQL lets it answer
    # LIKE 'prefix%' as a range. (Declared here rather than with db_index=True, which would
    # make Django add a second, varchar_pattern_ops copy that costs every insert.)
    return models.Index(fields=[field], name=f"{model_name}_{field}_prefix")


class GridUnitQuerySet(WithinPathQuerySet):
    path_field = "path"


class GridUnit(models.Model):
    level = models.CharField(_("level"), max_length=20, choices=GridLevel.choices)
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = GridPathField(editable=False)
    boundary = models.JSONField(_("boundary (GeoJSON)"), null=True, blank=True)
    sort_order = models.PositiveIntegerField(default=0)

    objects = GridUnitQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name = _("grid unit")
        verbose_name_plural = _("grid units")
        constraints = [
            models.UniqueConstraint(fields=["path"], name="gridunit_unique_path"),
            models.CheckConstraint(
                condition=models.Q(level__in=GRID_LEVEL_ORDER), name="gridunit_level_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(level="street", parent__isnull=True)
                | (~models.Q(level="street") & models.Q(parent__isnull=False)),
                name="gridunit_only_street_is_root",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def path_for(parent: "GridUnit | None", code: str) -> str:
        return f"{parent.path if parent else PATH_SEPARATOR}{code}{PATH_SEPARATOR}"

    @property
    def depth(self) -> int:
        return GRID_LEVEL_ORDER.index(self.level)

    def ancestor_paths(self) -> list[str]:
        return path_ancestors(self.path)


class Building(models.Model):
    # No separate index: the unique (grid_unit, name) constraint's index leads with it.
    grid_unit = models.ForeignKey(
        GridUnit,
        on_delete=models.PROTECT,
        db_index=False,
        related_name="buildings",
        verbose_name=_("building group"),
    )
    grid_path = GridPathField(editable=False)
    name = models.CharField(_("building"), max_length=50)
    address = models.CharField(_("address"), max_length=200, blank=True)
    floors = models.PositiveSmallIntegerField(_("floors"), null=True, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)

    objects = WithinPathQuerySet.as_manager()

    class Meta:
        ordering = ["grid_path", "id"]
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        indexes = [path_index("building")]
        constraints = [
            models.UniqueConstraint(
                fields=["grid_unit", "name"], name="building_unique_name_in_group"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Household(models.Model):
    # No separate index: the unique (building, room) constraint's index leads with it.
    building = models.ForeignKey(
        Building,
        on_delete=models.PROTECT,
        db_index=False,
        related_name="households",
        verbose_name=_("building"),
    )
    grid_path = GridPathField(editable=False)
    room = models.CharField(_("room"), max_length=20)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WithinPathQuerySet.as_manager()

    class Meta:
        ordering = ["grid_path", "building_id", "room"]
        verbose_name = _("household")
        verbose_name_plural = _("households")
        indexes = [path_index("household")]
        constraints = [
            models.UniqueConstraint(
                fields=["building", "room"], name="household_unique_room_in_building"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.building.name} {self.room}"


class Sex(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class ResidencyType(models.TextChoices):
    REGISTERED = "registered", _("Registered (户籍)")
    PERMANENT = "permanent", _("Permanent, not registered (常住)")
    MIGRANT = "migrant", _("Migrant (外来)")


class PartyMembership(models.TextChoices):
    NONE = "", _("Not a party member")
    IN_SERVICE = "in_service", _("In-service party member (在职)")
    RETIRED = "retired", _("Retired party member (退休)")
    FLOATING = "floating", _("Floating party member (流动)")


class VulnerabilityTag(models.TextChoices):
    ELDERLY_ALONE = "elderly_alone", _("Elderly living alone")
    EMPTY_NEST = "empty_nest", _("Empty-nest elderly")
    DISABLED = "disabled", _("Disability")
    SERIOUS_ILLNESS = "serious_illness", _("Serious illness")
    LOW_INCOME = "low_income", _("Minimum living allowance (低保)")
    PREGNANT = "pregnant", _("Pregnant or postpartum")
    LEFT_BEHIND_CHILD = "left_behind_child", _("Left-behind child")


TAG_SEPARATOR = ","


class ResidentQuerySet(WithinPathQuerySet):
    def with_tag(self, tag: str) -> "ResidentQuerySet":
        # Tags are stored as ",a,b," so one portable LIKE finds a whole tag.
        return self.filter(vulnerability_tags__contains=f"{TAG_SEPARATOR}{tag}{TAG_SEPARATOR}")

    def vulnerable(self) -> "ResidentQuerySet":
        return self.exclude(vulnerability_tags="")


class Resident(models.Model):
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="residents", verbose_name=_("household")
    )
    grid_path = GridPathField(editable=False)
    name = models.CharField(_("name"), max_length=50)
    sex = models.CharField(_("sex"), max_length=6, choices=Sex.choices)
    birth_year = models.PositiveSmallIntegerField(_("birth year"))
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    # The full number is only ever stored encrypted; the masked form is what every list
    # shows, and the keyed hash is how an import finds an existing resident.
    id_number_encrypted = models.TextField(editable=False)
    id_number_hash = models.CharField(max_length=64, editable=False)
    id_number_masked = models.CharField(_("ID number"), max_length=18, editable=False)
    residency_type = models.CharField(
        _("residency type"),
        max_length=12,
        choices=ResidencyType.choices,
        default=ResidencyType.REGISTERED,
    )
    party_membership = models.CharField(
        _("party membership"),
        max_length=12,
        choices=PartyMembership.choices,
        blank=True,
        default="",
    )
    vulnerability_tags = models.CharField(
        _("vulnerability tags"), max_length=200, blank=True, default=""
    )
    # A resident who moved away stays on the register, marked, until the retention rule (or
    # their own request) anonymises them: linli.privacy.
    moved_out_on = models.DateField(_("moved out on"), null=True, blank=True)
    # Set when name, numbers and tags were erased; what stays (sex, birth year, residency
    # type, household) only feeds the aggregates.
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ResidentQuerySet.as_manager()

    class Meta:
        ordering = ["grid_path", "household_id", "id"]
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        # (grid_path, id) serves both the subtree filter and the ordered, paginated list.
        indexes = [models.Index(fields=["grid_path", "id"], name="resident_path_id")]
        constraints = [
            # A constraint, not unique=True on the field: the field form would add an
            # unused varchar_pattern_ops index that slows the million-row import.
            models.UniqueConstraint(
                fields=["id_number_hash"], name="resident_unique_id_number_hash"
            ),
            models.CheckConstraint(
                condition=models.Q(sex__in=Sex.values), name="resident_sex_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(residency_type__in=ResidencyType.values),
                name="resident_residency_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(party_membership__in=PartyMembership.values),
                name="resident_party_membership_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(birth_year__gte=1900) & models.Q(birth_year__lte=2100),
                name="resident_birth_year_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tags(self) -> list[str]:
        return [tag for tag in self.vulnerability_tags.split(TAG_SEPARATOR) if tag]

    @property
    def tag_labels(self) -> list[str]:
        labels = dict(VulnerabilityTag.choices)
        return [str(labels.get(tag, tag)) for tag in self.tags]

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    @property
    def age(self) -> int:
        return clock.localdate().year - self.birth_year

    @staticmethod
    def encode_tags(tags: list[str]) -> str:
        unique = sorted(set(tags))
        return f"{TAG_SEPARATOR}{TAG_SEPARATOR.join(unique)}{TAG_SEPARATOR}" if unique else ""


class ResidentAccount(models.Model):
    """A resident's login, kept apart from the registry row: most residents never log in,
    and the million-row resident table should carry no column, index or key check for it."""

    resident = models.OneToOneField(Resident, on_delete=models.CASCADE, related_name="account")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="resident_account"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("resident login")
        verbose_name_plural = _("resident logins")

    def __str__(self) -> str:
        return f"{self.user} → {self.resident}"


class Post(models.TextChoices):
    """The titles a role is held under, in the case study's words."""

    STREET_ADMIN = "street_admin", _("Street administrator")
    PARTY_SECRETARY = "party_secretary", _("Party general branch secretary")
    COMMITTEE_STAFF = "committee_staff", _("Residents' committee social worker")
    BRANCH_SECRETARY = "branch_secretary", _("Party branch secretary")
    SOCIAL_WORKER_LEAD = "social_worker_lead", _("Social-worker block lead")
    MICRO_GRID_HEAD = "micro_grid_head", _("Micro-grid head")
    BUILDING_GROUP_HEAD = "building_group_head", _("Building-group head")
    VOLUNTEER = "volunteer", _("Volunteer")
    PARTNER_LIAISON = "partner_liaison", _("Partner liaison")
    RESIDENT = "resident", _("Resident")


class RoleAssignmentQuerySet(WithinPathQuerySet):
    pass


class RoleAssignment(models.Model):
    """A user holds a role on a grid unit; the role's permissions cover its subtree."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    post = models.CharField(_("post"), max_length=30, choices=Post.choices, blank=True)
    grid_unit = models.ForeignKey(
        GridUnit,
        on_delete=models.CASCADE,
        related_name="role_assignments",
        verbose_name=_("grid unit"),
    )
    grid_path = GridPathField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RoleAssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["grid_path", "role", "id"]
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "grid_unit"], name="roleassignment_unique_user_role_unit"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="roleassignment_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.grid_unit}"


class VisitMethod(models.TextChoices):
    DOOR = "door", _("Door-to-door")
    PHONE = "phone", _("Phone call")
    WECHAT = "wechat", _("WeChat")


class Mood(models.TextChoices):
    GOOD = "good", _("Good")
    NEUTRAL = "neutral", _("Neutral")
    LOW = "low", pgettext_lazy("mood", "Low")
    DISTRESSED = "distressed", _("Distressed")


class VisitQuerySet(WithinPathQuerySet):
    def needing_follow_up(self) -> "VisitQuerySet":
        return self.filter(needs_follow_up=True)


class Visit(models.Model):
    """寻访: a leader's contact with a household and what they found."""

    # Indexed by visit_household_recent (household, -visited_at).
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, db_index=False, related_name="visits"
    )
    grid_path = GridPathField(editable=False)
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="visits"
    )
    visited_at = models.DateTimeField(_("visited at"), default=timezone.now)
    method = models.CharField(_("method"), max_length=10, choices=VisitMethod.choices)
    finding = models.TextField(_("what was found"), blank=True, max_length=2000)
    mood = models.CharField(_("mood"), max_length=12, choices=Mood.choices, blank=True)
    needs_follow_up = models.BooleanField(_("needs follow-up"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = VisitQuerySet.as_manager()

    class Meta:
        ordering = ["-visited_at", "-id"]
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        indexes = [
            path_index("visit"),
            models.Index(fields=["household", "-visited_at"], name="visit_household_recent"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(method__in=VisitMethod.values), name="visit_method_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(mood__in=[*Mood.values, ""]), name="visit_mood_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(needs_follow_up=True) | ~models.Q(finding=""),
                name="visit_follow_up_needs_finding",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household} {self.visited_at:%Y-%m-%d}"


class ImportRunState(models.TextChoices):
    QUEUED = "queued", _("Waiting to start")
    RUNNING = "running", _("Running")
    DONE = "done", _("Finished")
    FAILED = "failed", _("Failed")


class ImportRun(models.Model):
    """A registry import too large for a web request, run by `linli worker`
    (linli.grids.importing.runs): the uploaded file waits in private storage until the run
    reads it, then is deleted; the report is kept for the page that shows the run."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_runs"
    )
    filename = models.CharField(_("file name"), max_length=200)
    stored_name = models.CharField(max_length=300, blank=True)
    dry_run = models.BooleanField(_("check only"), default=False)
    state = models.CharField(
        _("state"), max_length=10, choices=ImportRunState.choices, default=ImportRunState.QUEUED
    )
    rows_expected = models.PositiveIntegerField(default=0)
    rows_read = models.PositiveIntegerField(default=0)
    # The report: counts, the errors (as RowError fields), whether anything was written.
    report = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=ImportRunState.values), name="import_run_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.filename

    @property
    def finished(self) -> bool:
        return self.state in (ImportRunState.DONE, ImportRunState.FAILED)
