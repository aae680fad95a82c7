"""Every write of emergency operation: activation (平 → 急), assignment and reassignment,
reports from the field, help requests, supplies drawn, and stand-down (急 → 平).

Activation is one transaction: the activation row, every task generated from the plan's
templates for the registry as it is now, their optimal assignment (linli.emergency.assign)
and the queued notifications are written together or not at all. Tasks are drafted and
solved in memory first and inserted once, already assigned, so a street-sized activation
costs one bulk insert rather than an insert and an update per task.

Authorisation is checked here against the scope layer (linli.grids.selectors.scope_for);
a refusal is a ValidationError with code "permission_denied" (403 in the API), a row that
moved on under the caller one with code "conflict" (409).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from linli import clock
from linli.accounts.models import User
from linli.accounts.reveals import reveal_audit
from linli.accounts.roles import Permission, Role
from linli.columns import column_fit
from linli.emergency import assign as solver
from linli.emergency.models import (
    HELD_TASK_STATES,
    OPEN_HELP_STATES,
    OPEN_TASK_STATES,
    Activation,
    ActivationEvent,
    ActivationState,
    EventKind,
    Grade,
    HelpKind,
    HelpRequest,
    HelpState,
    MovementRule,
    Outcome,
    Plan,
    SupplyDraw,
    Task,
    TaskKind,
    TaskReport,
    TaskState,
    TaskTemplate,
    Unavailability,
    Urgency,
)
from linli.emergency.plans import plan_check
from linli.emergency.selectors import is_help_handler, live_activations_forget
from linli.grids.models import (
    Building,
    GridLevel,
    GridUnit,
    Household,
    Post,
    Resident,
    VulnerabilityTag,
    path_ancestors,
)
from linli.grids.selectors import scope_for
from linli.grids.services import reveal_volume_alert
from linli.notify.models import Channel
from linli.notify.services import notification_send
from linli.volunteers.models import (
    CODE_SEPARATOR,
    HoursSource,
    ServiceKind,
    Skill,
    TeamMembership,
    Volunteer,
    decode_codes,
)
from linli.volunteers.services import service_hours_record

P = Permission

# Grid path depth of each level: /street/block/community/micro-grid/building-group/.
LEVEL_DEPTH = {
    GridLevel.STREET: 1,
    GridLevel.BLOCK: 2,
    GridLevel.COMMUNITY: 3,
    GridLevel.MICRO_GRID: 4,
    GridLevel.BUILDING_GROUP: 5,
}

# How much each vulnerability weighs when capacity is short: people who cannot help
# themselves first. A household's priority is the sum over its distinct tags, plus one for
# a member aged 80 or over.
TAG_PRIORITY = {
    VulnerabilityTag.ELDERLY_ALONE: 3,
    VulnerabilityTag.DISABLED: 3,
    VulnerabilityTag.SERIOUS_ILLNESS: 3,
    VulnerabilityTag.PREGNANT: 2,
    VulnerabilityTag.EMPTY_NEST: 2,
    VulnerabilityTag.LEFT_BEHIND_CHILD: 2,
    VulnerabilityTag.LOW_INCOME: 1,
}
VERY_OLD_AGE = 80
MAX_PRIORITY = 20

# Hours credited per volunteer at stand-down: the span from their first acknowledgement
# to their last report, rounded up to the half hour, at least half an hour for anyone who
# reported, and never more than the ledger's 24 hours per entry.
HALF_HOUR = Decimal("0.5")
MAX_CREDIT_HOURS = Decimal("24")


def _deny(message: str) -> ValidationError:
    return ValidationError(message, code="permission_denied")


def _conflict(field_name: str, message: str) -> ValidationError:
    return ValidationError({field_name: ValidationError(message, code="conflict")})


def _user_or_none(user: User | None) -> User | None:
    return user if user is not None and user.is_authenticated else None


def ancestor_path(path: str, depth: int) -> str:
    """The first `depth` parts of a grid path (`/S/B/A/A1/g/`, 3 → `/S/B/A/`)."""
    parts = [part for part in path.split("/") if part]
    return "/" + "/".join(parts[:depth]) + "/"


def _event(activation: Activation, kind: str, actor: User | None, **detail) -> None:
    ActivationEvent.objects.create(
        activation=activation, kind=kind, actor=_user_or_none(actor), detail=detail
    )


# ---------------------------------------------------------------------------------------
# Drafting tasks from the registry


@dataclass
class TaskDraft:
    template: TaskTemplate | None
    kind: str
    title: str
    instructions: str
    household_id: int | None
    building_id: int
    grid_path: str
    required_team: str
    required_skills: str
    priority: int
    due_at: datetime
    latitude: float | None = None
    longitude: float | None = None
    # Filled by the solver.
    assignee_id: int | None = None
    unassigned_reason: str = ""
    explanation: dict = field(default_factory=dict)


def household_priority(tags: set[str], oldest_birth_year: int | None, year: int) -> int:
    priority = sum(TAG_PRIORITY.get(tag, 0) for tag in tags)
    if oldest_birth_year is not None and year - oldest_birth_year >= VERY_OLD_AGE:
        priority += 1
    return min(priority, MAX_PRIORITY)


@dataclass
class Registry:
    """What drafting needs of the scope's registry, read once: buildings with their place,
    and the vulnerable households with their tags and oldest member."""

    buildings: dict[int, tuple[str, float | None, float | None]]
    # household id → (building id, tags, oldest birth year)
    vulnerable: dict[int, tuple[int, set[str], int]]
    # building group path → its first building id (where relayed information is posted)
    group_first_building: dict[str, int]


def registry_read(path: str) -> Registry:
    buildings: dict[int, tuple[str, float | None, float | None]] = {}
    group_first: dict[str, int] = {}
    for building_id, grid_path, latitude, longitude in (
        Building.objects.within([path])
        .order_by("grid_path", "id")
        .values_list("id", "grid_path", "latitude", "longitude")
    ):
        buildings[building_id] = (
            grid_path,
            float(latitude) if latitude is not None else None,
            float(longitude) if longitude is not None else None,
        )
        group_first.setdefault(grid_path, building_id)
    vulnerable: dict[int, tuple[int, set[str], int]] = {}
    rows = (
        Resident.objects.within([path])
        .exclude(vulnerability_tags="")
        .values_list("household_id", "household__building_id", "vulnerability_tags", "birth_year")
    )
    for household_id, building_id, tags, birth_year in rows.iterator(chunk_size=20_000):
        known = vulnerable.get(household_id)
        codes = {code for code in tags.split(CODE_SEPARATOR) if code}
        if known is None:
            vulnerable[household_id] = (building_id, codes, birth_year)
        else:
            known[1].update(codes)
            vulnerable[household_id] = (building_id, known[1], min(known[2], birth_year))
    return Registry(buildings, vulnerable, group_first)


def tasks_draft(
    *,
    templates: list[TaskTemplate],
    registry: Registry,
    now: datetime,
    existing: set[tuple[int | None, int | None, int]] = frozenset(),
) -> list[TaskDraft]:
    """One draft per target of each template. `existing` holds (template, household,
    building) keys already generated, so regrading or regenerating adds only what is new."""
    drafts: list[TaskDraft] = []
    year = timezone.localdate(now).year
    for template in templates:
        due_at = now + timedelta(hours=template.due_hours)
        base = {
            "template": template,
            "kind": template.kind,
            "title": template.title,
            "instructions": template.instructions,
            "required_team": template.required_team,
            "required_skills": template.required_skills,
            "due_at": due_at,
        }
        if template.kind == TaskKind.WELFARE_CHECK:
            wanted = set(decode_codes(template.target_tags))
            targets = []
            for household_id, (building_id, tags, oldest) in registry.vulnerable.items():
                if tags & wanted and building_id in registry.buildings:
                    priority = household_priority(tags, oldest, year)
                    targets.append((household_id, building_id, priority))
        elif template.kind == TaskKind.INFORMATION_RELAY:
            targets = [
                (None, building_id, 0) for building_id in registry.group_first_building.values()
            ]
        else:
            targets = [(None, building_id, 0) for building_id in registry.buildings]
        for household_id, building_id, priority in targets:
            if (template.pk, household_id, building_id) in existing:
                continue
            grid_path, latitude, longitude = registry.buildings[building_id]
            drafts.append(
                TaskDraft(
                    household_id=household_id,
                    building_id=building_id,
                    grid_path=grid_path,
                    priority=priority,
                    latitude=latitude,
                    longitude=longitude,
                    **base,
                )
            )
    return drafts


# ---------------------------------------------------------------------------------------
# Who can work, and the solver


@lru_cache(maxsize=65_536)
def zone_key(rule: str, grid_path: str, building_id: int | None) -> str:
    """The movement zone a place belongs to under `rule`: a volunteer serves only targets
    in their own zone."""
    if rule == MovementRule.BUILDING:
        return f"building:{building_id}" if building_id is not None else f"none:{grid_path}"
    depth = {
        MovementRule.COMMUNITY: LEVEL_DEPTH[GridLevel.COMMUNITY],
        MovementRule.MICRO_GRID: LEVEL_DEPTH[GridLevel.MICRO_GRID],
        MovementRule.BUILDING_GROUP: LEVEL_DEPTH[GridLevel.BUILDING_GROUP],
    }[rule]
    parts = [part for part in grid_path.split("/") if part]
    if len(parts) < depth:
        # Registered above the zone's level with no home building: no compound to serve.
        return f"above:{grid_path}"
    return ancestor_path(grid_path, depth)


@dataclass
class Workforce:
    workers: list[solver.Worker]
    volunteers: dict[int, tuple[str, int | None]]  # id → (name, user id)
    unavailable: set[int]


def workforce_read(
    *,
    path: str,
    rule: str,
    capacity: int,
    activation: Activation | None = None,
    registry: Registry | None = None,
) -> Workforce:
    """The serving volunteers registered inside `path`, minus those marked unavailable in
    the activation, each with the places they have left."""
    unavailable: set[int] = set()
    held: Counter[int] = Counter()
    if activation is not None:
        unavailable = set(activation.unavailabilities.values_list("volunteer_id", flat=True))
        held = Counter(
            dict(
                Task.objects.filter(activation=activation, state__in=HELD_TASK_STATES)
                .values("assignee_id")
                .annotate(count=Count("id"))
                .values_list("assignee_id", "count")
            )
        )
    teams: dict[int, set[str]] = defaultdict(set)
    for volunteer_id, kind in (
        TeamMembership.objects.current()
        .filter(volunteer__grid_path__startswith=path)
        .values_list("volunteer_id", "team__kind")
    ):
        teams[volunteer_id].add(kind)
    rows = (
        Volunteer.objects.serving()
        .within([path])
        .values_list(
            "id",
            "name",
            "user_id",
            "grid_path",
            "skills",
            "home_building_id",
            "home_building__grid_path",
            "home_building__latitude",
            "home_building__longitude",
        )
    )
    workers: list[solver.Worker] = []
    volunteers: dict[int, tuple[str, int | None]] = {}
    for (
        volunteer_id,
        name,
        user_id,
        grid_path,
        skills,
        building_id,
        building_path,
        latitude,
        longitude,
    ) in rows:
        volunteers[volunteer_id] = (name, user_id)
        left = capacity - held.get(volunteer_id, 0)
        if volunteer_id in unavailable or left <= 0:
            continue
        home_path = building_path or grid_path
        workers.append(
            solver.Worker(
                id=volunteer_id,
                zone=zone_key(rule, home_path, building_id),
                latitude=float(latitude) if latitude is not None else None,
                longitude=float(longitude) if longitude is not None else None,
                building_id=building_id,
                group_path=home_path if building_path else "",
                skills=frozenset(decode_codes(skills)),
                teams=frozenset(teams.get(volunteer_id, ())),
                capacity=left,
            )
        )
    return Workforce(workers=workers, volunteers=volunteers, unavailable=unavailable)


@lru_cache(maxsize=1024)
def _skill_set(encoded: str) -> frozenset[str]:
    # A street's tens of thousands of tasks share a handful of skill lists.
    return frozenset(decode_codes(encoded))


def _job(index: int, draft, rule: str, excluded: frozenset[int] = frozenset()) -> solver.Job:
    return solver.Job(
        id=index,
        zone=zone_key(rule, draft.grid_path, draft.building_id),
        latitude=draft.latitude,
        longitude=draft.longitude,
        building_id=draft.building_id,
        group_path=draft.grid_path,
        required_skills=_skill_set(draft.required_skills),
        required_team=draft.required_team,
        priority=draft.priority,
    )


def solve(drafts: list[TaskDraft], workforce: Workforce, rule: str) -> solver.Result:
    """Assign the drafts in place (assignee, reason, explanation); returns the solver's
    result for the caller's figures."""
    jobs = [_job(index, draft, rule) for index, draft in enumerate(drafts)]
    result = solver.assign(jobs, workforce.workers)
    workers = {worker.id: worker for worker in workforce.workers}
    for assignment in result.assignments:
        draft = drafts[assignment.job_id]
        if assignment.worker_id is None:
            draft.assignee_id = None
            draft.unassigned_reason = assignment.reason or ""
            draft.explanation = {}
        else:
            draft.assignee_id = assignment.worker_id
            draft.unassigned_reason = ""
            facts = solver.explain(
                assignment,
                jobs[assignment.job_id],
                workers[assignment.worker_id],
                load=result.worker_load.get(assignment.worker_id),
            )
            # The solver's job id is the draft's index, meaningless once stored.
            facts.pop("job_id", None)
            draft.explanation = facts
    return result


