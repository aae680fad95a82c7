"""`/api/v1/emergency/plans`: emergency plans (预案) with their task templates, minimum
supply levels and contact tree.

Mounted by linli/api.py with `api.add_router("/emergency", router)`; conventions as in
supplies.api and volunteers.api. Reads go through linli.emergency.selectors (a plan
outside the caller's scope is 404), writes through linli.emergency.services.plans: a refused
permission is 403, bad input 400 naming the field, and nothing is written on error.
"""

from datetime import datetime

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Router, Schema, Status

from linli.api_shared import (
    ERRORS,
    WRITE_ERRORS,
    Id,
    NotVisible,
    PageIn,
    column_int,
    column_text,
    paginate,
    visible_or_404,
)
from linli.emergency import selectors
from linli.emergency.models import Plan, PlanContact, PlanSupplyMinimum, TaskTemplate
from linli.emergency.services import plans as services
from linli.grids import selectors as grid_selectors
from linli.volunteers.models import decode_codes

router = Router(tags=["emergency plans"])


class PlanOut(Schema):
    id: int
    name: str
    hazard: str
    owner_id: int
    owner: str
    movement_rule: str
    volunteer_capacity: int
    acknowledge_minutes: int
    retry_minutes: int
    max_attempts: int
    is_active: bool
    editable: bool
    updated_at: datetime


class PlanPage(Schema):
    items: list[PlanOut]
    count: int


class TemplateOut(Schema):
    id: int
    kind: str
    title: str
    instructions: str
    target_tags: list[str]
    due_hours: int
    required_team: str
    required_skills: list[str]
    lowest_grade: int
    sort_order: int


class PlanSupplyMinimumOut(Schema):
    id: int
    category: str
    minimum_quantity: int


class ContactOut(Schema):
    id: int
    level: int
    post: str
    duty: str


class PlanDetailOut(PlanOut):
    description: str
    templates: list[TemplateOut]
    supply_minimums: list[PlanSupplyMinimumOut]
    contacts: list[ContactOut]
    # Static problems of the plan as written (linli.emergency.services.plans.plan_check).
    problems: list[str]


class PlanIn(Schema):
    owner_id: Id
    hazard: column_text(Plan, "hazard")
    name: column_text(Plan, "name")
    description: column_text(Plan, "description") = ""
    movement_rule: column_text(Plan, "movement_rule") = "community"
    volunteer_capacity: column_int(Plan, "volunteer_capacity") = 8
    acknowledge_minutes: column_int(Plan, "acknowledge_minutes") = 15
    retry_minutes: column_int(Plan, "retry_minutes") = 30
    max_attempts: column_int(Plan, "max_attempts") = 3


class PlanPatch(Schema):
    hazard: column_text(Plan, "hazard") | None = None
    name: column_text(Plan, "name") | None = None
    description: column_text(Plan, "description") | None = None
    movement_rule: column_text(Plan, "movement_rule") | None = None
    volunteer_capacity: column_int(Plan, "volunteer_capacity") | None = None
    acknowledge_minutes: column_int(Plan, "acknowledge_minutes") | None = None
    retry_minutes: column_int(Plan, "retry_minutes") | None = None
    max_attempts: column_int(Plan, "max_attempts") | None = None
    is_active: bool | None = None


class OwnerIn(Schema):
    owner_id: Id


class CopyIn(Schema):
    owner_id: Id
    name: column_text(Plan, "name") = ""


class TemplateIn(Schema):
    kind: column_text(TaskTemplate, "kind")
    title: column_text(TaskTemplate, "title")
    instructions: column_text(TaskTemplate, "instructions") = ""
    target_tags: list[column_text(TaskTemplate, "target_tags")] = []
    due_hours: column_int(TaskTemplate, "due_hours") = 4
    required_team: column_text(TaskTemplate, "required_team") = ""
    required_skills: list[column_text(TaskTemplate, "required_skills")] = []
    lowest_grade: column_int(TaskTemplate, "lowest_grade") = 4
    sort_order: column_int(TaskTemplate, "sort_order") | None = None


