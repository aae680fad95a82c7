"""Stand-down (急 → 平): what is still open is closed with the reason, the volunteers who
reported are credited service hours, and the after-action figures are kept on the
activation; lessons may be added after."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.models import User
from linli.accounts.roles import Permission
from linli.emergency.models import (
    OPEN_HELP_STATES,
    OPEN_TASK_STATES,
    Activation,
    ActivationState,
    EventKind,
    HelpRequest,
    HelpState,
    Task,
    TaskReport,
    TaskState,
)
from linli.emergency.report import summary_compute
from linli.emergency.services.guards import locked_activation, user_or_none
from linli.emergency.services.timeline import banner_changed, event_record
from linli.errors import NotAllowed
from linli.grids.selectors import scope_for
from linli.volunteers.models import HoursSource, Volunteer
from linli.volunteers.services import service_hours_record

P = Permission

# Hours credited per volunteer at stand-down: the span from their first acknowledgement
# to their last report, rounded up to the half hour, at least half an hour for anyone who
# reported, and never more than the ledger's 24 hours per entry.
HALF_HOUR = Decimal("0.5")
MAX_CREDIT_HOURS = Decimal("24")


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
        raise NotAllowed(_("You may not stand down this emergency."))
    activation = locked_activation(activation)
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
    activation.stood_down_by = user_or_none(actor)
    activation.stood_down_at = now
    activation.stand_down_reason = reason
    activation.lessons = lessons
    event_record(
        activation,
        EventKind.STOOD_DOWN,
        actor,
        reason=reason,
        tasks_closed=closed_tasks,
        help_closed=closed_help,
        volunteers_credited=len(credited),
        hours=str(sum(credited.values(), Decimal("0"))),
    )
    activation.summary = summary_compute(activation)
    activation.save()
    banner_changed()
    return activation


@transaction.atomic
def activation_lessons_update(*, actor: User, activation: Activation, lessons: str) -> Activation:
    """Staff add lessons after the event; the rest of the record stays as it was."""
    if not scope_for(actor).allows(P.EMERGENCY_ACTIVATE, activation.grid_path):
        raise NotAllowed(_("You may not edit this emergency's lessons."))
    lessons = (lessons or "").strip()
    if len(lessons) > 5000:
        raise ValidationError({"lessons": _("Keep the lessons to 5000 characters.")})
    Activation.objects.filter(pk=activation.pk).update(lessons=lessons)
    activation.lessons = lessons
    return activation
