"""Reads of supplies, scoped through grids.selectors.scope_for (SUPPLIES_MANAGE or
PARTNERS_VIEW on the item's grid path: staff who plan resources see the stock too)."""

from datetime import date, timedelta

from django.db.models import F, Q, QuerySet
from django.http import Http404

from linli import clock
from linli.accounts.models import User
from linli.accounts.roles import Permission
from linli.grids.selectors import scope_for
from linli.supplies.models import StockLocation, StockMovement, SupplyItem

EXPIRY_WARNING_DAYS = 30


def _paths(user) -> list[str]:
    scope = scope_for(user)
    return sorted(
        set(scope.paths_for(Permission.SUPPLIES_MANAGE))
        | set(scope.paths_for(Permission.PARTNERS_VIEW))
    )


def _reaching(user) -> Q:
    """Stock kept in the user's subtrees, and stock kept on a unit above them (a micro-grid
    lead draws on the community's store)."""
    paths = _paths(user)
    condition = Q(pk__in=[])
    ancestors: set[str] = set()
    for path in paths:
        condition |= Q(grid_path__startswith=path)
        parts = path.strip("/").split("/")
        ancestors |= {"/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))}
    if ancestors:
        condition |= Q(grid_path__in=sorted(ancestors))
    return condition


def locations_visible(*, user: User | None) -> QuerySet[StockLocation]:
    return StockLocation.objects.filter(_reaching(user)).select_related("grid_unit")


def location_get(*, user: User | None, location_id: int) -> StockLocation:
    try:
        return locations_visible(user=user).get(pk=location_id)
    except (StockLocation.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def items_visible(*, user: User | None) -> QuerySet[SupplyItem]:
    return SupplyItem.objects.filter(_reaching(user)).select_related("location")


def item_get(*, user: User | None, item_id: int) -> SupplyItem:
    try:
        return items_visible(user=user).get(pk=item_id)
    except (SupplyItem.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def movements_visible(*, user: User | None) -> QuerySet[StockMovement]:
    return StockMovement.objects.filter(_reaching(user)).select_related("item", "actor")


def supply_alerts(
    *, user: User | None, today: date | None = None, days: int = EXPIRY_WARNING_DAYS
) -> list[dict]:
    """Items below their minimum level or expiring within `days` (expired ones included),
    each with the reasons; most pressing first (expired, then below minimum, then soonest)."""
    today = today or clock.localdate()
    horizon = today + timedelta(days=days)
    items = items_visible(user=user).filter(
        Q(quantity__lt=F("minimum_level")) | Q(expires_on__lte=horizon)
    )
    rows = []
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
            {
                "item": item,
                "reasons": reasons,
                "days_left": (item.expires_on - today).days if item.expires_on else None,
            }
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