# ---------------------------------------------------------------------------------------
# Preview and activation


@dataclass
class Preview:
    tasks: int
    tasks_by_kind: dict[str, int]
    targeted_households: int
    volunteers_available: int
    assigned: int
    unassigned_by_reason: dict[str, int]
    problems: list[str]


def _templates_at(plan: Plan, grade: int) -> list[TaskTemplate]:
    return [template for template in plan.templates.all() if template.applies_at(grade)]


def _check_plan_for_scope(plan: Plan, scope: GridUnit, grade) -> int:
    errors: dict[str, str] = {}
    try:
        grade = int(grade)
    except (TypeError, ValueError):
        grade = 0
    if grade not in Grade.values:
        errors["grade"] = _("Choose a grade from I to IV.")
    if not plan.is_active:
        errors["plan"] = _("This plan is no longer in use.")
    elif not scope.path.startswith(plan.grid_path):
        errors["plan"] = _("This plan belongs to %(owner)s and cannot be used for %(scope)s.") % {
            "owner": plan.grid_unit.name,
            "scope": scope.name,
        }
    if scope.level == GridLevel.BUILDING_GROUP:
        errors["scope"] = _("Activate for a micro-grid, a community or wider.")
    if errors:
        raise ValidationError(errors)
    return grade


def _problems(
    templates: list[TaskTemplate], drafts: list[TaskDraft], workforce: Workforce, result
) -> list[str]:
    """What makes the plan impossible to carry out in full, in words staff can act on."""
    problems: list[str] = []
    if not templates:
        problems.append(_("No task template of this plan applies at this grade."))
    if not workforce.workers:
        problems.append(_("No volunteer is available in this scope."))
    teams = (
        set().union(*(worker.teams for worker in workforce.workers)) if workforce.workers else set()
    )
    skills = (
        set().union(*(worker.skills for worker in workforce.workers))
        if workforce.workers
        else set()
    )
    for template in templates:
        if template.required_team and template.required_team not in teams:
            problems.append(
                _("“%(template)s” needs the %(team)s team, and no available volunteer is in it.")
                % {"template": template.title, "team": ServiceKind(template.required_team).label}
            )
        missing = [code for code in decode_codes(template.required_skills) if code not in skills]
        if missing:
            problems.append(
                _("“%(template)s” needs %(skills)s, which no available volunteer has.")
                % {
                    "template": template.title,
                    "skills": "、".join(str(Skill(code).label) for code in missing),
                }
            )
    short = sum(1 for draft in drafts if draft.unassigned_reason)
    if short and workforce.workers:
        problems.append(
            _("%(count)d of %(total)d tasks cannot be assigned (see the reasons below).")
            % {"count": short, "total": len(drafts)}
        )
    return problems


