"""`/api/v1/emergency`: activations, their tasks and help requests (求助) for apps.

Mounted by linli/api.py with `api.add_router("/emergency", router)`; plans have their own
router (linli/emergency/api_plans.py). Conventions follow cases.api and volunteers.api
(limit/offset paging, `{"items", "count"}`, errors `{"message", "field"}`, 404 naming the
field for anything outside the caller's scope, 403 for a refused action, 409 when the row
moved on under the caller). Reads go through emergency.selectors, writes through
emergency.services. Phones leave masked; the full number only through the audited reveal.
"""

from dataclasses import asdict
from datetime import datetime
from typing import Any, Literal

from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from linli.accounts.privacy import mask_phone
from linli.accounts.reveals import (
    PURPOSE_DESCRIPTION,
    REASON_DESCRIPTION,
    REASON_MAX_LENGTH,
    REASON_MIN_LENGTH,
    RevealPurpose,
    RevealQuotaExceeded,
)
from linli.accounts.services import client_address
from linli.api_shared import (
    ERRORS,
    WRITE_ERRORS,
    ErrorOut,
    HoursSpan,
    Id,
    Int32,
    NotVisible,
    PageIn,
    column_int,
    column_text,
    paginate,
    visible_or_404,
)
from linli.emergency import selectors, services
from linli.emergency.board import Board, board_data
from linli.emergency.explain import assignment_sentence
from linli.emergency.models import (
    OPEN_HELP_STATES,
    Activation,
    Grade,
    HelpRequest,
    Outcome,
    Task,
    TaskReport,
    TaskState,
    Unavailability,
    Urgency,
)
from linli.errors import get_visible_or_404
from linli.grids.models import GridUnit, Resident
from linli.grids.selectors import building_get, household_get
from linli.idempotency.decorators import idempotent
from linli.partners.selectors import partner_get
from linli.supplies.models import StockMovement
from linli.volunteers.models import Volunteer, decode_codes, encode_codes

router = Router(tags=["emergency"])


# Schemas ------------------------------------------------------------------------------


class ActivationOut(Schema):
    id: int
    plan_id: int
    plan: str
    hazard: str
    grade: int
    grade_name: str = Field(description="I (most severe) to IV")
    scope_id: int
    scope: str
    is_drill: bool
    state: str
    note: str
    activated_at: datetime
    stood_down_at: datetime | None
    stand_down_reason: str


class ActivationDetailOut(ActivationOut):
    movement_rule: str
    volunteer_capacity: int
    acknowledge_minutes: int
    retry_minutes: int
    max_attempts: int
    lessons: str
    tasks: int
    tasks_by_state: dict[str, int]
    help_requests_open: int
    volunteers_unavailable: int


class ActivationPage(Schema):
    items: list[ActivationOut]
    count: int


class ActivationFilters(Schema):
    state: column_text(Activation, "state") | None = None


class PreviewIn(Schema):
    plan_id: Id
    scope_id: Id
    grade: column_int(Activation, "grade")


class PreviewOut(Schema):
    tasks: int
    tasks_by_kind: dict[str, int]
    targeted_households: int
    volunteers_available: int
    assigned: int
    unassigned_by_reason: dict[str, int]
    problems: list[str]


class ActivateIn(PreviewIn):
    is_drill: bool = False
    note: column_text(Activation, "note") = ""
    acknowledge_problems: bool = False


class GradeIn(Schema):
    grade: column_int(Activation, "grade")


class TaskAddIn(Schema):
    kind: column_text(Task, "kind")
    title: column_text(Task, "title")
    building_id: Id | None = None
    household_id: Id | None = Field(None, description="Instead of building_id")
    due_hours: HoursSpan = 2
    instructions: column_text(Task, "instructions") = ""
    required_team: column_text(Task, "required_team") = ""
    required_skills: list[column_text(Task, "required_skills")] = []


class UnavailableIn(Schema):
    volunteer_id: Id
    reason: column_text(Unavailability, "reason")


class DrawIn(Schema):
    item_id: Id
    quantity: column_int(StockMovement, "quantity")
    reason: column_text(StockMovement, "reason")


