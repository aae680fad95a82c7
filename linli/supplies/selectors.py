"""Reads of supplies, scoped through grids.selectors.scope_for (SUPPLIES_MANAGE or
PARTNERS_VIEW on the item's grid path: staff who plan resources see the stock too)."""

from datetime import date, timedelta
from typing import TypedDict

from django.db.models import F, Q, QuerySet

from linli import clock
from linli.accounts.grid_paths import within_or_above
from linli.accounts.models import User
from linli.accounts.roles import Permission
from linli.errors import get_visible_or_404
from linli.grids.selectors import scope_for
from linli.supplies.models import StockLocation, StockMovement, SupplyItem

EXPIRY_WARNING_DAYS = 30


class SupplyAlert(TypedDict):
    item: SupplyItem
    reasons: list[str]  # "expired", "expiring", "below_minimum"
    days_left: int | None


def _reaching(user: User | None) -> Q:
    """Stock kept in the user's subtrees, and stock kept on a unit above them (a micro-grid
    lead draws on the community's store)."""
    scope = scope_for(user)
    return within_or_above(
        scope.paths_for(Permission.SUPPLIES_MANAGE) + scope.paths_for(Permission.PARTNERS_VIEW)
    )


def locations_visible(*, user: User | None) -> QuerySet[StockLocation]:
    return StockLocation.objects.filter(_reaching(user)).select_related("grid_unit")


def location_get(*, user: User | None, location_id: int) -> StockLocation:
    return get_visible_or_404(locations_visible(user=user), location_id)


def items_visible(*, user: User | None) -> QuerySet[SupplyItem]:
    return SupplyItem.objects.filter(_reaching(user)).select_related("location")


def item_get(*, user: User | None, item_id: int) -> SupplyItem:
    return get_visible_or_404(items_visible(user=user), item_id)


def movements_visible(*, user: User | None) -> QuerySet[StockMovement]:
    return StockMovement.objects.filter(_reaching(user)).select_related("item", "actor")


def supply_alerts(
    *, user: User | None, today: date | None = None, days: int = EXPIRY_WARNING_DAYS
) -> list[SupplyAlert]:
    """Items below their minimum level or expiring within `days` (expired ones included),
    each with the reasons; most pressing first (expired, then below minimum, then soonest)."""
    today = today or clock.localdate()
    horizon = today + timedelta(days=days)
    items = items_visible(user=user).filter(
        Q(quantity__lt=F("minimum_level")) | Q(expires_on__lte=horizon)
    )
    rows: list[SupplyAlert] = []
    for item in items:
        reasons = []
        expired = item.expires_on is not None and item.expires_on < today
        if expired:
            reasons.append("expired")
        elif item.expires_on is not None and item.expires_on <= horizon:
            reasons.append("expiring")
        if item.quantity < item.minimum_level:
            reasons.append("below_minimum")
        rows.append(
            SupplyAlert(
                item=item,
                reasons=reasons,
                days_left=(item.expires_on - today).days if item.expires_on else None,
            )
        )
    rows.sort(
        key=lambda row: (
            "expired" not in row["reasons"],
            "below_minimum" not in row["reasons"],
            row["days_left"] if row["days_left"] is not None else 10**6,
            row["item"].pk,
        )
    )
    return rows
