"""Activation (平 → 急), its preview, a change of grade and a task added by hand.

Activation is one transaction: the activation row, every task generated from the plan's
templates for the registry as it is now, their optimal assignment (linli.emergency.assign)
and the queued notifications are written together or not at all. Tasks are drafted and
solved in memory first (services.drafting) and inserted once, already assigned, so a
street-sized activation costs one bulk insert rather than an insert and an update per task.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from linli import clock
from linli.accounts.grid_paths import path_at_depth, within
from linli.accounts.models import User
from linli.accounts.roles import Permission
from linli.columns import column_fit
from linli.emergency import assign as solver
from linli.emergency.models import (
    Activation,
    EventKind,
    Grade,
    Plan,
    Task,
    TaskKind,
    TaskState,
    TaskTemplate,
)
from linli.emergency.services.drafting import (
    TaskDraft,
    Workforce,
    registry_read,
    solve,
    tasks_draft,
    templates_at,
    workforce_read,
)
from linli.emergency.services.guards import (
    locked_activation,
    may_command,
    plan_scope_check,
    user_or_none,
)
from linli.emergency.services.notifications import (
    assignees_notify,
    emergency_channels,
    post_holders,
)
from linli.emergency.services.plans import plan_check
from linli.emergency.services.timeline import banner_changed, event_record
from linli.errors import Conflict, NotAllowed
from linli.grids.models import Building, GridUnit, Household, Post
from linli.grids.selectors import scope_for
from linli.notify.services import notification_send
from linli.volunteers.models import ServiceKind, Skill, decode_codes

P = Permission

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


# ---------------------------------------------------------------------------------------
# Preview


@dataclass
class Preview:
    tasks: int
    tasks_by_kind: dict[str, int]
    targeted_households: int
    volunteers_available: int
    assigned: int
    unassigned_by_reason: dict[str, int]
    problems: list[str]


def _problems(
    templates: list[TaskTemplate],
    drafts: list[TaskDraft],
    workforce: Workforce,
    result: solver.Result,
) -> list[str]:
    """What makes the plan impossible to carry out in full, in words staff can act on."""
    problems: list[str] = []
    if not templates:
        problems.append(_("No task template of this plan applies at this grade."))
    if not workforce.workers:
        problems.append(_("No volunteer is available in this scope."))
    teams: set[str] = set().union(*(worker.teams for worker in workforce.workers))
    skills: set[str] = set().union(*(worker.skills for worker in workforce.workers))
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


def activation_preview(*, actor: User, plan: Plan, scope: GridUnit, grade: int | str) -> Preview:
    """What activating would do now, without writing anything: task counts, the solver's
    result and every problem (an impossible constraint is reported before activation)."""
    if not scope_for(actor).allows(P.EMERGENCY_ACTIVATE, scope.path):
        raise NotAllowed(
            _("You may not activate emergency plans for %(scope)s.") % {"scope": scope.name}
        )
    number = plan_scope_check(plan=plan, scope=scope, grade=grade)
    # Told now rather than after the secretary has read the whole preview.
    _refuse_overlap(scope)
    templates = templates_at(plan, number)
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


# ---------------------------------------------------------------------------------------
# Activation


def _lock_street(scope: GridUnit) -> None:
    """Serialise activations within one street, so two secretaries activating overlapping
    scopes at the same moment cannot both pass the overlap check."""
    street_path = path_at_depth(scope.path, 1)
    list(GridUnit.objects.select_for_update().filter(path=street_path).values_list("id"))


def _refuse_overlap(scope: GridUnit) -> None:
    overlapping = (
        Activation.objects.active()
        .filter(within([scope.path]) | Q(pk__in=Activation.objects.covering(scope.path)))
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
    raise Conflict(
        message
        % {
            "scope": scope.name,
            "active": overlapping.scope.name,
            "plan": overlapping.plan.name,
            "since": timezone.localtime(overlapping.activated_at).strftime("%Y-%m-%d %H:%M"),
        },
        field="scope",
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
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {Task._meta.db_table} ({columns}) FROM STDIN") as copy,
        ):
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


def _notify_contact_tree(activation: Activation) -> None:
    """Tell the plan's contact tree (the secretary and the street when it has none)."""
    posts = list(activation.plan.contacts.values_list("post", flat=True))
    if not posts:
        posts = [Post.PARTY_SECRETARY, Post.STREET_ADMIN]
    title = (
        gettext_noop("Drill: %(plan)s activated for %(scope)s (grade %(grade)s)")
        if activation.is_drill
        else gettext_noop("Emergency: %(plan)s activated for %(scope)s (grade %(grade)s)")
    )
    notification_send(
        recipients=post_holders(activation.grid_path, posts),
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
        link=reverse("emergency:board", args=[activation.pk]),
        channels=emergency_channels(),
    )