class DrawOut(Schema):
    id: int
    item_id: int
    item: str
    quantity: int
    unit: str
    balance_after: int
    reason: str


class StandDownIn(Schema):
    reason: column_text(Activation, "stand_down_reason")
    lessons: column_text(Activation, "lessons") = ""


class CurvePointOut(Schema):
    at: datetime
    minutes: int
    contacted: int
    percent: float


class VolunteerRowOut(Schema):
    id: int
    name: str
    reason: str | None = None


class SupplyBelowOut(Schema):
    id: int
    name: str
    category: str
    unit: str
    quantity: int
    minimum_level: int


class SupplyMinimumOut(Schema):
    category: str
    label: str
    minimum: int
    quantity: int
    short: bool


class TaskOut(Schema):
    id: int
    activation_id: int
    kind: str
    title: str
    state: str
    priority: int
    due_at: datetime
    overdue: bool
    household_id: int | None
    building_id: int | None
    address: str
    assignee_id: int | None
    assignee: str | None
    unassigned_reason: str
    attempts: int
    outcome: str
    assigned_at: datetime | None
    acknowledged_at: datetime | None
    retry_at: datetime | None
    contacted_at: datetime | None
    completed_at: datetime | None
    version: int


class PersonOut(Schema):
    id: int
    name: str
    phone: str = Field(description="Masked; POST .../reveal for the full number")


class ReportOut(Schema):
    outcome: str
    note: str
    volunteer_id: int | None
    created_at: datetime


class TaskDetailOut(TaskOut):
    instructions: str
    required_team: str
    required_skills: list[str]
    explanation: dict[str, Any]
    explanation_text: str
    residents: list[PersonOut]
    reports: list[ReportOut]


class TaskPage(Schema):
    items: list[TaskOut]
    count: int


class TaskFilters(Schema):
    activation_id: Id | None = None
    state: column_text(Task, "state") | None = None
    mine: bool = False


class DeclineIn(Schema):
    reason: column_text(Unavailability, "reason") = ""


class TaskReportIn(Schema):
    outcome: column_text(TaskReport, "outcome")
    note: column_text(TaskReport, "note") = ""
    help_kind: column_text(HelpRequest, "kind") = ""
    help_urgency: column_int(HelpRequest, "urgency") | None = None
    help_description: column_text(HelpRequest, "description") = ""


class TaskReportOut(TaskOut):
    help_request_id: int | None


class ReassignIn(Schema):
    expected_version: Int32
    volunteer_id: Id | None = Field(None, description="Null: the solver chooses")


class TaskPhoneRevealIn(Schema):
    resident_id: Id
    purpose: Literal[tuple(RevealPurpose.values)] = Field(  # type: ignore[valid-type]
        description=PURPOSE_DESCRIPTION
    )
    reason: str = Field(
        min_length=REASON_MIN_LENGTH, max_length=REASON_MAX_LENGTH, description=REASON_DESCRIPTION
    )


class TaskPhoneRevealOut(Schema):
    resident_id: int
    phone: str


class HelpRequestOut(Schema):
    id: int
    activation_id: int
    household_id: int
    address: str
    kind: str
    urgency: int
    description: str
    state: str
    on_behalf: bool
    source_task_id: int | None
    volunteer_id: int | None
    volunteer: str | None
    partner_id: int | None
    partner: str | None
    created_at: datetime
    dispatched_at: datetime | None
    resolution: str
    done_at: datetime | None
    version: int
    instructions: str | None = Field(description="What to do at once (life-threatening only)")


class BoardHelpOut(HelpRequestOut):
    age_minutes: int