def activation_preview(*, actor: User, plan: Plan, scope: GridUnit, grade) -> Preview:
    """What activating would do now, without writing anything: task counts, the solver's
    result and every problem (an impossible constraint is reported before activation)."""
    if not scope_for(actor).allows(P.EMERGENCY_ACTIVATE, scope.path):
        raise _deny(
            _("You may not activate emergency plans for %(scope)s.") % {"scope": scope.name}
        )
    grade = _check_plan_for_scope(plan, scope, grade)
    # Told now rather than after the secretary has read the whole preview.
    _refuse_overlap(scope)
    templates = _templates_at(plan, grade)
    registry = registry_read(scope.path)
    drafts = tasks_draft(templates=templates, registry=registry, now=clock.now())
    workforce = workforce_read(
        path=scope.path, rule=plan.movement_rule, capacity=plan.volunteer_capacity
    )
    result = solve(drafts, workforce, plan.movement_rule)
    reasons = Counter(draft.unassigned_reason for draft in drafts if draft.unassigned_reason)
    return Preview(
        tasks=len(drafts),
        tasks_by_kind=dict(Counter(draft.kind for draft in drafts)),
        targeted_households=len({d.household_id for d in drafts if d.household_id is not None}),
        volunteers_available=len(workforce.workers),
        assigned=len(drafts) - sum(reasons.values()),
        unassigned_by_reason=dict(reasons),
        problems=[*plan_check(plan), *_problems(templates, drafts, workforce, result)],
    )


def _lock_street(scope: GridUnit) -> None:
    """Serialise activations within one street, so two secretaries activating overlapping
    scopes at the same moment cannot both pass the overlap check."""
    street_path = ancestor_path(scope.path, 1)
    list(GridUnit.objects.select_for_update().filter(path=street_path).values_list("id"))


def _refuse_overlap(scope: GridUnit) -> None:
    overlapping = (
        Activation.objects.active()
        .filter(
            Q(grid_path__startswith=scope.path) | Q(pk__in=Activation.objects.covering(scope.path))
        )
        .select_related("scope", "plan")
        .first()
    )
    if overlapping is None:
        return
    if overlapping.grid_path == scope.path:
        message = _(
            "%(scope)s is already in emergency operation (%(plan)s, since %(since)s); "
            "change its grade or stand it down instead."
        )
    else:
        message = _(
            "%(scope)s overlaps an emergency already active for %(active)s (%(plan)s, since "
            "%(since)s)."
        )
    raise _conflict(
        "scope",
        message
        % {
            "scope": scope.name,
            "active": overlapping.scope.name,
            "plan": overlapping.plan.name,
            "since": timezone.localtime(overlapping.activated_at).strftime("%Y-%m-%d %H:%M"),
        },
    )


# Above this many rows, PostgreSQL gets the tasks by COPY: a community's activation is
# hundreds of tasks and a street's tens of thousands, where INSERT's per-value quoting
# would cost more than everything else the activation does.
COPY_THRESHOLD = 200
TASK_COPY_COLUMNS = (
    "activation_id",
    "template_id",
    "kind",
    "title",
    "instructions",
    "household_id",
    "building_id",
    "grid_path",
    "required_team",
    "required_skills",
    "priority",
    "due_at",
    "state",
    "assignee_id",
    "assigned_at",
    "unassigned_reason",
    "explanation",
    "declined_by",
    "attempts",
    "outcome",
    "version",
    "created_at",
)


def _task_values(activation: Activation, draft: TaskDraft, now: datetime) -> dict:
    return {
        "activation_id": activation.pk,
        "template_id": draft.template.pk if draft.template is not None else None,
        "kind": draft.kind,
        "title": draft.title,
        "instructions": draft.instructions,
        "household_id": draft.household_id,
        "building_id": draft.building_id,
        "grid_path": draft.grid_path,
        "required_team": draft.required_team,
        "required_skills": draft.required_skills,
        "priority": draft.priority,
        "due_at": draft.due_at,
        "state": TaskState.ASSIGNED if draft.assignee_id else TaskState.UNASSIGNED,
        "assignee_id": draft.assignee_id,
        "assigned_at": now if draft.assignee_id else None,
        "unassigned_reason": draft.unassigned_reason,
        "explanation": draft.explanation,
        "declined_by": [],
        "attempts": 0,
        "outcome": "",
        "version": 1,
        "created_at": now,
    }


def _insert_tasks(activation: Activation, drafts: list[TaskDraft], now: datetime) -> int:
    """Insert the drafted tasks; returns how many."""
    if connection.vendor == "postgresql" and len(drafts) > COPY_THRESHOLD:
        columns = ", ".join(f'"{name}"' for name in TASK_COPY_COLUMNS)
        with connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY {Task._meta.db_table} ({columns}) FROM STDIN") as copy:
                for draft in drafts:
                    values = _task_values(activation, draft, now)
                    values["explanation"] = json.dumps(values["explanation"], ensure_ascii=False)
                    values["declined_by"] = "[]"
                    copy.write_row(tuple(values[name] for name in TASK_COPY_COLUMNS))
        return len(drafts)
    Task.objects.bulk_create(
        [Task(**_task_values(activation, draft, now)) for draft in drafts], batch_size=2000
    )
    return len(drafts)


def _post_holders(path: str, posts: list[str]) -> list[User]:
    """Active users holding one of `posts` on a unit inside `path` or above it."""
    return list(
        User.objects.filter(
            Q(role_assignments__grid_path__startswith=path)
            | Q(role_assignments__grid_path__in=path_ancestors(path)),
            role_assignments__post__in=posts,
            is_active=True,
        ).distinct()
    )


def emergency_channels() -> tuple[str, ...]:
    """The inbox always; SMS, e-mail and the WeCom group robot when configured."""
    try:
        from linli.notify.channels import configured_channels
    except ImportError:  # pragma: no cover - channels arrive with the notify transports
        return (Channel.INAPP,)
    return (Channel.INAPP, *[c for c in configured_channels() if c != Channel.INAPP])


def _notify_assignees(activation: Activation, volunteer_ids: set[int]) -> None:
    users = User.objects.filter(volunteer__id__in=volunteer_ids, is_active=True)
    notification_send(
        recipients=users,
        kind="emergency_tasks",
        title=gettext_noop("%(scope)s: %(plan)s — you have emergency tasks"),
        title_params={"scope": activation.scope.name, "plan": activation.plan.name},
        group_title=gettext_noop("%(scope)s: %(plan)s — emergency tasks have been assigned"),
        group_title_params={"scope": activation.scope.name, "plan": activation.plan.name},
        link="/emergency/my-tasks/",
        channels=emergency_channels(),
    )


