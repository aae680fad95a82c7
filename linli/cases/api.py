"""`/api/v1/cases`: the 民情 closed loop for apps.

Mounted by linli/api.py with `api.add_router("/cases", router)`. Conventions follow
grids.api (limit/offset paging, `{"items", "count"}`, errors `{"message", "field"}`, 404 for
anything outside the caller's scope). Reads go through cases.selectors, writes through
cases.services. Reporter names and phones are never part of a case's output: a resident only
ever sees their own cases, and staff read the reporter through the registry (audited).
"""

from datetime import datetime
from typing import Annotated, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from linli import clock
from linli.accounts.models import User
from linli.accounts.roles import Permission
from linli.api_shared import (
    ERRORS,
    WRITE_ERRORS,
    BoundedDate,
    BoundedDateTime,
    ErrorOut,
    HoursSpan,
    Id,
    Int32,
    Latitude,
    Longitude,
    LongText,
    PageIn,
    column_int,
    column_text,
    paginate,
)
from linli.cases import selectors
from linli.cases.models import Case, CaseCategory, CaseEvent, CasePriority, CaseSource, Coordination
from linli.cases.services import (
    ACTIONS,
    case_create,
    case_escalate,
    case_from_visit,
    case_photos_add,
    case_transition,
    coordination_record,
)
from linli.cases.services.photos import PhotoFiles
from linli.errors import NotAllowed, NotVisible, get_visible_or_404
from linli.grids.models import Building, Visit
from linli.grids.selectors import scope_for, visit_get
from linli.idempotency.decorators import idempotent

router = Router(tags=["cases"])


def _visible_case(user, case_id: Id) -> Case:
    return get_visible_or_404(selectors.cases_visible(user=user), case_id, field="case_id")


# Schemas ------------------------------------------------------------------------------


class CaseFilters(Schema):
    state: column_text(Case, "state") | None = None
    category: column_text(CaseCategory, "code") | None = Field(
        None, description="Category code or id"
    )
    building_id: Id | None = None
    source: column_text(Case, "source") | None = None


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


class CaseRef(Schema):
    id: int
    reference: str
    state: str


class CoordinationOut(Schema):
    id: int
    held_at: datetime
    participants: str
    partner_units: str
    decision: str
    units_assigned: str
    due_at: datetime


class PhotoOut(Schema):
    id: int
    url: str = Field(description="The scoped web address; needs the same login as the case")
    content_type: str
    width: int
    height: int
    step: str = Field(description="The timeline step the photo belongs to (create, resolve, …)")


class CaseDetailOut(CaseOut):
    title: str
    description: str
    events: list[EventOut]
    hotline_reference: str = ""
    handler: str = Field("", description="The team or partner unit handling the case")
    owner_user: str | None = Field(None, description="The person in charge (staff only)")
    extension_count: int = 0
    extension_pending: bool = False
    reopen_count: int = 0
    duplicate_of: CaseRef | None = Field(None, description="The original, when merged")
    duplicates: list[CaseRef] = Field([], description="Cases merged into this one")
    coordinations: list[CoordinationOut] = Field([], description="会商 records (staff only)")
    photos: list[PhotoOut] = []


class CaseIn(Schema):
    category: column_text(CaseCategory, "code") = Field(
        description="Category code or id (a minor class)"
    )
    description: str = Field(max_length=2000)
    building_id: Id | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    source: column_text(Case, "source") | None = Field(
        None, description="Defaults to staff for staff, else resident_report"
    )
    hotline_reference: str = Field("", max_length=50)
    priority: column_text(Case, "priority") = CasePriority.NORMAL
    visit_id: Id | None = Field(
        None,
        description="A visit whose finding this case comes from (寻访 → 立案): the case is "
        "filed at the visited household's building, source visit",
    )


