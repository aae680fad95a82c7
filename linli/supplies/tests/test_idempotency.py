"""A stock movement with an Idempotency-Key: a retried POST moves the stock once."""

import pytest
from django.db import connection
from django.urls import reverse

from linli.accounts.roles import Role
from linli.conftest import build_world, run_together
from linli.idempotency.tests.helpers import (
    OTHER_KEY,
    assert_refused_as_reused,
    assert_replayed,
    assert_same_redirect,
    form_token,
    keyed_post,
    records,
    submit_twice,
)
from linli.supplies.models import StockMovement, SupplyItem
from linli.supplies.services import stock_location_create, supply_item_create
from linli.testing.clients import client_for


def rice(world) -> SupplyItem:
    secretary = world.users[Role.SECRETARY]
    place = stock_location_create(actor=secretary, grid_unit=world.community, name="社区仓库")
    return supply_item_create(
        actor=secretary,
        location=place,
        name="大米",
        category="food",
        unit="袋",
        minimum_level=5,
        quantity=35,
    )


@pytest.fixture
def item(world) -> SupplyItem:
    return rice(world)


def url(item: SupplyItem) -> str:
    return f"/api/v1/supplies/items/{item.pk}/movements"


def out(quantity: int = 1, reason: str = "发放给独居老人") -> dict:
    return {"direction": "out", "quantity": quantity, "reason": reason}


def level(item: SupplyItem) -> tuple[int, int]:
    item.refresh_from_db()
    return item.quantity, StockMovement.objects.filter(item=item).count()


def test_taking_stock_out_twice_with_the_same_key_moves_it_once(world, item):
    _, movements = level(item)
    secretary = client_for(world.users[Role.SECRETARY])
    first = keyed_post(secretary, url(item), out())
    second = keyed_post(secretary, url(item), out())

    assert_replayed(first, second, 201)
    assert first.json()["balance_after"] == 34
    assert level(item) == (34, movements + 1)
    assert records() == 1


def test_without_a_key_the_same_movement_twice_moves_twice(world, item):
    _, movements = level(item)
    secretary = client_for(world.users[Role.SECRETARY])
    keyed_post(secretary, url(item), out(), key=None)
    keyed_post(secretary, url(item), out(), key=None)
    assert level(item) == (33, movements + 2)


def test_a_different_key_moves_the_stock_again(world, item):
    _, movements = level(item)
    secretary = client_for(world.users[Role.SECRETARY])
    keyed_post(secretary, url(item), out())
    keyed_post(secretary, url(item), out(), key=OTHER_KEY)
    assert level(item) == (33, movements + 2)


def test_another_quantity_under_the_same_key_is_refused_and_moves_nothing(world, item):
    _, movements = level(item)
    secretary = client_for(world.users[Role.SECRETARY])
    keyed_post(secretary, url(item), out())
    assert_refused_as_reused(keyed_post(secretary, url(item), out(quantity=4)))
    assert level(item) == (34, movements + 1)


def test_the_same_key_from_another_storekeeper_is_their_own_movement(world, item):
    _, movements = level(item)
    keyed_post(client_for(world.users[Role.SECRETARY]), url(item), out())
    theirs = keyed_post(client_for(world.users[Role.STREET_ADMIN]), url(item), out())
    assert theirs.status_code == 201
    assert level(item) == (33, movements + 2)


def test_a_refused_movement_is_replayed_and_moves_nothing(world, item):
    _, movements = level(item)
    secretary = client_for(world.users[Role.SECRETARY])
    first = keyed_post(secretary, url(item), out(quantity=36))
    second = keyed_post(secretary, url(item), out(quantity=36))
    assert_replayed(first, second, 409)
    assert level(item) == (35, movements)


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are a PostgreSQL matter")
def test_the_same_movement_sent_three_times_at_once_moves_the_stock_once(transactional_db):
    world = build_world()
    item = rice(world)
    _, movements = level(item)
    answers = []

    def send():
        answers.append(keyed_post(client_for(world.users[Role.SECRETARY]), url(item), out()))

    assert run_together(send, send, send) == []
    assert sorted(response.status_code for response in answers) == [201, 201, 201]
    assert len({response.content for response in answers}) == 1
    assert level(item) == (34, movements + 1)


# The web form: a double tap on "record" moves the stock once --------------------------------


def test_the_movement_form_sent_twice_moves_the_stock_once(world, item):
    _, movements = level(item)
    secretary = client_for(world.users[Role.SECRETARY])
    url = reverse("supplies:item_move", args=[item.pk])
    page = secretary.get(reverse("supplies:item_detail", args=[item.pk])).content.decode()
    token = form_token(page, f'action="{url}"')
    first, second = submit_twice(secretary, url, {**out(), "once_token": token})
    assert_same_redirect(first, second)
    assert level(item) == (34, movements + 1)
