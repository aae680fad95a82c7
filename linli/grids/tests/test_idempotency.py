"""Recording a visit with an Idempotency-Key: a retried POST records one visit."""

from django.urls import reverse

from linli.accounts.models import AuditEntry
from linli.accounts.roles import Role
from linli.grids.models import Visit
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
from linli.testing.clients import client_for

URL = "/api/v1/visits"


def visit(world, finding: str = "老人身体还好，需要买菜") -> dict:
    return {
        "household_id": world.household.pk,
        "method": "door",
        "finding": finding,
        "needs_follow_up": True,
    }


def test_recording_a_visit_twice_with_the_same_key_records_one(world):
    lead = client_for(world.users[Role.BUILDING_GROUP_LEADER])
    audits = AuditEntry.objects.count()
    first = keyed_post(lead, URL, visit(world))
    after_first = AuditEntry.objects.count()
    second = keyed_post(lead, URL, visit(world))

    assert_replayed(first, second, 201)
    assert Visit.objects.count() == 1
    assert second.json()["id"] == Visit.objects.get().pk
    assert AuditEntry.objects.count() == after_first >= audits
    assert records() == 1


def test_a_different_key_records_a_second_visit(world):
    lead = client_for(world.users[Role.BUILDING_GROUP_LEADER])
    keyed_post(lead, URL, visit(world))
    keyed_post(lead, URL, visit(world), key=OTHER_KEY)
    assert Visit.objects.count() == 2


def test_another_finding_under_the_same_key_is_refused_and_records_nothing(world):
    lead = client_for(world.users[Role.BUILDING_GROUP_LEADER])
    keyed_post(lead, URL, visit(world))
    assert_refused_as_reused(keyed_post(lead, URL, visit(world, "家中无人")))
    assert list(Visit.objects.values_list("finding", flat=True)) == ["老人身体还好，需要买菜"]


def test_the_same_key_from_another_visitor_records_their_visit(world):
    keyed_post(client_for(world.users[Role.BUILDING_GROUP_LEADER]), URL, visit(world))
    theirs = keyed_post(client_for(world.users[Role.MICRO_GRID_LEAD]), URL, visit(world))
    assert theirs.status_code == 201
    assert sorted(Visit.objects.values_list("visitor__username", flat=True)) == [
        "building_group_leader",
        "micro_grid_lead",
    ]


def test_a_refused_visit_is_replayed_as_refused_and_records_nothing(world):
    lead = client_for(world.users[Role.BUILDING_GROUP_LEADER])
    outside = {**visit(world), "household_id": world.other_community_household.pk}
    first = keyed_post(lead, URL, outside)
    second = keyed_post(lead, URL, outside)
    assert_replayed(first, second, 404)
    assert Visit.objects.count() == 0


# The visit page: a double tap records one visit ---------------------------------------------


def test_the_visit_form_sent_twice_records_one_visit(world):
    lead = client_for(world.users[Role.BUILDING_GROUP_LEADER])
    url = f"{reverse('grids:visit_new')}?household={world.household.id}"
    token = form_token(lead.get(url).content.decode(), f'action="{url}"')
    first, second = submit_twice(
        lead,
        url,
        {
            "household": world.household.id,
            "method": "door",
            "finding": "老人身体还好",
            "once_token": token,
        },
    )
    assert_same_redirect(first, second)
    assert Visit.objects.count() == 1
