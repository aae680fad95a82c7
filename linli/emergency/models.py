"""平急转换: emergency plans (预案), their activation for a grid subtree, the tasks an
activation generates and assigns, reports from the field, help requests (求助), and the
after-action record kept when the community stands down (转平).

A Plan belongs to a grid unit (a street's default plans, or a community's own) and holds
task templates, minimum supply levels and a contact tree. An Activation is one use of a plan
for one scope, real or a drill; its tasks, help requests and timeline carry the grid path
of their target so scope is one prefix match, as everywhere else.

Grades follow the Chinese convention: I is the most severe, IV the least. A template
applies at its `lowest_grade` and every more severe grade, so raising the grade of a live
activation adds the templates that now apply.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli import clock
from linli.accounts.fields import GridPathField
from linli.accounts.grid_paths import path_ancestors
from linli.grids.models import WithinPathQuerySet, path_index


class Hazard(models.TextChoices):
    TYPHOON = "typhoon", _("Typhoon or rainstorm")
    FIRE = "fire", _("Fire")
    EPIDEMIC = "epidemic", _("Epidemic closure")
    HEATWAVE = "heatwave", _("Heatwave")
    POWER_OUTAGE = "power_outage", _("Power outage")
    WATER_OUTAGE = "water_outage", _("Water outage")
    EARTHQUAKE = "earthquake", _("Earthquake")
    GAS_LEAK = "gas_leak", _("Gas leak")


class Grade(models.IntegerChoices):
    I = 1, _("Grade I (most severe)")  # noqa: E741 - the grade's own name
    II = 2, _("Grade II")
    III = 3, _("Grade III")
    IV = 4, _("Grade IV (least severe)")


class TaskKind(models.TextChoices):
    WELFARE_CHECK = "welfare_check", _("Welfare check")
    PATROL = "patrol", _("Building patrol")
    SUPPLY_DISTRIBUTION = "supply_distribution", _("Supply distribution")
    INFORMATION_RELAY = "information_relay", _("Information relay")


class MovementRule(models.TextChoices):
    """Where a volunteer may serve during the activation. Under a closure the compound
    (micro-grid) or even the building is sealed, and a volunteer outside it is no help."""

    COMMUNITY = "community", _("Anywhere in their own community")
    MICRO_GRID = "micro_grid", _("Only their own compound (micro-grid)")
    BUILDING_GROUP = "building_group", _("Only their own building group")
    BUILDING = "building", _("Only their own building")


class PlanQuerySet(WithinPathQuerySet):
    def usable(self) -> "PlanQuerySet":
        return self.filter(is_active=True)


class Plan(models.Model):
    # The unit that owns the plan: a street's plans serve all its communities, a
    # community's own plan only itself.
    grid_unit = models.ForeignKey(
        "grids.GridUnit", on_delete=models.PROTECT, related_name="+", verbose_name=_("owner")
    )
    grid_path = GridPathField(editable=False)
    hazard = models.CharField(_("hazard"), max_length=20, choices=Hazard.choices)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    movement_rule = models.CharField(
        _("movement rule"),
        max_length=20,
        choices=MovementRule.choices,
        default=MovementRule.COMMUNITY,
    )
    # How many open tasks one volunteer may hold at once.
    volunteer_capacity = models.PositiveSmallIntegerField(_("tasks per volunteer"), default=8)
    # An assigned task not acknowledged within this time goes to someone else.
    acknowledge_minutes = models.PositiveSmallIntegerField(_("minutes to acknowledge"), default=15)
    # A household that does not answer is tried again after this interval, and after
    # `max_attempts` tries the task goes to the micro-grid lead.
    retry_minutes = models.PositiveSmallIntegerField(_("minutes between tries"), default=30)
    max_attempts = models.PositiveSmallIntegerField(_("tries before escalation"), default=3)
    is_active = models.BooleanField(_("in use"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["grid_path", "hazard", "name"]
        verbose_name = _("emergency plan")
        verbose_name_plural = _("emergency plans")
        indexes = [path_index("plan")]
        constraints = [
            models.UniqueConstraint(fields=["grid_unit", "name"], name="plan_unique_name"),
            models.CheckConstraint(condition=Q(hazard__in=Hazard.values), name="plan_hazard_valid"),
            models.CheckConstraint(
                condition=Q(movement_rule__in=MovementRule.values), name="plan_movement_valid"
            ),
            models.CheckConstraint(
                condition=Q(volunteer_capacity__gte=1), name="plan_capacity_min"
            ),
            models.CheckConstraint(
                condition=Q(acknowledge_minutes__gte=1), name="plan_acknowledge_min"
            ),
            models.CheckConstraint(condition=Q(retry_minutes__gte=1), name="plan_retry_min"),
            models.CheckConstraint(condition=Q(max_attempts__gte=1), name="plan_attempts_min"),
        ]

    def __str__(self) -> str:
        return self.name


class TaskTemplate(models.Model):
    """What an activation of the plan creates: one task per target.

    Welfare checks target each household with a resident carrying one of `target_tags`;
    patrols and supply distribution target each building; information relay each building
    group (delivered at its first building)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="templates")
    kind = models.CharField(_("kind"), max_length=20, choices=TaskKind.choices)
    title = models.CharField(_("title"), max_length=100)
    instructions = models.TextField(_("instructions"), max_length=1000, blank=True)
    # Codes of linli.grids.models.VulnerabilityTag, stored ",a,b," like resident tags.
    target_tags = models.CharField(_("target tags"), max_length=200, blank=True)
    due_hours = models.PositiveSmallIntegerField(_("due within (hours)"), default=4)
    # A ServiceKind of linli.volunteers: the functional team whose members do this task.
    required_team = models.CharField(_("team"), max_length=20, blank=True)
    required_skills = models.CharField(_("required skills"), max_length=200, blank=True)
    lowest_grade = models.PositiveSmallIntegerField(
        _("applies from grade"), choices=Grade.choices, default=Grade.IV
    )
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["plan", "sort_order", "id"]
        verbose_name = _("task template")
        verbose_name_plural = _("task templates")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=TaskKind.values), name="tasktemplate_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(lowest_grade__gte=1, lowest_grade__lte=4),
                name="tasktemplate_grade_valid",
            ),
            models.CheckConstraint(condition=Q(due_hours__gte=1), name="tasktemplate_due_min"),
            # A welfare check without target tags would visit everyone or no one.
            models.CheckConstraint(
                condition=~Q(kind="welfare_check") | ~Q(target_tags=""),
                name="tasktemplate_welfare_needs_tags",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def applies_at(self, grade: int) -> bool:
        return grade <= self.lowest_grade


class PlanSupplyMinimum(models.Model):
    """A supply category the scope must hold at least so much of while the plan is active."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="supply_minimums")
    # A SupplyCategory of linli.supplies.
    category = models.CharField(_("category"), max_length=10)
    minimum_quantity = models.PositiveIntegerField(_("minimum quantity"))

    class Meta:
        verbose_name = _("minimum supply level")
        verbose_name_plural = _("minimum supply levels")
        constraints = [
            models.UniqueConstraint(fields=["plan", "category"], name="plansupply_one_per_category")
        ]

    def __str__(self) -> str:
        return f"{self.category} ≥ {self.minimum_quantity}"


class PlanContact(models.Model):
    """One level of the contact tree: on activation the holders of `post` in the scope are
    told, level by level (the secretary first, then micro-grid heads, then building-group
    heads …)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="contacts")
    level = models.PositiveSmallIntegerField(_("level"))
    # A Post of linli.grids.
    post = models.CharField(_("post"), max_length=30)
    duty = models.CharField(_("duty"), max_length=200, blank=True)

    class Meta:
        ordering = ["plan", "level", "id"]
        verbose_name = _("contact tree level")
        verbose_name_plural = _("contact tree")
        constraints = [
            models.UniqueConstraint(fields=["plan", "post"], name="plancontact_one_per_post"),
            models.CheckConstraint(condition=Q(level__gte=1), name="plancontact_level_min"),
        ]

    def __str__(self) -> str:
        return f"{self.level}: {self.post}"


