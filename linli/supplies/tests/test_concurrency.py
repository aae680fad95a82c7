"""Two stock-outs of the last unit at once: exactly one wins (PostgreSQL)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from linli.accounts.roles import Role
from linli.conftest import build_world, run_together
from linli.supplies.models import StockMovement
from linli.supplies.services import stock_location_create, stock_move, supply_item_create

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks are a PostgreSQL matter"
    ),
]


@pytest.mark.django_db(transaction=True)
def test_two_stock_outs_of_the_last_unit_exactly_one_wins():
    world = build_world()
    box = stock_location_create(
        actor=world.users[Role.SECRETARY], grid_unit=world.community, name="共享空间医药箱"
    )
    item = supply_item_create(
        actor=world.users[Role.SECRETARY],
        location=box,
        name="AED电极片",
        category="medical",
        unit="副",
        quantity=1,
    )

    def take(role):
        return lambda: stock_move(
            actor=world.users[role], item=item, direction="out", quantity=1, reason="急救"
        )

    errors = run_together(take(Role.SECRETARY), take(Role.STREET_ADMIN))

    assert len(errors) == 1
    assert isinstance(errors[0], ValidationError)
    assert errors[0].error_dict["quantity"][0].code == "conflict"
    item.refresh_from_db()
    assert item.quantity == 0
    assert list(
        StockMovement.objects.filter(direction="out").values_list("balance_after", flat=True)
    ) == [0]