@transaction.atomic
def activation_start(
    *,
    actor: User,
    plan: Plan,
    scope: GridUnit,
    grade: int | str,
    is_drill: bool,
    note: str = "",
    acknowledge_problems: bool = False,
    now: datetime | None = None,
) -> Activation:
    """平 → 急 in one transaction: record, generate, assign, notify (after commit)."""
    if not scope_for(actor).allows(P.EMERGENCY_ACTIVATE, scope.path):
        raise NotAllowed(
            _("You may not activate emergency plans for %(scope)s.") % {"scope": scope.name}
        )
    number = plan_scope_check(plan=plan, scope=scope, grade=grade)
    note = (note or "").strip()
    if len(note) > 300:
        raise ValidationError({"note": _("Keep the note to 300 characters.")})
    _lock_street(scope)
    _refuse_overlap(scope)
    now = now or clock.now()
    templates = templates_at(plan, number)
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
        grade=number,
        scope=scope,
        grid_path=scope.path,
        is_drill=bool(is_drill),
        movement_rule=plan.movement_rule,
        volunteer_capacity=plan.volunteer_capacity,
        acknowledge_minutes=plan.acknowledge_minutes,
        retry_minutes=plan.retry_minutes,
        max_attempts=plan.max_attempts,
        note=note,
        activated_by=user_or_none(actor),
        activated_at=now,
    )
    _insert_tasks(activation, drafts, now)
    assigned = {draft.assignee_id for draft in drafts if draft.assignee_id}
    reasons = Counter(draft.unassigned_reason for draft in drafts if draft.unassigned_reason)
    event_record(
        activation,
        EventKind.ACTIVATED,
        actor,
        grade=number,
        drill=activation.is_drill,
        tasks=len(drafts),
        assigned=len(drafts) - sum(reasons.values()),
        unassigned=dict(reasons),
        volunteers=len(assigned),
        objective=result.objective,
        problems=problems,
    )
    assignees_notify(activation, assigned)
    _notify_contact_tree(activation)
    banner_changed()
    return activation


# ---------------------------------------------------------------------------------------
# While active: the grade, and tasks added by hand


def _add_drafts(
    activation: Activation, drafts: list[TaskDraft], actor: User | None, now: datetime
) -> list[Task]:
    workforce = workforce_read(
        path=activation.grid_path,
        rule=activation.movement_rule,
        capacity=activation.volunteer_capacity,
        activation=activation,
    )
    solve(drafts, workforce, activation.movement_rule)
    _insert_tasks(activation, drafts, now)
    assignees_notify(activation, {draft.assignee_id for draft in drafts if draft.assignee_id})
    return list(Task.objects.filter(activation=activation).order_by("-id")[: len(drafts)])[::-1]


@transaction.atomic
def activation_regrade(
    *, actor: User, activation: Activation, grade: int | str, now: datetime | None = None
) -> Activation:
    """Raise or lower the grade while active. Raising adds the tasks of the templates that
    now apply; lowering cancels the not-yet-started tasks of those that no longer do."""
    if not scope_for(actor).allows(P.EMERGENCY_ACTIVATE, activation.grid_path):
        raise NotAllowed(_("You may not change the grade of this emergency."))
    activation = locked_activation(activation)
    number = plan_scope_check(plan=activation.plan, scope=activation.scope, grade=grade)
    if number == activation.grade:
        raise ValidationError({"grade": _("The emergency is already at this grade.")})
    now = now or clock.now()
    previous = activation.grade
    templates = list(activation.plan.templates.all())
    added = cancelled = 0
    if number < previous:  # more severe
        new_templates = [
            t for t in templates if t.applies_at(number) and not t.applies_at(previous)
        ]
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
        dropped = [t.pk for t in templates if not t.applies_at(number) and t.applies_at(previous)]
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
    activation.grade = number
    activation.save(update_fields=["grade"])
    banner_changed()
    event_record(
        activation,
        EventKind.GRADE_CHANGED,
        actor,
        previous=previous,
        grade=number,
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
    due_hours: int | str = 2,
    instructions: str = "",
    required_team: str = "",
    required_skills: str = "",
    now: datetime | None = None,
) -> Task:
    """Add one task by hand during the emergency (a building to check after a report, a
    household someone called about); it is assigned at once like the generated ones."""
    if not scope_for(actor).allows_anywhere(P.EMERGENCY_COMMAND):
        raise NotAllowed(_("You may not add tasks to this emergency."))
    activation = locked_activation(activation)
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
        hours = int(due_hours)
    except (TypeError, ValueError):
        hours = 0
    if not 1 <= hours <= 72:
        errors["due_hours"] = _("Give a time limit from 1 to 72 hours.")
    if required_team and required_team not in ServiceKind.values:
        errors["required_team"] = _("Unknown team: %(code)s") % {"code": required_team}
    unknown = [code for code in decode_codes(required_skills) if code not in Skill.values]
    if unknown:
        errors["required_skills"] = _("Unknown skills: %(codes)s") % {"codes": ", ".join(unknown)}
    # (A missing building is among the errors.)
    if errors or building is None:
        raise ValidationError(errors)
    # A micro-grid lead adds tasks inside their own compound only.
    if not may_command(actor, building.grid_path):
        raise NotAllowed(_("You may not add tasks to this emergency."))
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
        due_at=now + timedelta(hours=hours),
        latitude=float(building.latitude) if building.latitude is not None else None,
        longitude=float(building.longitude) if building.longitude is not None else None,
    )
    task = _add_drafts(activation, [draft], actor, now)[0]
    event_record(activation, EventKind.TASKS_ADDED, actor, tasks=1, title=title)
    return task
