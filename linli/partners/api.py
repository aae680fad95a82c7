"""`/api/v1/partners`: partner units, the three lists, claiming, matching and redundancy.

Mounted by linli/api.py with `api.add_router("/partners", router)`. Conventions follow
grids.api and cases.api: limit/offset pages `{"items", "count"}`, errors
`{"message", "field"}`, 404 for anything outside the caller's scope, 409 when the list
moved on under the caller (a need already claimed, a stale claim version). Reads go through
partners.selectors, writes through partners.services. Contact phones leave masked;
beneficiaries leave as building + masked name unless the caller may see the household.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from linli import clock
from linli.accounts.models import User
from linli.accounts.roles import Permission
from linli.api_shared import (
    ERRORS,
    MAX_LIMIT,
    WRITE_ERRORS,
    BoundedDate,
    Hours,
    Id,
    Int32,
    Latitude,
    Longitude,
    NotVisible,
    PageIn,
    column_int,
    column_text,
    paginate,
    visible_or_404,
)
from linli.cases.selectors import case_get
from linli.errors import NotAllowed
from linli.grids import selectors as grid_selectors
from linli.grids.models import GridLevel, GridUnit
from linli.idempotency.decorators import idempotent
from linli.partners import selectors, services
from linli.partners.models import (
    Agreement,
    Claim,
    ClaimEvent,
    Milestone,
    Need,
    Partner,
    Project,
    Resource,
)
from linli.volunteers.models import Volunteer

router = Router(tags=["partners"])


# Schemas ------------------------------------------------------------------------------


class AgreementOut(Schema):
    id: int
    title: str
    starts_on: date
    ends_on: date
    valid_today: bool


class PartnerOut(Schema):
    id: int
    name: str
    partner_type: str
    community: str
    contact_name: str
    contact_phone: str = Field(description="Masked")
    offers: str
    is_active: bool
    has_valid_agreement: bool


class PartnerDetailOut(PartnerOut):
    agreements: list[AgreementOut]
    claims_total: int
    claims_confirmed: int


class PartnerPage(Schema):
    items: list[PartnerOut]
    count: int


class PartnerIn(Schema):
    community_id: Id
    name: column_text(Partner, "name")
    partner_type: column_text(Partner, "partner_type")
    contact_name: column_text(Partner, "contact_name") = ""
    contact_phone: column_text(Partner, "contact_phone") = ""
    offers: column_text(Partner, "offers") = ""
    address: column_text(Partner, "address") = ""
    latitude: Latitude | None = None
    longitude: Longitude | None = None


class AgreementIn(Schema):
    title: column_text(Agreement, "title")
    starts_on: BoundedDate
    ends_on: BoundedDate
    notes: column_text(Agreement, "notes") = ""


class NeedOut(Schema):
    id: int
    category: str
    title: str
    description: str
    urgency: str
    quantity: int
    claimed_quantity: int
    remaining: int
    unit: str
    recurrence: str
    state: str
    source: str
    beneficiary: str = Field(description="Building + masked name for outsiders; never the room")
    created_at: datetime


class NeedPage(Schema):
    items: list[NeedOut]
    count: int


class NeedFilters(Schema):
    state: column_text(Need, "state") | None = None
    category: column_text(Need, "category") | None = None


class NeedIn(Schema):
    category: column_text(Need, "category")
    title: column_text(Need, "title") = ""
    description: column_text(Need, "description") = ""
    urgency: column_text(Need, "urgency") = "normal"
    quantity: column_int(Need, "quantity") = 1
    unit: column_text(Need, "unit") = ""
    recurrence: column_text(Need, "recurrence") = "once"
    household_id: Id | None = None
    beneficiary_id: Id | None = None
    grid_unit_id: Id | None = None
    visit_id: Id | None = None
    case_id: Id | None = None


class ResourceOut(Schema):
    id: int
    kind: str
    category: str
    title: str
    provider: str
    partner_id: int | None
    volunteer_id: int | None
    quantity: int
    remaining: int
    unit: str
    available_from: date | None
    available_until: date | None
    availability: str
    conditions: str
    is_active: bool


class ResourcePage(Schema):
    items: list[ResourceOut]
    count: int


class ResourceIn(Schema):
    kind: column_text(Resource, "kind")
    category: column_text(Resource, "category")
    title: column_text(Resource, "title")
    partner_id: Id | None = None
    volunteer_id: Id | None = None
    quantity: column_int(Resource, "quantity") = 1
    unit: column_text(Resource, "unit") = ""
    description: column_text(Resource, "description") = ""
    available_from: BoundedDate | None = None
    available_until: BoundedDate | None = None
    availability: column_text(Resource, "availability") = ""
    conditions: column_text(Resource, "conditions") = ""


class ClaimEventOut(Schema):
    action: str
    from_state: str
    to_state: str
    note: str
    created_at: datetime


class ClaimOut(Schema):
    id: int
    need_id: int
    need: str
    resource_id: int | None
    direction: str
    provider: str
    quantity: int
    state: str
    hours: Decimal | None
    hours_pending: bool = Field(
        False, description="Confirmed hours waiting for staff approval (action approve_hours)"
    )
    cancel_reason: str
    version: int
    created_at: datetime


class ClaimDetailOut(ClaimOut):
    beneficiary: str
    events: list[ClaimEventOut]


class ClaimPage(Schema):
    items: list[ClaimOut]
    count: int


class ClaimIn(Schema):
    quantity: column_int(Claim, "quantity") = 1
    partner_id: Id | None = Field(None, description="Staff claiming on a provider's behalf")
    volunteer_id: Id | None = None


class ClaimResourceIn(Schema):
    resource_id: Id
    quantity: column_int(Claim, "quantity") = 1


class ClaimActionIn(Schema):
    action: column_text(ClaimEvent, "action")
    note: column_text(ClaimEvent, "note") = ""
    hours: Hours | None = None
    expected_version: Int32


class MatchOut(Schema):
    kind: str
    id: int
    name: str
    provider: str
    score: float
    distance_metres: float | None
    reason: str


class MilestoneIn(Schema):
    title: column_text(Milestone, "title")
    due_on: BoundedDate


class MilestoneOut(Schema):
    id: int
    title: str
    due_on: date
    done_on: date | None


class ProjectOut(Schema):
    id: int
    title: str
    need_id: int
    resource_id: int
    owner: str
    starts_on: date
    ends_on: date | None
    schedule: str
    state: str
    milestones: list[MilestoneOut]


class ProjectPage(Schema):
    items: list[ProjectOut]
    count: int


class ProjectIn(Schema):
    need_id: Id
    resource_id: Id
    title: column_text(Project, "title") = ""
    owner_id: Id
    starts_on: BoundedDate
    ends_on: BoundedDate | None = None
    schedule: column_text(Project, "schedule") = ""
    milestones: list[MilestoneIn] = []


class RedundancyOut(Schema):
    category: str
    label: str
    count: int
    providers: list[str]
    flag: str = Field(description="none, single (a single point of failure) or ok")


# Serialisation ------------------------------------------------------------------------


def _partner(partner: Partner, today: date) -> dict:
    return {
        "id": partner.pk,
        "name": partner.name,
        "partner_type": partner.partner_type,
        "community": partner.grid_unit.name,
        "contact_name": partner.contact_name,
        "contact_phone": partner.contact_phone_masked,
        "offers": partner.offers,
        "is_active": partner.is_active,
        "has_valid_agreement": partner.valid_agreement(today) is not None,
    }


def _need(need: Need, user) -> dict:
    return {
        "id": need.pk,
        "category": need.category,
        "title": need.title,
        "description": selectors.need_description(user=user, need=need),
        "urgency": need.urgency,
        "quantity": need.quantity,
        "claimed_quantity": need.claimed_quantity,
        "remaining": need.remaining,
        "unit": need.unit,
        "recurrence": need.recurrence,
        "state": need.state,
        "source": need.source,
        "beneficiary": selectors.beneficiary_label(user=user, need=need),
        "created_at": timezone.localtime(need.created_at),
    }


def _resource(resource: Resource) -> dict:
    return {
        "id": resource.pk,
        "kind": resource.kind,
        "category": resource.category,
        "title": resource.title,
        "provider": resource.provider_name,
        "partner_id": resource.partner_id,
        "volunteer_id": resource.volunteer_id,
        "quantity": resource.quantity,
        "remaining": resource.remaining,
        "unit": resource.unit,
        "available_from": resource.available_from,
        "available_until": resource.available_until,
        "availability": resource.availability,
        "conditions": resource.conditions,
        "is_active": resource.is_active,
    }


def _claim(claim: Claim) -> dict:
    return {
        "id": claim.pk,
        "need_id": claim.need_id,
        "need": claim.need.title,
        "resource_id": claim.resource_id,
        "direction": claim.direction,
        "provider": claim.provider_name,
        "quantity": claim.quantity,
        "state": claim.state,
        "hours": claim.hours,
        "hours_pending": claim.hours_pending,
        "cancel_reason": claim.cancel_reason,
        "version": claim.version,
        "created_at": timezone.localtime(claim.created_at),
    }


def _claim_detail(claim: Claim, user) -> dict:
    return {
        **_claim(claim),
        "beneficiary": selectors.beneficiary_label(user=user, need=claim.need),
        "events": [
            {
                "action": event.action,
                "from_state": event.from_state,
                "to_state": event.to_state,
                "note": event.note,
                "created_at": timezone.localtime(event.created_at),
            }
            for event in claim.events.all()
        ],
    }


def _project(project: Project) -> dict:
    return {
        "id": project.pk,
        "title": project.title,
        "need_id": project.need_id,
        "resource_id": project.resource_id,
        "owner": str(project.owner),
        "starts_on": project.starts_on,
        "ends_on": project.ends_on,
        "schedule": project.schedule,
        "state": project.state,
        "milestones": [
            {"id": m.pk, "title": m.title, "due_on": m.due_on, "done_on": m.done_on}
            for m in project.milestones.all()
        ],
    }


# Partners -----------------------------------------------------------------------------


@router.get("/units", response={200: PartnerPage, **ERRORS})
def partner_list(request: HttpRequest, page: Query[PageIn]) -> dict:
    items, count = paginate(
        selectors.partners_visible(user=request.auth).order_by("name", "id"), page
    )
    today = clock.localdate()
    return {"items": [_partner(p, today) for p in items], "count": count}


def _partner_detail(partner: Partner) -> dict:
    today = clock.localdate()
    history = selectors.partner_history(partner=partner)
    return {
        **_partner(partner, today),
        "agreements": [
            {
                "id": a.pk,
                "title": a.title,
                "starts_on": a.starts_on,
                "ends_on": a.ends_on,
                "valid_today": a.is_valid_on(today),
            }
            for a in partner.agreements.all()
        ],
        "claims_total": history["total"],
        "claims_confirmed": history["confirmed"],
    }


@router.post("/units", response={201: PartnerDetailOut, **WRITE_ERRORS})
def partner_register(request: HttpRequest, payload: PartnerIn):
    community = GridUnit.objects.filter(pk=payload.community_id, level=GridLevel.COMMUNITY).first()
    if community is None:
        raise DjangoValidationError({"community_id": _("Unknown community.")})
    partner = services.partner_create(
        actor=request.auth,
        community=community,
        **payload.dict(exclude={"community_id"}),
    )
    return Status(201, _partner_detail(partner))


@router.get("/units/{partner_id}", response={200: PartnerDetailOut, **ERRORS})
def partner_detail(request: HttpRequest, partner_id: Id) -> dict:
    return _partner_detail(
        visible_or_404(
            selectors.partner_get, "partner_id", user=request.auth, partner_id=partner_id
        )
    )


@router.post("/units/{partner_id}/agreements", response={201: PartnerDetailOut, **WRITE_ERRORS})
def agreement_record(request: HttpRequest, partner_id: Id, payload: AgreementIn):
    partner = visible_or_404(
        selectors.partner_get, "partner_id", user=request.auth, partner_id=partner_id
    )
    services.agreement_add(actor=request.auth, partner=partner, **payload.dict())
    return Status(201, _partner_detail(partner))


# Needs ----------------------------------------------------------------------------------


@router.get("/needs", response={200: NeedPage, **ERRORS})
def need_list(request: HttpRequest, filters: Query[NeedFilters], page: Query[PageIn]) -> dict:
    needs = selectors.needs_visible(user=request.auth).order_by("-created_at", "-id")
    if filters.state:
        needs = needs.filter(state=filters.state)
    if filters.category:
        needs = needs.filter(category=filters.category)
    items, count = paginate(needs, page)
    return {"items": [_need(n, request.auth) for n in items], "count": count}


@router.post("/needs", response={201: NeedOut, **WRITE_ERRORS})
def need_add(request: HttpRequest, payload: NeedIn):
    user = request.auth
    fields = payload.dict(
        exclude={"household_id", "beneficiary_id", "grid_unit_id", "visit_id", "case_id"}
    )
    if payload.visit_id is not None:
        visit = visible_or_404(
            grid_selectors.visit_get, "visit_id", user=user, visit_id=payload.visit_id
        )
        need = services.need_from_visit(actor=user, visit=visit, **fields)
    elif payload.case_id is not None:
        case = visible_or_404(case_get, "case_id", user=user, case_id=payload.case_id)
        need = services.need_from_case(actor=user, case=case, **fields)
    else:
        household = beneficiary = grid_unit = None
        if payload.household_id is not None:
            household = visible_or_404(
                grid_selectors.household_get,
                "household_id",
                user=user,
                household_id=payload.household_id,
            )
        if payload.beneficiary_id is not None:
            beneficiary = visible_or_404(
                grid_selectors.resident_get,
                "beneficiary_id",
                user=user,
                resident_id=payload.beneficiary_id,
            )
        if payload.grid_unit_id is not None:
            grid_unit = visible_or_404(
                grid_selectors.grid_unit_get,
                "grid_unit_id",
                user=user,
                grid_unit_id=payload.grid_unit_id,
            )
        staff = grid_selectors.user_can(user=user, permission=Permission.LISTS_MANAGE)
        need = services.need_create(
            actor=user,
            household=household,
            beneficiary=beneficiary,
            grid_unit=grid_unit,
            source="staff" if staff else "resident",
            **fields,
        )
    return Status(201, _need(need, user))


@router.get("/needs/{need_id}", response={200: NeedOut, **ERRORS})
def need_detail(request: HttpRequest, need_id: Id) -> dict:
    return _need(
        visible_or_404(selectors.need_get, "need_id", user=request.auth, need_id=need_id),
        request.auth,
    )


@router.get("/needs/{need_id}/matches", response={200: list[MatchOut], **ERRORS})
def need_matches(
    request: HttpRequest, need_id: Id, limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = 10
) -> list[dict]:
    user = request.auth
    need = visible_or_404(selectors.need_get, "need_id", user=user, need_id=need_id)
    if not grid_selectors.user_can(
        user=user, permission=Permission.PARTNERS_VIEW, grid_path=need.grid_path
    ):
        raise NotVisible("need_id")
    return [
        {
            "kind": m.kind,
            "id": m.id,
            "name": m.name,
            "provider": m.provider,
            "score": m.score,
            "distance_metres": round(m.distance_metres, 1)
            if m.distance_metres is not None
            else None,
            "reason": m.reason,
        }
        for m in selectors.match_suggestions(need=need, limit=max(1, min(limit, 50)))
    ]


def _provider_for(user, payload: ClaimIn) -> dict:
    """The caller's own unit or volunteer record; staff may name one (checked by the service)."""
    if payload.partner_id is not None:
        partner = Partner.objects.filter(pk=payload.partner_id).first()
        if partner is None:
            raise DjangoValidationError({"partner_id": _("Unknown partner unit.")})
        return {"partner": partner}
    if payload.volunteer_id is not None:
        volunteer = Volunteer.objects.filter(pk=payload.volunteer_id).first()
        if volunteer is None:
            raise DjangoValidationError({"volunteer_id": _("Unknown volunteer.")})
        return {"volunteer": volunteer}
    partner = services.partner_of(user)
    if partner is not None:
        return {"partner": partner}
    volunteer = services.volunteer_of(user)
    if volunteer is not None:
        return {"volunteer": volunteer}
    raise NotAllowed(_("Only a partner liaison or an approved volunteer claims needs."))


