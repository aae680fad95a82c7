"""Two providers taking the last unit of a need at once: exactly one wins (PostgreSQL)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from linli.accounts.roles import Role
from linli.conftest import build_world, run_together
from linli.partners.models import Claim, ClaimEvent, Need
from linli.partners.services import claim_need, need_create
from linli.partners.tests.conftest import build_lists

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks are a PostgreSQL matter"
    ),
]


@pytest.mark.django_db(transaction=True)
def test_two_providers_claiming_the_last_unit_exactly_one_wins():
    lists = build_lists(build_world())
    world = lists.world
    need = need_create(
        actor=world.users[Role.SECRETARY],
        category="elder_care",
        title="最后一次助浴",
        quantity=3,
        household=world.household,
    )
    claim_need(actor=world.users[Role.SECRETARY], need=need, quantity=2, partner=lists.partner)

    errors = run_together(
        lambda: claim_need(
            actor=world.users[Role.PARTNER_LIAISON], need=need, quantity=1, partner=lists.partner
        ),
        lambda: claim_need(
            actor=world.users[Role.VOLUNTEER], need=need, quantity=1, volunteer=lists.volunteer
        ),
    )

    assert len(errors) == 1
    assert isinstance(errors[0], ValidationError) and errors[0].code == "conflict"
    need.refresh_from_db()
    assert (need.claimed_quantity, need.state) == (3, "claimed")
    assert Claim.objects.filter(need=need).count() == 2
    assert ClaimEvent.objects.filter(claim__need=need).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_fully_claimed_need_answers_a_conflict_and_writes_nothing():
    lists = build_lists(build_world())
    world = lists.world
    claim_need(
        actor=world.users[Role.PARTNER_LIAISON], need=lists.need, quantity=2, partner=lists.partner
    )
    with pytest.raises(ValidationError) as error:
        claim_need(
            actor=world.users[Role.VOLUNTEER],
            need=lists.need,
            quantity=1,
            volunteer=lists.volunteer,
        )
    assert error.value.code == "conflict"
    assert Claim.objects.count() == 1
    assert Need.objects.get(pk=lists.need.pk).claimed_quantity == 2
