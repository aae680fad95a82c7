"""`/api/v1/cases`: the 民情 closed loop for apps.

Mounted by linli/api.py with `api.add_router("/cases", router)`. Conventions follow
grids.api (limit/offset paging, `{"items", "count"}`, errors `{"message", "field"}`, 404 for
anything outside the caller's scope). Reads go through cases.selectors, writes through
cases.services. Reporter names and phones are never part of a case's output: a resident only
ever sees their own cases, and staff read the reporter through the registry (audited).
"""

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from linli.accounts.models import User
from linli.accounts.roles import Permission
from linli.cases import selectors
from linli.cases.models import Case, CaseCategory, CaseEvent, CasePriority, CaseSource
from linli.cases.services import ACTIONS, case_create, case_escalate, case_transition
from linli.grids.models import Building
from linli.grids.selectors import scope_for
from linli.pagination import ERRORS, ErrorOut, PageIn, paginate

router = Router(tags=["cases"])


# Refusals that mean "the case moved on under you": the client reloads and retries.
CONFLICT_CODES = frozenset({"conflict", "illegal_transition"})


class NotVisible(Http404):
    """Not found, or outside the caller's scope (the two are indistinguishable)."""

    def __init__(self, field: str):
        super().__init__(field)
        self.field = field


def _visible_case(user, case_id: int) -> Case:
    try:
        return selectors.case_get(user=user, case_id=case_id)
    except Http404:
        raise NotVisible("case_id") from None


# Schemas ------------------------------------------------------------------------------


WRITE_ERRORS: dict[int, Any] = {400: ErrorOut, 409: ErrorOut, **ERRORS}


class CaseFilters(Schema):
    state: str | None = None
    category: str | None = Field(None, description="Category code or id")
    building_id: int | None = None
    source: str | None = None


class CategoryRef(Schema):
    code: str
    name: str


class CaseOut(Schema):
    id: int
    reference: str
    category: CategoryRef
    state: str
    priority: str
    source: str
    building: str = Field(description="Building name; never the room")
    grid_unit: str
    due_at: datetime
    is_overdue: bool
    escalation_level: str
    satisfaction: int | None
    version: int
    created_at: datetime


class CasePage(Schema):
    items: list[CaseOut]
    count: int


class EventOut(Schema):
    actor: str
    action: str
    from_state: str
    to_state: str
    note: str
    created_at: datetime


class CaseDetailOut(CaseOut):
    title: str
    description: str
    events: list[EventOut]


class CaseIn(Schema):
    category: str = Field(description="Category code or id (a minor class)")
    description: str
    building_id: int | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    source: str | None = Field(
        None, description="Defaults to staff for staff, else resident_report"
    )
    hotline_reference: str = ""
    priority: str = CasePriority.NORMAL


class ActionIn(Schema):
    action: str
    note: str = ""
    expected_version: int
    owner_user_id: int | None = None
    duplicate_of_id: int | None = None
    satisfaction: int | None = None
    comment: str = ""


class EscalateIn(Schema):
    reason: str
    expected_version: int


class CategoryOut(Schema):
    id: int
    code: str
    name: str
    sla_hours: int | None
    children: list["CategoryOut"] = []


class DuplicateFilters(Schema):
    category: str
    building_id: int | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None


class DuplicateOut(Schema):
    reference: str
    state: str
    building: str
    distance_metres: float | None = Field(description="Null when either place has no point")


# Serialisation ------------------------------------------------------------------------
# Explicit functions, so that no reporter field can leak through an ORM-attribute schema.


def _category_name(category: CaseCategory) -> str:
    return category.name


def _case(case: Case, now: datetime) -> dict:
    return {
        "id": case.pk,
        "reference": case.reference,
        "category": {"code": case.category.code, "name": _category_name(case.category)},
        "state": case.state,
        "priority": case.priority,
        "source": case.source,
        "building": case.building.name if case.building_id else "",
        "grid_unit": case.owner_unit.name,
        "due_at": timezone.localtime(case.due_at),
        "is_overdue": case.is_overdue(now),
        "escalation_level": case.escalation_level,
        "satisfaction": case.satisfaction,
        "version": case.version,
        "created_at": timezone.localtime(case.created_at),
    }


def _event(event: CaseEvent) -> dict:
    return {
        "actor": str(event.actor) if event.actor_id else "",
        "action": event.action,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "note": event.note,
        "created_at": timezone.localtime(event.created_at),
    }


def _detail(case: Case) -> dict:
    # The timeline in order; the actor is joined so each row needs no further query.
    events = case.events.select_related("actor").order_by("created_at", "id")
    return {
        **_case(case, timezone.now()),
        "title": case.title,
        "description": case.description,
        "events": [_event(event) for event in events],
    }


def _category(value: str | None, field: str = "category") -> CaseCategory:
    value = (value or "").strip()
    found = CaseCategory.objects.filter(code=value).first()
    if found is None and value.isdigit():
        found = CaseCategory.objects.filter(pk=int(value)).first()
    if found is None:
        raise DjangoValidationError({field: _("Unknown category: %(value)s") % {"value": value}})
    return found


def _building(building_id: int | None, field: str = "building_id") -> Building | None:
    if building_id is None:
        return None
    building = Building.objects.select_related("grid_unit").filter(pk=building_id).first()
    if building is None:
        raise DjangoValidationError({field: _("Unknown building.")})
    return building


def _is_staff(user) -> bool:
    return scope_for(user).allows_anywhere(Permission.VIEW_REGISTRY)


def _refused(exc: DjangoValidationError):
    """409 for a stale version or an action the current state does not allow."""
    errors = exc.error_dict.values() if hasattr(exc, "error_dict") else [exc.error_list]
    codes = {getattr(error, "code", None) for group in errors for error in group}
    if codes & CONFLICT_CODES:
        return Status(409, {"message": exc.messages[0], "field": None})
    raise exc