def _notify_contact_tree(activation: Activation) -> None:
    posts = list(activation.plan.contacts.values_list("post", flat=True))
    if not posts:
        posts = [Post.PARTY_SECRETARY, Post.STREET_ADMIN]
    title = (
        gettext_noop("Drill: %(plan)s activated for %(scope)s (grade %(grade)s)")
        if activation.is_drill
        else gettext_noop("Emergency: %(plan)s activated for %(scope)s (grade %(grade)s)")
    )
    notification_send(
        recipients=_post_holders(activation.grid_path, posts),
        kind="emergency_activated",
        title=title,
        title_params={
            "plan": activation.plan.name,
            "scope": activation.scope.name,
            "grade": Grade(activation.grade).name,
        },
        # Plan, scope and grade name nobody: the duty group reads the same headline.
        group_title=title,
        group_title_params={
            "plan": activation.plan.name,
            "scope": activation.scope.name,
            "grade": Grade(activation.grade).name,
        },
        link=f"/emergency/{activation.pk}/board/",
        channels=emergency_channels(),
    )


@transaction.atomic
def activation_start(
    *,
    actor: User,
    plan: Plan,
    scope: GridUnit,
    grade,
    is_drill: bool,
    note: str = "",
    acknowledge_problems: bool = False,
    now: datetime | None = None,
) -> Activation:
    """平 → 急 in one transaction: record, generate, assign, notify (after commit)."""
    if not scope_for(actor).allows(P.EMERGENCY_ACTIVATE, scope.path):
        raise _deny(
            _("You may not activate emergency plans for %(scope)s.") % {"scope": scope.name}
        )
    grade = _check_plan_for_scope(plan, scope, grade)
    note = (note or "").strip()
    if len(note) > 300:
        raise ValidationError({"note": _("Keep the note to 300 characters.")})
    _lock_street(scope)
    _refuse_overlap(scope)
    now = now or clock.now()
    templates = _templates_at(plan, grade)
    registry = registry_read(scope.path)
    drafts = tasks_draft(templates=templates, registry=registry, now=now)
    workforce = workforce_read(
        path=scope.path, rule=plan.movement_rule, capacity=plan.volunteer_capacity
    )
    result = solve(drafts, workforce, plan.movement_rule)
    problems = _problems(templates, drafts, workforce, result)
    if not templates:
        raise ValidationError({"grade": problems[0]})
    if problems and not acknowledge_problems:
        raise ValidationError(
            {
                "acknowledge_problems": _(
                    "The plan cannot be carried out in full: %(problems)s Confirm to activate "
                    "anyway."
                )
                % {"problems": " ".join(problems)}
            }
        )
    activation = Activation.objects.create(
        plan=plan,
        hazard=plan.hazard,
        grade=grade,
        scope=scope,
        grid_path=scope.path,
        is_drill=bool(is_drill),
        movement_rule=plan.movement_rule,
        volunteer_capacity=plan.volunteer_capacity,
        acknowledge_minutes=plan.acknowledge_minutes,
        retry_minutes=plan.retry_minutes,
        max_attempts=plan.max_attempts,
        note=note,
        activated_by=_user_or_none(actor),
        activated_at=now,
    )
    _insert_tasks(activation, drafts, now)
    assigned = {draft.assignee_id for draft in drafts if draft.assignee_id}
    reasons = Counter(draft.unassigned_reason for draft in drafts if draft.unassigned_reason)
    _event(
        activation,
        EventKind.ACTIVATED,
        actor,
        grade=grade,
        drill=activation.is_drill,
        tasks=len(drafts),
        assigned=len(drafts) - sum(reasons.values()),
        unassigned=dict(reasons),
        volunteers=len(assigned),
        objective=result.objective,
        problems=problems,
    )
    _notify_assignees(activation, assigned)
    _notify_contact_tree(activation)
    _banner_changed()
    return activation


def _banner_changed() -> None:
    """Every page's banner reads the live emergencies from the cache: drop the entry now
    (this transaction's own pages) and again after commit (everyone else's)."""
    live_activations_forget()
    transaction.on_commit(live_activations_forget)


def _locked_activation(activation: Activation) -> Activation:
    locked = (
        Activation.objects.select_for_update().select_related("plan", "scope").get(pk=activation.pk)
    )
    if not locked.is_active:
        raise _conflict("activation", _("This emergency has already been stood down."))
    return locked


def _may_command(actor: User, activation_or_path) -> bool:
    path = getattr(activation_or_path, "grid_path", activation_or_path)
    return scope_for(actor).allows(P.EMERGENCY_COMMAND, path)


def _add_drafts(
    activation: Activation, drafts: list[TaskDraft], actor: User | None, now
) -> list[Task]:
    workforce = workforce_read(
        path=activation.grid_path,
        rule=activation.movement_rule,
        capacity=activation.volunteer_capacity,
        activation=activation,
    )
    solve(drafts, workforce, activation.movement_rule)
    _insert_tasks(activation, drafts, now)
    _notify_assignees(activation, {draft.assignee_id for draft in drafts if draft.assignee_id})
    return list(Task.objects.filter(activation=activation).order_by("-id")[: len(drafts)])[::-1]


@transaction.atomic
def activation_regrade(
    *, actor: User, activation: Activation, grade, now: datetime | None = None
) -> Activation:
    """Raise or lower the grade while active. Raising adds the tasks of the templates that
    now apply; lowering cancels the not-yet-started tasks of those that no longer do."""
    if not scope_for(actor).allows(P.EMERGENCY_ACTIVATE, activation.grid_path):
        raise _deny(_("You may not change the grade of this emergency."))
    activation = _locked_activation(activation)
    grade = _check_plan_for_scope(activation.plan, activation.scope, grade)
    if grade == activation.grade:
        raise ValidationError({"grade": _("The emergency is already at this grade.")})
    now = now or clock.now()
    previous = activation.grade
    templates = list(activation.plan.templates.all())
    added = cancelled = 0
    if grade < previous:  # more severe
        new_templates = [t for t in templates if t.applies_at(grade) and not t.applies_at(previous)]
        existing = set(
            Task.objects.filter(activation=activation).values_list(
                "template_id", "household_id", "building_id"
            )
        )
        drafts = tasks_draft(
            templates=new_templates,
            registry=registry_read(activation.grid_path),
            now=now,
            existing=existing,
        )
        added = len(_add_drafts(activation, drafts, actor, now))
    else:
        dropped = [t.pk for t in templates if not t.applies_at(grade) and t.applies_at(previous)]
        cancelled = Task.objects.filter(
            activation=activation,
            template_id__in=dropped,
            state__in=(TaskState.UNASSIGNED, TaskState.ASSIGNED),
        ).update(
            state=TaskState.CANCELLED,
            completed_at=now,
            unassigned_reason="",
            version=F("version") + 1,
        )
    activation.grade = grade
    activation.save(update_fields=["grade"])
    _banner_changed()
    _event(
        activation,
        EventKind.GRADE_CHANGED,
        actor,
        previous=previous,
        grade=grade,
        added=added,
        cancelled=cancelled,
    )
    return activation