class BoardOut(Schema):
    activation_id: int
    state: str
    whole_scope: bool = Field(description="False: the caller's own subtrees of the scope")
    paths: list[str]
    updated_at: datetime
    targeted_households: int
    contacted_households: int
    coverage_percent: float
    curve: list[CurvePointOut]
    tasks_total: int
    tasks_open: int
    tasks_done: int
    tasks_by_state: dict[str, int]
    overdue_count: int
    overdue: list[TaskOut] = Field(description="At most 50, the most overdue first")
    unassigned_count: int
    unassigned_by_reason: dict[str, int]
    unassigned: list[TaskOut] = Field(description="At most 50")
    help_open: int
    help_by_urgency: dict[str, int] = Field(description="1 = life-threatening")
    help_requests: list[BoardHelpOut] = Field(description="Open, most urgent first; at most 50")
    volunteers_active: list[VolunteerRowOut]
    volunteers_idle: list[VolunteerRowOut]
    volunteers_unavailable: list[VolunteerRowOut]
    supplies_below: list[SupplyBelowOut]
    supply_minimums: list[SupplyMinimumOut]


class HelpRequestPage(Schema):
    items: list[HelpRequestOut]
    count: int


class HelpFilters(Schema):
    activation_id: Id | None = None
    state: column_text(HelpRequest, "state") | None = None


class HelpRequestIn(Schema):
    household_id: Id
    kind: column_text(HelpRequest, "kind")
    urgency: column_int(HelpRequest, "urgency")
    description: column_text(HelpRequest, "description")
    on_behalf: bool = False


class DispatchIn(Schema):
    expected_version: Int32
    volunteer_id: Id | None = None
    partner_id: Id | None = None


class CloseIn(Schema):
    resolution: column_text(HelpRequest, "resolution")
    cancelled: bool = False


# Shapes -------------------------------------------------------------------------------


def _activation(activation: Activation) -> dict[str, Any]:
    return {
        "id": activation.pk,
        "plan_id": activation.plan_id,
        "plan": activation.plan.name,
        "hazard": activation.hazard,
        "grade": activation.grade,
        "grade_name": Grade(activation.grade).name,
        "scope_id": activation.scope_id,
        "scope": activation.scope.name,
        "is_drill": activation.is_drill,
        "state": activation.state,
        "note": activation.note,
        "activated_at": activation.activated_at,
        "stood_down_at": activation.stood_down_at,
        "stand_down_reason": activation.stand_down_reason,
    }


def _activation_detail(activation: Activation, user) -> dict[str, Any]:
    # Counts of what the caller may see of it (everything, for the staff who command it).
    by_state = dict(
        selectors.tasks_visible(user=user)
        .filter(activation=activation)
        .order_by()
        .values_list("state")
        .annotate(count=Count("id"))
        .values_list("state", "count")
    )
    return {
        **_activation(activation),
        "movement_rule": activation.movement_rule,
        "volunteer_capacity": activation.volunteer_capacity,
        "acknowledge_minutes": activation.acknowledge_minutes,
        "retry_minutes": activation.retry_minutes,
        "max_attempts": activation.max_attempts,
        "lessons": activation.lessons,
        "tasks": sum(by_state.values()),
        "tasks_by_state": {state: by_state.get(state, 0) for state in TaskState.values},
        "help_requests_open": selectors.help_requests_visible(user=user)
        .filter(activation=activation, state__in=OPEN_HELP_STATES)
        .count(),
        "volunteers_unavailable": activation.unavailabilities.count(),
    }


def _address(task_or_request) -> str:
    household = task_or_request.household
    if household is not None:
        return f"{household.building.name} {household.room}"
    return task_or_request.building.name if task_or_request.building_id else ""


def _task(task: Task, user) -> dict[str, Any]:
    return {
        "id": task.pk,
        "activation_id": task.activation_id,
        "kind": task.kind,
        # Typed by staff, it may name people: a volunteer reads the numbers masked.
        "title": selectors.free_text(user=user, of=task, text=task.title),
        "state": task.state,
        "priority": task.priority,
        "due_at": task.due_at,
        "overdue": task.is_overdue,
        "household_id": task.household_id,
        "building_id": task.building_id,
        "address": _address(task),
        "assignee_id": task.assignee_id,
        "assignee": task.assignee.name if task.assignee_id else None,
        "unassigned_reason": task.unassigned_reason,
        "attempts": task.attempts,
        "outcome": task.outcome,
        "assigned_at": task.assigned_at,
        "acknowledged_at": task.acknowledged_at,
        "retry_at": task.retry_at,
        "contacted_at": task.contacted_at,
        "completed_at": task.completed_at,
        "version": task.version,
    }


