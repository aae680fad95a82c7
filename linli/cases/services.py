"""Every write to a case: creation, the one transition function, escalation and 会商.

The transition table below is the whole state machine; `case_transition` is the only code
that changes a case's state, and every change appends a CaseEvent in the same transaction.
"""

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from linli.accounts.models import User
from linli.accounts.roles import Permission, Role
from linli.cases.models import (
    ESCALATION_ORDER,
    OPEN_STATES,
    Case,
    CaseCategory,
    CaseEvent,
    CasePriority,
    CaseSource,
    CaseState,
    Coordination,
)
from linli.grids.models import Building, GridLevel, GridUnit, Visit
from linli.grids.selectors import grid_unit_at_point, scope_for
from linli.notify.services import notification_send

S = CaseState

# (state, action) -> new state. Actions that keep the state (extensions, rating) are
# listed too, so that the table alone says where each action is allowed.
TRANSITIONS: dict[tuple[str, str], str] = {
    (S.REPORTED, "accept"): S.ACCEPTED,
    (S.REPORTED, "reject"): S.REJECTED,
    (S.ACCEPTED, "dispatch"): S.DISPATCHED,
    (S.RETURNED, "dispatch"): S.DISPATCHED,
    (S.DISPATCHED, "start"): S.IN_PROGRESS,
    (S.IN_PROGRESS, "resolve"): S.RESOLVED,
    (S.RESOLVED, "verify"): S.VERIFIED,
    (S.VERIFIED, "close"): S.CLOSED,
    (S.DISPATCHED, "return"): S.RETURNED,
    (S.IN_PROGRESS, "return"): S.RETURNED,
    # Verification failed: back to the dispatcher.
    (S.RESOLVED, "return"): S.RETURNED,
    # Staff may hand a case in hand to another person or team without changing its state.
    (S.DISPATCHED, "reassign"): S.DISPATCHED,
    (S.IN_PROGRESS, "reassign"): S.IN_PROGRESS,
    (S.DISPATCHED, "request_extension"): S.DISPATCHED,
    (S.IN_PROGRESS, "request_extension"): S.IN_PROGRESS,
    (S.DISPATCHED, "approve_extension"): S.DISPATCHED,
    (S.IN_PROGRESS, "approve_extension"): S.IN_PROGRESS,
    (S.RESOLVED, "reopen"): S.DISPATCHED,
    (S.VERIFIED, "reopen"): S.DISPATCHED,
    (S.CLOSED, "reopen"): S.DISPATCHED,
    (S.RESOLVED, "rate"): S.RESOLVED,
    (S.VERIFIED, "rate"): S.VERIFIED,
    (S.CLOSED, "rate"): S.CLOSED,
    (S.REPORTED, "mark_duplicate"): S.DUPLICATE,
    (S.ACCEPTED, "mark_duplicate"): S.DUPLICATE,
    (S.DISPATCHED, "mark_duplicate"): S.DUPLICATE,
    (S.IN_PROGRESS, "mark_duplicate"): S.DUPLICATE,
    (S.RETURNED, "mark_duplicate"): S.DUPLICATE,
}
ACTIONS = sorted({action for _state, action in TRANSITIONS})

# Who may do what: each action needs one permission (accounts.roles) on a unit whose
# subtree holds the case; the reporter may file, rate and reopen their own case.
P = Permission
ACTION_PERMISSIONS: dict[str, str] = {
    "create": P.CASE_FILE,
    "accept": P.CASE_HANDLE,
    "reject": P.CASE_HANDLE,
    "dispatch": P.CASE_HANDLE,
    "reassign": P.CASE_HANDLE,
    "start": P.CASE_HANDLE,
    "resolve": P.CASE_HANDLE,
    "return": P.CASE_HANDLE,
    "request_extension": P.CASE_HANDLE,
    "mark_duplicate": P.CASE_HANDLE,
    "escalate": P.CASE_HANDLE,
    "verify": P.CASE_SUPERVISE,
    "close": P.CASE_SUPERVISE,
    "approve_extension": P.CASE_SUPERVISE,
    "coordinate": P.CASE_COORDINATE,
}
REPORTER_ACTIONS = frozenset({"create", "rate", "reopen"})

