"""Supplies: items, append-only movements that never go negative, alerts and scope."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client

from linli.accounts.roles import Role
from linli.notify.models import Notification
from linli.partners.tests.conftest import a_date
from linli.supplies import selectors
from linli.supplies.models import StockMovement, SupplyItem
from linli.supplies.services import stock_location_create, stock_move, supply_item_create


@pytest.fixture
def box(world):
    return stock_location_create(
        actor=world.users[Role.SECRETARY], grid_unit=world.community, name="共享空间医药箱"
    )


def test_item_create_names_the_bad_fields_and_writes_nothing(world, box):
    with pytest.raises(ValidationError) as error:
        supply_item_create(
            actor=world.users[Role.SECRETARY],
            location=box,
            name="",
            category="toys",
            unit="",
            quantity=-1,
        )
    assert set(error.value.message_dict) == {"name", "category", "unit", "quantity"}
    assert SupplyItem.objects.count() == 0


def test_opening_stock_is_a_movement_in(world, box):
    item = supply_item_create(
        actor=world.users[Role.SECRETARY],
        location=box,
        name="碘伏",
        category="medical",
        unit="瓶",
        quantity=5,
    )
    assert item.quantity == 5
    movement = StockMovement.objects.get()
    assert (movement.direction, movement.quantity, movement.balance_after, movement.reason) == (
        "in",
        5,
        5,
        "Opening stock",
    )


def test_taking_out_more_than_is_left_writes_nothing(world, box):
    secretary = world.users[Role.SECRETARY]
    item = supply_item_create(
        actor=secretary, location=box, name="口罩", category="hygiene", unit="包", quantity=2
    )
    with pytest.raises(ValidationError) as error:
        stock_move(actor=secretary, item=item, direction="out", quantity=3, reason="发放")
    assert error.value.message_dict == {"quantity": ["Only 2 包 left; nothing was taken out."]}
    item.refresh_from_db()
    assert (item.quantity, StockMovement.objects.count()) == (2, 1)


def test_the_database_refuses_a_negative_quantity(world, box):
    item = supply_item_create(
        actor=world.users[Role.SECRETARY],
        location=box,
        name="纱布",
        category="medical",
        unit="卷",
        quantity=1,
    )
    with (
        pytest.raises(IntegrityError, match="supplyitem_quantity_not_negative"),
        transaction.atomic(),
    ):
        SupplyItem.objects.filter(pk=item.pk).update(quantity=-1)


def test_movement_needs_a_reason_and_a_positive_whole_number(world, box):
    item = supply_item_create(
        actor=world.users[Role.SECRETARY], location=box, name="水", category="water", unit="箱"
    )
    with pytest.raises(ValidationError) as error:
        stock_move(
            actor=world.users[Role.SECRETARY],
            item=item,
            direction="sideways",
            quantity=0,
            reason="",
        )
    assert set(error.value.message_dict) == {"direction", "quantity", "reason"}
    assert StockMovement.objects.count() == 0


def test_micro_grid_lead_sees_stock_but_cannot_move_it(world, box):
    item = supply_item_create(
        actor=world.users[Role.SECRETARY],
        location=box,
        name="手电",
        category="power",
        unit="个",
        quantity=3,
    )
    lead = world.users[Role.MICRO_GRID_LEAD]
    assert list(selectors.items_visible(user=lead)) == [item]
    with pytest.raises(ValidationError) as error:
        stock_move(actor=lead, item=item, direction="out", quantity=1, reason="借用")
    assert error.value.code == "permission_denied"
    item.refresh_from_db()
    assert item.quantity == 3
    assert list(selectors.items_visible(user=world.users[Role.BUILDING_GROUP_LEADER])) == []
    assert list(selectors.items_visible(user=world.users[Role.RESIDENT])) == []


def test_falling_below_minimum_notifies_the_keepers_once(world, box):
    secretary = world.users[Role.SECRETARY]
    item = supply_item_create(
        actor=secretary,
        location=box,
        name="创可贴",
        category="medical",
        unit="盒",
        quantity=5,
        minimum_level=3,
    )
    stock_move(actor=secretary, item=item, direction="out", quantity=2, reason="发放")
    assert Notification.objects.count() == 0
    stock_move(actor=secretary, item=item, direction="out", quantity=1, reason="发放")
    stock_move(actor=secretary, item=item, direction="out", quantity=1, reason="发放")
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == [
        "secretary",
        "street_admin",
    ]


def test_alerts_list_expired_low_and_expiring_items_most_pressing_first(world, box):
    secretary = world.users[Role.SECRETARY]
    fine = supply_item_create(
        actor=secretary,
        location=box,
        name="棉签",
        category="medical",
        unit="包",
        quantity=9,
        minimum_level=2,
        expires_on=a_date(200),
    )
    low = supply_item_create(
        actor=secretary,
        location=box,
        name="酒精",
        category="medical",
        unit="瓶",
        quantity=1,
        minimum_level=4,
    )
    soon = supply_item_create(
        actor=secretary,
        location=box,
        name="退烧药",
        category="medical",
        unit="盒",
        quantity=9,
        expires_on=a_date(10),
    )
    expired = supply_item_create(
        actor=secretary,
        location=box,
        name="眼药水",
        category="medical",
        unit="瓶",
        quantity=9,
        expires_on=a_date(-1),
    )
    rows = selectors.supply_alerts(user=secretary)
    assert [(row["item"].pk, row["reasons"]) for row in rows] == [
        (expired.pk, ["expired"]),
        (low.pk, ["below_minimum"]),
        (soon.pk, ["expiring"]),
    ]
    assert fine.pk not in [row["item"].pk for row in rows]
    assert selectors.supply_alerts(user=world.users[Role.RESIDENT]) == []


@pytest.mark.parametrize(
    "role, status", [(Role.SECRETARY, 201), (Role.MICRO_GRID_LEAD, 403), (Role.VOLUNTEER, 404)]
)
def test_movement_api_by_role(world, box, role, status):
    from linli.accounts.models import User

    item = supply_item_create(
        actor=world.users[Role.SECRETARY],
        location=box,
        name="饮用水",
        category="water",
        unit="箱",
        quantity=4,
    )
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(User.objects.get(username=role))
    response = client.post(
        f"/api/v1/supplies/items/{item.pk}/movements",
        {"direction": "out", "quantity": 1, "reason": "发放"},
        content_type="application/json",
    )
    assert response.status_code == status
    item.refresh_from_db()
    assert item.quantity == (3 if status == 201 else 4)


def test_stock_out_beyond_stock_answers_409(world, box):
    from linli.accounts.models import User

    item = supply_item_create(
        actor=world.users[Role.SECRETARY],
        location=box,
        name="帐篷",
        category="shelter",
        unit="顶",
        quantity=1,
    )
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(User.objects.get(username=Role.SECRETARY))
    response = client.post(
        f"/api/v1/supplies/items/{item.pk}/movements",
        {"direction": "out", "quantity": 2, "reason": "发放"},
        content_type="application/json",
    )
    assert (response.status_code, response.json()["field"]) == (409, "quantity")
    assert StockMovement.objects.filter(direction="out").count() == 0