@transaction.atomic
def activation_add_task(
    *,
    actor: User,
    activation: Activation,
    kind: str,
    title: str,
    building: Building | None = None,
    household: Household | None = None,
    due_hours: int = 2,
    instructions: str = "",
    required_team: str = "",
    required_skills: str = "",
    now: datetime | None = None,
) -> Task:
    """Add one task by hand during the emergency (a building to check after a report, a
    household someone called about); it is assigned at once like the generated ones."""
    if not scope_for(actor).allows_anywhere(P.EMERGENCY_COMMAND):
        raise _deny(_("You may not add tasks to this emergency."))
    activation = _locked_activation(activation)
    errors: dict[str, str] = {}
    if kind not in TaskKind.values:
        errors["kind"] = _("Choose a kind of task.")
    title = (title or "").strip()
    if not title or len(title) > 100:
        errors["title"] = _("Give the task a title of at most 100 characters.")
    if household is not None:
        building = household.building
    if building is None:
        errors["building"] = _("Choose the building or household the task is for.")
    elif not building.grid_path.startswith(activation.grid_path):
        errors["building"] = _("The target is outside this emergency's scope.")
    try:
        due_hours = int(due_hours)
    except (TypeError, ValueError):
        due_hours = 0
    if not 1 <= due_hours <= 72:
        errors["due_hours"] = _("Give a time limit from 1 to 72 hours.")
    if required_team and required_team not in ServiceKind.values:
        errors["required_team"] = _("Unknown team: %(code)s") % {"code": required_team}
    unknown = [code for code in decode_codes(required_skills) if code not in Skill.values]
    if unknown:
        errors["required_skills"] = _("Unknown skills: %(codes)s") % {"codes": ", ".join(unknown)}
    if errors:
        raise ValidationError(errors)
    # A micro-grid lead adds tasks inside their own compound only.
    if not _may_command(actor, building.grid_path):
        raise _deny(_("You may not add tasks to this emergency."))
    now = now or clock.now()
    draft = TaskDraft(
        template=None,
        kind=kind,
        title=title,
        instructions=column_fit(instructions, Task, "instructions"),
        household_id=household.pk if household else None,
        building_id=building.pk,
        grid_path=building.grid_path,
        required_team=required_team,
        required_skills=required_skills,
        priority=0,
        due_at=now + timedelta(hours=due_hours),
        latitude=float(building.latitude) if building.latitude is not None else None,
        longitude=float(building.longitude) if building.longitude is not None else None,
    )
    task = _add_drafts(activation, [draft], actor, now)[0]
    _event(activation, EventKind.TASKS_ADDED, actor, tasks=1, title=title)
    return task


# ---------------------------------------------------------------------------------------
# Reassignment


def _draft_of(task: Task, building: Building | None) -> TaskDraft:
    return TaskDraft(
        template=None,
        kind=task.kind,
        title=task.title,
        instructions=task.instructions,
        household_id=task.household_id,
        building_id=task.building_id,
        grid_path=task.grid_path,
        required_team=task.required_team,
        required_skills=task.required_skills,
        priority=task.priority,
        due_at=task.due_at,
        latitude=float(building.latitude) if building and building.latitude is not None else None,
        longitude=float(building.longitude)
        if building and building.longitude is not None
        else None,
    )


def tasks_reassign_automatically(
    *,
    activation: Activation,
    tasks: list[Task],
    actor: User | None,
    cause: str,
    now=None,
    note: str = "",
) -> dict[str, int]:
    """Give `tasks` (locked by the caller) to the best available volunteers other than the
    ones who declined them; runs inside the caller's transaction."""
    if not tasks:
        return {"assigned": 0, "unassigned": 0}
    now = now or clock.now()
    workforce = workforce_read(
        path=activation.grid_path,
        rule=activation.movement_rule,
        capacity=activation.volunteer_capacity,
        activation=activation,
    )
    buildings = Building.objects.in_bulk({task.building_id for task in tasks if task.building_id})
    assigned_users: set[int] = set()
    counts = {"assigned": 0, "unassigned": 0}
    # One solve per distinct set of declined volunteers (usually one): a volunteer who
    # declined a task is left out only for that task.
    groups: dict[tuple[int, ...], list[Task]] = defaultdict(list)
    for task in tasks:
        groups[tuple(sorted(task.declined_by))].append(task)
    for declined, group in groups.items():
        drafts = [_draft_of(task, buildings.get(task.building_id)) for task in group]
        excluded = set(declined)
        subset = Workforce(
            workers=[worker for worker in workforce.workers if worker.id not in excluded],
            volunteers=workforce.volunteers,
            unavailable=workforce.unavailable,
        )
        solve(drafts, subset, activation.movement_rule)
        for task, draft in zip(group, drafts, strict=True):
            task.assignee_id = draft.assignee_id
            task.unassigned_reason = draft.unassigned_reason
            task.explanation = draft.explanation
            task.state = TaskState.ASSIGNED if draft.assignee_id else TaskState.UNASSIGNED
            task.assigned_at = now if draft.assignee_id else None
            task.acknowledged_at = None
            task.version += 1
            task.save(
                update_fields=[
                    "assignee",
                    "declined_by",
                    "unassigned_reason",
                    "explanation",
                    "state",
                    "assigned_at",
                    "acknowledged_at",
                    "version",
                ]
            )
            if draft.assignee_id:
                counts["assigned"] += 1
                assigned_users.add(draft.assignee_id)
                # The capacity just used is gone for the next group.
                workforce.workers = [
                    w if w.id != draft.assignee_id else _with_capacity(w, w.capacity - 1)
                    for w in workforce.workers
                    if w.id != draft.assignee_id or w.capacity > 1
                ]
            else:
                counts["unassigned"] += 1
    _event(
        activation,
        EventKind.REASSIGNED,
        actor,
        cause=cause,
        note=note,
        tasks=[t.pk for t in tasks],
        **counts,
    )
    _notify_assignees(activation, assigned_users)
    return counts


def _with_capacity(worker: solver.Worker, capacity: int) -> solver.Worker:
    return replace(worker, capacity=capacity)


def _locked_task(task: Task) -> Task:
    return Task.objects.select_for_update().select_related("activation").get(pk=task.pk)


def _own_volunteer(actor: User) -> Volunteer | None:
    if actor is None or not actor.is_authenticated:
        return None
    return Volunteer.objects.filter(user=actor).first()


def _check_assignee(actor: User, task: Task) -> Volunteer:
    volunteer = _own_volunteer(actor)
    if volunteer is None or task.assignee_id != volunteer.pk:
        raise _deny(_("This task is not yours."))
    return volunteer


@transaction.atomic
def task_acknowledge(*, actor: User, task: Task, now: datetime | None = None) -> Task:
    task = _locked_task(task)
    _check_assignee(actor, task)
    if task.state != TaskState.ASSIGNED:
        raise _conflict("task", _("This task has already been acknowledged or closed."))
    task.state = TaskState.ACKNOWLEDGED
    task.acknowledged_at = now or clock.now()
    task.version += 1
    task.save(update_fields=["state", "acknowledged_at", "version"])
    return task


@transaction.atomic
def task_decline(*, actor: User, task: Task, reason: str = "") -> Task:
    """The volunteer cannot do it: it goes at once to the next best volunteer."""
    task = _locked_task(task)
    volunteer = _check_assignee(actor, task)
    if task.state not in HELD_TASK_STATES:
        raise _conflict("task", _("This task is no longer open."))
    activation = _locked_activation(task.activation)
    reason = (reason or "").strip()
    if len(reason) > 200:
        raise ValidationError({"reason": _("Keep the reason to 200 characters.")})
    task.declined_by = sorted({*task.declined_by, volunteer.pk})
    tasks_reassign_automatically(
        activation=activation, tasks=[task], actor=actor, cause="declined", note=reason
    )
    task.refresh_from_db()
    return task