class ActivationState(models.TextChoices):
    ACTIVE = "active", _("Active")
    STOOD_DOWN = "stood_down", _("Stood down")


class ActivationQuerySet(WithinPathQuerySet):
    def active(self) -> "ActivationQuerySet":
        return self.filter(state=ActivationState.ACTIVE)

    def covering(self, path: str) -> "ActivationQuerySet":
        """Activations whose scope contains `path` (an ancestor or the unit itself)."""
        return self.filter(grid_path__in=path_ancestors(path))


class Activation(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="activations")
    hazard = models.CharField(_("hazard"), max_length=20, choices=Hazard.choices)
    grade = models.PositiveSmallIntegerField(_("grade"), choices=Grade.choices)
    scope = models.ForeignKey(
        "grids.GridUnit", on_delete=models.PROTECT, related_name="+", verbose_name=_("scope")
    )
    grid_path = GridPathField(editable=False)
    is_drill = models.BooleanField(_("drill"), default=False)
    state = models.CharField(
        _("state"), max_length=12, choices=ActivationState.choices, default=ActivationState.ACTIVE
    )
    # The plan's rules as they were at activation: editing the plan later changes nothing
    # for an emergency already running.
    movement_rule = models.CharField(
        _("movement rule"), max_length=20, choices=MovementRule.choices
    )
    volunteer_capacity = models.PositiveSmallIntegerField(_("tasks per volunteer"))
    acknowledge_minutes = models.PositiveSmallIntegerField(_("minutes to acknowledge"))
    retry_minutes = models.PositiveSmallIntegerField(_("minutes between tries"))
    max_attempts = models.PositiveSmallIntegerField(_("tries before escalation"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    activated_at = models.DateTimeField(_("activated at"), default=timezone.now)
    stood_down_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    stood_down_at = models.DateTimeField(_("stood down at"), null=True, blank=True)
    stand_down_reason = models.CharField(_("reason for standing down"), max_length=300, blank=True)
    lessons = models.TextField(_("lessons learned"), max_length=5000, blank=True)
    # The after-action figures, computed once at stand-down and kept for the resilience
    # indicators (time to 50/90/100% of targeted households, counts …).
    summary = models.JSONField(default=dict, blank=True)

    objects = ActivationQuerySet.as_manager()

    class Meta:
        ordering = ["-activated_at", "-id"]
        verbose_name = _("activation")
        verbose_name_plural = _("activations")
        indexes = [
            path_index("activation"),
            models.Index(fields=["state", "grid_path"], name="activation_state_path"),
        ]
        constraints = [
            # The database's own guard against a second activation of the same scope; the
            # service also refuses overlapping scopes (a community inside an active street).
            models.UniqueConstraint(
                fields=["grid_path"],
                condition=Q(state="active"),
                name="activation_one_active_per_scope",
            ),
            models.CheckConstraint(
                condition=Q(state__in=ActivationState.values), name="activation_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(grade__gte=1, grade__lte=4), name="activation_grade_valid"
            ),
            models.CheckConstraint(
                condition=Q(state="active") | Q(stood_down_at__isnull=False),
                name="activation_stood_down_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan} · {self.scope}"

    @property
    def is_active(self) -> bool:
        return self.state == ActivationState.ACTIVE


class EventKind(models.TextChoices):
    ACTIVATED = "activated", _("Activated")
    GRADE_CHANGED = "grade_changed", _("Grade changed")
    TASKS_ADDED = "tasks_added", _("Tasks added")
    REASSIGNED = "reassigned", _("Tasks reassigned")
    VOLUNTEER_UNAVAILABLE = "volunteer_unavailable", _("Volunteer unavailable")
    SUPPLIES_DRAWN = "supplies_drawn", _("Supplies drawn")
    NOTE = "note", pgettext_lazy("timeline event", "Note")
    STOOD_DOWN = "stood_down", _("Stood down")


class ActivationEvent(models.Model):
    """The activation's timeline, append-only: what the after-action report replays."""

    activation = models.ForeignKey(Activation, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("kind"), max_length=24, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("activation event")
        verbose_name_plural = _("activation events")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=EventKind.values), name="activationevent_kind_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.activation_id} {self.kind}"


class TaskState(models.TextChoices):
    UNASSIGNED = "unassigned", _("Unassigned")
    ASSIGNED = "assigned", _("Assigned")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    # Tried, nobody answered: waiting for `retry_at`.
    RETRY = "retry", _("To try again")
    # Passed to the micro-grid lead after the plan's tries.
    ESCALATED = "escalated", _("Escalated")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_TASK_STATES = (
    TaskState.UNASSIGNED,
    TaskState.ASSIGNED,
    TaskState.ACKNOWLEDGED,
    TaskState.RETRY,
    TaskState.ESCALATED,
)
# States in which a volunteer holds the task (counts against their capacity).
HELD_TASK_STATES = (TaskState.ASSIGNED, TaskState.ACKNOWLEDGED, TaskState.RETRY)


class Outcome(models.TextChoices):
    SAFE = "safe", _("Safe")
    NEEDS_HELP = "needs_help", _("Needs help")
    NO_ANSWER = "no_answer", _("No answer")
    NOT_HOME = "not_home", _("Not at home")
    # Patrols, distribution and relay are simply done.
    DONE = "done", pgettext_lazy("task outcome", "Done")


class UnassignedReason(models.TextChoices):
    NO_WORKER_IN_ZONE = "no_worker_in_zone", _("No available volunteer within the movement rule")
    NO_WORKER_WITH_TEAM = "no_worker_with_team", _("No available volunteer of the required team")
    NO_WORKER_WITH_SKILLS = (
        "no_worker_with_skills",
        _("No available volunteer with the required skills"),
    )
    CAPACITY_EXHAUSTED = "capacity_exhausted", _("Every suitable volunteer is at capacity")


class TaskQuerySet(WithinPathQuerySet):
    def open(self) -> "TaskQuerySet":
        return self.filter(state__in=OPEN_TASK_STATES)

    def held(self) -> "TaskQuerySet":
        return self.filter(state__in=HELD_TASK_STATES)


class Task(models.Model):
    activation = models.ForeignKey(Activation, on_delete=models.CASCADE, related_name="tasks")
    template = models.ForeignKey(
        TaskTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=TaskKind.choices)
    title = models.CharField(_("title"), max_length=100)
    instructions = models.TextField(_("instructions"), max_length=1000, blank=True)
    # The target: a household (welfare checks) or a building; its grid path is the scope.
    household = models.ForeignKey(
        "grids.Household", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    building = models.ForeignKey(
        "grids.Building", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    grid_path = GridPathField(editable=False)
    required_team = models.CharField(_("team"), max_length=20, blank=True)
    required_skills = models.CharField(_("required skills"), max_length=200, blank=True)
    # Higher is more vulnerable: served first when volunteers are short.
    priority = models.PositiveSmallIntegerField(_("priority"), default=0)
    due_at = models.DateTimeField(_("due"))
    state = models.CharField(
        _("state"), max_length=14, choices=TaskState.choices, default=TaskState.UNASSIGNED
    )
    assignee = models.ForeignKey(
        "volunteers.Volunteer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="emergency_tasks",
        verbose_name=_("volunteer"),
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    # Why nobody has it (UnassignedReason), and the facts behind the current assignment
    # (distance, same building group, skills) for its one-sentence explanation.
    unassigned_reason = models.CharField(max_length=24, blank=True)
    explanation = models.JSONField(default=dict, blank=True)
    # Volunteers who declined the task or let it lapse unacknowledged: never offered it again.
    declined_by = models.JSONField(default=list, blank=True)
    attempts = models.PositiveSmallIntegerField(_("tries"), default=0)
    retry_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True)
    # First time the target was reached (safe or needs help): the coverage curve's clock.
    contacted_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Counts every change, so two people acting on one task at once cannot both win.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["-priority", "due_at", "id"]
        verbose_name = _("emergency task")
        verbose_name_plural = _("emergency tasks")
        indexes = [
            path_index("task"),
            models.Index(fields=["activation", "state"], name="task_activation_state"),
            models.Index(fields=["assignee", "state"], name="task_assignee_state"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=TaskKind.values), name="task_kind_valid"),
            models.CheckConstraint(
                condition=Q(state__in=TaskState.values), name="task_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=[*Outcome.values, ""]), name="task_outcome_valid"
            ),
            models.CheckConstraint(
                condition=Q(household__isnull=False) | Q(building__isnull=False),
                name="task_has_target",
            ),
            # A volunteer holds an assigned task; an unassigned one says why nobody does.
            models.CheckConstraint(
                condition=~Q(state__in=["assigned", "acknowledged", "retry"])
                | Q(assignee__isnull=False),
                name="task_held_has_assignee",
            ),
            models.CheckConstraint(
                condition=~Q(state="retry") | Q(retry_at__isnull=False),
                name="task_retry_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(state="done") | (~Q(outcome="") & Q(completed_at__isnull=False)),
                name="task_done_has_outcome",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_TASK_STATES

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_at < clock.now()


class TaskReport(models.Model):
    """Each report from the field, append-only: the task keeps only the latest outcome."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="reports")
    volunteer = models.ForeignKey(
        "volunteers.Volunteer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("task report")
        verbose_name_plural = _("task reports")
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=Outcome.values), name="taskreport_outcome_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.task_id} {self.outcome}"


class Unavailability(models.Model):
    """A volunteer who cannot serve in this activation (their building sealed, ill, away):
    their open tasks go to others and the solver leaves them out."""

    activation = models.ForeignKey(
        Activation, on_delete=models.CASCADE, related_name="unavailabilities"
    )
    volunteer = models.ForeignKey(
        "volunteers.Volunteer", on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=200)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("unavailable volunteer")
        verbose_name_plural = _("unavailable volunteers")
        constraints = [
            models.UniqueConstraint(
                fields=["activation", "volunteer"], name="unavailability_once_per_activation"
            )
        ]

    def __str__(self) -> str:
        return f"{self.volunteer_id}: {self.reason}"


class HelpKind(models.TextChoices):
    MEDICAL = "medical", _("Medical")
    MEDICINE = "medicine", _("Medicine")
    FOOD = "food", _("Food")
    WATER = "water", _("Water")
    TRANSPORT = "transport", _("Transport")
    PSYCHOLOGICAL = "psychological", _("Psychological support")
    OTHER = "other", pgettext_lazy("help kind", "Other")


class Urgency(models.IntegerChoices):
    # Lower sorts first: the board shows life-threatening requests at the top.
    LIFE_THREATENING = 1, _("Life-threatening")
    URGENT = 2, _("Urgent (within hours)")
    NORMAL = 3, _("Can wait (today)")


class HelpState(models.TextChoices):
    OPEN = "open", pgettext_lazy("help request", "Open")
    DISPATCHED = "dispatched", _("Dispatched")
    DONE = "done", pgettext_lazy("help request", "Done")
    CANCELLED = "cancelled", pgettext_lazy("help request", "Cancelled")


OPEN_HELP_STATES = (HelpState.OPEN, HelpState.DISPATCHED)


class HelpRequestQuerySet(WithinPathQuerySet):
    def open(self) -> "HelpRequestQuerySet":
        return self.filter(state__in=OPEN_HELP_STATES)


class HelpRequest(models.Model):
    activation = models.ForeignKey(
        Activation, on_delete=models.PROTECT, related_name="help_requests"
    )
    household = models.ForeignKey("grids.Household", on_delete=models.PROTECT, related_name="+")
    grid_path = GridPathField(editable=False)
    kind = models.CharField(_("kind of help"), max_length=16, choices=HelpKind.choices)
    urgency = models.PositiveSmallIntegerField(_("urgency"), choices=Urgency.choices)
    description = models.TextField(_("what is needed"), max_length=1000)
    # Who typed it: the resident, or staff/a volunteer for someone without a smartphone.
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    on_behalf = models.BooleanField(_("filed on the resident's behalf"), default=False)
    # The welfare check that found the need, when one did.
    source_task = models.ForeignKey(
        Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="help_requests"
    )
    state = models.CharField(
        _("state"), max_length=12, choices=HelpState.choices, default=HelpState.OPEN
    )
    volunteer = models.ForeignKey(
        "volunteers.Volunteer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("volunteer"),
    )
    partner = models.ForeignKey(
        "partners.Partner",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("partner unit"),
    )
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dispatched_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(_("what was done"), max_length=500, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    objects = HelpRequestQuerySet.as_manager()

    class Meta:
        ordering = ["urgency", "created_at", "id"]
        verbose_name = _("help request")
        verbose_name_plural = _("help requests")
        indexes = [
            path_index("helprequest"),
            models.Index(fields=["activation", "state", "urgency"], name="help_activation_state"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=HelpKind.values), name="help_kind_valid"),
            models.CheckConstraint(
                condition=Q(urgency__gte=1, urgency__lte=3), name="help_urgency_valid"
            ),
            models.CheckConstraint(
                condition=Q(state__in=HelpState.values), name="help_state_valid"
            ),
            models.CheckConstraint(
                condition=~Q(state="dispatched")
                | Q(volunteer__isnull=False)
                | Q(partner__isnull=False),
                name="help_dispatched_has_handler",
            ),
            models.CheckConstraint(
                condition=~Q(state="done") | Q(done_at__isnull=False), name="help_done_has_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.household}"


class SupplyDraw(models.Model):
    """Stock taken out for the activation: the movement itself lives in linli.supplies."""

    activation = models.ForeignKey(Activation, on_delete=models.CASCADE, related_name="draws")
    movement = models.OneToOneField(
        "supplies.StockMovement", on_delete=models.PROTECT, related_name="+"
    )
    task = models.ForeignKey(
        Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    help_request = models.ForeignKey(
        HelpRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("supply drawn")
        verbose_name_plural = _("supplies drawn")

    def __str__(self) -> str:
        return f"{self.activation_id} {self.movement_id}"


class Simulation(models.Model):
    """A simulated drill (`linli drill simulate`): the prediction on the registry as it was,
    kept beside real drills for the resilience indicators."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="simulations")
    scope = models.ForeignKey("grids.GridUnit", on_delete=models.PROTECT, related_name="+")
    grid_path = GridPathField(editable=False)
    grade = models.PositiveSmallIntegerField(_("grade"), choices=Grade.choices)
    seed = models.BigIntegerField()
    parameters = models.JSONField(default=dict)
    # Minutes from activation; null when never reached.
    minutes_to_50 = models.FloatField(null=True)
    minutes_to_90 = models.FloatField(null=True)
    minutes_to_100 = models.FloatField(null=True)
    targeted_households = models.PositiveIntegerField()
    result = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = WithinPathQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("simulated drill")
        verbose_name_plural = _("simulated drills")
        indexes = [path_index("simulation")]

    def __str__(self) -> str:
        return f"{self.plan} · {self.created_at:%Y-%m-%d %H:%M}"