def _task_detail(task: Task, user) -> dict[str, Any]:
    residents = (
        list(Resident.objects.filter(household_id=task.household_id).order_by("id"))
        if task.household_id
        else []
    )
    return {
        **_task(task, user),
        "instructions": selectors.free_text(user=user, of=task, text=task.instructions),
        "required_team": task.required_team,
        "required_skills": decode_codes(task.required_skills),
        "explanation": task.explanation or {},
        "explanation_text": assignment_sentence(task),
        "residents": [
            {"id": person.pk, "name": person.name, "phone": mask_phone(person.phone)}
            for person in residents
        ],
        "reports": [
            {
                "outcome": report.outcome,
                "note": selectors.free_text(user=user, of=task, text=report.note),
                "volunteer_id": report.volunteer_id,
                "created_at": report.created_at,
            }
            for report in task.reports.all()
        ],
    }


def emergency_instructions(urgency: int) -> str | None:
    if urgency != Urgency.LIFE_THREATENING:
        return None
    return _(
        "Life-threatening: call 120 (ambulance) or 110 (police) now, then stay with the "
        "person until help arrives."
    )


def _help_request(request: HelpRequest, user) -> dict[str, Any]:
    return {
        "id": request.pk,
        "activation_id": request.activation_id,
        "household_id": request.household_id,
        "address": _address(request),
        "kind": request.kind,
        "urgency": request.urgency,
        # Typed by a resident or staff: a volunteer or partner reads the numbers masked.
        "description": selectors.free_text(user=user, of=request, text=request.description),
        "state": request.state,
        "on_behalf": request.on_behalf,
        "source_task_id": request.source_task_id,
        "volunteer_id": request.volunteer_id,
        "volunteer": request.volunteer.name if request.volunteer_id else None,
        "partner_id": request.partner_id,
        "partner": request.partner.name if request.partner_id else None,
        "created_at": request.created_at,
        "dispatched_at": request.dispatched_at,
        "resolution": selectors.free_text(user=user, of=request, text=request.resolution),
        "done_at": request.done_at,
        "version": request.version,
        "instructions": emergency_instructions(request.urgency),
    }


# Lookups ------------------------------------------------------------------------------


def _visible_activation(user, activation_id: Id) -> Activation:
    return visible_or_404(
        selectors.activation_get, "activation_id", user=user, activation_id=activation_id
    )


def _activatable_unit(user, scope_id: Id) -> GridUnit:
    """A unit the caller may activate a plan for: the choices the activation page offers
    (selectors.activatable_units); any other id answers 404 naming scope_id."""
    return get_visible_or_404(selectors.activatable_units(user=user), scope_id, field="scope_id")


def _visible_task(user, task_id: Id) -> Task:
    return visible_or_404(selectors.task_get, "task_id", user=user, task_id=task_id)


def _actionable_task(user, task_id: Id) -> Task:
    """A task the caller may act on, or be refused on: those they see, and any task of a
    live emergency they take part in (a volunteer reporting a colleague's task is told
    403, not misled with 404). Anything else answers 404 naming task_id."""
    try:
        return selectors.task_get(user=user, task_id=task_id)
    except Http404:
        pass
    taking_part = [activation.pk for activation in selectors.active_activations_for(user=user)]
    task = (
        Task.objects.filter(pk=task_id, activation_id__in=taking_part)
        .select_related("activation", "household", "household__building", "building", "assignee")
        .first()
    )
    if task is None:
        raise NotVisible("task_id")
    return task


def _taking_part_activation(user, activation_id: Id) -> Activation:
    """An activation the caller sees as staff, or a live one they serve in as a volunteer
    (who may mark themselves unavailable without seeing the board)."""
    for activation in selectors.active_activations_for(user=user):
        if activation.pk == activation_id:
            return activation
    return _visible_activation(user, activation_id)


def _visible_help_request(user, help_request_id: Id) -> HelpRequest:
    return visible_or_404(
        selectors.help_request_get, "help_request_id", user=user, request_id=help_request_id
    )