class ActionIn(Schema):
    action: column_text(CaseEvent, "action")
    note: LongText = ""
    expected_version: Int32
    owner_user_id: Id | None = None
    handler_text: str = Field(
        "", max_length=100, description="dispatch/reassign: the team or partner unit"
    )
    duplicate_of_id: Id | None = None
    satisfaction: column_int(Case, "satisfaction") | None = None
    comment: str = Field("", max_length=500)


class EscalateIn(Schema):
    reason: column_text(CaseEvent, "note")
    expected_version: Int32


class CoordinationIn(Schema):
    held_at: BoundedDateTime
    participants: column_text(Coordination, "participants")
    partner_units: column_text(Coordination, "partner_units") = ""
    decision: column_text(Coordination, "decision")
    units_assigned: column_text(Coordination, "units_assigned") = ""
    due_at: BoundedDateTime


class AssigneeOut(Schema):
    user_id: int
    name: str
    post: str
    unit: str


class CategoryOut(Schema):
    id: int
    code: str
    name: str
    sla_hours: int | None
    children: list["CategoryOut"] = []


class DuplicateFilters(Schema):
    category: column_text(CaseCategory, "code")
    building_id: Id | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None


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


def _ref(case: Case) -> dict:
    return {"id": case.pk, "reference": case.reference, "state": case.state}


def _detail(case: Case, user=None, *, events=None, photos=None) -> dict:
    """`user` given and staff: also the person in charge and the 会商 records, which may
    name other residents (a dispute) and so stay off the reporter's view. `events` and
    `photos` are read from the database unless the caller already knows them."""
    # The timeline in order; the actor is joined so each row needs no further query.
    if events is None:
        events = selectors.case_timeline(user=user, case=case)
    # Staff rights on this case come from a post covering it, not from any post: a reporter
    # who is secretary of another community reads their case as a resident.
    staff = user is not None and selectors.covers_case(user=user, case=case)
    visible = selectors.cases_visible(user=user) if user is not None else Case.objects.none()
    original = visible.filter(pk=case.duplicate_of_id).first() if case.duplicate_of_id else None

    def shown(text: str, typed_by_id: int | None = None) -> str:
        # Without a user, the answer goes to the reporter who just filed: their own words.
        if user is None:
            return text
        return selectors.case_text(user=user, case=case, text=text, typed_by_id=typed_by_id)

    return {
        **_case(case, clock.now()),
        "title": shown(case.title, case.reporter_id),
        "description": shown(case.description, case.reporter_id),
        "events": [_event(event) for event in events],
        "photos": _photos(case) if photos is None else photos,
        "hotline_reference": case.hotline_reference,
        "handler": shown(case.handler_text),
        "owner_user": str(case.owner_user) if staff and case.owner_user_id else None,
        "extension_count": case.extension_count,
        "extension_pending": case.extension_pending,
        "reopen_count": case.reopen_count,
        "duplicate_of": _ref(original) if original is not None else None,
        "duplicates": [
            _ref(other) for other in visible.filter(duplicate_of=case).order_by("created_at", "id")
        ],
        "coordinations": [
            {
                "id": meeting.pk,
                "held_at": timezone.localtime(meeting.held_at),
                "participants": meeting.participants,
                "partner_units": meeting.partner_units,
                "decision": meeting.decision,
                "units_assigned": meeting.units_assigned,
                "due_at": timezone.localtime(meeting.due_at),
            }
            for meeting in (selectors.coordinations_visible(user=user, case=case) if staff else [])
        ],
    }


def _visit_to_file(user, visit_id: Id) -> Visit:
    """A visit the caller recorded or may record in (a resident's own visits are not theirs
    to file from): anything else is named as unknown."""
    try:
        visit = visit_get(user=user, visit_id=visit_id)
    except Http404:
        visit = None
    if visit is None or not scope_for(user).allows(Permission.RECORD_VISIT, visit.grid_path):
        raise DjangoValidationError({"visit_id": _("Unknown visit.")})
    return visit