@router.post("/needs/{need_id}/claims", response={201: ClaimDetailOut, **WRITE_ERRORS})
@idempotent
def need_claim(request: HttpRequest, need_id: Id, payload: ClaimIn):
    user = request.auth
    need = visible_or_404(selectors.need_get, "need_id", user=user, need_id=need_id)
    provider = _provider_for(user, payload)
    claim = services.claim_need(actor=user, need=need, quantity=payload.quantity, **provider)
    return Status(201, _claim_detail(selectors.claim_get(user=user, claim_id=claim.pk), user))


@router.post("/needs/{need_id}/claim-resource", response={201: ClaimDetailOut, **WRITE_ERRORS})
@idempotent
def need_claim_resource(request: HttpRequest, need_id: Id, payload: ClaimResourceIn):
    user = request.auth
    need = visible_or_404(selectors.need_get, "need_id", user=user, need_id=need_id)
    resource = visible_or_404(
        selectors.resource_get, "resource_id", user=user, resource_id=payload.resource_id
    )
    claim = services.claim_resource(
        actor=user, need=need, resource=resource, quantity=payload.quantity
    )
    return Status(201, _claim_detail(selectors.claim_get(user=user, claim_id=claim.pk), user))


# Resources ------------------------------------------------------------------------------


@router.get("/resources", response={200: ResourcePage, **ERRORS})
def resource_list(
    request: HttpRequest,
    page: Query[PageIn],
    category: column_text(Resource, "category") | None = None,
) -> dict:
    resources = selectors.resources_visible(user=request.auth).order_by("category", "id")
    if category:
        resources = resources.filter(category=category)
    items, count = paginate(resources, page)
    return {"items": [_resource(r) for r in items], "count": count}


