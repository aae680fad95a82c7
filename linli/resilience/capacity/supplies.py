"""Capacity indicator of the emergency supplies: items at or above their minimum level
(C_SUPPLIES_AT_MINIMUM), by the balance after their last movement before the end."""

from __future__ import annotations

from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from linli.grids.models import GridLevel
from linli.resilience.capacity.common import DRILLDOWN_LIMIT
from linli.resilience.engine import (
    HIGHER,
    Context,
    DrillDown,
    Indicator,
    Measure,
    Unit,
    ratio,
    register,
    rollup,
)
from linli.resilience.models import Dimension
from linli.supplies.models import StockMovement, SupplyItem
from linli.supplies.selectors import items_visible

# C_SUPPLIES_AT_MINIMUM ----------------------------------------------------------------------


def _items_with_balance(context: Context, items):
    """Items with a minimum level, created before the end, with their balance at the end
    (the balance after their last movement before it; 0 before any movement)."""
    last = (
        StockMovement.objects.filter(item=OuterRef("pk"), created_at__lt=context.end)
        .order_by("-created_at", "-id")
        .values("balance_after")[:1]
    )
    return items.filter(minimum_level__gt=0, created_at__lt=context.end).annotate(
        balance=Coalesce(Subquery(last), 0)
    )


def supplies_at_minimum(context: Context) -> dict[str, Measure]:
    rows = list(
        _items_with_balance(
            context, SupplyItem.objects.filter(grid_path__startswith=context.root_path)
        )
        .values_list("grid_path", "balance", "minimum_level")
        .order_by()
    )
    items = rollup(((path, 1) for path, _balance, _minimum in rows), context)
    at_minimum = rollup(
        ((path, 1) for path, balance, minimum in rows if balance >= minimum), context
    )
    return ratio(at_minimum, items, context)


def supplies_at_minimum_rows(context: Context, unit: Unit, user) -> DrillDown:
    """The items below their minimum at the end, furthest below first."""
    items = [
        item
        for item in _items_with_balance(
            context, items_visible(user=user).filter(grid_path__startswith=unit.path)
        ).order_by("grid_path", "name", "id")
        if item.balance < item.minimum_level
    ]
    items.sort(key=lambda item: (item.balance - item.minimum_level, item.grid_path, item.pk))
    rows, links = [], []
    for item in items[:DRILLDOWN_LIMIT]:
        rows.append(
            [
                item.name,
                item.location.name,
                f"{item.balance} {item.unit}",
                f"{item.minimum_level} {item.unit}",
            ]
        )
        links.append(reverse("supplies:item_detail", args=[item.pk]))
    return DrillDown(
        columns=[str(_("Item")), str(_("Location")), str(_("Balance")), str(_("Minimum level"))],
        rows=rows,
        links=links,
        total=len(items),
        note=str(_("Supply items below their minimum level at the end of the period.")),
    )


# The catalogue ------------------------------------------------------------------------------

register(
    Indicator(
        code="C_SUPPLIES_AT_MINIMUM",
        dimension=Dimension.CAPACITY,
        name=_("Supply items at or above their minimum"),
        formula=_(
            "supply items whose balance at the end was at or above their minimum level ÷ "
            "supply items with a minimum level"
        ),
        source=_("Emergency supplies (物资) and their movements"),
        direction=HIGHER,
        target=1.0,
        unit="share",
        compute=supplies_at_minimum,
        drilldown=supplies_at_minimum_rows,
        finest_level=GridLevel.MICRO_GRID,
    )
)