def _filed_detail(case: Case) -> dict:
    """The detail of a case just filed by its reporter (what `_detail` would read back)."""
    filing = CaseEvent(
        case=case,
        actor=case.reporter,
        action="create",
        from_state="",
        to_state=case.state,
        created_at=case.created_at,
    )
    return _detail(case, events=[filing], photos=[])


def _category(value: str | None, field: str = "category") -> CaseCategory:
    value = (value or "").strip()
    # Looked up without .first(): no ORDER BY to build on the busiest route (filing).
    found = next(iter(CaseCategory.objects.filter(code=value)), None) if value else None
    if found is None and value.isdigit():
        found = next(iter(CaseCategory.objects.filter(pk=int(value))), None)
    if found is None:
        raise DjangoValidationError({field: _("Unknown category: %(value)s") % {"value": value}})
    return found


def _building(building_id: Id | None, field: str = "building_id") -> Building | None:
    if building_id is None:
        return None
    try:
        return Building.objects.select_related("grid_unit").get(pk=building_id)
    except Building.DoesNotExist:
        raise DjangoValidationError({field: _("Unknown building.")}) from None


def _is_staff(user) -> bool:
    return scope_for(user).allows_anywhere(Permission.VIEW_REGISTRY)


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


# Category editor ----------------------------------------------------------------------
# The tree is shared by every community; street administrators change it
# (cases.services.category_*, which also say why). Anyone else gets 403 and nothing changes.

from linli.cases.services import (  # noqa: E402
    category_create,
    category_deactivate,
    category_update,
    may_edit_categories,
)


class CategoryIn(Schema):
    parent: column_text(CaseCategory, "code") | None = Field(
        None, description="Major class code or id; none for a major"
    )
    code: column_text(CaseCategory, "code")
    name_zh: column_text(CaseCategory, "name_zh")
    name_en: column_text(CaseCategory, "name_en")
    sla_hours: HoursSpan | None = Field(None, description="Minor classes only: 1 to 2160")
    acceptance_condition: column_text(CaseCategory, "acceptance_condition") = ""
    closing_condition: column_text(CaseCategory, "closing_condition") = ""
    usual_handler: column_text(CaseCategory, "usual_handler") = ""
    is_public: bool = True


class CategoryPatch(Schema):
    # Code and parent are listed so that an attempt to change them is refused by name.
    code: column_text(CaseCategory, "code") | None = None
    parent: column_text(CaseCategory, "code") | None = None
    name_zh: column_text(CaseCategory, "name_zh") | None = None
    name_en: column_text(CaseCategory, "name_en") | None = None
    sla_hours: HoursSpan | None = None
    acceptance_condition: column_text(CaseCategory, "acceptance_condition") | None = None
    closing_condition: column_text(CaseCategory, "closing_condition") | None = None
    usual_handler: column_text(CaseCategory, "usual_handler") | None = None
    is_public: bool | None = None
    is_active: bool | None = None
    sort_order: column_int(CaseCategory, "sort_order") | None = None


class CategoryDetailOut(Schema):
    id: int
    parent: str | None = Field(description="The major class's code")
    code: str
    name_zh: str
    name_en: str
    sla_hours: int | None
    acceptance_condition: str
    closing_condition: str
    usual_handler: str
    is_public: bool
    is_active: bool
    sort_order: int


def _category_detail(category: CaseCategory) -> dict:
    return {
        "id": category.pk,
        "parent": category.parent.code if category.parent_id else None,
        **{
            field: getattr(category, field)
            for field in (
                "code",
                "name_zh",
                "name_en",
                "sla_hours",
                "acceptance_condition",
                "closing_condition",
                "usual_handler",
                "is_public",
                "is_active",
                "sort_order",
            )
        },
    }


def _category_by_id(category_id: Id) -> CaseCategory:
    return get_visible_or_404(
        CaseCategory.objects.select_related("parent"), category_id, field="category_id"
    )


def _category_editor(user) -> None:
    # Checked before the parent is looked up, so a refusal reads the same for any input.
    if not may_edit_categories(user):
        raise NotAllowed(_("Only a street administrator may change case categories."))