ACTION_LABELS = {
    "accept": gettext_lazy("Accept (立案)"),
    "reject": gettext_lazy("Reject"),
    "dispatch": gettext_lazy("Dispatch"),
    "reassign": gettext_lazy("Reassign"),
    "start": gettext_lazy("Start work"),
    "resolve": gettext_lazy("Mark resolved"),
    "verify": gettext_lazy("Verify"),
    "close": gettext_lazy("Close"),
    "return": gettext_lazy("Return"),
    "request_extension": gettext_lazy("Request an extension"),
    "approve_extension": gettext_lazy("Approve the extension"),
    "reopen": gettext_lazy("Reopen"),
    "rate": gettext_lazy("Rate"),
    "mark_duplicate": gettext_lazy("Mark as duplicate"),
    "escalate": gettext_lazy("Escalate"),
    "coordinate": gettext_lazy("Record a coordination meeting (会商)"),
}

NOTE_REQUIRED = {
    "reject": gettext_lazy("A rejection needs a reason."),
    "return": gettext_lazy("Say why the case is returned."),
    "resolve": gettext_lazy("Say what was done."),
    "reopen": gettext_lazy("Say why the case is reopened."),
}
MAX_EXTENSIONS = 2
REOPEN_WINDOW = timedelta(days=7)


def _deny(message: str) -> ValidationError:
    return ValidationError(message, code="permission_denied")


def may_act(*, user: User | None, action: str, case: Case) -> bool:
    if action in REPORTER_ACTIONS and user is not None and case.reporter_id == user.pk:
        return True
    permission = ACTION_PERMISSIONS.get(action)
    return permission is not None and scope_for(user).allows(permission, case.grid_path)


def _event(*, case: Case, actor, action: str, from_state: str, note: str = "", data=None):
    return CaseEvent.objects.create(
        case=case,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        from_state=from_state,
        to_state=case.state,
        note=note,
        data=data or {},
    )


# Creation --------------------------------------------------------------------------------


def _resident_of(user: User | None):
    account = getattr(user, "resident_account", None) if user is not None else None
    return account.resident if account is not None else None


def _check_point(latitude, longitude, errors: dict) -> None:
    if (latitude is None) != (longitude is None):
        errors["latitude"] = _("Give both latitude and longitude, or neither.")
        return
    if latitude is not None:
        if not -90 <= Decimal(str(latitude)) <= 90:
            errors["latitude"] = _("Latitude must be between -90 and 90.")
        if not -180 <= Decimal(str(longitude)) <= 180:
            errors["longitude"] = _("Longitude must be between -180 and 180.")


@transaction.atomic
def case_create(
    *,
    reporter: User | None,
    category: CaseCategory | None,
    description: str,
    source: str,
    building: Building | None = None,
    latitude: Decimal | float | None = None,
    longitude: Decimal | float | None = None,
    grid_unit: GridUnit | None = None,
    visit: Visit | None = None,
    hotline_reference: str = "",
    priority: str = CasePriority.NORMAL,
    title: str = "",
    within: GridUnit | None = None,
    channel_community: GridUnit | None = None,
) -> Case:
    """File a case, routed to the grid unit that owns its place, due by the category SLA.

    The place is a building, a grid unit, or a point on the map (`within` narrows the search
    for the unit that owns the point). `channel_community` is set by a trusted channel that
    files for people without a login (an Open311 key): it stands in for the reporter's
    permission, and the place must lie inside that community."""
    if channel_community is not None:
        within = channel_community
    errors: dict[str, str] = {}
    if category is None or not isinstance(category, CaseCategory):
        errors["category"] = _("Choose a category.")
    elif category.is_major or not category.is_active:
        errors["category"] = _("Choose an active minor category, not a major class.")
    description = (description or "").strip()
    if not description:
        errors["description"] = _("Describe the problem.")
    elif len(description) > 2000:
        errors["description"] = _("The description is limited to 2,000 characters.")
    if source not in CaseSource.values:
        errors["source"] = _("Unknown source: %(source)s") % {"source": source}
    hotline_reference = (hotline_reference or "").strip()
    if source == CaseSource.HOTLINE_12345 and not hotline_reference:
        errors["hotline_reference"] = _("A 12345 transfer needs its reference number.")
    if priority not in CasePriority.values:
        errors["priority"] = _("Unknown priority: %(priority)s") % {"priority": priority}
    _check_point(latitude, longitude, errors)
    if building is not None:
        grid_unit = building.grid_unit
        if latitude is None and building.latitude is not None:
            latitude, longitude = building.latitude, building.longitude
    elif grid_unit is None and latitude is not None and "latitude" not in errors:
        grid_unit = grid_unit_at_point(latitude=latitude, longitude=longitude, within=within)
        if grid_unit is None:
            errors["latitude"] = _(
                "This point is outside the grid units we know; choose a building instead."
            )
    elif grid_unit is None and "latitude" not in errors:
        errors["building"] = _("Say where the problem is: a building or a point on the map.")
    if grid_unit is not None and grid_unit.level not in ESCALATION_ORDER:
        errors["grid_unit"] = _("A case belongs to a building group, micro-grid or community.")
    if errors:
        raise ValidationError(errors)

    resident = _resident_of(reporter)
    if channel_community is not None:
        if not grid_unit.path.startswith(channel_community.path):
            raise _deny(
                _("This key may only file cases in %(community)s.")
                % {"community": channel_community.name}
            )
    elif not scope_for(reporter).allows(Permission.CASE_FILE, grid_unit.path):
        # A resident files in the community they live in.
        home = resident.grid_path if resident is not None else None
        community = GridUnit.objects.filter(
            path__in=grid_unit.ancestor_paths(), level=GridLevel.COMMUNITY
        ).first()
        if home is None or community is None or not home.startswith(community.path):
            raise _deny(_("You may not file a case here."))

    now = timezone.now()
    due = now + timedelta(hours=category.sla_hours)
    case = Case.objects.create(
        # A placeholder until the primary key is known (unique, never shown).
        reference=uuid.uuid4().hex,
        source=source,
        hotline_reference=hotline_reference,
        category=category,
        title=(title or description.splitlines()[0])[:100],
        description=description,
        grid_unit=grid_unit,
        grid_path=grid_unit.path,
        building=building,
        latitude=latitude,
        longitude=longitude,
        reporter=reporter,
        reporter_resident=resident,
        visit=visit,
        priority=priority,
        owner_unit=grid_unit,
        handler_text=category.usual_handler,
        due_at=due,
        original_due_at=due,
        escalation_level=grid_unit.level,
        created_at=now,
    )
    # The primary key makes the reference unique without a per-day counter row to lock.
    case.reference = f"A{timezone.localdate(now):%Y%m%d}{case.pk:06d}"
    case.save(update_fields=["reference"])
    _event(case=case, actor=reporter, action="create", from_state="")
    return case