@router.post("/resources", response={201: ResourceOut, **WRITE_ERRORS})
def resource_add(request: HttpRequest, payload: ResourceIn):
    user = request.auth
    fields = payload.dict(exclude={"partner_id", "volunteer_id"})
    provider: dict[str, Any] = {}
    if payload.partner_id is not None:
        provider["partner"] = Partner.objects.filter(pk=payload.partner_id).first()
        if provider["partner"] is None:
            raise DjangoValidationError({"partner_id": _("Unknown partner unit.")})
    elif payload.volunteer_id is not None:
        provider["volunteer"] = Volunteer.objects.filter(pk=payload.volunteer_id).first()
        if provider["volunteer"] is None:
            raise DjangoValidationError({"volunteer_id": _("Unknown volunteer.")})
    else:
        provider = _provider_for(user, ClaimIn())
    resource = services.resource_offer(actor=user, **provider, **fields)
    return Status(201, _resource(resource))


# Claims ---------------------------------------------------------------------------------


@router.get("/claims", response={200: ClaimPage, **ERRORS})
def claim_list(
    request: HttpRequest, page: Query[PageIn], state: column_text(Claim, "state") | None = None
) -> dict:
    claims = selectors.claims_visible(user=request.auth).order_by("-created_at", "-id")
    if state:
        claims = claims.filter(state=state)
    items, count = paginate(claims, page)
    return {"items": [_claim(c) for c in items], "count": count}