# Routes -------------------------------------------------------------------------------


@router.get("/categories", response={200: list[CategoryOut], **ERRORS})
def category_tree(request: HttpRequest) -> list[dict]:
    active = list(CaseCategory.objects.filter(is_active=True).order_by("sort_order", "code"))
    children: dict[int, list[dict]] = {}
    for category in active:
        if category.parent_id is not None:
            children.setdefault(category.parent_id, []).append(
                {
                    "id": category.pk,
                    "code": category.code,
                    "name": _category_name(category),
                    "sla_hours": category.sla_hours,
                    "children": [],
                }
            )
    return [
        {
            "id": major.pk,
            "code": major.code,
            "name": _category_name(major),
            "sla_hours": major.sla_hours,
            "children": children.get(major.pk, []),
        }
        for major in active
        if major.parent_id is None
    ]


@router.get("/duplicates", response={200: list[DuplicateOut], 400: ErrorOut, **ERRORS})
def duplicate_list(request: HttpRequest, filters: Query[DuplicateFilters]) -> list[dict]:
    category = _category(filters.category)
    building = _building(filters.building_id)
    latitude, longitude = filters.latitude, filters.longitude
    if latitude is None and building is not None and building.latitude is not None:
        latitude, longitude = building.latitude, building.longitude
    found = selectors.duplicate_candidates(
        category=category, building=building, latitude=latitude, longitude=longitude
    )
    return [
        {
            "reference": case.reference,
            "state": case.state,
            "building": case.building.name if case.building_id else "",
            "distance_metres": (
                round(
                    selectors.distance_metres(latitude, longitude, case.latitude, case.longitude),
                    1,
                )
                if latitude is not None and longitude is not None and case.latitude is not None
                else None
            ),
        }
        for case in found
    ]


@router.get("", response={200: CasePage, 400: ErrorOut, **ERRORS}, summary="Workbench or own")
def case_list(
    request: HttpRequest, filters: Query[CaseFilters], page: Query[PageIn]
) -> dict[str, Any]:
    user = request.auth
    category = _category(filters.category) if filters.category else None
    building = _building(filters.building_id)
    if _is_staff(user):
        cases = selectors.workbench(
            user=user,
            state=filters.state or None,
            category=category,
            building=building,
            source=filters.source or None,
        )
    else:
        # Residents, volunteers and partners: the cases they filed themselves.
        cases = selectors.cases_visible(user=user).order_by("-created_at", "-id")
        if filters.state:
            cases = cases.filter(state=filters.state)
        if category is not None:
            cases = cases.filter(category=category)
        if building is not None:
            cases = cases.filter(building=building)
        if filters.source:
            cases = cases.filter(source=filters.source)
    items, count = paginate(cases, page)
    now = timezone.now()
    return {"items": [_case(case, now) for case in items], "count": count}


@router.post("", response={201: CaseDetailOut, 400: ErrorOut, **ERRORS})
def case_file(request: HttpRequest, payload: CaseIn):
    user = request.auth
    category = _category(payload.category)
    building = _building(payload.building_id)
    source = payload.source or (CaseSource.STAFF if _is_staff(user) else CaseSource.RESIDENT_REPORT)
    case = case_create(
        reporter=user,
        category=category,
        description=payload.description,
        source=source,
        building=building,
        latitude=payload.latitude,
        longitude=payload.longitude,
        hotline_reference=payload.hotline_reference,
        priority=payload.priority,
    )
    return Status(201, _detail(_visible_case(user, case.pk)))


@router.get("/{case_id}", response={200: CaseDetailOut, **ERRORS})
def case_detail(request: HttpRequest, case_id: int) -> dict[str, Any]:
    return _detail(_visible_case(request.auth, case_id))


@router.post("/{case_id}/actions", response={200: CaseDetailOut, **WRITE_ERRORS})
def case_act(request: HttpRequest, case_id: int, payload: ActionIn):
    user = request.auth
    case = _visible_case(user, case_id)
    if payload.action not in ACTIONS:
        raise DjangoValidationError(
            {"action": _("Unknown action: %(action)s") % {"action": payload.action}}
        )
    data: dict[str, Any] = {}
    if payload.owner_user_id is not None:
        owner = User.objects.filter(pk=payload.owner_user_id, is_active=True).first()
        if owner is None:
            raise DjangoValidationError({"owner_user_id": _("Unknown user.")})
        data["owner_user"] = owner
    if payload.duplicate_of_id is not None:
        # An original outside the caller's scope is treated as absent.
        data["duplicate_of"] = (
            selectors.cases_visible(user=user).filter(pk=payload.duplicate_of_id).first()
        )
    elif payload.action == "mark_duplicate":
        data["duplicate_of"] = None
    if payload.action == "rate":
        data["satisfaction"] = payload.satisfaction
        data["comment"] = payload.comment
    try:
        case_transition(
            case=case,
            actor=user,
            action=payload.action,
            note=payload.note,
            expected_version=payload.expected_version,
            **data,
        )
    except DjangoValidationError as exc:
        return _refused(exc)
    return _detail(_visible_case(user, case_id))


@router.post("/{case_id}/escalate", response={200: CaseDetailOut, **WRITE_ERRORS})
def case_escalate_up(request: HttpRequest, case_id: int, payload: EscalateIn):
    user = request.auth
    case = _visible_case(user, case_id)
    try:
        case_escalate(
            case=case, actor=user, reason=payload.reason, expected_version=payload.expected_version
        )
    except DjangoValidationError as exc:
        return _refused(exc)
    return _detail(_visible_case(user, case_id))