@transaction.atomic
def case_from_visit(
    *, actor: User, visit: Visit, category: CaseCategory, description: str = ""
) -> Case:
    """Turn a visit finding into a case in one step, at the visited household's building."""
    return case_create(
        reporter=actor,
        category=category,
        description=description or visit.finding,
        source=CaseSource.VISIT,
        building=visit.household.building,
        visit=visit,
    )


# Transitions -----------------------------------------------------------------------------


def _lock(case: Case, expected_version: int | None) -> Case:
    locked = Case.objects.select_for_update().select_related("category").get(pk=case.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ValidationError(
            _("Someone else changed this case; reload it and try again."), code="conflict"
        )
    return locked


@transaction.atomic
def case_transition(
    *,
    case: Case,
    actor: User | None,
    action: str,
    note: str = "",
    expected_version: int | None = None,
    **data,
) -> Case:
    """Apply one action from the table; returns the updated case (the argument is stale)."""
    case = _lock(case, expected_version)
    key = (case.state, action)
    if key not in TRANSITIONS:
        raise ValidationError(
            _("“%(action)s” is not possible while the case is “%(state)s”.")
            % {"action": ACTION_LABELS.get(action, action), "state": CaseState(case.state).label},
            code="illegal_transition",
        )
    if not may_act(user=actor, action=action, case=case):
        raise _deny(
            _("You may not do “%(action)s” on this case.")
            % {"action": ACTION_LABELS.get(action, action)}
        )
    note = (note or "").strip()
    if action in NOTE_REQUIRED and not note:
        raise ValidationError({"note": NOTE_REQUIRED[action]})
    now = timezone.now()
    before = case.state
    event_data = GUARDS[action](case, now, data) if action in GUARDS else {}
    case.state = TRANSITIONS[key]
    case.version += 1
    case.save()
    _event(case=case, actor=actor, action=action, from_state=before, note=note, data=event_data)
    return case


def _accept(case, now, data):
    case.accepted_at = now
    return {}


def _dispatch(case, now, data):
    owner = data.get("owner_user")
    if owner is not None:
        if not scope_for(owner).allows(Permission.CASE_HANDLE, case.grid_path):
            raise ValidationError({"owner_user": _("This person holds no post covering the case.")})
        case.owner_user = owner
    if data.get("handler_text"):
        case.handler_text = str(data["handler_text"])[:100]
    return {"owner_user": owner.pk if owner else None, "handler_text": case.handler_text}


def _reassign(case, now, data):
    if data.get("owner_user") is None and not data.get("handler_text"):
        raise ValidationError(
            {"owner_user": _("Choose the person or team who takes the case over.")}
        )
    return _dispatch(case, now, data)


def _resolve(case, now, data):
    case.resolved_at = now
    return {}


def _close(case, now, data):
    case.closed_at = now
    return {}


def _request_extension(case, now, data):
    if case.extension_count >= MAX_EXTENSIONS:
        raise ValidationError(
            _("A case may be extended at most %(count)d times.") % {"count": MAX_EXTENSIONS},
            code="extension_cap",
        )
    if case.extension_pending:
        raise ValidationError(_("An extension is already requested."), code="extension_pending")
    case.extension_pending = True
    return {}


def _approve_extension(case, now, data):
    if not case.extension_pending:
        raise ValidationError(_("No extension was requested."), code="no_extension_requested")
    case.extension_pending = False
    case.extension_count += 1
    case.due_at = case.due_at + timedelta(hours=case.category.sla_hours)
    return {"due_at": case.due_at.isoformat()}


def _reopen(case, now, data):
    finished = max(filter(None, [case.resolved_at, case.closed_at]), default=None)
    if finished is None or now - finished > REOPEN_WINDOW:
        raise ValidationError(
            _("A case can be reopened within 7 days of being resolved."), code="reopen_window"
        )
    case.reopen_count += 1
    case.resolved_at = None
    case.closed_at = None
    case.satisfaction = None
    case.satisfaction_comment = ""
    case.due_at = now + timedelta(hours=case.category.sla_hours)
    return {}


def _rate(case, now, data):
    satisfaction = data.get("satisfaction")
    if not isinstance(satisfaction, int) or not 1 <= satisfaction <= 5:
        raise ValidationError({"satisfaction": _("Rate from 1 to 5.")})
    case.satisfaction = satisfaction
    case.satisfaction_comment = str(data.get("comment", "")).strip()[:500]
    return {"satisfaction": satisfaction}


def _mark_duplicate(case, now, data):
    original = data.get("duplicate_of")
    if (
        not isinstance(original, Case)
        or original.pk == case.pk
        # The caller's copy may be stale: read the original's state now.
        or not Case.objects.filter(pk=original.pk, state__in=OPEN_STATES).exists()
    ):
        raise ValidationError({"duplicate_of": _("Choose another open case to merge into.")})
    case.duplicate_of = original
    return {"duplicate_of": original.reference}


GUARDS = {
    "accept": _accept,
    "dispatch": _dispatch,
    "reassign": _reassign,
    "resolve": _resolve,
    "close": _close,
    "request_extension": _request_extension,
    "approve_extension": _approve_extension,
    "reopen": _reopen,
    "rate": _rate,
    "mark_duplicate": _mark_duplicate,
}


# Escalation and 会商 ---------------------------------------------------------------------


def _escalate_locked(*, case: Case, actor: User | None, reason: str, now: datetime) -> Case:
    if case.state not in OPEN_STATES:
        raise ValidationError(_("Only an open case can be escalated."), code="illegal_transition")
    position = ESCALATION_ORDER.index(case.escalation_level)
    if position + 1 >= len(ESCALATION_ORDER):
        raise ValidationError(_("The case is already at the street."), code="top_level")
    level = ESCALATION_ORDER[position + 1]
    unit = GridUnit.objects.get(path__in=case.grid_unit.ancestor_paths(), level=level)
    before_unit = case.owner_unit
    case.owner_unit = unit
    case.escalation_level = level
    # Each level gets a fresh time limit; otherwise the sweep would push it straight on.
    case.due_at = now + timedelta(hours=case.category.sla_hours)
    case.version += 1
    case.save()
    _event(
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
    case = _lock(case, expected_version)
    if not may_act(user=actor, action="escalate", case=case):
        raise _deny(_("You may not escalate this case."))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the case goes up a level.")})
    return _escalate_locked(case=case, actor=actor, reason=reason.strip(), now=timezone.now())


def cases_escalate_overdue(*, now: datetime | None = None) -> int:
    """The scheduled sweep: every overdue case below the street goes up one level."""
    now = now or timezone.now()
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
    case = _lock(case, None)
    if not may_act(user=actor, action="coordinate", case=case):
        raise _deny(_("Only the community secretary records a coordination meeting."))
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
    _event(
        case=case,
        actor=actor,
        action="coordinate",
        from_state=case.state,
        note=decision.strip(),
        data={"coordination": meeting.pk, "due_at": due_at.isoformat()},
    )
    return meeting