def _volunteer_of(path: str, volunteer_id: Id) -> Volunteer:
    """A volunteer registered inside the emergency's scope: whoever commands the emergency
    may name them (the board lists them all), even where the volunteer registry itself is
    outside the commander's reading scope (a community's volunteers, a micro-grid lead)."""
    volunteer = (
        selectors.scope_volunteers(path=path, serving_only=False).filter(pk=volunteer_id).first()
    )
    if volunteer is None:
        raise NotVisible("volunteer_id")
    return volunteer


# Activations --------------------------------------------------------------------------


@router.get("/activations", response={200: ActivationPage, **ERRORS})
def activation_list(
    request: HttpRequest, filters: Query[ActivationFilters], page: Query[PageIn]
) -> dict[str, Any]:
    activations = selectors.activations_visible(user=request.auth).select_related("plan", "scope")
    if filters.state:
        activations = activations.filter(state=filters.state)
    items, count = paginate(activations, page)
    return {"items": [_activation(activation) for activation in items], "count": count}


@router.post(
    "/activations/preview",
    response={200: PreviewOut, **WRITE_ERRORS},
    summary="What activating would do now (writes nothing)",
)
def activation_preview(request: HttpRequest, payload: PreviewIn) -> dict[str, Any]:
    user = request.auth
    plan = visible_or_404(selectors.plan_get, "plan_id", user=user, plan_id=payload.plan_id)
    scope = _activatable_unit(user, payload.scope_id)
    preview = services.activation_preview(actor=user, plan=plan, scope=scope, grade=payload.grade)
    return asdict(preview)


@router.post("/activations", response={201: ActivationDetailOut, **WRITE_ERRORS}, summary="平 → 急")
def activation_create(request: HttpRequest, payload: ActivateIn):
    user = request.auth
    plan = visible_or_404(selectors.plan_get, "plan_id", user=user, plan_id=payload.plan_id)
    scope = _activatable_unit(user, payload.scope_id)
    activation = services.activation_start(
        actor=user,
        plan=plan,
        scope=scope,
        grade=payload.grade,
        is_drill=payload.is_drill,
        note=payload.note,
        acknowledge_problems=payload.acknowledge_problems,
    )
    return Status(201, _activation_detail(_visible_activation(user, activation.pk), user))


@router.get("/activations/{activation_id}", response={200: ActivationDetailOut, **ERRORS})
def activation_detail(request: HttpRequest, activation_id: Id) -> dict[str, Any]:
    user = request.auth
    return _activation_detail(_visible_activation(user, activation_id), user)


@router.post(
    "/activations/{activation_id}/grade", response={200: ActivationDetailOut, **WRITE_ERRORS}
)
def activation_grade(request: HttpRequest, activation_id: Id, payload: GradeIn):
    user = request.auth
    activation = _visible_activation(user, activation_id)
    services.activation_regrade(actor=user, activation=activation, grade=payload.grade)
    return _activation_detail(_visible_activation(user, activation_id), user)


@router.post("/activations/{activation_id}/tasks", response={201: TaskDetailOut, **WRITE_ERRORS})
def activation_task_add(request: HttpRequest, activation_id: Id, payload: TaskAddIn):
    user = request.auth
    activation = _visible_activation(user, activation_id)
    household = building = None
    if payload.household_id is not None:
        household = visible_or_404(
            household_get, "household_id", user=user, household_id=payload.household_id
        )
    elif payload.building_id is not None:
        building = visible_or_404(
            building_get, "building_id", user=user, building_id=payload.building_id
        )
    task = services.activation_add_task(
        actor=user,
        activation=activation,
        kind=payload.kind,
        title=payload.title,
        building=building,
        household=household,
        due_hours=payload.due_hours,
        instructions=payload.instructions,
        required_team=payload.required_team,
        required_skills=encode_codes(payload.required_skills),
    )
    return Status(201, _task_detail(_visible_task(user, task.pk), user))


