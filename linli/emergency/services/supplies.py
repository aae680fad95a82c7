"""Supplies drawn for an emergency: a real movement against the stock, kept with the
activation for its after-action report."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.emergency.models import Activation, EventKind, HelpRequest, SupplyDraw, Task
from linli.emergency.services.guards import locked_activation
from linli.emergency.services.timeline import event_record
from linli.supplies.models import MovementDirection, SupplyItem
from linli.supplies.services import stock_move


@transaction.atomic
def supplies_draw(
    *,
    actor: User,
    activation: Activation,
    item: SupplyItem,
    quantity: int,
    reason: str,
    task: Task | None = None,
    help_request: HelpRequest | None = None,
) -> SupplyDraw:
    """Stock taken out for the emergency: a real movement against the stock (the supplies
    service checks and locks), linked to the activation for its report."""
    activation = locked_activation(activation)
    if not item.grid_path.startswith(activation.grid_path) and not activation.grid_path.startswith(
        item.grid_path
    ):
        raise ValidationError(
            {"item": _("These supplies are not kept for this emergency's scope.")}
        )
    movement = stock_move(
        actor=actor,
        item=item,
        direction=MovementDirection.OUT,
        quantity=quantity,
        reason=reason,
    )
    draw = SupplyDraw.objects.create(
        activation=activation, movement=movement, task=task, help_request=help_request
    )
    event_record(
        activation,
        EventKind.SUPPLIES_DRAWN,
        actor,
        item=item.name,
        quantity=movement.quantity,
        unit=item.unit,
    )
    return draw