@router.get("/claims/{claim_id}", response={200: ClaimDetailOut, **ERRORS})
def claim_detail(request: HttpRequest, claim_id: Id) -> dict:
    user = request.auth
    return _claim_detail(
        visible_or_404(selectors.claim_get, "claim_id", user=user, claim_id=claim_id), user
    )


@router.post("/claims/{claim_id}/actions", response={200: ClaimDetailOut, **WRITE_ERRORS})
def claim_act(request: HttpRequest, claim_id: Id, payload: ClaimActionIn):
    user = request.auth
    claim = visible_or_404(selectors.claim_get, "claim_id", user=user, claim_id=claim_id)
    if payload.action not in services.ACTIONS:
        raise DjangoValidationError(
            {"action": _("Unknown action: %(action)s") % {"action": payload.action}}
        )
    services.claim_transition(
        claim=claim,
        actor=user,
        action=payload.action,
        note=payload.note,
        hours=payload.hours,
        expected_version=payload.expected_version,
    )
    return _claim_detail(selectors.claim_get(user=user, claim_id=claim_id), user)


# Projects -------------------------------------------------------------------------------


@router.get("/projects", response={200: ProjectPage, **ERRORS})
def project_list(request: HttpRequest, page: Query[PageIn]) -> dict:
    projects = selectors.projects_visible(user=request.auth).prefetch_related("milestones")
    items, count = paginate(projects.order_by("-starts_on", "-id"), page)
    return {"items": [_project(p) for p in items], "count": count}