@router.post(
    "/activations/{activation_id}/unavailable",
    response={200: ActivationDetailOut, **WRITE_ERRORS},
    summary="A volunteer cannot serve: their tasks go to others",
)
def activation_unavailable(request: HttpRequest, activation_id: Id, payload: UnavailableIn):
    user = request.auth
    activation = _taking_part_activation(user, activation_id)
    volunteer = _volunteer_of(activation.grid_path, payload.volunteer_id)
    services.volunteer_mark_unavailable(
        actor=user, activation=activation, volunteer=volunteer, reason=payload.reason
    )
    return _activation_detail(activation, user)


@router.post(
    "/activations/{activation_id}/supplies",
    response={201: DrawOut, **WRITE_ERRORS},
    summary="Draw supplies for the emergency (a stock movement, in the report)",
)
@idempotent
def activation_draw(request: HttpRequest, activation_id: Id, payload: DrawIn):
    user = request.auth
    activation = _visible_activation(user, activation_id)
    item = selectors.scope_supplies(path=activation.grid_path).filter(pk=payload.item_id).first()
    if item is None:
        raise NotVisible("item_id")
    draw = services.supplies_draw(
        actor=user,
        activation=activation,
        item=item,
        quantity=payload.quantity,
        reason=payload.reason,
    )
    movement = draw.movement
    return Status(
        201,
        {
            "id": draw.pk,
            "item_id": item.pk,
            "item": item.name,
            "quantity": movement.quantity,
            "unit": item.unit,
            "balance_after": movement.balance_after,
            "reason": movement.reason,
        },
    )


@router.post(
    "/activations/{activation_id}/stand-down",
    response={200: ActivationDetailOut, **WRITE_ERRORS},
    summary="急 → 平",
)
def activation_stand_down(request: HttpRequest, activation_id: Id, payload: StandDownIn):
    user = request.auth
    activation = _visible_activation(user, activation_id)
    services.activation_stand_down(
        actor=user, activation=activation, reason=payload.reason, lessons=payload.lessons
    )
    return _activation_detail(_visible_activation(user, activation_id), user)


def _board(board: Board, user) -> dict[str, Any]:
    return {
        "activation_id": board.activation.pk,
        "state": board.activation.state,
        "whole_scope": board.whole_scope,
        "paths": board.paths,
        "updated_at": board.now,
        "targeted_households": board.targeted,
        "contacted_households": board.contacted,
        "coverage_percent": board.coverage_share,
        "curve": [
            {
                "at": point.at,
                "minutes": point.minutes,
                "contacted": point.contacted,
                "percent": point.share,
            }
            for point in board.curve
        ],
        "tasks_total": board.tasks_total,
        "tasks_open": board.tasks_open,
        "tasks_done": board.tasks_done,
        "tasks_by_state": {state: count for state, _label, count in board.tasks_by_state},
        "overdue_count": board.overdue_count,
        "overdue": [_task(task, user) for task in board.overdue],
        "unassigned_count": board.unassigned_count,
        "unassigned_by_reason": dict(board.unassigned_by_reason),
        "unassigned": [_task(task, user) for task in board.unassigned],
        "help_open": board.help_open,
        "help_by_urgency": {str(level): count for level, _label, count in board.help_by_urgency},
        "help_requests": [
            {**_help_request(item, user), "age_minutes": item.age_minutes}
            for item in board.help_requests
        ],
        "volunteers_active": [
            {"id": volunteer_id, "name": name} for volunteer_id, name in board.volunteers_active
        ],
        "volunteers_idle": [
            {"id": volunteer_id, "name": name} for volunteer_id, name in board.volunteers_idle
        ],
        "volunteers_unavailable": [
            {"id": volunteer_id, "name": name, "reason": reason}
            for volunteer_id, name, reason in board.volunteers_unavailable
        ],
        "supplies_below": [
            {
                "id": item.pk,
                "name": item.name,
                "category": item.category,
                "unit": item.unit,
                "quantity": item.quantity,
                "minimum_level": item.minimum_level,
            }
            for item in board.supplies_below
        ],
        "supply_minimums": board.supply_minimums,
    }


