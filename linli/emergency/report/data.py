"""What the after-action report says, from the activation's rows.

`summary_compute` reads the activation's rows in a handful of queries (one pass over each
table's values) and returns plain JSON: codes, numbers and ISO times, never translated
labels, so the figures kept on `Activation.summary` at stand-down read the same in any
language and the resilience indicators can compare them across activations. The same
function gives a running report while the emergency is still active.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from statistics import median

from django.db.models import Q, Sum

from linli import clock
from linli.accounts.grid_paths import within
from linli.emergency.models import (
    Activation,
    ActivationEvent,
    EventKind,
    HelpRequest,
    HelpState,
    Outcome,
    SupplyDraw,
    Task,
    TaskKind,
    TaskReport,
    TaskState,
    Urgency,
)
from linli.supplies.models import MovementDirection
from linli.volunteers.models import HoursSource, ServiceHoursEntry

# Bump when the shape of the summary changes, so readers of old activations can tell.
SUMMARY_VERSION = 1
# The coverage milestones reported (percent of targeted households contacted).
MILESTONES = (50, 90, 100)
NO_ANSWER_OUTCOMES = (Outcome.NO_ANSWER, Outcome.NOT_HOME)


def minutes_between(start: datetime, moment: datetime | None) -> float | None:
    """Minutes from `start` to `moment`, one decimal, never negative (None without one)."""
    if moment is None:
        return None
    return round(max((moment - start).total_seconds(), 0) / 60, 1)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _spread(values: list[float]) -> dict:
    """Median and maximum of a list of minutes (null when empty)."""
    if not values:
        return {"count": 0, "median": None, "max": None}
    return {"count": len(values), "median": round(median(values), 1), "max": max(values)}


def _needed(percent: int, total: int) -> int:
    """How many households make `percent` of `total`, rounded up (90% of 5 is 5)."""
    return -(-percent * total // 100)


def _coverage(activation: Activation, tasks: list[tuple]) -> dict:
    """Targeted and contacted households, and the curve of the share contacted over time.

    A household is targeted by its welfare checks; several checks of one household count
    once, and it is contacted at the first of their contacts. A check cancelled before the
    stand-down (the grade was lowered) no longer targets anyone, unless it had already
    reached the household."""
    end = activation.stood_down_at
    first_contact: dict[int, datetime | None] = {}
    for kind, state, household_id, *_rest, contacted_at, completed_at, _due, _outcome in tasks:
        if kind != TaskKind.WELFARE_CHECK or household_id is None:
            continue
        withdrawn = state == TaskState.CANCELLED and (
            end is None or (completed_at is not None and completed_at < end)
        )
        if withdrawn and contacted_at is None:
            continue
        known = first_contact.get(household_id)
        if household_id not in first_contact or (
            contacted_at is not None and (known is None or contacted_at < known)
        ):
            first_contact[household_id] = contacted_at
    targeted = len(first_contact)
    contacts = sorted(moment for moment in first_contact.values() if moment is not None)
    start = activation.activated_at
    curve = [[0.0, 0.0]]
    for number, moment in enumerate(contacts, start=1):
        curve.append([minutes_between(start, moment), round(number / targeted, 4)])
    milestones = {}
    for percent in MILESTONES:
        needed = _needed(percent, targeted)
        reached = targeted > 0 and len(contacts) >= needed
        milestones[str(percent)] = minutes_between(start, contacts[needed - 1]) if reached else None
    return {
        "targeted_households": targeted,
        "contacted_households": len(contacts),
        "coverage_share": round(len(contacts) / targeted, 4) if targeted else None,
        "coverage_curve": curve,
        "minutes_to": milestones,
    }


def _help_requests(activation: Activation, part: Q | None = None) -> dict:
    requests = HelpRequest.objects.filter(activation=activation)
    if part is not None:
        requests = requests.filter(part)
    rows = list(
        requests.values_list("kind", "urgency", "state", "created_at", "dispatched_at", "done_at")
    )
    start = activation.activated_at
    by_urgency: dict[str, dict] = {}
    to_dispatch: list[float] = []
    to_done: list[float] = []
    per_urgency: dict[int, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for _kind, urgency, state, created_at, dispatched_at, done_at in rows:
        if dispatched_at is not None:
            minutes = minutes_between(created_at, dispatched_at)
            to_dispatch.append(minutes)
            per_urgency[urgency][0].append(minutes)
        # Handling time counts requests carried out; a cancelled one was not handled.
        if state == HelpState.DONE and done_at is not None:
            minutes = minutes_between(created_at, done_at)
            to_done.append(minutes)
            per_urgency[urgency][1].append(minutes)
    counts = Counter(urgency for _kind, urgency, *_rest in rows)
    for urgency in Urgency.values:
        dispatched, done = per_urgency[urgency]
        by_urgency[str(urgency)] = {
            "count": counts[urgency],
            "minutes_to_dispatch": _spread(dispatched),
            "minutes_to_done": _spread(done),
        }
    return {
        "total": len(rows),
        "by_urgency": by_urgency,
        "by_kind": dict(Counter(kind for kind, *_rest in rows)),
        "by_state": dict(Counter(state for _k, _u, state, *_rest in rows)),
        "minutes_to_dispatch": _spread(to_dispatch),
        "minutes_to_done": _spread(to_done),
        "first_at_minute": minutes_between(start, min((row[3] for row in rows), default=None)),
    }


def _supplies(activation: Activation, part: Q | None = None) -> list[dict]:
    drawn: dict[int, dict] = {}
    draws = SupplyDraw.objects.filter(activation=activation)
    if part is not None:
        draws = draws.filter(part)
    for item_id, name, unit, quantity, direction in draws.values_list(
        "movement__item_id",
        "movement__item__name",
        "movement__item__unit",
        "movement__quantity",
        "movement__direction",
    ):
        entry = drawn.setdefault(
            item_id, {"item_id": item_id, "item": name, "unit": unit, "quantity": 0, "draws": 0}
        )
        # A draw is stock out; a movement back in (returned unused) reduces what was used.
        entry["quantity"] += quantity if direction == MovementDirection.OUT else -quantity
        entry["draws"] += 1
    return sorted(drawn.values(), key=lambda entry: (-entry["quantity"], entry["item"]))


def is_part(activation: Activation, paths: list[str] | None) -> bool:
    """Do `paths` (emergency.board.board_paths) name only a part of the activation's scope?"""
    return paths is not None and paths != [activation.grid_path]


