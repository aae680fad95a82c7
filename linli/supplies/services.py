"""Every write to supplies: locations, items and the one function that moves stock."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from linli.accounts.models import User
from linli.accounts.roles import Permission, Role
from linli.errors import Conflict, NotAllowed
from linli.grids.models import GridUnit
from linli.grids.selectors import scope_for
from linli.notify.services import notification_send
from linli.supplies.models import (
    MovementDirection,
    StockLocation,
    StockMovement,
    SupplyCategory,
    SupplyItem,
)

MAX_QUANTITY = 1_000_000


def _may_manage(actor, grid_path: str) -> bool:
    return scope_for(actor).allows(Permission.SUPPLIES_MANAGE, grid_path)


def _whole(value, field: str, errors: dict, minimum: int = 1) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors[field] = _("Give a whole number.")
        return 0
    if number < minimum:
        errors[field] = _("Give a whole number of at least %(min)d.") % {"min": minimum}
    elif number > MAX_QUANTITY:
        errors[field] = _("The number is limited to 1,000,000.")
    return number


@transaction.atomic
def stock_location_create(
    *, actor: User, grid_unit: GridUnit, name: str, address: str = ""
) -> StockLocation:
    if not _may_manage(actor, grid_unit.path):
        raise NotAllowed(_("You may not keep supplies here."))
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Name the place, e.g. the shared space's medical box.")})
    if len(name) > 100:
        raise ValidationError({"name": _("The name is limited to 100 characters.")})
    if StockLocation.objects.filter(grid_unit=grid_unit, name=name).exists():
        raise ValidationError({"name": _("There is already a place of that name here.")})
    return StockLocation.objects.create(
        grid_unit=grid_unit, grid_path=grid_unit.path, name=name, address=(address or "")[:200]
    )


@transaction.atomic
def supply_item_create(
    *,
    actor: User,
    location: StockLocation,
    name: str,
    category: str,
    unit: str,
    minimum_level: int = 0,
    expires_on: date | None = None,
    quantity: int = 0,
) -> SupplyItem:
    """A new item (or batch, when it has its own expiry); opening stock is a movement in."""
    if not _may_manage(actor, location.grid_path):
        raise NotAllowed(_("You may not keep supplies here."))
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = _("Name the item.")
    elif len(name) > 100:
        errors["name"] = _("The name is limited to 100 characters.")
    if category not in SupplyCategory.values:
        errors["category"] = _("Unknown category: %(value)s") % {"value": category}
    unit = (unit or "").strip()
    if not unit:
        errors["unit"] = _("Give the unit, e.g. box or bottle.")
    minimum_level = _whole(minimum_level, "minimum_level", errors, minimum=0)
    quantity = _whole(quantity, "quantity", errors, minimum=0)
    if expires_on is not None and not isinstance(expires_on, date):
        errors["expires_on"] = _("Give a date.")
    if (
        not errors
        and SupplyItem.objects.filter(location=location, name=name, expires_on=expires_on).exists()
    ):
        errors["name"] = _("This item (with this expiry) is already kept here.")
    if errors:
        raise ValidationError(errors)
    item = SupplyItem.objects.create(
        location=location,
        grid_path=location.grid_path,
        name=name,
        category=category,
        unit=unit[:20],
        minimum_level=minimum_level,
        expires_on=expires_on,
    )
    if quantity:
        stock_move(
            actor=actor,
            item=item,
            direction=MovementDirection.IN,
            quantity=quantity,
            reason=_("Opening stock"),
        )
        item.refresh_from_db()
    return item


@transaction.atomic
def stock_move(
    *, actor: User, item: SupplyItem, direction: str, quantity: int, reason: str
) -> StockMovement:
    """Stock in or out. Out only succeeds if the stock covers it at the moment of writing:
    the UPDATE's own condition decides, so the last unit goes to exactly one of two people."""
    if not _may_manage(actor, item.grid_path):
        raise NotAllowed(_("You may not move these supplies."))
    errors: dict[str, str] = {}
    if direction not in MovementDirection.values:
        errors["direction"] = _("Choose in or out.")
    quantity = _whole(quantity, "quantity", errors)
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = _("Say why (delivery, distribution, expired …).")
    if errors:
        raise ValidationError(errors)
    items = SupplyItem.objects.filter(pk=item.pk)
    if direction == MovementDirection.IN:
        items.update(quantity=F("quantity") + quantity)
    else:
        changed = items.filter(quantity__gte=quantity).update(quantity=F("quantity") - quantity)
        if not changed:
            left = items.values_list("quantity", flat=True).first() or 0
            # Named at `quantity`: the API's 409 and the form's error both point at it.
            raise Conflict(
                _("Only %(count)d %(unit)s left; nothing was taken out.")
                % {"count": left, "unit": item.unit},
                field="quantity",
            )
    fresh = SupplyItem.objects.select_related("location").get(pk=item.pk)
    movement = StockMovement.objects.create(
        item=fresh,
        grid_path=fresh.grid_path,
        direction=direction,
        quantity=quantity,
        balance_after=fresh.quantity,
        reason=reason[:200],
        actor=actor if actor is not None and actor.is_authenticated else None,
    )
    before = fresh.quantity + quantity if direction == MovementDirection.OUT else None
    if before is not None and before >= fresh.minimum_level > fresh.quantity:
        _warn_below_minimum(fresh)
    return movement


def _warn_below_minimum(item: SupplyItem) -> None:
    """Tell the staff who keep supplies for this place (sent after commit)."""
    keepers = User.objects.filter(
        role_assignments__role__in=[Role.SECRETARY, Role.STREET_ADMIN],
        is_active=True,
    ).distinct()
    recipients = [user for user in keepers if _may_manage(user, item.grid_path)]
    if recipients:
        notification_send(
            recipients=recipients,
            kind="supply_low",
            title=gettext_noop(
                "%(item)s at %(place)s is below its minimum (%(count)d %(unit)s left)"
            ),
            title_params={
                "item": item.name,
                "place": item.location.name,
                "count": item.quantity,
                "unit": item.unit,
            },
            link=reverse("supplies:alerts"),
        )