@router.get(
    "/activations/{activation_id}/board",
    response={200: BoardOut, **ERRORS},
    summary="The live board's figures, for the caller's part of the scope",
)
def activation_board(request: HttpRequest, activation_id: Id) -> dict[str, Any]:
    user = request.auth
    activation = _visible_activation(user, activation_id)
    try:
        board = board_data(activation, user)
    except Http404:
        # A volunteer or resident who sees the banner follows no part of the board.
        raise NotVisible("activation_id") from None
    return _board(board, user)


# Tasks --------------------------------------------------------------------------------


@router.get("/tasks", response={200: TaskPage, **ERRORS}, summary="Tasks in scope (or own)")
def task_list(
    request: HttpRequest, filters: Query[TaskFilters], page: Query[PageIn]
) -> dict[str, Any]:
    user = request.auth
    tasks = selectors.tasks_visible(user=user).select_related(
        "household", "household__building", "building", "assignee"
    )
    if filters.activation_id is not None:
        tasks = tasks.filter(activation_id=filters.activation_id)
    if filters.state:
        tasks = tasks.filter(state=filters.state)
    if filters.mine:
        own = selectors.own_volunteer(user=user)
        tasks = tasks.filter(assignee=own) if own is not None else tasks.none()
    items, count = paginate(tasks, page)
    return {"items": [_task(task, user) for task in items], "count": count}


@router.get("/tasks/{task_id}", response={200: TaskDetailOut, **ERRORS})
def task_detail(request: HttpRequest, task_id: Id) -> dict[str, Any]:
    return _task_detail(_visible_task(request.auth, task_id), request.auth)


@router.post("/tasks/{task_id}/acknowledge", response={200: TaskOut, **WRITE_ERRORS})
def task_acknowledge(request: HttpRequest, task_id: Id):
    user = request.auth
    task = _actionable_task(user, task_id)
    task = services.task_acknowledge(actor=user, task=task)
    return _task(task, user)


@router.post(
    "/tasks/{task_id}/decline",
    response={200: TaskOut, **WRITE_ERRORS},
    summary="Give the task back: it goes to the next best volunteer",
)
def task_decline(request: HttpRequest, task_id: Id, payload: DeclineIn):
    user = request.auth
    task = _actionable_task(user, task_id)
    task = services.task_decline(actor=user, task=task, reason=payload.reason)
    return _task(task, user)


@router.post("/tasks/{task_id}/report", response={200: TaskReportOut, **WRITE_ERRORS})
@idempotent
def task_report(request: HttpRequest, task_id: Id, payload: TaskReportIn):
    user = request.auth
    task = _actionable_task(user, task_id)
    task = services.task_report(
        actor=user,
        task=task,
        outcome=payload.outcome,
        note=payload.note,
        help_kind=payload.help_kind,
        help_urgency=payload.help_urgency,
        help_description=payload.help_description,
    )
    filed = None
    if task.outcome == Outcome.NEEDS_HELP:
        filed = task.help_requests.order_by("-id").values_list("id", flat=True).first()
    return {**_task(task, user), "help_request_id": filed}


@router.post("/tasks/{task_id}/reassign", response={200: TaskOut, **WRITE_ERRORS})
def task_reassign(request: HttpRequest, task_id: Id, payload: ReassignIn):
    user = request.auth
    task = _visible_task(user, task_id)
    volunteer = (
        _volunteer_of(task.activation.grid_path, payload.volunteer_id)
        if payload.volunteer_id is not None
        else None
    )
    task = services.task_reassign(
        actor=user, task=task, expected_version=payload.expected_version, volunteer=volunteer
    )
    return _task(task, user)