@router.post("/projects", response={201: ProjectOut, **WRITE_ERRORS})
def project_add(request: HttpRequest, payload: ProjectIn):
    user = request.auth
    need = visible_or_404(selectors.need_get, "need_id", user=user, need_id=payload.need_id)
    resource = visible_or_404(
        selectors.resource_get, "resource_id", user=user, resource_id=payload.resource_id
    )
    owner = User.objects.filter(pk=payload.owner_id, is_active=True).first()
    project = services.project_create(
        actor=user,
        need=need,
        resource=resource,
        title=payload.title,
        owner=owner,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
        schedule=payload.schedule,
        milestones=[(m.title, m.due_on) for m in payload.milestones],
    )
    return Status(201, _project(project))


# Redundancy -----------------------------------------------------------------------------


@router.get("/redundancy/{community_id}", response={200: list[RedundancyOut], **ERRORS})
def community_redundancy(request: HttpRequest, community_id: Id) -> list[dict]:
    community = next(
        (c for c in selectors.communities_for(user=request.auth) if c.pk == community_id), None
    )
    if community is None:
        raise NotVisible("community_id")
    return [
        {**row, "label": str(row["label"])} for row in selectors.redundancy(community=community)
    ]


# Further actions ------------------------------------------------------------------------


class ReasonIn(Schema):
    reason: column_text(Claim, "cancel_reason")


