"""`/api/v1/supplies`: stock locations, items, movements (append-only) and alerts.

Mounted by linli/api.py with `api.add_router("/supplies", router)`; conventions as in
grids.api and cases.api. A stock-out larger than the stock answers 409 and writes nothing.
"""

from datetime import date, datetime

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema, Status

from linli.api_shared import (
    ERRORS,
    WRITE_ERRORS,
    BoundedDate,
    DaysSpan,
    Id,
    PageIn,
    column_int,
    column_text,
    paginate,
    visible_or_404,
)
from linli.grids import selectors as grid_selectors
from linli.idempotency.decorators import idempotent
from linli.supplies import selectors, services
from linli.supplies.models import StockLocation, StockMovement, SupplyItem

router = Router(tags=["supplies"])


class LocationOut(Schema):
    id: int
    name: str
    grid_unit: str
    address: str


class LocationPage(Schema):
    items: list[LocationOut]
    count: int


class LocationIn(Schema):
    grid_unit_id: Id
    name: column_text(StockLocation, "name")
    address: column_text(StockLocation, "address") = ""


class ItemOut(Schema):
    id: int
    location_id: int
    location: str
    name: str
    category: str
    unit: str
    quantity: int
    minimum_level: int
    expires_on: date | None
    below_minimum: bool


class ItemPage(Schema):
    items: list[ItemOut]
    count: int


class ItemIn(Schema):
    location_id: Id
    name: column_text(SupplyItem, "name")
    category: column_text(SupplyItem, "category")
    unit: column_text(SupplyItem, "unit")
    minimum_level: column_int(SupplyItem, "minimum_level") = 0
    expires_on: BoundedDate | None = None
    quantity: column_int(SupplyItem, "quantity") = 0


class MovementIn(Schema):
    direction: column_text(StockMovement, "direction")
    quantity: column_int(StockMovement, "quantity")
    reason: column_text(StockMovement, "reason")


class MovementOut(Schema):
    id: int
    item_id: int
    direction: str
    quantity: int
    balance_after: int
    reason: str
    actor: str
    created_at: datetime


class MovementPage(Schema):
    items: list[MovementOut]
    count: int


class AlertOut(Schema):
    item: ItemOut
    reasons: list[str]
    days_left: int | None


def _location(location: StockLocation) -> dict:
    return {
        "id": location.pk,
        "name": location.name,
        "grid_unit": location.grid_unit.name,
        "address": location.address,
    }


def _item(item: SupplyItem) -> dict:
    return {
        "id": item.pk,
        "location_id": item.location_id,
        "location": item.location.name,
        "name": item.name,
        "category": item.category,
        "unit": item.unit,
        "quantity": item.quantity,
        "minimum_level": item.minimum_level,
        "expires_on": item.expires_on,
        "below_minimum": item.is_below_minimum,
    }


def _movement(movement: StockMovement) -> dict:
    return {
        "id": movement.pk,
        "item_id": movement.item_id,
        "direction": movement.direction,
        "quantity": movement.quantity,
        "balance_after": movement.balance_after,
        "reason": movement.reason,
        "actor": str(movement.actor) if movement.actor_id else "",
        "created_at": timezone.localtime(movement.created_at),
    }


@router.get("/locations", response={200: LocationPage, **ERRORS})
def location_list(request: HttpRequest, page: Query[PageIn]) -> dict:
    items, count = paginate(selectors.locations_visible(user=request.auth), page)
    return {"items": [_location(x) for x in items], "count": count}


@router.post("/locations", response={201: LocationOut, **WRITE_ERRORS})
def location_add(request: HttpRequest, payload: LocationIn):
    unit = visible_or_404(
        grid_selectors.grid_unit_get,
        "grid_unit_id",
        user=request.auth,
        grid_unit_id=payload.grid_unit_id,
    )
    location = services.stock_location_create(
        actor=request.auth, grid_unit=unit, name=payload.name, address=payload.address
    )
    return Status(201, _location(location))


@router.get("/items", response={200: ItemPage, **ERRORS})
def item_list(request: HttpRequest, page: Query[PageIn], location_id: Id | None = None) -> dict:
    items = selectors.items_visible(user=request.auth)
    if location_id is not None:
        items = items.filter(location_id=location_id)
    found, count = paginate(items, page)
    return {"items": [_item(x) for x in found], "count": count}


@router.post("/items", response={201: ItemOut, **WRITE_ERRORS})
def item_add(request: HttpRequest, payload: ItemIn):
    location = visible_or_404(
        selectors.location_get, "location_id", user=request.auth, location_id=payload.location_id
    )
    item = services.supply_item_create(
        actor=request.auth, location=location, **payload.dict(exclude={"location_id"})
    )
    return Status(201, _item(item))


@router.get("/items/{item_id}", response={200: ItemOut, **ERRORS})
def item_detail(request: HttpRequest, item_id: Id) -> dict:
    return _item(visible_or_404(selectors.item_get, "item_id", user=request.auth, item_id=item_id))


@router.get("/items/{item_id}/movements", response={200: MovementPage, **ERRORS})
def movement_list(request: HttpRequest, item_id: Id, page: Query[PageIn]) -> dict:
    item = visible_or_404(selectors.item_get, "item_id", user=request.auth, item_id=item_id)
    found, count = paginate(selectors.movements_visible(user=request.auth).filter(item=item), page)
    return {"items": [_movement(x) for x in found], "count": count}


@router.post("/items/{item_id}/movements", response={201: MovementOut, **WRITE_ERRORS})
@idempotent
def movement_add(request: HttpRequest, item_id: Id, payload: MovementIn):
    item = visible_or_404(selectors.item_get, "item_id", user=request.auth, item_id=item_id)
    # Stock short of the quantity is a Conflict at `quantity`: linli/api.py answers it 409.
    movement = services.stock_move(actor=request.auth, item=item, **payload.dict())
    return Status(201, _movement(movement))


@router.get("/alerts", response={200: list[AlertOut], **ERRORS})
def alert_list(request: HttpRequest, days: DaysSpan = selectors.EXPIRY_WARNING_DAYS) -> list[dict]:
    return [
        {**row, "item": _item(row["item"])}
        for row in selectors.supply_alerts(user=request.auth, days=max(0, min(days, 365)))
    ]
