"""Claiming a need with an Idempotency-Key: a retried claim is one claim.

The lists (linli/partners/tests/conftest.py): an open need of household 101 for 2 visits,
the partner unit 静安区人民法院 with its liaison, and the volunteer 陈志愿.
"""

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
from linli.partners.models import Claim, ClaimEvent, Need
from linli.partners.services import resource_offer
from linli.partners.tests.conftest import build_lists
from linli.testing.clients import client_for

URL = "/api/v1/partners"


def claimed(need: Need) -> tuple[int, int, int]:
    need.refresh_from_db()
    return (
        need.claimed_quantity,
        Claim.objects.filter(need=need).count(),
        ClaimEvent.objects.filter(claim__need=need).count(),
    )


def test_a_partner_claiming_twice_with_the_same_key_claims_once(lists):
    liaison = client_for(lists.world.users[Role.PARTNER_LIAISON])
    url = f"{URL}/needs/{lists.need.pk}/claims"
    first = keyed_post(liaison, url, {"quantity": 1})
    second = keyed_post(liaison, url, {"quantity": 1})

    assert_replayed(first, second, 201)
    assert claimed(lists.need) == (1, 1, 1)
    assert records() == 1


def test_a_volunteer_claiming_twice_with_the_same_key_claims_once(lists):
    volunteer = client_for(lists.world.users[Role.VOLUNTEER])
    url = f"{URL}/needs/{lists.need.pk}/claims"
    first = keyed_post(volunteer, url, {"quantity": 1})
    second = keyed_post(volunteer, url, {"quantity": 1})
    assert_replayed(first, second, 201)
    assert claimed(lists.need) == (1, 1, 1)
    assert Claim.objects.get().volunteer_id == lists.volunteer.pk


def test_a_different_key_claims_again(lists):
    liaison = client_for(lists.world.users[Role.PARTNER_LIAISON])
    url = f"{URL}/needs/{lists.need.pk}/claims"
    keyed_post(liaison, url, {"quantity": 1})
    keyed_post(liaison, url, {"quantity": 1}, key=OTHER_KEY)
    assert claimed(lists.need) == (2, 2, 2)


def test_another_quantity_under_the_same_key_is_refused(lists):
    liaison = client_for(lists.world.users[Role.PARTNER_LIAISON])
    url = f"{URL}/needs/{lists.need.pk}/claims"
    keyed_post(liaison, url, {"quantity": 1})
    assert_refused_as_reused(keyed_post(liaison, url, {"quantity": 2}))
    assert claimed(lists.need) == (1, 1, 1)


def test_the_same_key_from_the_partner_and_the_volunteer_are_two_claims(lists):
    url = f"{URL}/needs/{lists.need.pk}/claims"
    keyed_post(client_for(lists.world.users[Role.PARTNER_LIAISON]), url, {"quantity": 1})
    theirs = keyed_post(client_for(lists.world.users[Role.VOLUNTEER]), url, {"quantity": 1})
    assert theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs
    assert claimed(lists.need) == (2, 2, 2)


def test_a_conflict_is_replayed_as_the_same_conflict(lists):
    liaison = client_for(lists.world.users[Role.PARTNER_LIAISON])
    url = f"{URL}/needs/{lists.need.pk}/claims"
    keyed_post(liaison, url, {"quantity": 2}, key=OTHER_KEY)
    first = keyed_post(liaison, url, {"quantity": 1})
    second = keyed_post(liaison, url, {"quantity": 1})
    assert_replayed(first, second, 409)
    assert claimed(lists.need) == (2, 1, 1)


def test_staff_taking_a_resource_twice_with_the_same_key_reserve_it_once(lists):
    world = lists.world
    resource = resource_offer(
        actor=world.users[Role.PARTNER_LIAISON],
        partner=lists.partner,
        kind="people",
        category="elder_care",
        title="助餐送餐",
        quantity=5,
    )
    secretary = client_for(world.users[Role.SECRETARY])
    url = f"{URL}/needs/{lists.need.pk}/claim-resource"
    first = keyed_post(secretary, url, {"resource_id": resource.pk, "quantity": 1})
    second = keyed_post(secretary, url, {"resource_id": resource.pk, "quantity": 1})
    assert_replayed(first, second, 201)
    assert claimed(lists.need) == (1, 1, 1)
    resource.refresh_from_db()
    assert resource.remaining == 4


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are a PostgreSQL matter")
def test_the_same_claim_sent_twice_at_once_claims_once(transactional_db):
    lists = build_lists(build_world())
    url = f"{URL}/needs/{lists.need.pk}/claims"
    user = lists.world.users[Role.PARTNER_LIAISON]
    answers = []

    def send():
        answers.append(keyed_post(client_for(user), url, {"quantity": 1}))

    assert run_together(send, send) == []
    assert sorted(response.status_code for response in answers) == [201, 201]
    assert answers[0].content == answers[1].content
    assert claimed(lists.need) == (1, 1, 1)


# The need page: a double tap on "claim" claims once -------------------------------------------


def test_the_claim_form_sent_twice_claims_once(lists):
    liaison = client_for(lists.world.users[Role.PARTNER_LIAISON])
    url = reverse("partners:need_claim", args=[lists.need.pk])
    page = liaison.get(reverse("partners:need_detail", args=[lists.need.pk])).content.decode()
    token = form_token(page, f'action="{url}"')
    first, second = submit_twice(liaison, url, {"quantity": "1", "once_token": token})
    assert_same_redirect(first, second)
    assert first["Location"] == reverse("partners:claim_detail", args=[Claim.objects.get().pk])
    assert claimed(lists.need) == (1, 1, 1)
