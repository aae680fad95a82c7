"""The after-action report of an activation: the figures, the page and the PDF.

`summary_compute` reads the activation's rows in a handful of queries (one pass over each
table's values) and returns plain JSON: codes, numbers and ISO times, never translated
labels, so the figures kept on `Activation.summary` at stand-down read the same in any
language and the resilience indicators can compare them across activations. The same
function gives a running report while the emergency is still active.

`report_context` turns the figures into what a reader sees (labels in the active language,
the timeline, the coverage curve as an inline SVG and as a table); `report_pdf` lays the
same out with ReportLab, Chinese text in its built-in CID font (nothing to download).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from html import escape
from io import BytesIO
from statistics import median

from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from linli import clock
from linli.accounts.grid_paths import within
from linli.emergency.models import (
    Activation,
    ActivationEvent,
    EventKind,
    Grade,
    HelpKind,
    HelpRequest,
    HelpState,
    Outcome,
    SupplyDraw,
    Task,
    TaskKind,
    TaskReport,
    TaskState,
    UnassignedReason,
    Urgency,
)
from linli.supplies.models import MovementDirection
from linli.volunteers.models import HoursSource, ServiceHoursEntry

# Bump when the shape of the summary changes, so readers of old activations can tell.
SUMMARY_VERSION = 1
# The coverage milestones reported (percent of targeted households contacted).
MILESTONES = (50, 90, 100)
NO_ANSWER_OUTCOMES = (Outcome.NO_ANSWER, Outcome.NOT_HOME)
PDF_FONT = "STSong-Light"


def PART_NOTE() -> str:  # noqa: N802 - a message, read in the active language
    return _(
        "This report covers only your part of the emergency: its tasks, help requests, "
        "volunteers and supplies."
    )


def _minutes(start: datetime, moment: datetime | None) -> float | None:
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
        curve.append([_minutes(start, moment), round(number / targeted, 4)])
    milestones = {}
    for percent in MILESTONES:
        needed = _needed(percent, targeted)
        reached = targeted > 0 and len(contacts) >= needed
        milestones[str(percent)] = _minutes(start, contacts[needed - 1]) if reached else None
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
            minutes = _minutes(created_at, dispatched_at)
            to_dispatch.append(minutes)
            per_urgency[urgency][0].append(minutes)
        # Handling time counts requests carried out; a cancelled one was not handled.
        if state == HelpState.DONE and done_at is not None:
            minutes = _minutes(created_at, done_at)
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
        "first_at_minute": _minutes(start, min((row[3] for row in rows), default=None)),
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
                    "minute": _minutes(start, created_at),
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
        "duration_minutes": _minutes(start, until),
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


# ---------------------------------------------------------------------------------------
# What the reader sees


def minutes_text(minutes: float | None) -> str:
    """45 → "45 min", 150 → "2 h 30 min", 120 → "2 h", None → "not reached"."""
    if minutes is None:
        return _("not reached")
    whole = int(round(minutes))
    if whole < 60:
        shown = number_format(minutes, decimal_pos=0 if minutes == whole else 1)
        return _("%(minutes)s min") % {"minutes": shown}
    if whole % 60 == 0:
        return _("%(hours)d h") % {"hours": whole // 60}
    return _("%(hours)d h %(minutes)d min") % {"hours": whole // 60, "minutes": whole % 60}


def share_text(share: float | None) -> str:
    if share is None:
        return "–"
    return f"{share * 100:.0f}%" if share * 100 == round(share * 100) else f"{share * 100:.1f}%"


def grade_name(grade) -> str:
    try:
        return Grade(int(grade)).name
    except (TypeError, ValueError):
        return str(grade or "")


CAUSES = {
    "declined": lambda: _("declined by the volunteer"),
    "not_acknowledged": lambda: _("not acknowledged in time"),
    "unavailable": lambda: _("volunteer unavailable"),
    "staff": lambda: _("moved by staff"),
}


def _cause_text(cause: str) -> str:
    return CAUSES[cause]() if cause in CAUSES else cause


def _number(detail: dict, key: str) -> int:
    value = detail.get(key, 0)
    if isinstance(value, list | dict):
        return len(value) if isinstance(value, list) else sum(value.values())
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def event_text(kind: str, detail: dict) -> str:
    """One sentence for a timeline event, from what its detail recorded."""
    if kind == EventKind.ACTIVATED:
        tasks = _number(detail, "tasks")
        return _(
            "Grade %(grade)s, %(tasks)d tasks: %(assigned)d assigned to %(volunteers)d "
            "volunteers, %(unassigned)d without a volunteer."
        ) % {
            "grade": grade_name(detail.get("grade")),
            "tasks": tasks,
            "assigned": _number(detail, "assigned"),
            "volunteers": _number(detail, "volunteers"),
            "unassigned": _number(detail, "unassigned"),
        }
    if kind == EventKind.GRADE_CHANGED:
        return _(
            "From grade %(previous)s to %(grade)s: %(added)d tasks added, %(cancelled)d cancelled."
        ) % {
            "previous": grade_name(detail.get("previous")),
            "grade": grade_name(detail.get("grade")),
            "added": _number(detail, "added"),
            "cancelled": _number(detail, "cancelled"),
        }
    if kind == EventKind.TASKS_ADDED:
        count = _number(detail, "tasks")
        text = ngettext("%(count)d task added", "%(count)d tasks added", count) % {"count": count}
        return f"{text}: {detail['title']}" if detail.get("title") else text
    if kind == EventKind.REASSIGNED:
        count = _number(detail, "tasks")
        return ngettext(
            "%(count)d task reassigned (%(cause)s): %(assigned)d assigned, %(unassigned)d "
            "without a volunteer.",
            "%(count)d tasks reassigned (%(cause)s): %(assigned)d assigned, %(unassigned)d "
            "without a volunteer.",
            count,
        ) % {
            "count": count,
            "cause": _cause_text(detail.get("cause", "")),
            "assigned": _number(detail, "assigned"),
            "unassigned": _number(detail, "unassigned"),
        }
    if kind == EventKind.VOLUNTEER_UNAVAILABLE:
        return _("%(name)s unavailable (%(reason)s); %(tasks)d tasks moved.") % {
            "name": detail.get("name", ""),
            "reason": detail.get("reason", ""),
            "tasks": _number(detail, "tasks"),
        }
    if kind == EventKind.SUPPLIES_DRAWN:
        return _("%(quantity)s %(unit)s of %(item)s drawn.") % {
            "quantity": detail.get("quantity", ""),
            "unit": detail.get("unit", ""),
            "item": detail.get("item", ""),
        }
    if kind == EventKind.STOOD_DOWN:
        return _(
            "%(reason)s — %(tasks)d open tasks and %(help)d help requests closed; %(hours)s "
            "hours credited to %(volunteers)d volunteers."
        ) % {
            "reason": detail.get("reason", ""),
            "tasks": _number(detail, "tasks_closed"),
            "help": _number(detail, "help_closed"),
            "hours": detail.get("hours", "0"),
            "volunteers": _number(detail, "volunteers_credited"),
        }
    return str(detail.get("text") or detail.get("note") or "")


def _parse(moment: str | None) -> datetime | None:
    return datetime.fromisoformat(moment) if moment else None


def _label(choices, code, fallback: str = "") -> str:
    try:
        return str(choices(code).label)
    except ValueError:
        return str(code or fallback)


def _event_in_part(event: ActivationEvent, summary: dict, task_ids: set[int]) -> bool:
    """For a reader of a part: the activation-wide steps (activated, grade, tasks added,
    notes, stand-down) and those touching their part's tasks, volunteers and supplies."""
    detail = event.detail or {}
    if event.kind == EventKind.REASSIGNED:
        return any(task_id in task_ids for task_id in detail.get("tasks", []))
    if event.kind == EventKind.VOLUNTEER_UNAVAILABLE:
        return detail.get("volunteer") in {
            entry["volunteer_id"] for entry in summary.get("volunteers") or []
        }
    if event.kind == EventKind.SUPPLIES_DRAWN:
        return detail.get("item") in {entry["item"] for entry in summary.get("supplies") or []}
    return True


