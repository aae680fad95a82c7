"""Every write to a case: creation, the one transition function, escalation and 会商.

The transition table below is the whole state machine; `case_transition` is the only code
that changes a case's state, and every change appends a CaseEvent in the same transaction.
"""

import re
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from linli import clock
from linli.accounts.models import AuditAction, User
from linli.accounts.roles import Permission, Role
from linli.accounts.services import audit_record
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


def _event(*, case: Case, actor, action: str, from_state: str, note: str = "", data=None, at=None):
    return CaseEvent.objects.create(
        case=case,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        from_state=from_state,
        to_state=case.state,
        note=note,
        data=data or {},
        created_at=at or clock.now(),
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


def _reserve_case_id() -> int | None:
    """PostgreSQL: the next id from the table's sequence, so that the reference goes into
    the INSERT itself. SQLite has no sequence to draw from (the reference is set after)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('cases_case', 'id'))")
        return cursor.fetchone()[0]


def _case_reference(now: datetime, case_id: int) -> str:
    # The primary key makes the reference unique without a per-day counter row to lock.
    return f"A{timezone.localdate(now):%Y%m%d}{case_id:06d}"


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
    if priority != CasePriority.NORMAL and (
        channel_community is not None
        or not scope_for(reporter).allows(Permission.CASE_FILE, grid_unit.path)
    ):
        # Urgency is staff's judgement, from a post covering the place: a resident (or a
        # reporter holding a post elsewhere) cannot jump the queue.
        raise ValidationError(
            {"priority": _("Only staff whose post covers this place may set a priority.")}
        )

    now = clock.now()
    due = now + timedelta(hours=category.sla_hours)
    case_id = _reserve_case_id()
    case = Case.objects.create(
        id=case_id,
        # Without a reserved id, a placeholder until the primary key is known (never shown).
        reference=_case_reference(now, case_id) if case_id else uuid.uuid4().hex,
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
    if case_id is None:
        case.reference = _case_reference(now, case.pk)
        case.save(update_fields=["reference"])
    # The filing step carries the case's own timestamp.
    _event(case=case, actor=reporter, action="create", from_state="", at=now)
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
    now = clock.now()
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
        # Written in the transition's transaction and delivered only after it commits, so a
        # step that fails after this point has notified nobody.
        notification_send(
            recipients=[owner],
            kind="case_assigned",
            title=gettext_noop("Case %(reference)s has been assigned to you"),
            title_params={"reference": case.reference},
            body=f"{case.category.name}: {case.title}",
            link=reverse("cases:detail", args=[case.pk]),
        )
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


# Categories ------------------------------------------------------------------------------
# The category tree is one table for the whole platform: every community files under the
# same classes and time limits. Changing it therefore belongs to the street, not to one
# community: only a user holding CASE_CATEGORIES on a street-level unit edits it (a
# secretary holds the same permission on a community and sees the editor read-only).
# Classes are never deleted, because cases keep pointing at them; a deactivated class is
# no longer offered for filing. A case's due time is fixed when it is filed, so a new time
# limit applies to cases filed afterwards; later extensions, escalations and reopenings of
# any open case use the limit in force at that moment.

MAJOR_CODE = re.compile(r"[A-Z]{2,4}")
MINOR_CODE = re.compile(r"[A-Z]{2,4}-\d{2}")
MAX_SLA_HOURS = 2160  # 90 days: anything longer is a project, not a case.
CATEGORY_TEXT_LIMITS = {"name_zh": 50, "name_en": 80, "usual_handler": 100}
CATEGORY_EDITABLE = frozenset(
    {
        "name_zh",
        "name_en",
        "sla_hours",
        "acceptance_condition",
        "closing_condition",
        "usual_handler",
        "is_public",
        "sort_order",
        "is_active",
    }
)


def category_editor_path(user: User | None) -> str | None:
    """The street path on which the user may edit the tree ("" for a superuser), or None."""
    scope = scope_for(user)
    if scope.unrestricted:
        return ""
    paths = scope.paths_for(Permission.CASE_CATEGORIES)
    if not paths:
        return None
    return (
        GridUnit.objects.filter(level=GridLevel.STREET, path__in=paths)
        .order_by("path")
        .values_list("path", flat=True)
        .first()
    )


def may_edit_categories(user: User | None) -> bool:
    return category_editor_path(user) is not None


def may_view_category_editor(user: User | None) -> bool:
    # Everyone logged in reads the tree through the API for filing; the editor page with its
    # open-case counts is for those who hold the permission anywhere.
    return scope_for(user).allows_anywhere(Permission.CASE_CATEGORIES)


def _category_label(category: CaseCategory) -> str:
    return f"{category.code} {category.name_zh}"


def _check_category_texts(values: dict, errors: dict) -> None:
    for field in ("name_zh", "name_en"):
        if field in values and not values[field]:
            errors[field] = _("A name is required.")
    for field, limit in CATEGORY_TEXT_LIMITS.items():
        if len(values.get(field) or "") > limit:
            errors[field] = _("At most %(limit)d characters.") % {"limit": limit}


def _check_sla(*, is_major: bool, sla_hours, errors: dict) -> None:
    if is_major:
        if sla_hours is not None:
            errors["sla_hours"] = _("A major class carries no time limit; its minor classes do.")
        return
    if isinstance(sla_hours, bool) or not isinstance(sla_hours, int):
        errors["sla_hours"] = _("Give the time limit in whole hours.")
    elif not 1 <= sla_hours <= MAX_SLA_HOURS:
        errors["sla_hours"] = _("The time limit is between 1 and %(max)d hours.") % {
            "max": MAX_SLA_HOURS
        }


def _editor_path_or_deny(actor: User | None) -> str:
    path = category_editor_path(actor)
    if path is None:
        raise _deny(_("Only a street administrator may change case categories."))
    return path


def _text(value) -> str:
    return str(value or "").strip()


@transaction.atomic
def category_create(
    *,
    actor: User | None,
    parent: CaseCategory | None,
    code: str,
    name_zh: str,
    name_en: str,
    sla_hours: int | None = None,
    acceptance_condition: str = "",
    closing_condition: str = "",
    usual_handler: str = "",
    is_public: bool = True,
) -> CaseCategory:
    """A new major class (no parent, no time limit) or minor class (under an active major,
    coded after it: SAF-04 under SAF), placed after its siblings."""
    editor_path = _editor_path_or_deny(actor)
    values = {
        "code": _text(code).upper(),
        "name_zh": _text(name_zh),
        "name_en": _text(name_en),
        "acceptance_condition": _text(acceptance_condition),
        "closing_condition": _text(closing_condition),
        "usual_handler": _text(usual_handler),
    }
    errors: dict[str, str] = {}
    is_major = parent is None
    if parent is not None and (not isinstance(parent, CaseCategory) or not parent.is_major):
        errors["parent"] = _("A minor class belongs to a major class.")
    elif parent is not None and not parent.is_active:
        errors["parent"] = _("This major class is inactive; reactivate it first.")
    code = values["code"]
    if is_major and not MAJOR_CODE.fullmatch(code):
        errors["code"] = _("A major class code is 2 to 4 capital letters, e.g. SAF.")
    elif not is_major and not MINOR_CODE.fullmatch(code):
        errors["code"] = _("A minor class code is its major's code, a hyphen and two digits.")
    elif not is_major and "parent" not in errors and not code.startswith(f"{parent.code}-"):
        errors["code"] = _("A minor class code starts with its major's code: %(prefix)s-01.") % {
            "prefix": parent.code
        }
    if "code" not in errors and CaseCategory.objects.filter(code=code).exists():
        errors["code"] = _("The code %(code)s is taken.") % {"code": code}
    _check_category_texts(values, errors)
    _check_sla(is_major=is_major, sla_hours=sla_hours, errors=errors)
    if errors:
        raise ValidationError(errors)
    siblings = CaseCategory.objects.filter(parent=parent)
    last = siblings.order_by("-sort_order").values_list("sort_order", flat=True).first()
    category = CaseCategory.objects.create(
        parent=parent,
        sla_hours=sla_hours,
        is_public=bool(is_public),
        sort_order=0 if last is None else last + 1,
        **values,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="case_category",
        object_id=category.pk,
        object_label=_category_label(category),
        changes={
            "parent": parent.code if parent else None,
            **values,
            "sla_hours": sla_hours,
            "is_public": category.is_public,
        },
        grid_path=editor_path,
    )
    return category


def _deactivate_locked(*, actor: User | None, category: CaseCategory, editor_path: str) -> list:
    """Deactivate the class and, for a major, its active minors; one audit row each."""
    targets = [category]
    if category.is_major:
        targets += list(
            CaseCategory.objects.select_for_update().filter(parent=category, is_active=True)
        )
    for target in targets:
        target.is_active = False
        target.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="case_category",
            object_id=target.pk,
            object_label=_category_label(target),
            field="is_active",
            changes={"is_active": [True, False]},
            grid_path=editor_path,
        )
    return targets


@transaction.atomic
def category_update(*, actor: User | None, category: CaseCategory, **changes) -> CaseCategory:
    """Change names, conditions, handler, public flag, order or time limit; `is_active`
    True reactivates (a minor only under an active major), False deactivates as
    `category_deactivate` does. Code and parent are fixed: Open311 clients and reports
    know a class by its code. Returns the fresh row; one audit row lists what changed."""
    editor_path = _editor_path_or_deny(actor)
    errors: dict[str, str] = {}
    for field in sorted(set(changes) - CATEGORY_EDITABLE):
        errors[field] = _("This field cannot be changed.")
    if errors:
        raise ValidationError(errors)
    category = CaseCategory.objects.select_for_update().get(pk=category.pk)
    values = dict(changes)
    for field in ("name_zh", "name_en", "acceptance_condition", "closing_condition"):
        if field in values:
            values[field] = _text(values[field])
    if "usual_handler" in values:
        values["usual_handler"] = _text(values["usual_handler"])
    _check_category_texts(values, errors)
    if "sla_hours" in values:
        _check_sla(is_major=category.is_major, sla_hours=values["sla_hours"], errors=errors)
    if "sort_order" in values and (
        isinstance(values["sort_order"], bool)
        or not isinstance(values["sort_order"], int)
        or values["sort_order"] < 0
    ):
        errors["sort_order"] = _("The order is a whole number from 0.")
    for field in ("is_public", "is_active"):
        if field in values and not isinstance(values[field], bool):
            errors[field] = _("Yes or no.")
    if values.get("is_active") is True and not category.is_active and not category.is_major:
        if not CaseCategory.objects.filter(pk=category.parent_id, is_active=True).exists():
            errors["is_active"] = _("Reactivate its major class first.")
    if errors:
        raise ValidationError(errors)
    if values.pop("is_active", category.is_active) is False and category.is_active:
        _deactivate_locked(actor=actor, category=category, editor_path=editor_path)
    elif not category.is_active and changes.get("is_active") is True:
        values["is_active"] = True
    diff = {
        field: [getattr(category, field), value]
        for field, value in values.items()
        if getattr(category, field) != value
    }
    if diff:
        for field, (_old, new) in diff.items():
            setattr(category, field, new)
        category.save(update_fields=sorted(diff))
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="case_category",
            object_id=category.pk,
            object_label=_category_label(category),
            changes=diff,
            grid_path=editor_path,
        )
    category.refresh_from_db()
    return category


@transaction.atomic
def category_deactivate(*, actor: User | None, category: CaseCategory) -> CaseCategory:
    """Hide a class from filing; cases filed under it keep it. A major takes its minors."""
    editor_path = _editor_path_or_deny(actor)
    category = CaseCategory.objects.select_for_update().get(pk=category.pk)
    if not category.is_active:
        raise ValidationError({"is_active": _("This class is already inactive.")})
    _deactivate_locked(actor=actor, category=category, editor_path=editor_path)
    return category


# Photos ------------------------------------------------------------------------------------
# Rules: a step of the timeline (filing, resolving with a photo of the result, or an
# "add photos" step of its own) carries at most 3 photos; each is a real JPEG, PNG or WebP
# image (HEIC only when a Pillow plugin can read it), at most 10 MB. Every file is checked
# and re-encoded in memory before anything is written, so one bad file writes nothing.
# Re-encoding applies the EXIF orientation and then drops all metadata: residents' phone
# photos carry the GPS position of their home.

import io  # noqa: E402
from dataclasses import dataclass  # noqa: E402

from django.core.files.base import ContentFile  # noqa: E402
from django.core.files.storage import default_storage  # noqa: E402
from PIL import Image, ImageOps, UnidentifiedImageError  # noqa: E402

from linli.cases.models import PHOTO_MAX_BYTES, CasePhoto  # noqa: E402
from linli.storage import (  # noqa: E402
    STORAGE_UNAVAILABLE,
    STORAGE_UNAVAILABLE_MESSAGE,
    StorageUnavailable,
)
from linli.uploads import pixels_refusal, upload_quota_take  # noqa: E402

PHOTOS_PER_STEP = 3
# Longest side kept: plenty to show a problem or a repair, and bounded storage per case.
PHOTO_MAX_SIDE = 2560
# Pillow's format name -> (stored format, content type). HEIF appears only when a plugin
# (pillow-heif) is installed; it is stored as JPEG, which every browser shows.
PHOTO_FORMATS = {
    "JPEG": ("JPEG", "image/jpeg"),
    "MPO": ("JPEG", "image/jpeg"),  # phones' multi-picture JPEGs: the first frame is kept
    "PNG": ("PNG", "image/png"),
    "WEBP": ("WEBP", "image/webp"),
    "HEIF": ("JPEG", "image/jpeg"),
}
ACTION_LABELS["add_photos"] = gettext_lazy("Photos added")


@dataclass(frozen=True)
class PreparedPhoto:
    """A checked photo, re-encoded in memory and ready to be stored."""

    data: bytes
    content_type: str
    width: int
    height: int


def _photo_label(position: int, upload) -> str:
    name = getattr(upload, "name", "") or ""
    return _("Photo %(position)d (%(name)s)") % {"position": position, "name": name[-60:]}


def _reencode(upload) -> PreparedPhoto | None:
    """The photo without metadata, or None when it is not an image we accept."""
    try:
        upload.seek(0)
        with Image.open(upload) as probe:
            if probe.format not in PHOTO_FORMATS:
                return None
            probe.verify()
        # verify() leaves the image unusable: open it again to decode it fully.
        upload.seek(0)
        with Image.open(upload) as image:
            stored_format, content_type = PHOTO_FORMATS[image.format]
            image.load()
            image = ImageOps.exif_transpose(image)
            image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
            output = io.BytesIO()
            if stored_format == "JPEG":
                image.convert("RGB").save(output, "JPEG", quality=85, optimize=True)
            elif stored_format == "PNG":
                image.save(output, "PNG", optimize=True)
            else:
                image.save(output, "WEBP", quality=85)
            # No exif=, pnginfo= or icc_profile= above: the stored file carries no metadata.
            return PreparedPhoto(output.getvalue(), content_type, image.width, image.height)
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        OSError,
        SyntaxError,
        ValueError,
        TypeError,
    ):
        return None


def photos_prepare(*, files, actor: User | None) -> list[PreparedPhoto]:
    """Check and re-encode uploaded photos; a ValidationError on `photos` names every bad
    file by position and name. Writes nothing. The files count against the actor's hourly
    upload quota, and an image whose header says it is too large is refused before it is
    decoded (linli.uploads)."""
    files = [upload for upload in (files or []) if upload]
    errors: list[str] = []
    if len(files) > PHOTOS_PER_STEP:
        errors.append(
            _("At most %(count)d photos at a time; %(given)d were sent.")
            % {"count": PHOTOS_PER_STEP, "given": len(files)}
        )
        raise ValidationError({"photos": errors})
    # Files already checked (PreparedPhoto) were counted when they were.
    upload_quota_take(
        user=actor, count=sum(not isinstance(upload, PreparedPhoto) for upload in files)
    )
    prepared: list[PreparedPhoto] = []
    for position, upload in enumerate(files, start=1):
        if isinstance(upload, PreparedPhoto):
            prepared.append(upload)
            continue
        if (upload.size or 0) > PHOTO_MAX_BYTES:
            errors.append(
                _("%(photo)s is larger than 10 MB.") % {"photo": _photo_label(position, upload)}
            )
            continue
        refusal = pixels_refusal(upload, label=_photo_label(position, upload))
        if refusal is not None:
            errors.append(refusal)
            continue
        photo = _reencode(upload)
        if photo is None:
            errors.append(
                _("%(photo)s is not a photo we can read (JPEG, PNG or WebP).")
                % {"photo": _photo_label(position, upload)}
            )
        elif len(photo.data) > PHOTO_MAX_BYTES:
            errors.append(
                _("%(photo)s is larger than 10 MB.") % {"photo": _photo_label(position, upload)}
            )
        else:
            prepared.append(photo)
    if errors:
        raise ValidationError({"photos": errors})
    return prepared


def may_add_photos(*, user: User | None, case: Case) -> bool:
    """The reporter, and staff who may handle the case."""
    if user is None or not user.is_authenticated:
        return False
    return case.reporter_id == user.pk or scope_for(user).allows(
        Permission.CASE_HANDLE, case.grid_path
    )


@transaction.atomic
def case_photos_add(
    *, case: Case, actor: User | None, files, event: CaseEvent | None = None
) -> list[CasePhoto]:
    """Attach up to 3 photos to a step of the case's timeline.

    `event` is the step the photos document (the filing, a resolution, ...): call this right
    after that step, in the same transaction. Without one, the photos are a step of their
    own ("Photos added"), allowed while the case is open. `files` are uploaded files (or
    PreparedPhoto from photos_prepare). Nothing is written unless every file is good; files
    already stored are removed again if a row cannot be written."""
    if not may_add_photos(user=actor, case=case):
        raise _deny(_("You may not add photos to this case."))
    if event is not None and event.case_id != case.pk:
        raise ValidationError({"event": _("This step belongs to another case.")})
    if event is None and not case.is_open:
        raise ValidationError({"photos": _("Photos can be added while the case is open.")})
    prepared = photos_prepare(files=files, actor=actor)
    if not prepared:
        raise ValidationError({"photos": _("Choose at least one photo.")})
    if event is not None:
        already = CasePhoto.objects.filter(event=event).count()
        if already + len(prepared) > PHOTOS_PER_STEP:
            raise ValidationError(
                {
                    "photos": _(
                        "A step carries at most %(count)d photos; this one has %(already)d."
                    )
                    % {"count": PHOTOS_PER_STEP, "already": already}
                }
            )
    else:
        event = _event(case=case, actor=actor, action="add_photos", from_state=case.state)
    uploader = actor if actor is not None and actor.is_authenticated else None
    return photos_store(
        prepared=prepared,
        make_row=lambda photo: CasePhoto(case=case, event=event, uploaded_by=uploader),
    )


def photos_store(*, prepared: list[PreparedPhoto], make_row) -> list:
    """Write checked photos, each as the unsaved row `make_row(photo)` returns (an image
    model with content_type, size, width and height, whose upload_to names the file). Call
    inside the caller's transaction: the rows roll back with it, and files already stored
    are removed again if a row cannot be written. A disk that refuses the write (full,
    read-only) is a ValidationError on `photos` with code STORAGE_UNAVAILABLE: the caller's
    transaction rolls back, the form shows it, and the API answers 503."""
    stored: list[str] = []
    rows = []
    try:
        for photo in prepared:
            row = make_row(photo)
            row.content_type = photo.content_type
            row.size = len(photo.data)
            row.width, row.height = photo.width, photo.height
            # upload_to names the file; the name given here is ignored. The storage writes
            # it whole or not at all (linli.storage).
            row.image.save("photo", ContentFile(photo.data), save=False)
            stored.append(row.image.name)
            row.save()
            rows.append(row)
    except BaseException as error:
        for name in stored:
            default_storage.delete(name)
        if isinstance(error, StorageUnavailable):
            raise ValidationError(
                {"photos": ValidationError(STORAGE_UNAVAILABLE_MESSAGE, code=STORAGE_UNAVAILABLE)}
            ) from error
        raise
    return rows