@router.post("/categories", response={201: CategoryDetailOut, 400: ErrorOut, **ERRORS})
def category_add(request: HttpRequest, payload: CategoryIn):
    _category_editor(request.auth)
    parent = _category(payload.parent, "parent") if payload.parent else None
    category = category_create(actor=request.auth, **{**payload.model_dump(), "parent": parent})
    return Status(201, _category_detail(category))


@router.patch(
    "/categories/{int:category_id}", response={200: CategoryDetailOut, 400: ErrorOut, **ERRORS}
)
def category_change(request: HttpRequest, category_id: Id, payload: CategoryPatch):
    category = _category_by_id(category_id)
    _category_editor(request.auth)
    changes = payload.model_dump(exclude_unset=True)
    return _category_detail(category_update(actor=request.auth, category=category, **changes))


@router.post(
    "/categories/{int:category_id}/deactivate",
    response={200: CategoryDetailOut, 400: ErrorOut, **ERRORS},
)
def category_retire(request: HttpRequest, category_id: Id):
    category = _category_by_id(category_id)
    return _category_detail(category_deactivate(actor=request.auth, category=category))


@router.get("/duplicates", response={200: list[DuplicateOut], 400: ErrorOut, **ERRORS})
def duplicate_list(request: HttpRequest, filters: Query[DuplicateFilters]) -> list[dict]:
    category = _category(filters.category)
    building = _building(filters.building_id)
    latitude, longitude = filters.latitude, filters.longitude
    if latitude is None and building is not None and building.latitude is not None:
        latitude, longitude = building.latitude, building.longitude
    found = selectors.duplicate_candidates(
        user=request.auth,
        category=category,
        building=building,
        latitude=latitude,
        longitude=longitude,
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
    now = clock.now()
    return {"items": [_case(case, now) for case in items], "count": count}


def _file(user: User, payload: CaseIn, photos: PhotoFiles = ()) -> Case:
    """File what `POST /cases` (or `/with-photos`, with its photos) asks for."""
    category = _category(payload.category)
    building = _building(payload.building_id)
    staff = _is_staff(user)
    if payload.visit_id is not None:
        visit = _visit_to_file(user, payload.visit_id)
        return case_from_visit(
            actor=user,
            visit=visit,
            category=category,
            description=payload.description,
            photos=photos,
        )
    # Residents always file as resident_report; only staff say how a problem reached them.
    source = (payload.source or CaseSource.STAFF) if staff else CaseSource.RESIDENT_REPORT
    return case_create(
        reporter=user,
        category=category,
        description=payload.description,
        source=source,
        building=building,
        latitude=payload.latitude,
        longitude=payload.longitude,
        hotline_reference=payload.hotline_reference if source == CaseSource.HOTLINE_12345 else "",
        priority=payload.priority,
        photos=photos,
    )


@router.post("", response={201: CaseDetailOut, 400: ErrorOut, **ERRORS})
@idempotent
def case_file(request: HttpRequest, payload: CaseIn):
    case = _file(request.auth, payload)
    # The reporter may always see what they filed, and a new case's timeline is its one
    # filing step with no photos: the answer is built from what case_create returned, with
    # no further query (bench/cases_intake.py measured a third of the request there).
    return Status(201, _filed_detail(case))


@router.get("/{int:case_id}", response={200: CaseDetailOut, **ERRORS})
def case_detail(request: HttpRequest, case_id: Id) -> dict[str, Any]:
    return _detail(_visible_case(request.auth, case_id), request.auth)


@router.post("/{int:case_id}/actions", response={200: CaseDetailOut, **WRITE_ERRORS})
def case_act(request: HttpRequest, case_id: Id, payload: ActionIn):
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
    if payload.action in ("dispatch", "reassign") and payload.handler_text.strip():
        data["handler_text"] = payload.handler_text.strip()
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
    case_transition(
        case=case,
        actor=user,
        action=payload.action,
        note=payload.note,
        expected_version=payload.expected_version,
        **data,
    )
    return _detail(_visible_case(user, case_id), user)


@router.post("/{int:case_id}/escalate", response={200: CaseDetailOut, **WRITE_ERRORS})
def case_escalate_up(request: HttpRequest, case_id: Id, payload: EscalateIn):
    user = request.auth
    case = _visible_case(user, case_id)
    case_escalate(
        case=case, actor=user, reason=payload.reason, expected_version=payload.expected_version
    )
    return _detail(_visible_case(user, case_id), user)


@router.post("/{int:case_id}/coordinations", response={201: CaseDetailOut, **WRITE_ERRORS})
def coordination_add(request: HttpRequest, case_id: Id, payload: CoordinationIn):
    """会商: the community secretary records a meeting on a case escalated to the community."""
    user = request.auth
    case = _visible_case(user, case_id)
    data = payload.model_dump()
    for field in ("held_at", "due_at"):
        # A time without an offset is Shanghai time, as on the web form.
        if timezone.is_naive(data[field]):
            data[field] = timezone.make_aware(data[field])
    coordination_record(case=case, actor=user, **data)
    return Status(201, _detail(_visible_case(user, case_id), user))


@router.get("/{int:case_id}/assignees", response={200: list[AssigneeOut], **ERRORS})
def assignee_list(request: HttpRequest, case_id: Id) -> list[dict]:
    """Who may be given the case on dispatch or reassignment (`owner_user_id`), closest
    post first. Names, posts and units only."""
    user = request.auth
    case = _visible_case(user, case_id)
    if not scope_for(user).allows(Permission.CASE_HANDLE, case.grid_path):
        raise NotAllowed(_("You may not dispatch this case."))
    return [
        {
            "user_id": post.user_id,
            "name": str(post.user),
            "post": post.get_post_display() or post.get_role_display(),
            "unit": post.grid_unit.name,
        }
        for post in selectors.case_assignees(case=case)
    ]


# Photos -------------------------------------------------------------------------------
# Multipart uploads (field `photos`, up to 3 files, each a JPEG, PNG or WebP of at most
# 10 MB). Apps either file with photos in one request (`/with-photos`) or file as JSON and
# add photos afterwards; the rules are cases.services.case_photos_add's.


def _photos(case: Case) -> list[dict]:
    return [
        {
            "id": photo.pk,
            "url": reverse("cases:photo", args=[case.pk, photo.pk]),
            "content_type": photo.content_type,
            "width": photo.width,
            "height": photo.height,
            "step": photo.event.action if photo.event_id else "",
        }
        for photo in case.photos.select_related("event")
    ]


@router.post(
    "/{int:case_id}/photos",
    response={201: CaseDetailOut, 400: ErrorOut, 429: ErrorOut, 503: ErrorOut, **ERRORS},
)
def case_photos_upload(request: HttpRequest, case_id: Id, photos: File[list[UploadedFile]]):
    """Add photos to an open case as a timeline step of their own (reporter or staff)."""
    user = request.auth
    case = _visible_case(user, case_id)
    case_photos_add(case=case, actor=user, files=photos)
    return Status(201, _detail(_visible_case(user, case_id), user))


@router.post(
    "/with-photos",
    response={201: CaseDetailOut, 400: ErrorOut, 429: ErrorOut, 503: ErrorOut, **ERRORS},
)
@idempotent
def case_file_with_photos(
    request: HttpRequest,
    payload: Form[CaseIn],
    photos: File[list[UploadedFile]] = None,
):
    """File a case (the fields of `POST /cases`, as form fields) with up to 3 photos in one
    request; a bad photo files nothing."""
    user = request.auth
    case = _file(user, payload, photos or [])
    return Status(201, _detail(_visible_case(user, case.pk), user))


# Metrics ------------------------------------------------------------------------------
# Definitions in linli/cases/metrics.py; every count there names the condition that the web
# list `cases/metrics/<metric>/` applies, so each number can be traced to its cases.

from linli.cases import metrics  # noqa: E402


class MetricsIn(Schema):
    unit_id: Id | None = Field(None, description="Default: the highest unit of your posts")
    period: Annotated[str, Field(max_length=10)] | None = Field(
        None, description="week, month (default), quarter or year"
    )
    date: BoundedDate | None = Field(None, description="Any day in the period (today)")
    start: BoundedDate | None = Field(None, description="Instead of period: the first day")
    end: BoundedDate | None = Field(None, description="With start: the day after the last")


class MetricsUnitOut(Schema):
    id: int
    code: str
    name: str
    level: str


class MetricsPeriodOut(Schema):
    kind: str
    start: datetime
    end: datetime
    label: str


class OpenByAgeOut(Schema):
    open_lt_1d: int
    open_1_3d: int
    open_3_7d: int
    open_7_30d: int
    open_gt_30d: int


class MetricsValuesOut(Schema):
    filed: int
    closed: int
    due: int
    closed_on_time: int
    accepted: int
    escalated: int
    resolved: int
    reopened: int
    rated: int
    closure_rate: float | None = Field(description="closed / filed, 0–1")
    on_time_rate: float | None = Field(description="closed_on_time / due, 0–1")
    median_hours_to_accept: float | None
    median_hours_to_close: float | None
    escalation_rate: float | None = Field(description="escalated / filed, 0–1")
    reopen_rate: float | None = Field(description="reopened / resolved, 0–1")
    average_satisfaction: float | None = Field(description="mean of the rated cases, 1–5")
    open_by_age: OpenByAgeOut = Field(description="open now, by time since filing")


class MetricsChildOut(Schema):
    unit: MetricsUnitOut
    direct: bool = Field(description="true: cases filed at the unit itself, not a child")
    metrics: MetricsValuesOut


class CaseTrendPointOut(Schema):
    period: MetricsPeriodOut
    filed: int
    closed: int
    due: int
    closed_on_time: int
    closure_rate: float | None
    on_time_rate: float | None


class MetricsOut(Schema):
    unit: MetricsUnitOut
    period: MetricsPeriodOut
    as_of: datetime
    metrics: MetricsValuesOut
    children: list[MetricsChildOut]
    trend: list[CaseTrendPointOut]


def _metrics_unit(unit) -> dict:
    return {"id": unit.pk, "code": unit.code, "name": unit.name, "level": unit.level}


def _metrics_period(period) -> dict:
    return {"kind": period.kind, "start": period.start, "end": period.end, "label": period.label}


@router.get("/metrics", response={200: MetricsOut, 400: ErrorOut, **ERRORS})
def case_metrics(request: HttpRequest, filters: Query[MetricsIn]) -> dict[str, Any]:
    """结案率, 按期结案率 and the other loop metrics of a grid unit and period."""
    user = request.auth
    try:
        unit = metrics.metrics_unit(user=user, unit_id=filters.unit_id)
    except Http404:
        raise NotVisible("unit_id") from None
    period = metrics.period_from_params(
        period=filters.period, day=filters.date, start=filters.start, end=filters.end
    )
    now = clock.now()
    breakdown = metrics.case_metrics_breakdown(user=user, unit=unit, period=period, now=now)
    trend = metrics.case_metrics_trend(user=user, unit=unit, period=period, now=now)
    return {
        "unit": _metrics_unit(unit),
        "period": _metrics_period(period),
        "as_of": now,
        "metrics": breakdown.total.as_dict(),
        "children": [
            {"unit": _metrics_unit(child), "direct": direct, "metrics": result.as_dict()}
            for child, direct, result in breakdown.rows
        ],
        "trend": [
            {
                "period": _metrics_period(point["period"]),
                **{name: point[name] for name in ("filed", "closed", "due", "closed_on_time")},
                "closure_rate": point["closure_rate"],
                "on_time_rate": point["on_time_rate"],
            }
            for point in trend
        ],
    }
