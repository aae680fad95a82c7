"""`/api/v1/emergency/plans`: emergency plans (预案) with their task templates, minimum
supply levels and contact tree.

Mounted by linli/api.py with `api.add_router("/emergency", router)`; conventions as in
supplies.api and volunteers.api. Reads go through linli.emergency.selectors (a plan
outside the caller's scope is 404), writes through linli.emergency.plans: a refused
permission is 403, bad input 400 naming the field, and nothing is written on error.
"""

from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Router, Schema, Status

from linli.api_shared import ERRORS, ErrorOut, NotVisible, PageIn, paginate, visible_or_404
from linli.emergency import plans as services
from linli.emergency import selectors
from linli.emergency.models import Plan, PlanContact, PlanSupplyMinimum, TaskTemplate
from linli.grids import selectors as grid_selectors
from linli.volunteers.models import decode_codes

router = Router(tags=["emergency plans"])

WRITE_ERRORS: dict[int, Any] = {400: ErrorOut, **ERRORS}


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
    # Static problems of the plan as written (linli.emergency.plans.plan_check).
    problems: list[str]


class PlanIn(Schema):
    owner_id: int
    hazard: str
    name: str
    description: str = ""
    movement_rule: str = "community"
    volunteer_capacity: int = 8
    acknowledge_minutes: int = 15
    retry_minutes: int = 30
    max_attempts: int = 3


class PlanPatch(Schema):
    hazard: str | None = None
    name: str | None = None
    description: str | None = None
    movement_rule: str | None = None
    volunteer_capacity: int | None = None
    acknowledge_minutes: int | None = None
    retry_minutes: int | None = None
    max_attempts: int | None = None
    is_active: bool | None = None


class OwnerIn(Schema):
    owner_id: int


class CopyIn(Schema):
    owner_id: int
    name: str = ""


class TemplateIn(Schema):
    kind: str
    title: str
    instructions: str = ""
    target_tags: list[str] = []
    due_hours: int = 4
    required_team: str = ""
    required_skills: list[str] = []
    lowest_grade: int = 4
    sort_order: int | None = None


class TemplatePatch(Schema):
    kind: str | None = None
    title: str | None = None
    instructions: str | None = None
    target_tags: list[str] | None = None
    due_hours: int | None = None
    required_team: str | None = None
    required_skills: list[str] | None = None
    lowest_grade: int | None = None
    sort_order: int | None = None


class SupplyMinimumIn(Schema):
    minimum_quantity: int


class ContactIn(Schema):
    level: int
    duty: str = ""


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


def _get(request: HttpRequest, plan_id: int) -> Plan:
    return visible_or_404(selectors.plan_get, "plan_id", user=request.auth, plan_id=plan_id)


def _owner(request: HttpRequest, owner_id: int):
    return visible_or_404(
        grid_selectors.grid_unit_get, "owner_id", user=request.auth, grid_unit_id=owner_id
    )


def _child(queryset, field: str, **lookup):
    try:
        return get_object_or_404(queryset, **lookup)
    except Http404:
        raise NotVisible(field) from None


@router.get("/plans", response={200: PlanPage, **ERRORS})
def plan_list(request: HttpRequest, page: Query[PageIn], hazard: str | None = None) -> dict:
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
def plan_detail(request: HttpRequest, plan_id: int) -> dict:
    return _detail(_get(request, plan_id), request.auth)


@router.patch("/plans/{plan_id}", response={200: PlanDetailOut, **WRITE_ERRORS})
def plan_change(request: HttpRequest, plan_id: int, payload: PlanPatch) -> dict:
    plan = _get(request, plan_id)
    plan = services.plan_update(
        actor=request.auth, plan=plan, **payload.model_dump(exclude_unset=True)
    )
    return _detail(plan, request.auth)


@router.post("/plans/{plan_id}/copy", response={201: PlanDetailOut, **WRITE_ERRORS})
def plan_copy(request: HttpRequest, plan_id: int, payload: CopyIn):
    plan = _get(request, plan_id)
    owner = _owner(request, payload.owner_id)
    copy = services.plan_copy(actor=request.auth, plan=plan, owner=owner, name=payload.name)
    return Status(201, _detail(copy, request.auth))


@router.post("/plans/{plan_id}/templates", response={201: TemplateOut, **WRITE_ERRORS})
def template_add(request: HttpRequest, plan_id: int, payload: TemplateIn):
    plan = _get(request, plan_id)
    template = services.template_create(actor=request.auth, plan=plan, **payload.model_dump())
    return Status(201, _template(template))


@router.patch(
    "/plans/{plan_id}/templates/{template_id}", response={200: TemplateOut, **WRITE_ERRORS}
)
def template_change(
    request: HttpRequest, plan_id: int, template_id: int, payload: TemplatePatch
) -> dict:
    plan = _get(request, plan_id)
    template = _child(TaskTemplate, "template_id", pk=template_id, plan=plan)
    template = services.template_update(
        actor=request.auth, template=template, **payload.model_dump(exclude_unset=True)
    )
    return _template(template)


@router.delete("/plans/{plan_id}/templates/{template_id}", response={204: None, **WRITE_ERRORS})
def template_remove(request: HttpRequest, plan_id: int, template_id: int):
    plan = _get(request, plan_id)
    template = _child(TaskTemplate, "template_id", pk=template_id, plan=plan)
    services.template_delete(actor=request.auth, template=template)
    return Status(204, None)


@router.put(
    "/plans/{plan_id}/supplies/{category}", response={200: PlanSupplyMinimumOut, **WRITE_ERRORS}
)
def supply_minimum_put(request: HttpRequest, plan_id: int, category: str, payload: SupplyMinimumIn):
    plan = _get(request, plan_id)
    minimum = services.supply_minimum_set(
        actor=request.auth,
        plan=plan,
        category=category,
        minimum_quantity=payload.minimum_quantity,
    )
    return _minimum(minimum)


@router.delete("/plans/{plan_id}/supplies/{category}", response={204: None, **WRITE_ERRORS})
def supply_minimum_remove(request: HttpRequest, plan_id: int, category: str):
    plan = _get(request, plan_id)
    minimum = _child(PlanSupplyMinimum, "category", plan=plan, category=category)
    services.supply_minimum_delete(actor=request.auth, minimum=minimum)
    return Status(204, None)


@router.put("/plans/{plan_id}/contacts/{post}", response={200: ContactOut, **WRITE_ERRORS})
def contact_put(request: HttpRequest, plan_id: int, post: str, payload: ContactIn):
    plan = _get(request, plan_id)
    contact = services.contact_set(
        actor=request.auth, plan=plan, post=post, level=payload.level, duty=payload.duty
    )
    return _contact(contact)


@router.delete("/plans/{plan_id}/contacts/{post}", response={204: None, **WRITE_ERRORS})
def contact_remove(request: HttpRequest, plan_id: int, post: str):
    plan = _get(request, plan_id)
    contact = _child(PlanContact, "post", plan=plan, post=post)
    services.contact_delete(actor=request.auth, contact=contact)
    return Status(204, None)
