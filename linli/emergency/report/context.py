"""`report_context` turns the figures into what a reader sees: labels in the active
language, the timeline with the coverage milestones among its events, the key figures and
the coverage curve as an inline SVG and as a table."""

from __future__ import annotations

from datetime import timedelta

from django.utils.translation import gettext as _

from linli.accounts.grid_paths import within
from linli.emergency.models import (
    Activation,
    ActivationEvent,
    EventKind,
    HelpKind,
    Task,
    TaskKind,
    TaskState,
    UnassignedReason,
    Urgency,
)
from linli.emergency.report.chart import coverage_description, coverage_svg, coverage_table_points
from linli.emergency.report.data import is_part, minutes_between, summary_compute
from linli.emergency.report.text import (
    cause_text,
    event_text,
    grade_name,
    minutes_text,
    parse_moment,
    share_text,
)


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
            "minute": minutes_between(start, event.created_at),
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
            "first_report": parse_moment(entry.get("first_report_at")),
            "last_report": parse_moment(entry.get("last_report_at")),
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
        "coverage_description": coverage_description(summary),
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
            (cause_text(cause), count)
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