def _timeline(activation: Activation, summary: dict, paths: list[str] | None = None) -> list[dict]:
    """The events in order, with the coverage milestones placed among them (for a part of
    the scope, the events of that part: `_event_in_part`)."""
    start = activation.activated_at
    events = ActivationEvent.objects.filter(activation=activation).select_related("actor")
    if is_part(activation, paths):
        task_ids = set(
            Task.objects.filter(within(paths), activation=activation).values_list("pk", flat=True)
        )
        events = [event for event in events if _event_in_part(event, summary, task_ids)]
    rows = [
        {
            "at": event.created_at,
            "minute": _minutes(start, event.created_at),
            "kind": event.kind,
            "label": _label(EventKind, event.kind),
            "text": event_text(event.kind, event.detail or {}),
            "actor": str(event.actor) if event.actor_id else "",
        }
        for event in events
    ]
    curve = summary.get("coverage_curve") or []
    if len(curve) > 1:
        rows.append(
            {
                "at": None,
                "minute": curve[1][0],
                "kind": "milestone",
                "label": _("Coverage"),
                "text": _("First household contacted."),
                "actor": "",
            }
        )
    for percent, minute in (summary.get("minutes_to") or {}).items():
        if minute is None:
            continue
        rows.append(
            {
                "at": None,
                "minute": minute,
                "kind": "milestone",
                "label": _("Coverage"),
                "text": _("%(percent)s%% of targeted households contacted.") % {"percent": percent},
                "actor": "",
            }
        )
    # Events before milestones at the same minute; a stand-down always last.
    rows.sort(key=lambda row: (row["kind"] == EventKind.STOOD_DOWN, row["minute"] or 0.0))
    for row in rows:
        if row["at"] is None and row["minute"] is not None:
            row["at"] = start + timedelta(minutes=row["minute"])
    return rows


