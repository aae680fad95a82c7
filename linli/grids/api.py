"""`/api/v1` routes for the grid and the resident registry.

Handlers stay thin: every read goes through `grids.selectors` (so a row outside the
caller's scope is simply absent and answers 404), every write through `grids.services`.
Phone and ID numbers leave only masked; the full value only through the audited reveal.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

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
    BoundedDateTime,
    ErrorOut,
    Id,
    PageIn,
    column_text,
    paginate,
    visible_or_404,
)
from linli.grids import selectors
from linli.grids.models import (
    Building,
    GridLevel,
    GridUnit,
    Household,
    Resident,
    Visit,
    VulnerabilityTag,
)
from linli.grids.services import resident_reveal, visit_record
from linli.idempotency.decorators import idempotent

router = Router(tags=["grids"])
# Schemas ------------------------------------------------------------------------------


class CountsOut(Schema):
    buildings: int
    households: int
    residents: int
    vulnerable: int
    visits_30d: int


class GridUnitOut(Schema):
    id: int
    level: str
    code: str
    name: str
    parent_id: int | None
    path: str
    counts: CountsOut | None = None


class GridUnitPage(Schema):
    items: list[GridUnitOut]
    count: int


class GridFilters(Schema):
    level: Literal[tuple(GridLevel.values)] | None = None  # type: ignore[valid-type]
    parent_id: Id | None = None


class BuildingOut(Schema):
    id: int
    grid_unit_id: int
    name: str
    address: str
    floors: int | None


class BuildingPage(Schema):
    items: list[BuildingOut]
    count: int


class BuildingFilters(Schema):
    grid_unit_id: Id | None = None


class HouseholdOut(Schema):
    id: int
    building_id: int
    building: str
    room: str


class HouseholdPage(Schema):
    items: list[HouseholdOut]
    count: int


class HouseholdFilters(Schema):
    building_id: Id | None = None


class ResidentOut(Schema):
    id: int
    name: str
    sex: str
    birth_year: int
    household_id: int
    building: str
    room: str
    phone: str = Field(description="Masked, e.g. 138****1234")
    id_number: str = Field(description="Masked: first 6 and last 4 characters")
    residency_type: str
    party_membership: str
    vulnerability_tags: list[str] = Field(
        description="Empty unless the caller may see health and vulnerability tags here"
    )


class ResidentPage(Schema):
    items: list[ResidentOut]
    count: int


class ResidentFilters(Schema):
    grid_unit_id: Id | None = None
    q: str = Field("", max_length=50, description="Name contains, or exact room or building")
    tag: Literal[tuple(VulnerabilityTag.values)] | None = None  # type: ignore[valid-type]


class ResidentRevealIn(Schema):
    field: Annotated[str, Field(max_length=20)] = Field(description="phone or id_number")
    purpose: Literal[tuple(RevealPurpose.values)] = Field(  # type: ignore[valid-type]
        description=PURPOSE_DESCRIPTION
    )
    reason: str = Field(
        min_length=REASON_MIN_LENGTH, max_length=REASON_MAX_LENGTH, description=REASON_DESCRIPTION
    )


class ResidentRevealOut(Schema):
    field: str
    value: str


class VisitOut(Schema):
    id: int
    household_id: int
    building: str
    room: str
    visitor_id: int | None
    visitor: str
    visited_at: datetime
    method: str
    finding: str
    mood: str
    needs_follow_up: bool


class VisitPage(Schema):
    items: list[VisitOut]
    count: int


class VisitFilters(Schema):
    household_id: Id | None = None
    needs_follow_up: bool | None = None


class VisitIn(Schema):
    household_id: Id
    method: column_text(Visit, "method") = Field(description="door, phone or wechat")
    finding: column_text(Visit, "finding") = ""
    mood: column_text(Visit, "mood") = ""
    needs_follow_up: bool = False
    visited_at: BoundedDateTime | None = Field(
        None,
        description="Defaults to now; a time without offset is read as Asia/Shanghai; "
        "between 2000-01-01 and 2100-12-31",
    )


# Serialisation ------------------------------------------------------------------------
# Explicit functions rather than ORM-attribute schemas, so that no field can leak by
# accident (the encrypted ID number and its hash are never read here).


def _grid_unit(unit: GridUnit, counts: dict | None = None) -> dict:
    return {
        "id": unit.pk,
        "level": unit.level,
        "code": unit.code,
        "name": unit.name,
        "parent_id": unit.parent_id,
        "path": unit.path,
        "counts": counts,
    }


def _building(building: Building) -> dict:
    return {
        "id": building.pk,
        "grid_unit_id": building.grid_unit_id,
        "name": building.name,
        "address": building.address,
        "floors": building.floors,
    }


def _household(household: Household) -> dict:
    return {
        "id": household.pk,
        "building_id": household.building_id,
        "building": household.building.name,
        "room": household.room,
    }


def _resident(user, resident: Resident) -> dict:
    tags_visible = selectors.sensitive_visible(
        user=user, grid_path=resident.grid_path, household_id=resident.household_id
    )
    return {
        "id": resident.pk,
        "name": resident.name,
        "sex": resident.sex,
        "birth_year": resident.birth_year,
        "household_id": resident.household_id,
        "building": resident.household.building.name,
        "room": resident.household.room,
        "phone": resident.phone_masked,
        "id_number": resident.id_number_masked,
        "residency_type": resident.residency_type,
        "party_membership": resident.party_membership,
        "vulnerability_tags": resident.tags if tags_visible else [],
    }


def _visit(visit: Visit) -> dict:
    return {
        "id": visit.pk,
        "household_id": visit.household_id,
        "building": visit.household.building.name,
        "room": visit.household.room,
        "visitor_id": visit.visitor_id,
        "visitor": str(visit.visitor) if visit.visitor else "",
        # Stored in UTC, shown in the platform's time zone (Asia/Shanghai).
        "visited_at": timezone.localtime(visit.visited_at),
        "method": visit.method,
        "finding": visit.finding,
        "mood": visit.mood,
        "needs_follow_up": visit.needs_follow_up,
    }


# Grid units ---------------------------------------------------------------------------


@router.get("/grids", response={200: GridUnitPage, **ERRORS}, summary="Visible grid units")
def grid_list(
    request: HttpRequest, filters: Query[GridFilters], page: Query[PageIn]
) -> dict[str, Any]:
    units = selectors.grid_units_visible(user=request.auth).order_by("path")
    if filters.level:
        units = units.filter(level=filters.level)
    if filters.parent_id is not None:
        units = units.filter(parent_id=filters.parent_id)
    items, count = paginate(units, page)
    return {"items": [_grid_unit(unit) for unit in items], "count": count}


@router.get("/grids/{grid_unit_id}", response={200: GridUnitOut, **ERRORS})
def grid_detail(request: HttpRequest, grid_unit_id: Id) -> dict[str, Any]:
    unit = visible_or_404(
        selectors.grid_unit_get, "grid_unit_id", user=request.auth, grid_unit_id=grid_unit_id
    )
    counts = selectors.registry_counts(user=request.auth, path=unit.path)
    return _grid_unit(unit, counts)


# Buildings and households -------------------------------------------------------------


@router.get("/buildings", response={200: BuildingPage, **ERRORS})
def building_list(
    request: HttpRequest, filters: Query[BuildingFilters], page: Query[PageIn]
) -> dict[str, Any]:
    buildings = selectors.buildings_visible(user=request.auth).order_by("grid_path", "id")
    if filters.grid_unit_id is not None:
        buildings = buildings.filter(grid_unit_id=filters.grid_unit_id)
    items, count = paginate(buildings, page)
    return {"items": [_building(building) for building in items], "count": count}


@router.get("/buildings/{building_id}", response={200: BuildingOut, **ERRORS})
def building_detail(request: HttpRequest, building_id: Id) -> dict[str, Any]:
    building = visible_or_404(
        selectors.building_get, "building_id", user=request.auth, building_id=building_id
    )
    return _building(building)


@router.get("/households", response={200: HouseholdPage, **ERRORS})
def household_list(
    request: HttpRequest, filters: Query[HouseholdFilters], page: Query[PageIn]
) -> dict[str, Any]:
    households = selectors.households_visible(user=request.auth).order_by(
        "grid_path", "building_id", "room", "id"
    )
    if filters.building_id is not None:
        households = households.filter(building_id=filters.building_id)
    items, count = paginate(households, page)
    return {"items": [_household(household) for household in items], "count": count}


@router.get("/households/{household_id}", response={200: HouseholdOut, **ERRORS})
def household_detail(request: HttpRequest, household_id: Id) -> dict[str, Any]:
    household = visible_or_404(
        selectors.household_get, "household_id", user=request.auth, household_id=household_id
    )
    return _household(household)


# Residents ----------------------------------------------------------------------------


@router.get("/residents", response={200: ResidentPage, **ERRORS})
def resident_list(
    request: HttpRequest, filters: Query[ResidentFilters], page: Query[PageIn]
) -> dict[str, Any]:
    user = request.auth
    grid_unit = None
    if filters.grid_unit_id is not None:
        grid_unit = visible_or_404(
            selectors.grid_unit_get, "grid_unit_id", user=user, grid_unit_id=filters.grid_unit_id
        )
    residents = selectors.resident_search(
        user=user, query=filters.q, grid_unit=grid_unit, tag=filters.tag or ""
    )
    items, count = paginate(residents, page)
    return {"items": [_resident(user, resident) for resident in items], "count": count}


@router.get("/residents/{resident_id}", response={200: ResidentOut, **ERRORS})
def resident_detail(request: HttpRequest, resident_id: Id) -> dict[str, Any]:
    resident = visible_or_404(
        selectors.resident_get, "resident_id", user=request.auth, resident_id=resident_id
    )
    return _resident(request.auth, resident)


@router.post(
    "/residents/{resident_id}/reveal",
    response={200: ResidentRevealOut, 400: ErrorOut, 429: ErrorOut, **ERRORS},
    summary="Reveal one full phone or ID number (audited)",
    description=(
        "Needs a purpose and a reason. Each person sees at most LINLI_REVEAL_DAILY_QUOTA full "
        "numbers a day (default 30; the count restarts at midnight, Beijing time): over it "
        "the answer is 429 with a Retry-After header and nothing is shown."
    ),
)
def resident_reveal_number(
    request: HttpRequest, response: HttpResponse, resident_id: Id, payload: ResidentRevealIn
):
    resident = visible_or_404(
        selectors.resident_get, "resident_id", user=request.auth, resident_id=resident_id
    )
    try:
        value = resident_reveal(
            user=request.auth,
            resident=resident,
            field=payload.field,
            purpose=payload.purpose,
            reason=payload.reason,
            ip_address=client_address(request),
        )
    except RevealQuotaExceeded as refusal:
        response["Retry-After"] = str(refusal.retry_after_seconds)
        return Status(429, {"message": refusal.message, "field": None})
    return {"field": payload.field, "value": value}


# Visits -------------------------------------------------------------------------------


@router.get("/visits", response={200: VisitPage, **ERRORS})
def visit_list(
    request: HttpRequest, filters: Query[VisitFilters], page: Query[PageIn]
) -> dict[str, Any]:
    visits = selectors.visits_visible(user=request.auth)
    if filters.household_id is not None:
        visits = visits.filter(household_id=filters.household_id)
    if filters.needs_follow_up is not None:
        visits = visits.filter(needs_follow_up=filters.needs_follow_up)
    items, count = paginate(visits.order_by("-visited_at", "-id"), page)
    return {"items": [_visit(visit) for visit in items], "count": count}


@router.get("/visits/{visit_id}", response={200: VisitOut, **ERRORS})
def visit_detail(request: HttpRequest, visit_id: Id) -> dict[str, Any]:
    visit = visible_or_404(selectors.visit_get, "visit_id", user=request.auth, visit_id=visit_id)
    return _visit(visit)


@router.post("/visits", response={201: VisitOut, 400: ErrorOut, **ERRORS})
@idempotent
def visit_create(request: HttpRequest, payload: VisitIn):
    household = visible_or_404(
        selectors.household_get,
        "household_id",
        user=request.auth,
        household_id=payload.household_id,
    )
    visited_at = payload.visited_at
    if visited_at is not None and timezone.is_naive(visited_at):
        visited_at = timezone.make_aware(visited_at)
    visit = visit_record(
        visitor=request.auth,
        household=household,
        method=payload.method,
        finding=payload.finding,
        mood=payload.mood,
        needs_follow_up=payload.needs_follow_up,
        visited_at=visited_at,
    )
    return Status(201, _visit(visit))