class TemplatePatch(Schema):
    kind: column_text(TaskTemplate, "kind") | None = None
    title: column_text(TaskTemplate, "title") | None = None
    instructions: column_text(TaskTemplate, "instructions") | None = None
    target_tags: list[column_text(TaskTemplate, "target_tags")] | None = None
    due_hours: column_int(TaskTemplate, "due_hours") | None = None
    required_team: column_text(TaskTemplate, "required_team") | None = None
    required_skills: list[column_text(TaskTemplate, "required_skills")] | None = None
    lowest_grade: column_int(TaskTemplate, "lowest_grade") | None = None
    sort_order: column_int(TaskTemplate, "sort_order") | None = None


class SupplyMinimumIn(Schema):
    minimum_quantity: column_int(PlanSupplyMinimum, "minimum_quantity")


class ContactIn(Schema):
    level: column_int(PlanContact, "level")
    duty: column_text(PlanContact, "duty") = ""


def _plan(plan: Plan, user) -> dict:
    return {
        "id": plan.pk,
        "name": plan.name,
        "hazard": plan.hazard,
        "owner_id": plan.grid_unit_id,
        "owner": plan.grid_unit.name,
        "movement_rule": plan.movement_rule,
        "volunteer_capacity": plan.volunteer_capacity,
        "acknowledge_minutes": plan.acknowledge_minutes,
        "retry_minutes": plan.retry_minutes,
        "max_attempts": plan.max_attempts,
        "is_active": plan.is_active,
        "editable": selectors.plan_editable(user=user, plan=plan),
        "updated_at": timezone.localtime(plan.updated_at),
    }


def _template(template: TaskTemplate) -> dict:
    return {
        "id": template.pk,
        "kind": template.kind,
        "title": template.title,
        "instructions": template.instructions,
        "target_tags": decode_codes(template.target_tags),
        "due_hours": template.due_hours,
        "required_team": template.required_team,
        "required_skills": decode_codes(template.required_skills),
        "lowest_grade": template.lowest_grade,
        "sort_order": template.sort_order,
    }


def _minimum(minimum: PlanSupplyMinimum) -> dict:
    return {
        "id": minimum.pk,
        "category": minimum.category,
        "minimum_quantity": minimum.minimum_quantity,
    }


def _contact(contact: PlanContact) -> dict:
    return {"id": contact.pk, "level": contact.level, "post": contact.post, "duty": contact.duty}


def _detail(plan: Plan, user) -> dict:
    return {
        **_plan(plan, user),
        "description": plan.description,
        "templates": [_template(t) for t in plan.templates.all()],
        "supply_minimums": [_minimum(m) for m in plan.supply_minimums.order_by("category")],
        "contacts": [_contact(c) for c in plan.contacts.all()],
        "problems": services.plan_check(plan),
    }


def _get(request: HttpRequest, plan_id: Id) -> Plan:
    return visible_or_404(selectors.plan_get, "plan_id", user=request.auth, plan_id=plan_id)


def _owner(request: HttpRequest, owner_id: Id):
    return visible_or_404(
        grid_selectors.grid_unit_get, "owner_id", user=request.auth, grid_unit_id=owner_id
    )


def _child(queryset, field: str, **lookup):
    try:
        return get_object_or_404(queryset, **lookup)
    except Http404:
        raise NotVisible(field) from None


@router.get("/plans", response={200: PlanPage, **ERRORS})
def plan_list(
    request: HttpRequest, page: Query[PageIn], hazard: column_text(Plan, "hazard") | None = None
) -> dict:
    plans = selectors.plans_visible(user=request.auth).select_related("grid_unit")
    if hazard:
        plans = plans.filter(hazard=hazard)
    found, count = paginate(plans, page)
    return {"items": [_plan(plan, request.auth) for plan in found], "count": count}


@router.post("/plans", response={201: PlanDetailOut, **WRITE_ERRORS})
def plan_add(request: HttpRequest, payload: PlanIn):
    owner = _owner(request, payload.owner_id)
    plan = services.plan_create(
        actor=request.auth, owner=owner, **payload.model_dump(exclude={"owner_id"})
    )
    return Status(201, _detail(plan, request.auth))


@router.post("/plans/defaults", response={201: list[PlanOut], **WRITE_ERRORS})
def plan_defaults(request: HttpRequest, payload: OwnerIn):
    """One default plan per hazard for the owner; plans of the same name are kept. Answers
    the plans created (none when all were there already)."""
    owner = _owner(request, payload.owner_id)
    created = services.plans_create_defaults(owner=owner, actor=request.auth)
    return Status(201, [_plan(plan, request.auth) for plan in created])