@transaction.atomic
def task_reassign(
    *,
    actor: User,
    task: Task,
    expected_version: int,
    volunteer: Volunteer | None = None,
) -> Task:
    """Staff move a task to a named volunteer, or (volunteer None) let the solver choose.
    `expected_version` is the version the person saw: when two people reassign one task at
    once, the first wins and the second is told it changed."""
    task = _locked_task(task)
    if not _may_command(actor, task.grid_path):
        raise _deny(_("You may not reassign tasks here."))
    if task.version != expected_version:
        raise _conflict(
            "task", _("Someone changed this task a moment ago; reload to see who has it now.")
        )
    if task.state not in (*HELD_TASK_STATES, TaskState.UNASSIGNED, TaskState.ESCALATED):
        raise _conflict("task", _("This task is closed."))
    activation = _locked_activation(task.activation)
    if volunteer is None:
        if task.assignee_id:
            task.declined_by = sorted({*task.declined_by, task.assignee_id})
        tasks_reassign_automatically(
            activation=activation, tasks=[task], actor=actor, cause="staff"
        )
        task.refresh_from_db()
        return task
    if not volunteer.grid_path.startswith(activation.grid_path) or not volunteer.is_serving:
        raise ValidationError(
            {
                "volunteer": _("%(name)s is not a serving volunteer of this scope.")
                % {"name": volunteer.name}
            }
        )
    if activation.unavailabilities.filter(volunteer=volunteer).exists():
        raise ValidationError(
            {"volunteer": _("%(name)s is marked unavailable.") % {"name": volunteer.name}}
        )
    now = clock.now()
    task.assignee = volunteer
    task.state = TaskState.ASSIGNED
    task.assigned_at = now
    task.acknowledged_at = None
    task.unassigned_reason = ""
    task.explanation = {"by_staff": True, "staff": actor.get_full_name() or actor.username}
    task.version += 1
    task.save(
        update_fields=[
            "assignee",
            "state",
            "assigned_at",
            "acknowledged_at",
            "unassigned_reason",
            "explanation",
            "version",
        ]
    )
    _event(
        activation,
        EventKind.REASSIGNED,
        actor,
        cause="staff",
        tasks=[task.pk],
        assigned=1,
        unassigned=0,
    )
    _notify_assignees(activation, {volunteer.pk})
    return task


@transaction.atomic
def volunteer_mark_unavailable(
    *, actor: User, activation: Activation, volunteer: Volunteer, reason: str
) -> Unavailability:
    """A volunteer cannot serve (their building sealed, ill, away): every task they hold
    goes to others at once. The volunteer may mark themselves."""
    own = _own_volunteer(actor)
    home_path = (
        volunteer.home_building.grid_path if volunteer.home_building_id else volunteer.grid_path
    )
    if not (own is not None and own.pk == volunteer.pk) and not _may_command(actor, home_path):
        raise _deny(_("You may not change this volunteer's availability."))
    reason = (reason or "").strip()
    if not reason or len(reason) > 200:
        raise ValidationError({"reason": _("Say why, in at most 200 characters.")})
    activation = _locked_activation(activation)
    if activation.unavailabilities.filter(volunteer=volunteer).exists():
        raise _conflict(
            "volunteer", _("%(name)s is already marked unavailable.") % {"name": volunteer.name}
        )
    marked = Unavailability.objects.create(
        activation=activation, volunteer=volunteer, reason=reason, marked_by=_user_or_none(actor)
    )
    tasks = list(
        Task.objects.select_for_update().filter(
            activation=activation, assignee=volunteer, state__in=HELD_TASK_STATES
        )
    )
    _event(
        activation,
        EventKind.VOLUNTEER_UNAVAILABLE,
        actor,
        volunteer=volunteer.pk,
        name=volunteer.name,
        reason=reason,
        tasks=len(tasks),
    )
    tasks_reassign_automatically(
        activation=activation, tasks=tasks, actor=actor, cause="unavailable"
    )
    return marked


def tasks_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """The periodic sweep (Celery beat): tasks not acknowledged within the plan's time go
    to someone else. Each activation is handled in its own transaction."""
    now = now or clock.now()
    moved = 0
    for activation in Activation.objects.active():
        deadline = now - timedelta(minutes=activation.acknowledge_minutes)
        with transaction.atomic():
            tasks = list(
                Task.objects.select_for_update(skip_locked=True).filter(
                    activation=activation, state=TaskState.ASSIGNED, assigned_at__lt=deadline
                )
            )
            if not tasks:
                continue
            locked = _locked_activation(activation)
            for task in tasks:
                task.declined_by = sorted({*task.declined_by, task.assignee_id})
            tasks_reassign_automatically(
                activation=locked, tasks=tasks, actor=None, cause="not_acknowledged", now=now
            )
            moved += len(tasks)
    return {"reassigned": moved}


# ---------------------------------------------------------------------------------------
# Reports from the field


def _micro_grid_leads(path: str) -> list[User]:
    micro_grid = ancestor_path(path, LEVEL_DEPTH[GridLevel.MICRO_GRID])
    return list(
        User.objects.filter(
            role_assignments__role=Role.MICRO_GRID_LEAD,
            role_assignments__grid_path=micro_grid,
            is_active=True,
        ).distinct()
    )


@transaction.atomic
def task_report(
    *,
    actor: User,
    task: Task,
    outcome: str,
    note: str = "",
    help_kind: str = "",
    help_urgency=None,
    help_description: str = "",
    now: datetime | None = None,
) -> Task:
    """The volunteer (or, for an escalated task, the micro-grid lead) reports what they
    found. "Needs help" files a help request in the same step; "no answer"/"not home" is
    tried again after the plan's interval and escalated after its last try."""
    task = _locked_task(task)
    volunteer = _own_volunteer(actor)
    is_assignee = volunteer is not None and task.assignee_id == volunteer.pk
    if not is_assignee and not _may_command(actor, task.grid_path):
        raise _deny(_("This task is not yours."))
    if task.state not in (*HELD_TASK_STATES, TaskState.ESCALATED, TaskState.UNASSIGNED):
        raise _conflict("task", _("This task is already closed."))
    activation = _locked_activation(task.activation)
    errors: dict[str, str] = {}
    if outcome not in Outcome.values:
        errors["outcome"] = _("Choose what you found.")
    elif task.kind == TaskKind.WELFARE_CHECK and outcome == Outcome.DONE:
        errors["outcome"] = _("Say whether the household is safe, needs help, or did not answer.")
    elif task.kind != TaskKind.WELFARE_CHECK and outcome not in (Outcome.DONE, Outcome.NEEDS_HELP):
        errors["outcome"] = _("Mark the task done, or report that help is needed.")
    note = (note or "").strip()
    if len(note) > 500:
        errors["note"] = _("Keep the note to 500 characters.")
    if errors:
        raise ValidationError(errors)
    now = now or clock.now()
    # Staff relaying a volunteer's phone call report for the volunteer who holds the task;
    # an escalated task is the micro-grid lead's own.
    relayed = task.assignee if task.state in HELD_TASK_STATES else None
    TaskReport.objects.create(
        task=task,
        volunteer=volunteer if is_assignee else relayed,
        reported_by=_user_or_none(actor),
        outcome=outcome,
        note=note,
        created_at=now,
    )
    task.attempts += 1
    task.outcome = outcome
    if task.state == TaskState.ASSIGNED and is_assignee:
        task.acknowledged_at = task.acknowledged_at or now
    if outcome in (Outcome.NO_ANSWER, Outcome.NOT_HOME):
        if task.attempts >= activation.max_attempts:
            task.state = TaskState.ESCALATED
            task.retry_at = None
            leads = _micro_grid_leads(task.grid_path)
            notification_send(
                recipients=leads,
                kind="emergency_task_escalated",
                title=gettext_noop("No answer after %(tries)d tries: %(task)s"),
                title_params={"tries": task.attempts, "task": task.title},
                # The task's title names its household: the group hears only that one is stuck.
                group_title=gettext_noop(
                    "An emergency task had no answer after %(tries)d tries and needs a lead"
                ),
                group_title_params={"tries": task.attempts},
                link=f"/emergency/tasks/{task.pk}/",
                channels=emergency_channels(),
            )
        else:
            task.state = TaskState.RETRY
            task.retry_at = now + timedelta(minutes=activation.retry_minutes)
    else:
        if task.kind == TaskKind.WELFARE_CHECK:
            task.contacted_at = task.contacted_at or now
        task.state = TaskState.DONE
        task.completed_at = now
        task.retry_at = None
    task.version += 1
    task.save()
    if outcome == Outcome.NEEDS_HELP:
        if task.household_id is None:
            raise ValidationError(
                {"outcome": _("Help is requested for a household; add the task's household first.")}
            )
        help_request_create(
            actor=actor,
            household=task.household,
            kind=help_kind,
            urgency=help_urgency,
            description=help_description or note,
            on_behalf=True,
            source_task=task,
            now=now,
        )
    return task


