"""Supplies drawn during an emergency: a real movement against the stock, linked to the
activation for its report; the page and the API both go through `supplies_draw`."""

import pytest
from django.core.exceptions import ValidationError

from linli.accounts.roles import Role
from linli.emergency.models import SupplyDraw
from linli.emergency.services import activation_start, supplies_draw
from linli.supplies.models import StockMovement
from linli.supplies.services import stock_location_create, supply_item_create


@pytest.fixture
def sandbags(emergency_world):
    world = emergency_world
    place = stock_location_create(
        actor=world.users[Role.SECRETARY], grid_unit=world.community, name="门卫室服务站"
    )
    return supply_item_create(
        actor=world.users[Role.SECRETARY],
        location=place,
        name="沙袋",
        category="tools",
        unit="个",
        minimum_level=10,
        quantity=40,
    )


@pytest.fixture
def activation(emergency_world, plan):
    return activation_start(
        actor=emergency_world.users[Role.SECRETARY],
        plan=plan,
        scope=emergency_world.community,
        grade=4,
        is_drill=True,
    )


def test_drawing_supplies_moves_stock_and_records_it_on_the_activation(
    emergency_world, activation, sandbags
):
    draw = supplies_draw(
        actor=emergency_world.users[Role.SECRETARY],
        activation=activation,
        item=sandbags,
        quantity=12,
        reason="1号楼地下车库挡水",
    )
    sandbags.refresh_from_db()
    assert sandbags.quantity == 28
    assert (draw.movement.direction, draw.movement.quantity, draw.movement.balance_after) == (
        "out",
        12,
        28,
    )
    event = activation.events.get(kind="supplies_drawn")
    assert event.detail == {"item": "沙袋", "quantity": 12, "unit": "个"}


def test_drawing_more_than_the_stock_is_refused_and_writes_nothing(
    emergency_world, activation, sandbags
):
    with pytest.raises(ValidationError) as refused:
        supplies_draw(
            actor=emergency_world.users[Role.SECRETARY],
            activation=activation,
            item=sandbags,
            quantity=41,
            reason="全部",
        )
    assert refused.value.message_dict["quantity"] == ["Only 40 个 left; nothing was taken out."]
    assert SupplyDraw.objects.count() == 0
    assert StockMovement.objects.filter(direction="out").count() == 0


def test_the_secretary_draws_supplies_from_the_activation_page(
    client, emergency_world, activation, sandbags
):
    client.force_login(emergency_world.users[Role.SECRETARY])
    response = client.post(
        f"/emergency/{activation.pk}/",
        {"action": "draw", "draw-item": sandbags.pk, "draw-quantity": 5, "draw-reason": "发放"},
    )
    assert response.status_code == 302
    assert SupplyDraw.objects.get().movement.quantity == 5
    page = client.get(f"/emergency/{activation.pk}/").content.decode()
    assert 'data-testid="draws"' in page


def test_the_api_draws_supplies_and_names_an_item_outside_the_scope(
    client, emergency_world, activation, sandbags
):
    client.force_login(emergency_world.users[Role.SECRETARY])
    url = f"/api/v1/emergency/activations/{activation.pk}/supplies"
    response = client.post(
        url,
        {"item_id": sandbags.pk, "quantity": 3, "reason": "发放"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json() == {
        "id": SupplyDraw.objects.get().pk,
        "item_id": sandbags.pk,
        "item": "沙袋",
        "quantity": 3,
        "unit": "个",
        "balance_after": 37,
        "reason": "发放",
    }
    response = client.post(
        url, {"item_id": 999999, "quantity": 3, "reason": "x"}, content_type="application/json"
    )
    assert response.status_code == 404
    assert response.json()["field"] == "item_id"


def test_a_micro_grid_lead_may_not_draw_supplies(client, emergency_world, activation, sandbags):
    client.force_login(emergency_world.users[Role.MICRO_GRID_LEAD])
    response = client.post(
        f"/emergency/{activation.pk}/",
        {"action": "draw", "draw-item": sandbags.pk, "draw-quantity": 5, "draw-reason": "发放"},
    )
    assert response.status_code == 403
    sandbags.refresh_from_db()
    assert sandbags.quantity == 40