def _thin_curve(curve: list, span: float, buckets: int) -> list:
    """At most one point per `buckets`-th of the time axis (the last in each), so a
    street-sized activation's thousands of contacts draw as a few hundred steps; the
    curve looks the same at the chart's resolution."""
    if len(curve) <= buckets:
        return curve
    kept: dict[int, list] = {}
    for point in curve[1:]:
        kept[round(point[0] / span * buckets)] = point
    return [curve[0], *kept.values()]


def coverage_table_points(curve: list, steps: int = 20) -> list[tuple[int, list]]:
    """The rows of the coverage table: every contact for a small activation, otherwise the
    first contact at or past each 5% of the targeted households (and the last)."""
    numbered = list(enumerate(curve))
    if len(curve) <= steps * 2 + 1:
        return numbered
    rows, reached = [numbered[0]], 0
    for number, point in numbered[1:]:
        level = math.floor(point[1] * steps + 1e-9)
        if level > reached:
            rows.append((number, point))
            reached = level
    if rows[-1][0] != numbered[-1][0]:
        rows.append(numbered[-1])
    return rows


def coverage_svg(summary: dict, width: int = 640, height: int = 240) -> SafeString:
    """The coverage curve as an inline SVG step chart (no script): share of targeted
    households contacted against minutes since activation, with the 50/90/100% lines."""
    left, right, top, bottom = 44, 12, 12, 36
    plot_width, plot_height = width - left - right, height - top - bottom
    span = _chart_span(summary)
    curve = _thin_curve(summary.get("coverage_curve") or [[0.0, 0.0]], span, plot_width)

    def x(minute: float) -> float:
        return round(left + plot_width * minute / span, 1)

    def y(share: float) -> float:
        return round(top + plot_height * (1 - share), 1)

    path = [f"M{x(0)},{y(0)}"]
    for minute, share in curve[1:]:
        path.append(f"H{x(minute)}V{y(share)}")
    end_minute = min(summary.get("duration_minutes") or curve[-1][0], span)
    path.append(f"H{x(max(end_minute, curve[-1][0]))}")
    parts = [
        f'<svg class="coverage-chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="coverage-title" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="coverage-title">{escape(_coverage_description(summary))}</title>',
        f'<rect x="{left}" y="{top}" width="{plot_width}" height="{plot_height}" '
        f'fill="none" stroke="#d8dde3"/>',
    ]
    for percent in (0, 50, 90, 100):
        level = y(percent / 100)
        parts.append(
            f'<line x1="{left}" y1="{level}" x2="{left + plot_width}" y2="{level}" '
            f'stroke="#d8dde3" stroke-dasharray="{"" if percent in (0, 100) else "4 3"}"/>'
            f'<text x="{left - 6}" y="{level + 4}" text-anchor="end" font-size="11" '
            f'fill="#5b636e">{percent}%</text>'
        )
    for step in range(5):
        minute = span * step / 4
        parts.append(
            f'<text x="{x(minute)}" y="{top + plot_height + 16}" text-anchor="middle" '
            f'font-size="11" fill="#5b636e">{minute:g}</text>'
        )
    parts.append(
        f'<text x="{left + plot_width / 2}" y="{height - 4}" text-anchor="middle" '
        f'font-size="11" fill="#5b636e">{escape(_("Minutes since activation"))}</text>'
    )
    parts.append(
        f'<path d="{"".join(path)}" fill="none" stroke="#b4232a" stroke-width="2.5" '
        f'data-testid="coverage-line"/>'
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def _chart_span(summary: dict) -> float:
    """The minutes the chart's time axis covers: a little past the last contact, so a long
    emergency whose households were all reached in the first hours still shows its curve
    (the table gives every point); the whole duration when nobody was reached."""
    curve = summary.get("coverage_curve") or [[0.0, 0.0]]
    duration = summary.get("duration_minutes") or 0
    last = curve[-1][0]
    span = min(duration, last * 1.25) if last else duration
    return _nice_ceiling(max(span, last, 10))


def _nice_ceiling(value: float) -> float:
    """The smallest round number at or above `value` whose quarters are round too (axis
    ticks): 1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6 or 8 × 10^n."""
    magnitude = 10 ** math.floor(math.log10(value))
    for factor in (1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8, 10):
        if value <= round(factor * magnitude, 6):
            return round(factor * magnitude, 6)
    return 10 * magnitude  # pragma: no cover - the loop always returns


def _coverage_description(summary: dict) -> str:
    return _(
        "%(contacted)d of %(targeted)d targeted households contacted; 50%% after %(to50)s, "
        "90%% after %(to90)s, 100%% after %(to100)s."
    ) % {
        "contacted": summary.get("contacted_households", 0),
        "targeted": summary.get("targeted_households", 0),
        "to50": minutes_text((summary.get("minutes_to") or {}).get("50")),
        "to90": minutes_text((summary.get("minutes_to") or {}).get("90")),
        "to100": minutes_text((summary.get("minutes_to") or {}).get("100")),
    }


def _key_figures(summary: dict) -> list[tuple[str, str]]:
    minutes_to = summary.get("minutes_to") or {}
    help_requests = summary.get("help_requests") or {}
    by_state = summary.get("tasks_by_state") or {}
    return [
        (_("Targeted households"), str(summary.get("targeted_households", 0))),
        (
            _("Households contacted"),
            f"{summary.get('contacted_households', 0)} "
            f"({share_text(summary.get('coverage_share'))})",
        ),
        (
            _("Time to %(percent)s%% contacted") % {"percent": 50},
            minutes_text(minutes_to.get("50")),
        ),
        (
            _("Time to %(percent)s%% contacted") % {"percent": 90},
            minutes_text(minutes_to.get("90")),
        ),
        (
            _("Time to %(percent)s%% contacted") % {"percent": 100},
            minutes_text(minutes_to.get("100")),
        ),
        (_("Tasks"), str(summary.get("tasks_total", 0))),
        (_("Tasks done"), str(by_state.get(TaskState.DONE, 0))),
        (_("Tasks done after their due time"), str(summary.get("tasks_done_late", 0))),
        (_("Tasks without a volunteer"), str((summary.get("unassigned") or {}).get("total", 0))),
        (_("Tasks escalated"), str(summary.get("escalated", 0))),
        (_("Tasks reassigned"), str((summary.get("reassignments") or {}).get("tasks", 0))),
        (_("Help requests"), str(help_requests.get("total", 0))),
        (
            _("Help: median time to dispatch"),
            minutes_text((help_requests.get("minutes_to_dispatch") or {}).get("median")),
        ),
        (
            _("Help: median time to done"),
            minutes_text((help_requests.get("minutes_to_done") or {}).get("median")),
        ),
        (_("Volunteers who reported"), str(summary.get("volunteers_reporting", 0))),
        (
            _("Service hours credited"),
            _("%(hours)s h to %(volunteers)d volunteers")
            % {
                "hours": f"{summary.get('hours_credited', 0):g}",
                "volunteers": summary.get("volunteers_credited", 0),
            },
        ),
        (_("Duration"), minutes_text(summary.get("duration_minutes"))),
    ]


def _help_rows(summary: dict) -> list[dict]:
    by_urgency = (summary.get("help_requests") or {}).get("by_urgency") or {}
    rows = []
    for urgency in Urgency:
        figures = by_urgency.get(str(urgency.value)) or {}
        dispatch = figures.get("minutes_to_dispatch") or {}
        done = figures.get("minutes_to_done") or {}
        rows.append(
            {
                "urgency": urgency.value,
                "label": str(urgency.label),
                "count": figures.get("count", 0),
                "dispatch_median": minutes_text(dispatch.get("median"))
                if dispatch.get("count")
                else "–",
                "dispatch_max": minutes_text(dispatch.get("max")) if dispatch.get("count") else "–",
                "done_median": minutes_text(done.get("median")) if done.get("count") else "–",
                "done_max": minutes_text(done.get("max")) if done.get("count") else "–",
            }
        )
    return rows


def report_context(activation: Activation, paths: list[str] | None = None) -> dict:
    """Everything the report page and the PDF show. A stood-down activation reads the
    figures kept at stand-down; a live one is computed now (a running report). `paths`
    (emergency.board.board_paths of the reader) narrow it to the reader's part, computed
    now: a building-group leader reads their own group's tasks and volunteers only."""
    if is_part(activation, paths):
        summary = summary_compute(activation, paths)
    elif activation.is_active or not activation.summary:
        summary = summary_compute(activation)
    else:
        summary = activation.summary
    help_requests = summary.get("help_requests") or {}
    volunteers = [
        {
            **entry,
            "first_report": _parse(entry.get("first_report_at")),
            "last_report": _parse(entry.get("last_report_at")),
        }
        for entry in summary.get("volunteers") or []
    ]
    curve_rows = [
        {
            "minute": minute,
            "at": activation.activated_at + timedelta(minutes=minute),
            "share": share_text(share),
            "contacted": index,
        }
        for index, (minute, share) in coverage_table_points(
            summary.get("coverage_curve") or [[0.0, 0.0]]
        )
    ]
    return {
        "activation": activation,
        "summary": summary,
        "is_live": activation.is_active,
        "grade": grade_name(activation.grade),
        "figures": _key_figures(summary),
        "coverage_svg": coverage_svg(summary),
        "coverage_description": _coverage_description(summary),
        "coverage_rows": curve_rows,
        "tasks_by_state": [
            (_label(TaskState, state), count)
            for state, count in sorted((summary.get("tasks_by_state") or {}).items())
        ],
        "tasks_by_kind": [
            (_label(TaskKind, kind), count)
            for kind, count in sorted((summary.get("tasks_by_kind") or {}).items())
        ],
        "unassigned_reasons": [
            (_label(UnassignedReason, reason), count)
            for reason, count in sorted(
                ((summary.get("unassigned") or {}).get("by_reason") or {}).items()
            )
        ],
        "reassignment_causes": [
            (_cause_text(cause), count)
            for cause, count in sorted(
                ((summary.get("reassignments") or {}).get("by_cause") or {}).items()
            )
        ],
        "help_rows": _help_rows(summary),
        "help_kinds": [
            (_label(HelpKind, kind), count)
            for kind, count in sorted((help_requests.get("by_kind") or {}).items())
        ],
        "volunteers": volunteers,
        "supplies": summary.get("supplies") or [],
        "timeline": _timeline(activation, summary, paths),
        "is_part": is_part(activation, paths),
        "lessons": activation.lessons,
    }


# ---------------------------------------------------------------------------------------
# PDF


def _pdf_styles():
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet

    base = getSampleStyleSheet()
    common = {"fontName": PDF_FONT, "wordWrap": "CJK"}
    return {
        "title": ParagraphStyle("title", parent=base["Title"], fontSize=17, leading=22, **common),
        "h2": ParagraphStyle(
            "h2", parent=base["Heading2"], fontSize=12.5, leading=16, spaceBefore=10, **common
        ),
        "body": ParagraphStyle("body", parent=base["BodyText"], fontSize=9.5, leading=13, **common),
        "cell": ParagraphStyle("cell", parent=base["BodyText"], fontSize=8.5, leading=11, **common),
        "muted": ParagraphStyle(
            "muted",
            parent=base["BodyText"],
            fontSize=8.5,
            leading=11,
            textColor=colors.HexColor("#5b636e"),
            **common,
        ),
    }


def _pdf_table(rows: list[list], styles, widths=None, header: bool = True):
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table, TableStyle

    cells = [[Paragraph(escape(str(value)), styles["cell"]) for value in row] for row in rows]
    table = Table(cells, colWidths=widths, repeatRows=1 if header else 0, hAlign="LEFT")
    commands = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#d8dde3")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f4f6f8")))
    table.setStyle(TableStyle(commands))
    return table


def _pdf_chart(summary: dict, width: float):
    from reportlab.graphics.charts.lineplots import LinePlot
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    span = _chart_span(summary)
    curve = _thin_curve(summary.get("coverage_curve") or [[0.0, 0.0]], span, 400)
    # A step line: the share holds until the next contact.
    steps = [(0.0, 0.0)]
    for minute, share in curve[1:]:
        steps.append((minute, steps[-1][1]))
        steps.append((minute, share * 100))
    steps.append((max(min(summary.get("duration_minutes") or 0, span), curve[-1][0]), steps[-1][1]))
    drawing = Drawing(width, 190)
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 40, 30, width - 60, 145
    plot.data = [steps]
    plot.lines[0].strokeColor = colors.HexColor("#b4232a")
    plot.lines[0].strokeWidth = 2
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = 0, span
    plot.xValueAxis.valueStep = span / 4
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax, plot.yValueAxis.valueStep = 0, 100, 25
    plot.yValueAxis.labelTextFormat = "%d%%"
    plot.xValueAxis.labelTextFormat = "%g"
    plot.yValueAxis.visibleGrid = True
    plot.yValueAxis.gridStrokeColor = colors.HexColor("#d8dde3")
    drawing.add(plot)
    drawing.add(
        String(
            40 + (width - 60) / 2,
            4,
            _("Minutes since activation"),
            fontName=PDF_FONT,
            fontSize=8.5,
            textAnchor="middle",
        )
    )
    return drawing


def _local(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "–"


def report_pdf(activation: Activation, paths: list[str] | None = None) -> bytes:
    """The after-action report as a PDF (A4), in the active language, for the reader's
    part of the scope (`paths`, as report_context)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))
    context = report_context(activation, paths)
    summary = context["summary"]
    styles = _pdf_styles()
    buffer = BytesIO()
    title = _("After-action report: %(plan)s · %(scope)s") % {
        "plan": activation.plan.name,
        "scope": activation.scope.name,
    }
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=16 * mm,
        rightMargin=16 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=title,
        author="Linli",
    )
    width = A4[0] - 32 * mm

    def paragraph(text: str, style: str = "body"):
        return Paragraph(escape(text).replace("\n", "<br/>"), styles[style])

    story = [paragraph(title, "title")]
    if context["is_live"]:
        story.append(
            paragraph(
                _("Running report: the emergency is still active; figures as of %(time)s.")
                % {"time": _local(_parse(summary.get("computed_at")))},
                "muted",
            )
        )
    if context["is_part"]:
        story.append(paragraph(PART_NOTE(), "muted"))
    facts = [
        [_("Scope"), activation.scope.name],
        [_("Plan"), activation.plan.name],
        [_("Hazard"), activation.get_hazard_display()],
        [_("Grade"), context["grade"]],
        [_("Kind"), _("Drill") if activation.is_drill else _("Real emergency")],
        [_("Activated at"), _local(activation.activated_at)],
        [_("Stood down at"), _local(activation.stood_down_at)],
    ]
    if activation.stand_down_reason:
        facts.append([_("Reason for standing down"), activation.stand_down_reason])
    story += [_pdf_table(facts, styles, [45 * mm, width - 45 * mm], header=False)]

    story += [paragraph(_("Key figures"), "h2")]
    story.append(
        _pdf_table(
            [[_("Figure"), _("Value")], *[list(row) for row in context["figures"]]],
            styles,
            [70 * mm, width - 70 * mm],
        )
    )

    story += [paragraph(_("Contact coverage"), "h2"), paragraph(context["coverage_description"])]
    if summary.get("targeted_households"):
        story.append(_pdf_chart(summary, width))
    else:
        story.append(paragraph(_("No households were targeted by welfare checks."), "muted"))

    story += [paragraph(_("Tasks"), "h2")]
    task_rows = [[_("State"), _("Tasks")], *[[label, n] for label, n in context["tasks_by_state"]]]
    story.append(_pdf_table(task_rows, styles, [70 * mm, 30 * mm]))
    if context["unassigned_reasons"]:
        story += [Spacer(1, 4), paragraph(_("Without a volunteer, by reason"), "muted")]
        story.append(
            _pdf_table(
                [[_("Reason"), _("Tasks")], *[[r, n] for r, n in context["unassigned_reasons"]]],
                styles,
                [110 * mm, 30 * mm],
            )
        )

    story += [paragraph(_("Help requests"), "h2")]
    story.append(
        _pdf_table(
            [
                [
                    _("Urgency"),
                    _("Requests"),
                    _("Median to dispatch"),
                    _("Longest to dispatch"),
                    _("Median to done"),
                    _("Longest to done"),
                ],
                *[
                    [
                        row["label"],
                        row["count"],
                        row["dispatch_median"],
                        row["dispatch_max"],
                        row["done_median"],
                        row["done_max"],
                    ]
                    for row in context["help_rows"]
                ],
            ],
            styles,
            [38 * mm, 20 * mm, *[(width - 58 * mm) / 4] * 4],
        )
    )

    story += [paragraph(_("Volunteers' load"), "h2")]
    if context["volunteers"]:
        story.append(
            _pdf_table(
                [
                    [
                        _("Volunteer"),
                        _("Tasks held"),
                        _("Done"),
                        _("Reports"),
                        _("First report"),
                        _("Last report"),
                        _("Hours"),
                    ],
                    *[
                        [
                            entry["name"],
                            entry["tasks"],
                            entry["done"],
                            entry["reports"],
                            _local(entry["first_report"]),
                            _local(entry["last_report"]),
                            f"{entry['hours']:g}",
                        ]
                        for entry in context["volunteers"]
                    ],
                ],
                styles,
                [32 * mm, 17 * mm, 14 * mm, 15 * mm, 32 * mm, 32 * mm, width - 142 * mm],
            )
        )
    else:
        story.append(paragraph(_("No volunteer held a task."), "muted"))

    story += [paragraph(_("Supplies used"), "h2")]
    if context["supplies"]:
        story.append(
            _pdf_table(
                [
                    [_("Item"), _("Quantity"), _("Draws")],
                    *[
                        [entry["item"], f"{entry['quantity']} {entry['unit']}", entry["draws"]]
                        for entry in context["supplies"]
                    ],
                ],
                styles,
                [80 * mm, 40 * mm, 25 * mm],
            )
        )
    else:
        story.append(paragraph(_("No supplies were drawn."), "muted"))

    story += [paragraph(_("Timeline"), "h2")]
    story.append(
        _pdf_table(
            [
                [_("Time"), _("Event"), _("What happened"), _("By")],
                *[
                    [_local(row["at"]), row["label"], row["text"], row["actor"]]
                    for row in context["timeline"]
                ],
            ],
            styles,
            [28 * mm, 26 * mm, width - 82 * mm, 28 * mm],
        )
    )

    story += [paragraph(_("Lessons learned"), "h2")]
    story.append(
        paragraph(activation.lessons)
        if activation.lessons
        else paragraph(_("No lessons recorded yet."), "muted")
    )
    document.build(story)
    return buffer.getvalue()