# ---------------------------------------------------------------------------------------
# Help requests (求助)


def active_activation_for(path: str) -> Activation | None:
    return Activation.objects.active().covering(path).order_by("-activated_at").first()


def _may_file_help(actor: User, household: Household) -> bool:
    scope = scope_for(actor)
    if household.pk in scope.own_household_ids:
        return True
    if scope.allows(P.EMERGENCY_HELP, household.grid_path):
        return True
    # A volunteer files for a household they are checking on.
    volunteer = _own_volunteer(actor)
    return (
        volunteer is not None
        and Task.objects.filter(
            assignee=volunteer, household=household, state__in=OPEN_TASK_STATES
        ).exists()
    )


@transaction.atomic
def help_request_create(
    *,
    actor: User,
    household: Household,
    kind: str,
    urgency,
    description: str,
    on_behalf: bool = False,
    source_task: Task | None = None,
    now: datetime | None = None,
) -> HelpRequest:
    if not _may_file_help(actor, household) and source_task is None:
        raise _deny(_("You may not ask for help for this household."))
    errors: dict[str, str] = {}
    if kind not in HelpKind.values:
        errors["kind"] = _("Choose the kind of help needed.")
    try:
        urgency = int(urgency)
    except (TypeError, ValueError):
        urgency = 0
    if urgency not in Urgency.values:
        errors["urgency"] = _("Choose how urgent it is.")
    description = (description or "").strip()
    if not description:
        errors["description"] = _("Say what is needed.")
    elif len(description) > 1000:
        errors["description"] = _("Keep the description to 1000 characters.")
    activation = (
        source_task.activation if source_task else active_activation_for(household.grid_path)
    )
    if activation is None or not activation.is_active:
        errors["household"] = _(
            "No emergency is active here. For a life-threatening emergency call 120 (ambulance) "
            "or 110 (police); for anything else report a problem."
        )
    if errors:
        raise ValidationError(errors)
    request = HelpRequest.objects.create(
        activation=activation,
        household=household,
        grid_path=household.grid_path,
        kind=kind,
        urgency=urgency,
        description=description,
        submitted_by=_user_or_none(actor),
        on_behalf=bool(on_behalf),
        source_task=source_task,
        created_at=now or clock.now(),
    )
    leads = _micro_grid_leads(household.grid_path)
    secretaries = _post_holders(
        ancestor_path(household.grid_path, LEVEL_DEPTH[GridLevel.COMMUNITY]),
        [Post.PARTY_SECRETARY, Post.COMMITTEE_STAFF],
    )
    notification_send(
        recipients=[*leads, *secretaries],
        kind="emergency_help",
        title=(
            gettext_noop("LIFE-THREATENING help request: %(kind)s at %(place)s")
            if urgency == Urgency.LIFE_THREATENING
            else gettext_noop("Help request: %(kind)s at %(place)s")
        ),
        title_params={"kind": str(HelpKind(kind).label), "place": str(household)},
        # The kind may be a health need and the place is an address: neither leaves the site.
        group_title=(
            gettext_noop("A life-threatening help request has come in")
            if urgency == Urgency.LIFE_THREATENING
            else gettext_noop("A help request has come in")
        ),
        link=f"/emergency/help/{request.pk}/",
        channels=emergency_channels(),
    )
    return request


def _locked_help(request: HelpRequest) -> HelpRequest:
    return HelpRequest.objects.select_for_update().select_related("activation").get(pk=request.pk)


@transaction.atomic
def help_request_dispatch(
    *,
    actor: User,
    request: HelpRequest,
    expected_version: int,
    volunteer: Volunteer | None = None,
    partner=None,
    now: datetime | None = None,
) -> HelpRequest:
    request = _locked_help(request)
    if not _may_command(actor, request.grid_path):
        raise _deny(_("You may not dispatch help requests here."))
    if request.version != expected_version:
        raise _conflict("request", _("Someone changed this request a moment ago; reload it."))
    if request.state not in OPEN_HELP_STATES:
        raise _conflict("request", _("This request is already closed."))
    if volunteer is None and partner is None:
        raise ValidationError({"volunteer": _("Choose a volunteer or a partner unit.")})
    if volunteer is not None and (
        not volunteer.is_serving or not volunteer.grid_path.startswith(request.activation.grid_path)
    ):
        raise ValidationError(
            {
                "volunteer": _("%(name)s is not a serving volunteer of this scope.")
                % {"name": volunteer.name}
            }
        )
    request.volunteer = volunteer
    request.partner = partner
    request.state = HelpState.DISPATCHED
    request.dispatched_by = _user_or_none(actor)
    request.dispatched_at = now or clock.now()
    request.version += 1
    request.save()
    # The volunteer it went to, or the partner unit's liaisons.
    recipients = [volunteer.user] if volunteer is not None and volunteer.user_id else []
    if partner is not None:
        recipients += [
            liaison.user for liaison in partner.liaisons.select_related("user") if liaison.user
        ]
    if recipients:
        notification_send(
            recipients=recipients,
            kind="emergency_help_dispatched",
            title=gettext_noop("Help needed: %(kind)s at %(place)s"),
            title_params={
                "kind": str(HelpKind(request.kind).label),
                "place": str(request.household),
            },
            group_title=gettext_noop("A help request has been handed on to a responder"),
            link=f"/emergency/help/{request.pk}/",
            channels=emergency_channels(),
        )
    return request


@transaction.atomic
def help_request_close(
    *,
    actor: User,
    request: HelpRequest,
    resolution: str,
    cancelled: bool = False,
    now: datetime | None = None,
) -> HelpRequest:
    """Done (or cancelled) with what was done; by staff, or by the volunteer it went to."""
    request = _locked_help(request)
    is_handler = is_help_handler(user=actor, help_request=request)
    if not is_handler and not _may_command(actor, request.grid_path):
        raise _deny(_("You may not close this help request."))
    if request.state not in OPEN_HELP_STATES:
        raise _conflict("request", _("This request is already closed."))
    resolution = (resolution or "").strip()
    if not resolution or len(resolution) > 500:
        raise ValidationError({"resolution": _("Say what was done, in at most 500 characters.")})
    request.state = HelpState.CANCELLED if cancelled else HelpState.DONE
    request.resolution = resolution
    request.done_at = now or clock.now()
    request.version += 1
    request.save()
    return request


