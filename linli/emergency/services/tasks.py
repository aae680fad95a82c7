"""A task's life during an emergency: acknowledged or declined by its volunteer, moved to
others (by staff, when a volunteer becomes unavailable, by the periodic sweep), reported on
from the field, and the audited reveal of its household's phone numbers."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from linli import clock
from linli.accounts.models import User
from linli.accounts.reveals import reveal_audit
from linli.accounts.roles import Permission
from linli.emergency import assign as solver
from linli.emergency.models import (
    HELD_TASK_STATES,
    Activation,
    EventKind,
    Outcome,
    Task,
    TaskKind,
    TaskReport,
    TaskState,
    Unavailability,
)
from linli.emergency.selectors import own_volunteer
from linli.emergency.services.drafting import TaskDraft, Workforce, solve, workforce_read
from linli.emergency.services.guards import (
    assignee_check,
    locked_activation,
    locked_task,
    may_command,
    user_or_none,
)
from linli.emergency.services.help_requests import help_request_create
from linli.emergency.services.notifications import (
    assignees_notify,
    emergency_channels,
    micro_grid_leads,
)
from linli.emergency.services.timeline import event_record
from linli.errors import Conflict, NotAllowed
from linli.grids.models import Building, Resident
from linli.grids.selectors import scope_for
from linli.grids.services import reveal_volume_alert
from linli.notify.services import notification_send
from linli.volunteers.models import Volunteer

P = Permission


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


def _with_capacity(worker: solver.Worker, capacity: int) -> solver.Worker:
    return replace(worker, capacity=capacity)


def tasks_reassign_automatically(
    *,
    activation: Activation,
    tasks: list[Task],
    actor: User | None,
    cause: str,
    now: datetime | None = None,
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
        drafts = [
            _draft_of(task, buildings.get(task.building_id) if task.building_id else None)
            for task in group
        ]
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
    event_record(
        activation,
        EventKind.REASSIGNED,
        actor,
        cause=cause,
        note=note,
        tasks=[t.pk for t in tasks],
        **counts,
    )
    assignees_notify(activation, assigned_users)
    return counts


@transaction.atomic
def task_acknowledge(*, actor: User, task: Task, now: datetime | None = None) -> Task:
    task = locked_task(task)
    assignee_check(actor, task)
    if task.state != TaskState.ASSIGNED:
        raise Conflict(_("This task has already been acknowledged or closed."), field="task")
    task.state = TaskState.ACKNOWLEDGED
    task.acknowledged_at = now or clock.now()
    task.version += 1
    task.save(update_fields=["state", "acknowledged_at", "version"])
    return task


@transaction.atomic
def task_decline(*, actor: User, task: Task, reason: str = "") -> Task:
    """The volunteer cannot do it: it goes at once to the next best volunteer."""
    task = locked_task(task)
    volunteer = assignee_check(actor, task)
    if task.state not in HELD_TASK_STATES:
        raise Conflict(_("This task is no longer open."), field="task")
    activation = locked_activation(task.activation)
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
    task = locked_task(task)
    if not may_command(actor, task.grid_path):
        raise NotAllowed(_("You may not reassign tasks here."))
    if task.version != expected_version:
        raise Conflict(
            _("Someone changed this task a moment ago; reload to see who has it now."),
            field="task",
        )
    if task.state not in (*HELD_TASK_STATES, TaskState.UNASSIGNED, TaskState.ESCALATED):
        raise Conflict(_("This task is closed."), field="task")
    activation = locked_activation(task.activation)
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
    event_record(
        activation,
        EventKind.REASSIGNED,
        actor,
        cause="staff",
        tasks=[task.pk],
        assigned=1,
        unassigned=0,
    )
    assignees_notify(activation, {volunteer.pk})
    return task


@transaction.atomic
def volunteer_mark_unavailable(
    *, actor: User, activation: Activation, volunteer: Volunteer, reason: str
) -> Unavailability:
    """A volunteer cannot serve (their building sealed, ill, away): every task they hold
    goes to others at once. The volunteer may mark themselves."""
    own = own_volunteer(user=actor)
    home = volunteer.home_building
    home_path = home.grid_path if home is not None else volunteer.grid_path
    if not (own is not None and own.pk == volunteer.pk) and not may_command(actor, home_path):
        raise NotAllowed(_("You may not change this volunteer's availability."))
    reason = (reason or "").strip()
    if not reason or len(reason) > 200:
        raise ValidationError({"reason": _("Say why, in at most 200 characters.")})
    activation = locked_activation(activation)
    if activation.unavailabilities.filter(volunteer=volunteer).exists():
        raise Conflict(
            _("%(name)s is already marked unavailable.") % {"name": volunteer.name},
            field="volunteer",
        )
    marked = Unavailability.objects.create(
        activation=activation, volunteer=volunteer, reason=reason, marked_by=user_or_none(actor)
    )
    tasks = list(
        Task.objects.select_for_update().filter(
            activation=activation, assignee=volunteer, state__in=HELD_TASK_STATES
        )
    )
    event_record(
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
            locked = locked_activation(activation)
            for task in tasks:
                task.declined_by = sorted({*task.declined_by, task.assignee_id})
            tasks_reassign_automatically(
                activation=locked, tasks=tasks, actor=None, cause="not_acknowledged", now=now
            )
            moved += len(tasks)
    return {"reassigned": moved}


# ---------------------------------------------------------------------------------------
# Reports from the field


@transaction.atomic
def task_report(
    *,
    actor: User,
    task: Task,
    outcome: str,
    note: str = "",
    help_kind: str = "",
    help_urgency: int | str | None = None,
    help_description: str = "",
    now: datetime | None = None,
) -> Task:
    """The volunteer (or, for an escalated task, the micro-grid lead) reports what they
    found. "Needs help" files a help request in the same step; "no answer"/"not home" is
    tried again after the plan's interval and escalated after its last try."""
    task = locked_task(task)
    volunteer = own_volunteer(user=actor)
    is_assignee = volunteer is not None and task.assignee_id == volunteer.pk
    if not is_assignee and not may_command(actor, task.grid_path):
        raise NotAllowed(_("This task is not yours."))
    if task.state not in (*HELD_TASK_STATES, TaskState.ESCALATED, TaskState.UNASSIGNED):
        raise Conflict(_("This task is already closed."), field="task")
    activation = locked_activation(task.activation)
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
        reported_by=user_or_none(actor),
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
            notification_send(
                recipients=micro_grid_leads(task.grid_path),
                kind="emergency_task_escalated",
                title=gettext_noop("No answer after %(tries)d tries: %(task)s"),
                title_params={"tries": task.attempts, "task": task.title},
                # The task's title names its household: the group hears only that one is stuck.
                group_title=gettext_noop(
                    "An emergency task had no answer after %(tries)d tries and needs a lead"
                ),
                group_title_params={"tries": task.attempts},
                link=reverse("emergency:task_detail", args=[task.pk]),
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
        household = task.household
        if household is None:
            raise ValidationError(
                {"outcome": _("Help is requested for a household; add the task's household first.")}
            )
        help_request_create(
            actor=actor,
            household=household,
            kind=help_kind,
            urgency=help_urgency,
            description=help_description or note,
            on_behalf=True,
            source_task=task,
            now=now,
        )
    return task


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
    volunteer = own_volunteer(user=actor)
    holds = (
        volunteer is not None
        and task.assignee_id == volunteer.pk
        and task.state in (*HELD_TASK_STATES, TaskState.ESCALATED)
    )
    if not holds and not scope_for(actor).allows(P.REVEAL, task.grid_path):
        raise NotAllowed(_("Only the volunteer holding this task may see the full number."))
    if task.household_id is None or resident.household_id != task.household_id:
        raise ValidationError({"resident": _("This person is not in the task's household.")})
    if not task.activation.is_active:
        raise Conflict(_("This emergency has been stood down."), field="task")
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