def summary_compute(activation: Activation, paths: list[str] | None = None) -> dict:
    """The after-action figures of `activation` as JSON-serialisable data (see the module
    docstring). Six queries whatever the size; call it inside the stand-down transaction
    after the open tasks are closed and the hours credited, or on a live activation.

    `paths` (from emergency.board.board_paths) narrows the figures to a reader's part of
    the scope, like the live board: the tasks, reports, help requests and supply draws of
    their subtrees, and only the volunteers who held or reported those tasks. The figures
    kept at stand-down are always the whole scope's."""
    start = activation.activated_at
    end = activation.stood_down_at
    part = is_part(activation, paths)
    task_rows = Task.objects.filter(activation=activation)
    report_rows = TaskReport.objects.filter(task__activation=activation)
    if part:
        task_rows = task_rows.filter(within(paths))
        report_rows = report_rows.filter(within(paths, "task__grid_path"))
    tasks = list(
        task_rows.values_list(
            "kind",
            "state",
            "household_id",
            "assignee_id",
            "assignee__name",
            "unassigned_reason",
            "contacted_at",
            "completed_at",
            "due_at",
            "outcome",
        )
    )
    reports = list(
        report_rows.values_list(
            "task__pk", "volunteer_id", "volunteer__name", "outcome", "created_at"
        )
    )
    events = list(
        ActivationEvent.objects.filter(
            activation=activation, kind__in=[EventKind.REASSIGNED, EventKind.GRADE_CHANGED]
        ).values_list("kind", "detail", "created_at")
    )
    part_task_ids = set(task_rows.values_list("pk", flat=True)) if part else None
    hours = {
        row["volunteer_id"]: row["hours"]
        for row in ServiceHoursEntry.objects.filter(
            source_kind=HoursSource.EMERGENCY_TASK, source_id=activation.pk
        )
        .values("volunteer_id")
        .annotate(hours=Sum("hours"))
    }

    # Tasks: states, kinds, who could not be given one and why, lateness.
    by_state = Counter(state for _kind, state, *_rest in tasks)
    by_kind = Counter(kind for kind, *_rest in tasks)
    unassigned = Counter(row[5] for row in tasks if row[5])
    done_late = sum(
        1
        for _k, state, *_r, completed_at, due_at, _o in tasks
        if state == TaskState.DONE and completed_at is not None and completed_at > due_at
    )
    welfare_outcomes = Counter(
        outcome
        for kind, state, *_r, outcome in tasks
        if kind == TaskKind.WELFARE_CHECK and state == TaskState.DONE and outcome
    )

    # Escalation leaves no mark on the task once it is closed, but its reports keep it: a
    # task escalates when its unanswered tries reach the plan's limit.
    unanswered = Counter(
        task_id for task_id, _v, _n, outcome, _at in reports if outcome in NO_ANSWER_OUTCOMES
    )
    escalated = sum(1 for tries in unanswered.values() if tries >= activation.max_attempts)
    escalated_now = by_state.get(TaskState.ESCALATED, 0)

    # Volunteers' load: tasks they hold at the end, done, reports and their span.
    load: dict[int, dict] = {}

    def volunteer_entry(volunteer_id: int, name: str) -> dict:
        return load.setdefault(
            volunteer_id,
            {
                "volunteer_id": volunteer_id,
                "name": name,
                "tasks": 0,
                "done": 0,
                "reports": 0,
                "first_report_at": None,
                "last_report_at": None,
                "hours": 0.0,
            },
        )

    for _kind, state, _household, assignee_id, assignee_name, *_rest in tasks:
        if assignee_id is None:
            continue
        entry = volunteer_entry(assignee_id, assignee_name)
        entry["tasks"] += 1
        entry["done"] += state == TaskState.DONE
    spans: dict[int, list[datetime]] = {}
    for _task_id, volunteer_id, name, _outcome, created_at in reports:
        if volunteer_id is None:
            continue
        volunteer_entry(volunteer_id, name)["reports"] += 1
        span = spans.setdefault(volunteer_id, [created_at, created_at])
        span[0], span[1] = min(span[0], created_at), max(span[1], created_at)
    for volunteer_id, (first, last) in spans.items():
        load[volunteer_id]["first_report_at"] = _iso(first)
        load[volunteer_id]["last_report_at"] = _iso(last)
    if part:
        # A part names only the volunteers who served in it.
        hours = {key: value for key, value in hours.items() if key in load}
    for volunteer_id, credited in hours.items():
        if volunteer_id in load:
            load[volunteer_id]["hours"] = float(credited)
    volunteers = sorted(
        load.values(), key=lambda entry: (-entry["done"], -entry["tasks"], entry["name"])
    )

    # The timeline's reassignments and grade changes.
    reassignments = {"events": 0, "tasks": 0, "by_cause": Counter()}
    grade_changes = []
    for kind, detail, created_at in events:
        if kind == EventKind.REASSIGNED:
            moved_ids = detail.get("tasks", [])
            if part:
                moved_ids = [task_id for task_id in moved_ids if task_id in part_task_ids]
                if not moved_ids:
                    continue
            moved = len(moved_ids)
            reassignments["events"] += 1
            reassignments["tasks"] += moved
            reassignments["by_cause"][detail.get("cause", "")] += moved
        else:
            grade_changes.append(
                {
                    "at": _iso(created_at),
                    "minute": minutes_between(start, created_at),
                    "previous": detail.get("previous"),
                    "grade": detail.get("grade"),
                }
            )
    reassignments["by_cause"] = dict(reassignments["by_cause"])

    until = end or clock.now()
    return {
        "version": SUMMARY_VERSION,
        "live": end is None,
        "computed_at": _iso(until),
        "activation_id": activation.pk,
        "is_drill": activation.is_drill,
        "hazard": activation.hazard,
        "grade": activation.grade,
        "scope_path": activation.grid_path,
        "part_paths": list(paths) if part else [],
        "activated_at": _iso(start),
        "stood_down_at": _iso(end),
        "duration_minutes": minutes_between(start, until),
        **_coverage(activation, tasks),
        "tasks_total": len(tasks),
        "tasks_by_state": dict(by_state),
        "tasks_by_kind": dict(by_kind),
        "tasks_done_late": done_late,
        "welfare_outcomes": dict(welfare_outcomes),
        "unassigned": {"total": sum(unassigned.values()), "by_reason": dict(unassigned)},
        "escalated": max(escalated, escalated_now),
        "reassignments": reassignments,
        "help_requests": _help_requests(activation, within(paths) if part else None),
        "volunteers": volunteers,
        "volunteers_reporting": len(spans),
        "supplies": _supplies(
            activation, within(paths, "movement__item__grid_path") if part else None
        ),
        "hours_credited": float(sum(hours.values(), 0)),
        "volunteers_credited": len(hours),
        "grade_changes": grade_changes,
    }