@router.post(
    "/tasks/{task_id}/reveal",
    response={200: TaskPhoneRevealOut, 429: ErrorOut, **WRITE_ERRORS},
    summary="The full phone of a resident of the task's household (audited)",
    description=(
        "Needs a purpose (usually emergency_contact) and a reason; the task is recorded with "
        "it. Each person sees at most LINLI_REVEAL_DAILY_QUOTA full numbers a day (default "
        "30; the count restarts at midnight, Beijing time): over it the answer is 429 with a "
        "Retry-After header and nothing is shown."
    ),
)
def task_reveal(
    request: HttpRequest, response: HttpResponse, task_id: Id, payload: TaskPhoneRevealIn
):
    user = request.auth
    task = _actionable_task(user, task_id)
    resident = (
        Resident.objects.filter(pk=payload.resident_id, household_id=task.household_id).first()
        if task.household_id
        else None
    )
    if resident is None:
        raise NotVisible("resident_id")
    try:
        phone = services.task_phone_reveal(
            actor=user,
            task=task,
            resident=resident,
            purpose=payload.purpose,
            reason=payload.reason,
            ip_address=client_address(request),
        )
    except RevealQuotaExceeded as refusal:
        response["Retry-After"] = str(refusal.retry_after_seconds)
        return Status(429, {"message": refusal.message, "field": None})
    return {"resident_id": resident.pk, "phone": phone}


# Help requests (求助) -------------------------------------------------------------------


@router.get("/help-requests", response={200: HelpRequestPage, **ERRORS})
def help_request_list(
    request: HttpRequest, filters: Query[HelpFilters], page: Query[PageIn]
) -> dict[str, Any]:
    requests = selectors.help_requests_visible(user=request.auth).select_related(
        "household", "household__building", "volunteer", "partner"
    )
    if filters.activation_id is not None:
        requests = requests.filter(activation_id=filters.activation_id)
    if filters.state:
        requests = requests.filter(state=filters.state)
    items, count = paginate(requests, page)
    return {"items": [_help_request(item, request.auth) for item in items], "count": count}


@router.post(
    "/help-requests",
    response={201: HelpRequestOut, **WRITE_ERRORS},
    summary="Ask for help (a resident, or staff on their behalf)",
)
@idempotent
def help_request_create(request: HttpRequest, payload: HelpRequestIn):
    user = request.auth
    try:
        household = household_get(user=user, household_id=payload.household_id)
    except Http404:
        # A volunteer files for a household they are checking on.
        task = (
            selectors.tasks_visible(user=user)
            .filter(household_id=payload.household_id)
            .select_related("household", "household__building")
            .first()
        )
        if task is None:
            raise NotVisible("household_id") from None
        household = task.household
    filed = services.help_request_create(
        actor=user,
        household=household,
        kind=payload.kind,
        urgency=payload.urgency,
        description=payload.description,
        on_behalf=payload.on_behalf,
    )
    return Status(201, _help_request(_visible_help_request(user, filed.pk), user))


@router.get("/help-requests/{help_request_id}", response={200: HelpRequestOut, **ERRORS})
def help_request_detail(request: HttpRequest, help_request_id: Id) -> dict[str, Any]:
    return _help_request(_visible_help_request(request.auth, help_request_id), request.auth)


@router.post(
    "/help-requests/{help_request_id}/dispatch", response={200: HelpRequestOut, **WRITE_ERRORS}
)
def help_request_dispatch(request: HttpRequest, help_request_id: Id, payload: DispatchIn):
    user = request.auth
    found = _visible_help_request(user, help_request_id)
    volunteer = partner = None
    if payload.volunteer_id is not None:
        volunteer = _volunteer_of(found.activation.grid_path, payload.volunteer_id)
    if payload.partner_id is not None:
        partner = visible_or_404(
            partner_get, "partner_id", user=user, partner_id=payload.partner_id
        )
    services.help_request_dispatch(
        actor=user,
        request=found,
        expected_version=payload.expected_version,
        volunteer=volunteer,
        partner=partner,
    )
    return _help_request(_visible_help_request(user, help_request_id), user)


@router.post(
    "/help-requests/{help_request_id}/close", response={200: HelpRequestOut, **WRITE_ERRORS}
)
def help_request_close(request: HttpRequest, help_request_id: Id, payload: CloseIn):
    user = request.auth
    found = _visible_help_request(user, help_request_id)
    services.help_request_close(
        actor=user, request=found, resolution=payload.resolution, cancelled=payload.cancelled
    )
    return _help_request(_visible_help_request(user, help_request_id), user)
