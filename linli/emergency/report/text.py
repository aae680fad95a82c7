"""The report's words: durations, shares, grades and one sentence per timeline event, in
the active language (the summary itself holds only codes and numbers)."""

from __future__ import annotations

from datetime import datetime

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from linli.emergency.models import EventKind, Grade


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


def cause_text(cause: str) -> str:
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
            "cause": cause_text(detail.get("cause", "")),
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


def parse_moment(moment: str | None) -> datetime | None:
    return datetime.fromisoformat(moment) if moment else None