@router.get("/plans/{plan_id}", response={200: PlanDetailOut, **ERRORS})
def plan_detail(request: HttpRequest, plan_id: Id) -> dict:
    return _detail(_get(request, plan_id), request.auth)


@router.patch("/plans/{plan_id}", response={200: PlanDetailOut, **WRITE_ERRORS})
def plan_change(request: HttpRequest, plan_id: Id, payload: PlanPatch) -> dict:
    plan = _get(request, plan_id)
    plan = services.plan_update(
        actor=request.auth, plan=plan, **payload.model_dump(exclude_unset=True)
    )
    return _detail(plan, request.auth)


@router.post("/plans/{plan_id}/copy", response={201: PlanDetailOut, **WRITE_ERRORS})
def plan_copy(request: HttpRequest, plan_id: Id, payload: CopyIn):
    plan = _get(request, plan_id)
    owner = _owner(request, payload.owner_id)
    copy = services.plan_copy(actor=request.auth, plan=plan, owner=owner, name=payload.name)
    return Status(201, _detail(copy, request.auth))


@router.post("/plans/{plan_id}/templates", response={201: TemplateOut, **WRITE_ERRORS})
def template_add(request: HttpRequest, plan_id: Id, payload: TemplateIn):
    plan = _get(request, plan_id)
    template = services.template_create(actor=request.auth, plan=plan, **payload.model_dump())
    return Status(201, _template(template))


@router.patch(
    "/plans/{plan_id}/templates/{template_id}", response={200: TemplateOut, **WRITE_ERRORS}
)
def template_change(
    request: HttpRequest, plan_id: Id, template_id: Id, payload: TemplatePatch
) -> dict:
    plan = _get(request, plan_id)
    template = _child(TaskTemplate, "template_id", pk=template_id, plan=plan)
    template = services.template_update(
        actor=request.auth, template=template, **payload.model_dump(exclude_unset=True)
    )
    return _template(template)


@router.delete("/plans/{plan_id}/templates/{template_id}", response={204: None, **WRITE_ERRORS})
def template_remove(request: HttpRequest, plan_id: Id, template_id: Id):
    plan = _get(request, plan_id)
    template = _child(TaskTemplate, "template_id", pk=template_id, plan=plan)
    services.template_delete(actor=request.auth, template=template)
    return Status(204, None)


@router.put(
    "/plans/{plan_id}/supplies/{category}", response={200: PlanSupplyMinimumOut, **WRITE_ERRORS}
)
def supply_minimum_put(
    request: HttpRequest,
    plan_id: Id,
    category: column_text(PlanSupplyMinimum, "category"),
    payload: SupplyMinimumIn,
):
    plan = _get(request, plan_id)
    minimum = services.supply_minimum_set(
        actor=request.auth,
        plan=plan,
        category=category,
        minimum_quantity=payload.minimum_quantity,
    )
    return _minimum(minimum)


@router.delete("/plans/{plan_id}/supplies/{category}", response={204: None, **WRITE_ERRORS})
def supply_minimum_remove(
    request: HttpRequest, plan_id: Id, category: column_text(PlanSupplyMinimum, "category")
):
    plan = _get(request, plan_id)
    minimum = _child(PlanSupplyMinimum, "category", plan=plan, category=category)
    services.supply_minimum_delete(actor=request.auth, minimum=minimum)
    return Status(204, None)


@router.put("/plans/{plan_id}/contacts/{post}", response={200: ContactOut, **WRITE_ERRORS})
def contact_put(
    request: HttpRequest, plan_id: Id, post: column_text(PlanContact, "post"), payload: ContactIn
):
    plan = _get(request, plan_id)
    contact = services.contact_set(
        actor=request.auth, plan=plan, post=post, level=payload.level, duty=payload.duty
    )
    return _contact(contact)


@router.delete("/plans/{plan_id}/contacts/{post}", response={204: None, **WRITE_ERRORS})
def contact_remove(request: HttpRequest, plan_id: Id, post: column_text(PlanContact, "post")):
    plan = _get(request, plan_id)
    contact = _child(PlanContact, "post", plan=plan, post=post)
    services.contact_delete(actor=request.auth, contact=contact)
    return Status(204, None)
