"""Escalation up the grid (building group → micro-grid → community → street), by staff or
by the overdue sweep, and the 会商 (coordination meeting) held once a case reaches the
community."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from linli import clock
from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.cases.models import ESCALATION_ORDER, OPEN_STATES, Case, Coordination
from linli.cases.services.events import event_append
from linli.cases.services.transitions import case_lock, may_act
from linli.errors import Conflict, NotAllowed
from linli.grids.models import GridLevel, GridUnit
from linli.notify.services import notification_send


def _escalate_locked(*, case: Case, actor: User | None, reason: str, now: datetime) -> Case:
    if case.state not in OPEN_STATES:
        raise Conflict(_("Only an open case can be escalated."), code="illegal_transition")
    position = ESCALATION_ORDER.index(case.escalation_level)
    if position + 1 >= len(ESCALATION_ORDER):
        raise ValidationError(_("The case is already at the street."), code="top_level")
    level = ESCALATION_ORDER[position + 1]
    unit = GridUnit.objects.get(path__in=case.grid_unit.ancestor_paths(), level=level)
    before_unit = case.owner_unit
    case.owner_unit = unit
    case.escalation_level = level
    # Each level gets a fresh time limit; otherwise the sweep would push it straight on.
    case.due_at = now + case.category.time_limit
    case.version += 1
    case.save()
    event_append(
        case=case,
        actor=actor,
        action="escalate",
        from_state=case.state,
        note=reason,
        data={"from_unit": before_unit.code, "to_unit": unit.code, "level": level},
    )
    _notify_new_owner(case=case, unit=unit, reason=reason)
    return case


def _notify_new_owner(*, case: Case, unit: GridUnit, reason: str) -> None:
    """Tell whoever holds a post on the unit the case now belongs to (in-app inbox; other
    channels plug into the same outbox). Sent only if the escalation commits."""
    holders = User.objects.filter(
        role_assignments__grid_unit=unit,
        role_assignments__role__in=[
            Role.STREET_ADMIN,
            Role.SECRETARY,
            Role.MICRO_GRID_LEAD,
            Role.BUILDING_GROUP_LEADER,
        ],
    ).distinct()
    notification_send(
        recipients=holders,
        kind="case_escalated",
        title=gettext_noop("Case %(reference)s was escalated to %(unit)s"),
        title_params={"reference": case.reference, "unit": unit.name},
        body=f"{case.category.name}: {reason}",
    )


@transaction.atomic
def case_escalate(
    *, case: Case, actor: User | None, reason: str, expected_version: int | None = None
) -> Case:
    """Move the case's owner one level up the grid (building group → … → street)."""
    case = case_lock(case, expected_version)
    if not may_act(user=actor, action="escalate", case=case):
        raise NotAllowed(_("You may not escalate this case."))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the case goes up a level.")})
    return _escalate_locked(case=case, actor=actor, reason=reason.strip(), now=clock.now())


def cases_escalate_overdue(*, now: datetime | None = None) -> int:
    """The scheduled sweep: every overdue case below the street goes up one level."""
    now = now or clock.now()
    count = 0
    ids = list(
        Case.objects.overdue(now)
        .exclude(escalation_level=GridLevel.STREET)
        .values_list("id", flat=True)
    )
    for case_id in ids:
        with transaction.atomic():
            case = Case.objects.select_for_update().select_related("category").get(pk=case_id)
            if not case.is_overdue(now) or case.escalation_level == GridLevel.STREET:
                continue
            _escalate_locked(case=case, actor=None, reason=_("Overdue"), now=now)
            count += 1
    return count


@transaction.atomic
def coordination_record(
    *,
    case: Case,
    actor: User,
    held_at: datetime,
    participants: str,
    decision: str,
    due_at: datetime,
    partner_units: str = "",
    units_assigned: str = "",
) -> Coordination:
    """会商: recorded by the secretary once a case has reached the community."""
    case = case_lock(case, None)
    if not may_act(user=actor, action="coordinate", case=case):
        raise NotAllowed(_("Only the community secretary records a coordination meeting."))
    errors = {}
    if case.escalation_level != GridLevel.COMMUNITY:
        errors["case"] = _("A coordination meeting is held on cases escalated to the community.")
    if not case.is_open:
        errors["case"] = _("The case is no longer open.")
    if not (participants or "").strip():
        errors["participants"] = _("Say who took part.")
    if not (decision or "").strip():
        errors["decision"] = _("Record the decision.")
    if due_at is None or due_at <= held_at:
        errors["due_at"] = _("The due date must be after the meeting.")
    if errors:
        raise ValidationError(errors)
    meeting = Coordination.objects.create(
        case=case,
        held_at=held_at,
        participants=participants.strip(),
        partner_units=partner_units.strip(),
        decision=decision.strip(),
        units_assigned=units_assigned.strip(),
        due_at=due_at,
        recorded_by=actor,
    )
    case.due_at = due_at
    case.version += 1
    case.save()
    event_append(
        case=case,
        actor=actor,
        action="coordinate",
        from_state=case.state,
        note=decision.strip(),
        data={"coordination": meeting.pk, "due_at": due_at.isoformat()},
    )
    return meeting