@router.post("/needs/{need_id}/cancel", response={200: NeedOut, **WRITE_ERRORS})
def need_withdraw(request: HttpRequest, need_id: Id, payload: ReasonIn):
    user = request.auth
    need = visible_or_404(selectors.need_get, "need_id", user=user, need_id=need_id)
    need = services.need_cancel(actor=user, need=need, reason=payload.reason)
    return _need(need, user)


@router.post("/resources/{resource_id}/withdraw", response={200: ResourceOut, **WRITE_ERRORS})
def resource_remove(request: HttpRequest, resource_id: Id):
    user = request.auth
    resource = visible_or_404(
        selectors.resource_get, "resource_id", user=user, resource_id=resource_id
    )
    return _resource(services.resource_withdraw(actor=user, resource=resource))


@router.post(
    "/projects/{project_id}/milestones/{milestone_id}/done",
    response={200: ProjectOut, **WRITE_ERRORS},
)
def milestone_complete(request: HttpRequest, project_id: Id, milestone_id: Id):
    user = request.auth
    project = visible_or_404(selectors.project_get, "project_id", user=user, project_id=project_id)
    milestone = project.milestones.filter(pk=milestone_id).first()
    if milestone is None:
        raise NotVisible("milestone_id")
    services.milestone_done(actor=user, milestone=milestone)
    return _project(selectors.project_get(user=user, project_id=project_id))
