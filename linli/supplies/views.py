"""Supplies pages: stock by location, one item with its movements, and the alerts.

Reads through supplies.selectors, writes through supplies.services; a refused stock-out is
shown as a message and writes nothing."""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.roles import Permission
from linli.grids import selectors as grid_selectors
from linli.grids.models import GridLevel
from linli.idempotency.web import once_per_form
from linli.supplies import selectors, services
from linli.supplies.models import MovementDirection, SupplyCategory


def _errors(error: ValidationError) -> dict[str, str]:
    if hasattr(error, "error_dict"):
        return {f: " ".join(e.messages[0] for e in errs) for f, errs in error.error_dict.items()}
    return {"general": " ".join(error.messages)}


def _may_see(user) -> bool:
    return grid_selectors.user_can(
        user=user, permission=Permission.SUPPLIES_MANAGE
    ) or grid_selectors.user_can(user=user, permission=Permission.PARTNERS_VIEW)


@login_required
def stock(request):
    user = request.user
    if not _may_see(user):
        raise Http404
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            if request.POST.get("form") == "location":
                unit = grid_selectors.grid_unit_get(
                    user=user, grid_unit_id=request.POST.get("grid_unit")
                )
                services.stock_location_create(
                    actor=user, grid_unit=unit, name=request.POST.get("name", "")
                )
            else:
                location = selectors.location_get(
                    user=user, location_id=request.POST.get("location")
                )
                expires = request.POST.get("expires_on") or None
                try:
                    expires = date.fromisoformat(expires) if expires else None
                except ValueError:
                    raise ValidationError({"expires_on": _("Give a date.")}) from None
                services.supply_item_create(
                    actor=user,
                    location=location,
                    name=request.POST.get("name", ""),
                    category=request.POST.get("category", ""),
                    unit=request.POST.get("unit", ""),
                    minimum_level=request.POST.get("minimum_level", "0"),
                    quantity=request.POST.get("quantity", "0"),
                    expires_on=expires,
                )
        except ValidationError as error:
            errors = _errors(error)
        else:
            messages.success(request, _("Saved."))
            return redirect("supplies:stock")
    can_manage = grid_selectors.user_can(user=user, permission=Permission.SUPPLIES_MANAGE)
    units = (
        [
            unit
            for unit in grid_selectors.grid_units_visible(user=user).filter(
                level__in=[GridLevel.COMMUNITY, GridLevel.MICRO_GRID]
            )
            if grid_selectors.user_can(
                user=user, permission=Permission.SUPPLIES_MANAGE, grid_path=unit.path
            )
        ]
        if can_manage
        else []
    )
    items = selectors.items_visible(user=user)
    return render(
        request,
        "supplies/stock.html",
        {
            "page": Paginator(items, 100).get_page(request.GET.get("page")),
            "locations": list(selectors.locations_visible(user=user)),
            "alerts": len(selectors.supply_alerts(user=user)),
            "can_manage": can_manage,
            "units": units,
            "categories": SupplyCategory.choices,
            "errors": errors,
            "values": request.POST if request.method == "POST" else {},
        },
    )


@login_required
def item_detail(request, item_id: int):
    user = request.user
    item = selectors.item_get(user=user, item_id=item_id)
    return render(
        request,
        "supplies/item_detail.html",
        {
            "item": item,
            "movements": Paginator(
                selectors.movements_visible(user=user).filter(item=item), 50
            ).get_page(request.GET.get("page")),
            "can_manage": grid_selectors.user_can(
                user=user, permission=Permission.SUPPLIES_MANAGE, grid_path=item.grid_path
            ),
            "directions": MovementDirection.choices,
        },
    )


@login_required
@require_POST
@once_per_form
def item_move(request, item_id: int):
    user = request.user
    item = selectors.item_get(user=user, item_id=item_id)
    try:
        services.stock_move(
            actor=user,
            item=item,
            direction=request.POST.get("direction", ""),
            quantity=request.POST.get("quantity", ""),
            reason=request.POST.get("reason", ""),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Movement recorded."))
    return redirect("supplies:item_detail", item.pk)


@login_required
def alerts(request):
    user = request.user
    if not _may_see(user):
        raise Http404
    rows = selectors.supply_alerts(user=user)
    labels = {
        "expired": _("Expired"),
        "expiring": _("Expiring soon"),
        "below_minimum": _("Below minimum"),
    }
    for row in rows:
        row["labels"] = [labels[reason] for reason in row["reasons"]]
    return render(
        request, "supplies/alerts.html", {"rows": rows, "days": selectors.EXPIRY_WARNING_DAYS}
    )
