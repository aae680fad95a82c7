"""Volunteers: sign-up and review, the seven functional teams, the team recommendation and
the append-only service-hours ledger.

Every row carries `grid_path` (the volunteer's grid unit, or the team's community), so the
same indexed prefix match that scopes the registry scopes volunteers. Skills, willingness
and availability are short code lists stored as ",a,b," (like resident tags), so one
portable LIKE finds a whole code on SQLite and PostgreSQL alike.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli.accounts.fields import GridPathField
from linli.accounts.privacy import mask_phone
from linli.grids.models import PartyMembership, WithinPathQuerySet, path_index

CODE_SEPARATOR = ","


def encode_codes(codes) -> str:
    unique = sorted(set(codes))
    return f"{CODE_SEPARATOR}{CODE_SEPARATOR.join(unique)}{CODE_SEPARATOR}" if unique else ""


def decode_codes(value: str) -> list[str]:
    return [code for code in value.split(CODE_SEPARATOR) if code]


class Skill(models.TextChoices):
    """The fixed skill catalogue (what a volunteer can do)."""

    MEDICAL = "medical", _("Medical")
    NURSING = "nursing", _("Nursing")
    FIRST_AID = "first_aid", _("First aid")
    LEGAL = "legal", _("Legal")
    PSYCHOLOGICAL = "psychological", _("Psychological counselling")
    IT = "it", _("IT")
    DRIVING = "driving", _("Driving")
    LOGISTICS = "logistics", _("Logistics")
    REPAIR = "repair", _("Repair")
    LANGUAGE = "language", _("Language or dialect")
    ELDER_CARE = "elder_care", _("Elder care")
    CHILD_CARE = "child_care", _("Child care")
    PUBLICITY = "publicity", _("Publicity")
    COOKING = "cooking", _("Cooking")
    ACCOUNTING = "accounting", _("Accounting")


class ServiceKind(models.TextChoices):
    """The kinds of service a volunteer is willing to give; one per functional team."""

    EMERGENCY_RESPONSE = "emergency_response", _("Emergency response")
    MEDICAL_SUPPORT = "medical_support", _("Medical support")
    SUPPLIES = "supplies", _("Supplies support")
    LIAISON = "liaison", _("Information and liaison")
    CARE = "care", _("Care and assistance")
    PATROL = "patrol", _("Environment patrol")
    PUBLICITY = "publicity", _("Publicity and mobilisation")


class Weekday(models.TextChoices):
    MON = "mon", _("Monday")
    TUE = "tue", _("Tuesday")
    WED = "wed", _("Wednesday")
    THU = "thu", _("Thursday")
    FRI = "fri", _("Friday")
    SAT = "sat", _("Saturday")
    SUN = "sun", _("Sunday")


class DayPart(models.TextChoices):
    MORNING = "am", _("Morning")
    AFTERNOON = "pm", _("Afternoon")
    EVENING = "eve", _("Evening")


# A slot is "<weekday>_<day part>", e.g. "thu_pm" (Thursday action day afternoon).
SLOTS: tuple[str, ...] = tuple(f"{day}_{part}" for day in Weekday.values for part in DayPart.values)


def slot_label(slot: str) -> str:
    day, part = slot.split("_", 1)
    return f"{Weekday(day).label} {DayPart(part).label}"


class VolunteerOrigin(models.TextChoices):
    RESIDENT = "resident", _("Resident of the community")
    # 双报到: in-service party members report to the community where they live and serve it
    # alongside their work unit.
    OUTSIDE = "outside", _("From outside (双报到 or other)")


class VolunteerStatus(models.TextChoices):
    APPLIED = "applied", _("Applied")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")


# Volunteers who can be placed in a team and credited with hours.
SERVING_STATUSES = (VolunteerStatus.APPROVED, VolunteerStatus.ACTIVE)
# Volunteers whom staff approved: they belong to their community (participation's
# member_community_ids). A paused (inactive) volunteer still does; an application waiting
# for review or a rejected one does not.
MEMBER_STATUSES = (*SERVING_STATUSES, VolunteerStatus.INACTIVE)


class VolunteerQuerySet(WithinPathQuerySet):
    def serving(self) -> "VolunteerQuerySet":
        return self.filter(status__in=SERVING_STATUSES)

    def with_skill(self, skill: str) -> "VolunteerQuerySet":
        return self.filter(skills__contains=f"{CODE_SEPARATOR}{skill}{CODE_SEPARATOR}")


class Volunteer(models.Model):
    # A login is optional: staff register volunteers from paper forms too.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="volunteer",
    )
    resident = models.OneToOneField(
        "grids.Resident",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="volunteer",
        verbose_name=_("resident"),
    )
    origin = models.CharField(_("origin"), max_length=10, choices=VolunteerOrigin.choices)
    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    work_unit = models.CharField(_("work unit"), max_length=100, blank=True)
    # 双报到: the party organisation of an in-service party member's work unit, which the
    # community reports back to.
    party_organisation = models.CharField(
        _("party organisation of the work unit"), max_length=100, blank=True, default=""
    )
    party_member_type = models.CharField(
        _("party member type"),
        max_length=12,
        choices=PartyMembership.choices,
        blank=True,
        default="",
    )
    # The community or building group the volunteer belongs to: their scope.
    grid_unit = models.ForeignKey(
        "grids.GridUnit",
        on_delete=models.PROTECT,
        related_name="volunteers",
        verbose_name=_("grid unit"),
    )
    grid_path = GridPathField(editable=False)
    # Where they live or usually are, for distance when matching needs.
    home_building = models.ForeignKey(
        "grids.Building",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("home building"),
    )
    skills = models.CharField(_("skills"), max_length=300, blank=True, default="")
    willingness = models.CharField(_("willingness"), max_length=200, blank=True, default="")
    availability = models.CharField(_("availability"), max_length=300, blank=True, default="")
    introduction = models.TextField(_("introduction"), max_length=500, blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=VolunteerStatus.choices,
        default=VolunteerStatus.APPLIED,
    )
    review_note = models.CharField(_("review note"), max_length=300, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VolunteerQuerySet.as_manager()

    class Meta:
        ordering = ["grid_path", "id"]
        verbose_name = _("volunteer")
        verbose_name_plural = _("volunteers")
        indexes = [
            models.Index(fields=["grid_path", "id"], name="volunteer_path_id"),
            models.Index(fields=["status", "grid_path"], name="volunteer_status_path"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=VolunteerStatus.values),
                name="volunteer_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(origin__in=VolunteerOrigin.values),
                name="volunteer_origin_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(party_member_type__in=PartyMembership.values),
                name="volunteer_party_member_type_valid",
            ),
            # A resident volunteer is one registry row; an outside one is not in it.
            models.CheckConstraint(
                condition=models.Q(origin="resident", resident__isnull=False)
                | models.Q(origin="outside", resident__isnull=True),
                name="volunteer_origin_matches_resident",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="rejected") | ~models.Q(review_note=""),
                name="volunteer_rejection_needs_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    @property
    def skill_list(self) -> list[str]:
        return decode_codes(self.skills)

    @property
    def willingness_list(self) -> list[str]:
        return decode_codes(self.willingness)

    @property
    def slot_list(self) -> list[str]:
        return decode_codes(self.availability)

    @property
    def skill_labels(self) -> list[str]:
        return [str(Skill(code).label) for code in self.skill_list if code in Skill.values]

    @property
    def willingness_labels(self) -> list[str]:
        return [
            str(ServiceKind(code).label)
            for code in self.willingness_list
            if code in ServiceKind.values
        ]

    @property
    def is_serving(self) -> bool:
        return self.status in SERVING_STATUSES


class TeamQuerySet(WithinPathQuerySet):
    pass


class Team(models.Model):
    """One of a community's functional teams (七支功能队伍)."""

    community = models.ForeignKey(
        "grids.GridUnit",
        on_delete=models.PROTECT,
        related_name="volunteer_teams",
        verbose_name=_("community"),
    )
    grid_path = GridPathField(editable=False)
    kind = models.CharField(_("kind of service"), max_length=20, choices=ServiceKind.choices)
    name = models.CharField(_("name"), max_length=50)
    lead = models.ForeignKey(
        Volunteer,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_teams",
        verbose_name=_("lead"),
    )
    target_size = models.PositiveIntegerField(_("target size"), default=10)
    required_skills = models.CharField(_("required skills"), max_length=300, blank=True)
    # The weekly slots the team must cover (blank: any time counts).
    duty_slots = models.CharField(_("duty slots"), max_length=300, blank=True)
    sort_order = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["grid_path", "sort_order", "id"]
        verbose_name = _("functional team")
        verbose_name_plural = _("functional teams")
        indexes = [path_index("team")]
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="team_unique_name"),
            models.CheckConstraint(
                condition=models.Q(kind__in=ServiceKind.values), name="team_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def required_skill_list(self) -> list[str]:
        return decode_codes(self.required_skills)

    @property
    def duty_slot_list(self) -> list[str]:
        return decode_codes(self.duty_slots)

    @property
    def required_skill_labels(self) -> list[str]:
        return [str(Skill(code).label) for code in self.required_skill_list if code in Skill.values]


class MembershipSource(models.TextChoices):
    RECOMMENDATION = "recommendation", _("Accepted recommendation")
    MANUAL = "manual", _("Added by staff")


class TeamMembershipQuerySet(WithinPathQuerySet):
    def current(self) -> "TeamMembershipQuerySet":
        return self.filter(ended_at__isnull=True)


class TeamMembership(models.Model):
    """A volunteer's place in a team. Ended rows stay, so the team's history is kept."""

    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="memberships")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="memberships")
    grid_path = GridPathField(editable=False)
    source = models.CharField(max_length=20, choices=MembershipSource.choices)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    joined_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = TeamMembershipQuerySet.as_manager()

    class Meta:
        ordering = ["team_id", "joined_at", "id"]
        verbose_name = _("team membership")
        verbose_name_plural = _("team memberships")
        indexes = [path_index("membership")]
        constraints = [
            # One functional team at a time: in a crisis everyone knows where to report.
            models.UniqueConstraint(
                fields=["volunteer"],
                condition=models.Q(ended_at__isnull=True),
                name="teammembership_one_current_team",
            ),
            models.CheckConstraint(
                condition=models.Q(source__in=MembershipSource.values),
                name="teammembership_source_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} → {self.team}"


class RecommendationStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ACCEPTED = "accepted", _("Accepted")
    DISCARDED = "discarded", _("Discarded")


class TeamRecommendation(models.Model):
    """One run of the team optimiser for a community, kept so staff can review it, adjust
    single placements and accept it as a whole.

    `assignments` holds one row per volunteer considered:
    {"volunteer_id", "team_id" (or null), "score", "skills", "willing", "slots", "adjusted"}.
    """

    community = models.ForeignKey(
        "grids.GridUnit", on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    grid_path = GridPathField(editable=False)
    status = models.CharField(
        max_length=10, choices=RecommendationStatus.choices, default=RecommendationStatus.PROPOSED
    )
    include_members = models.BooleanField(default=False)
    objective = models.IntegerField(_("objective"))
    bound = models.IntegerField(_("upper bound"))
    assignments = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = WithinPathQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("team recommendation")
        verbose_name_plural = _("team recommendations")
        indexes = [path_index("recommend")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=RecommendationStatus.values),
                name="teamrecommendation_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community} {self.created_at:%Y-%m-%d %H:%M}"


class HoursSource(models.TextChoices):
    ACTIVITY = "activity", _("Activity")
    CLAIM = "claim", _("Claimed need")
    EMERGENCY_TASK = "emergency_task", _("Emergency task")
    MANUAL = "manual", pgettext_lazy("hours source", "Recorded by staff")
    CORRECTION = "correction", _("Correction")


class ServiceHoursQuerySet(WithinPathQuerySet):
    def between(self, start, end) -> "ServiceHoursQuerySet":
        queryset = self
        if start is not None:
            queryset = queryset.filter(occurred_on__gte=start)
        if end is not None:
            queryset = queryset.filter(occurred_on__lte=end)
        return queryset


class ServiceHoursEntry(models.Model):
    """Append-only: an entry is never changed or deleted. A mistake is answered by a
    correction entry (positive or negative hours) that says why."""

    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="hours_entries")
    grid_path = GridPathField(editable=False)
    # The team the volunteer served in when the entry was recorded, for per-team totals
    # that do not shift when someone later changes team.
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="hours_entries"
    )
    hours = models.DecimalField(_("hours"), max_digits=6, decimal_places=2)
    source_kind = models.CharField(_("source"), max_length=20, choices=HoursSource.choices)
    # The id of the activity, claim or emergency task; for a correction, the corrected entry.
    source_id = models.BigIntegerField(_("source id"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    occurred_on = models.DateField(_("date"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ServiceHoursQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_on", "-id"]
        verbose_name = _("service hours entry")
        verbose_name_plural = _("service hours entries")
        indexes = [
            path_index("hours"),
            models.Index(fields=["volunteer", "occurred_on"], name="servicehours_volunteer_day"),
            models.Index(fields=["source_kind", "source_id"], name="servicehours_source"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(hours=Decimal("0")), name="servicehours_hours_nonzero"
            ),
            models.CheckConstraint(
                condition=models.Q(source_kind__in=HoursSource.values),
                name="servicehours_source_valid",
            ),
            # Only a correction takes hours away.
            models.CheckConstraint(
                condition=models.Q(source_kind="correction") | models.Q(hours__gt=Decimal("0")),
                name="servicehours_only_corrections_negative",
            ),
            models.CheckConstraint(
                condition=~models.Q(source_kind="correction") | ~models.Q(note=""),
                name="servicehours_correction_needs_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} {self.hours} {self.occurred_on}"