# ---------------------------------------------------------------------------------------
# Supplies and stand-down


@transaction.atomic
def supplies_draw(
    *,
    actor: User,
    activation: Activation,
    item,
    quantity: int,
    reason: str,
    task: Task | None = None,
    help_request: HelpRequest | None = None,
) -> SupplyDraw:
    """Stock taken out for the emergency: a real movement against the stock (the supplies
    service checks and locks), linked to the activation for its report."""
    from linli.supplies.models import MovementDirection
    from linli.supplies.services import stock_move

    activation = _locked_activation(activation)
    if not item.grid_path.startswith(activation.grid_path) and not activation.grid_path.startswith(
        item.grid_path
    ):
        raise ValidationError(
            {"item": _("These supplies are not kept for this emergency's scope.")}
        )
    movement = stock_move(
        actor=actor,
        item=item,
        direction=MovementDirection.OUT,
        quantity=quantity,
        reason=reason,
    )
    draw = SupplyDraw.objects.create(
        activation=activation, movement=movement, task=task, help_request=help_request
    )
    _event(
        activation,
        EventKind.SUPPLIES_DRAWN,
        actor,
        item=item.name,
        quantity=movement.quantity,
        unit=item.unit,
    )
    return draw


def _credit_hours(activation: Activation, actor: User | None, now: datetime) -> dict[int, Decimal]:
    spans: dict[int, list[datetime]] = {}
    for volunteer_id, acknowledged_at, assigned_at in Task.objects.filter(
        activation=activation, assignee__isnull=False
    ).values_list("assignee_id", "acknowledged_at", "assigned_at"):
        start = acknowledged_at or assigned_at
        if start is not None:
            span = spans.setdefault(volunteer_id, [start, start])
            span[0] = min(span[0], start)
    reported: dict[int, datetime] = {}
    for volunteer_id, created_at in TaskReport.objects.filter(
        task__activation=activation, volunteer__isnull=False
    ).values_list("volunteer_id", "created_at"):
        reported[volunteer_id] = max(reported.get(volunteer_id, created_at), created_at)
    credited: dict[int, Decimal] = {}
    volunteers = Volunteer.objects.in_bulk(list(reported))
    for volunteer_id, last in reported.items():
        first = min(spans.get(volunteer_id, [last])[0], last)
        seconds = Decimal((last - first).total_seconds())
        hours = (seconds / 3600 / HALF_HOUR).to_integral_value(rounding=ROUND_HALF_UP) * HALF_HOUR
        hours = min(max(hours, HALF_HOUR), MAX_CREDIT_HOURS)
        volunteer = volunteers[volunteer_id]
        if not volunteer.is_serving:
            continue
        service_hours_record(
            volunteer=volunteer,
            hours=hours,
            source_kind=HoursSource.EMERGENCY_TASK,
            source_id=activation.pk,
            note=(_("Drill: %(plan)s") if activation.is_drill else _("Emergency: %(plan)s"))
            % {"plan": activation.plan.name},
            actor=actor,
            occurred_on=timezone.localdate(now),
        )
        credited[volunteer_id] = hours
    return credited


@transaction.atomic
def activation_stand_down(
    *,
    actor: User,
    activation: Activation,
    reason: str,
    lessons: str = "",
    now: datetime | None = None,
) -> Activation:
    """急 → 平: close what is still open with the reason, credit service hours, and keep the
    after-action figures on the activation."""
    if not scope_for(actor).allows(P.EMERGENCY_ACTIVATE, activation.grid_path):
        raise _deny(_("You may not stand down this emergency."))
    activation = _locked_activation(activation)
    reason = (reason or "").strip()
    errors = {}
    if not reason or len(reason) > 300:
        errors["reason"] = _("Say why the emergency ends, in at most 300 characters.")
    lessons = (lessons or "").strip()
    if len(lessons) > 5000:
        errors["lessons"] = _("Keep the lessons to 5000 characters.")
    if errors:
        raise ValidationError(errors)
    now = now or clock.now()
    closed_tasks = Task.objects.filter(activation=activation, state__in=OPEN_TASK_STATES).update(
        state=TaskState.CANCELLED, completed_at=now, retry_at=None, version=F("version") + 1
    )
    closed_help = HelpRequest.objects.filter(
        activation=activation, state__in=OPEN_HELP_STATES
    ).update(
        state=HelpState.CANCELLED,
        done_at=now,
        resolution=(_("Closed at stand-down: %(reason)s") % {"reason": reason})[:500],
        version=F("version") + 1,
    )
    credited = _credit_hours(activation, actor, now)
    activation.state = ActivationState.STOOD_DOWN
    activation.stood_down_by = _user_or_none(actor)
    activation.stood_down_at = now
    activation.stand_down_reason = reason
    activation.lessons = lessons
    _event(
        activation,
        EventKind.STOOD_DOWN,
        actor,
        reason=reason,
        tasks_closed=closed_tasks,
        help_closed=closed_help,
        volunteers_credited=len(credited),
        hours=str(sum(credited.values(), Decimal("0"))),
    )
    from linli.emergency.report import summary_compute

    activation.summary = summary_compute(activation)
    activation.save()
    _banner_changed()
    return activation


@transaction.atomic
def activation_lessons_update(*, actor: User, activation: Activation, lessons: str) -> Activation:
    """Staff add lessons after the event; the rest of the record stays as it was."""
    if not scope_for(actor).allows(P.EMERGENCY_ACTIVATE, activation.grid_path):
        raise _deny(_("You may not edit this emergency's lessons."))
    lessons = (lessons or "").strip()
    if len(lessons) > 5000:
        raise ValidationError({"lessons": _("Keep the lessons to 5000 characters.")})
    Activation.objects.filter(pk=activation.pk).update(lessons=lessons)
    activation.lessons = lessons
    return activation


# ---------------------------------------------------------------------------------------
# The target's phone, revealed to the volunteer who holds the task


@transaction.atomic
def task_phone_reveal(
    *,
    actor: User,
    task: Task,
    resident: Resident,
    purpose: str,
    reason: str,
    ip_address: str | None = None,
) -> str:
    """One tap shows the full number of a resident of the task's household to the volunteer
    holding the task (or to staff who may reveal numbers there), and the audit log keeps
    who, whom, when, for which task and why. The purpose and the reason are those of every
    reveal (linli.accounts.reveals), and so is the daily quota for staff; the volunteer
    holding the task is counted (the secretary hears of unusual counts) but never cut off
    from the people of their own task during an emergency."""
    volunteer = _own_volunteer(actor)
    holds = (
        volunteer is not None
        and task.assignee_id == volunteer.pk
        and task.state in (*HELD_TASK_STATES, TaskState.ESCALATED)
    )
    if not holds and not scope_for(actor).allows(P.REVEAL, task.grid_path):
        raise _deny(_("Only the volunteer holding this task may see the full number."))
    if task.household_id is None or resident.household_id != task.household_id:
        raise ValidationError({"resident": _("This person is not in the task's household.")})
    if not task.activation.is_active:
        raise _conflict("task", _("This emergency has been stood down."))
    count = reveal_audit(
        actor=actor,
        purpose=purpose,
        reason=reason,
        reason_prefix=_("Emergency task %(task)d: ") % {"task": task.pk},
        # The volunteer holding the task reaches only its household; staff revealing through
        # a task count against their daily quota as in the registry.
        within_quota=not holds,
        object_type="resident",
        object_id=resident.pk,
        object_label=resident.name,
        field="phone",
        grid_path=resident.grid_path,
        ip_address=ip_address,
    )
    reveal_volume_alert(actor=actor, grid_path=resident.grid_path, count=count)
    return resident.phone
