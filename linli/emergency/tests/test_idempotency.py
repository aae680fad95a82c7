"""Emergency writes with an Idempotency-Key: a help request, supplies drawn for the
emergency and a field report are each done once however often the POST is retried.

The world (linli/emergency/tests/conftest.py): A社区's typhoon plan (two tries before a
welfare check escalates) started as a grade IV drill; 张桂英's household (1号楼 101) has a
welfare check held by 陈志愿. A help request from 101 tells the micro-grid lead of A1 and
the party secretary of A社区: two notifications, one in-app outbox message each.
"""

import pytest
from django.db import connection
from django.urls import reverse

from linli.accounts.roles import Role
from linli.conftest import run_together
from linli.emergency.models import Activation, HelpRequest, SupplyDraw, Task, TaskReport
from linli.emergency.services import activation_start, task_report
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
from linli.notify.models import Notification, OutboxMessage
from linli.supplies.models import StockMovement, SupplyItem
from linli.supplies.services import stock_location_create, supply_item_create
from linli.testing.clients import client_for

URL = "/api/v1/emergency"


@pytest.fixture
def activation(emergency_world, plan) -> Activation:
    return activation_start(
        actor=emergency_world.users[Role.SECRETARY],
        plan=plan,
        scope=emergency_world.community,
        grade=4,
        is_drill=True,
    )


@pytest.fixture
def check_101(activation) -> Task:
    return Task.objects.get(activation=activation, household__room="101")


@pytest.fixture
def sandbags(emergency_world) -> SupplyItem:
    secretary = emergency_world.users[Role.SECRETARY]
    place = stock_location_create(actor=secretary, grid_unit=emergency_world.community, name="仓库")
    return supply_item_create(
        actor=secretary,
        location=place,
        name="沙袋",
        category="tools",
        unit="个",
        minimum_level=10,
        quantity=35,
    )


def help_body(world, description: str = "家里没有米了") -> dict:
    return {
        "household_id": world.household.pk,
        "kind": "food",
        "urgency": 3,
        "description": description,
    }


def messages() -> tuple[int, int]:
    return Notification.objects.count(), OutboxMessage.objects.count()


# Help requests -------------------------------------------------------------------------


def test_asking_for_help_twice_with_the_same_key_files_one_request_and_tells_people_once(
    emergency_world, activation
):
    world = emergency_world
    before = messages()
    resident = client_for(world.users[Role.RESIDENT])
    first = keyed_post(resident, f"{URL}/help-requests", help_body(world))
    second = keyed_post(resident, f"{URL}/help-requests", help_body(world))

    assert_replayed(first, second, 201)
    assert HelpRequest.objects.count() == 1
    assert second.json()["id"] == HelpRequest.objects.get().pk
    notified = Notification.objects.filter(kind="emergency_help")
    assert sorted(notified.values_list("recipient__username", flat=True)) == [
        "building_group_leader",
        "micro_grid_lead",
        "secretary",
    ]
    assert messages() == (before[0] + 3, before[1] + 3)
    assert records() == 1


def test_a_different_key_is_a_second_help_request(emergency_world, activation):
    world = emergency_world
    before = messages()
    resident = client_for(world.users[Role.RESIDENT])
    keyed_post(resident, f"{URL}/help-requests", help_body(world))
    keyed_post(resident, f"{URL}/help-requests", help_body(world), key=OTHER_KEY)
    assert HelpRequest.objects.count() == 2
    assert messages() == (before[0] + 6, before[1] + 6)


def test_the_same_key_with_another_help_request_is_refused_and_tells_nobody(
    emergency_world, activation
):
    world = emergency_world
    resident = client_for(world.users[Role.RESIDENT])
    keyed_post(resident, f"{URL}/help-requests", help_body(world))
    after_first = messages()
    refused = keyed_post(resident, f"{URL}/help-requests", help_body(world, "老人摔倒"))
    assert_refused_as_reused(refused)
    assert list(HelpRequest.objects.values_list("description", flat=True)) == ["家里没有米了"]
    assert messages() == after_first


def test_the_same_key_from_staff_on_the_households_behalf_is_their_own(emergency_world, activation):
    world = emergency_world
    keyed_post(client_for(world.users[Role.RESIDENT]), f"{URL}/help-requests", help_body(world))
    theirs = keyed_post(
        client_for(world.users[Role.SECRETARY]),
        f"{URL}/help-requests",
        {**help_body(world), "on_behalf": True},
    )
    assert theirs.status_code == 201
    assert HelpRequest.objects.count() == 2


# Supplies drawn during the emergency -----------------------------------------------------


def test_drawing_supplies_twice_with_the_same_key_takes_them_out_once(
    emergency_world, activation, sandbags
):
    secretary = client_for(emergency_world.users[Role.SECRETARY])
    body = {"item_id": sandbags.pk, "quantity": 1, "reason": "1号楼地下车库挡水"}
    first = keyed_post(secretary, f"{URL}/activations/{activation.pk}/supplies", body)
    second = keyed_post(secretary, f"{URL}/activations/{activation.pk}/supplies", body)

    assert_replayed(first, second, 201)
    assert first.json()["balance_after"] == 34
    sandbags.refresh_from_db()
    assert sandbags.quantity == 34
    assert SupplyDraw.objects.count() == 1
    assert StockMovement.objects.filter(direction="out").count() == 1
    assert activation.events.filter(kind="supplies_drawn").count() == 1


def test_drawing_again_with_a_different_key_takes_out_more(emergency_world, activation, sandbags):
    secretary = client_for(emergency_world.users[Role.SECRETARY])
    body = {"item_id": sandbags.pk, "quantity": 1, "reason": "挡水"}
    keyed_post(secretary, f"{URL}/activations/{activation.pk}/supplies", body)
    keyed_post(secretary, f"{URL}/activations/{activation.pk}/supplies", body, key=OTHER_KEY)
    sandbags.refresh_from_db()
    assert sandbags.quantity == 33
    assert SupplyDraw.objects.count() == 2


def test_drawing_another_quantity_under_the_same_key_is_refused(
    emergency_world, activation, sandbags
):
    secretary = client_for(emergency_world.users[Role.SECRETARY])
    url = f"{URL}/activations/{activation.pk}/supplies"
    keyed_post(secretary, url, {"item_id": sandbags.pk, "quantity": 1, "reason": "挡水"})
    refused = keyed_post(secretary, url, {"item_id": sandbags.pk, "quantity": 5, "reason": "挡水"})
    assert_refused_as_reused(refused)
    sandbags.refresh_from_db()
    assert sandbags.quantity == 34
    assert SupplyDraw.objects.count() == 1


# Field reports ---------------------------------------------------------------------------


def test_reporting_no_answer_twice_with_the_same_key_counts_one_try(emergency_world, check_101):
    volunteer = client_for(emergency_world.users[Role.VOLUNTEER])
    url = f"{URL}/tasks/{check_101.pk}/report"
    before = messages()
    first = keyed_post(volunteer, url, {"outcome": "no_answer", "note": "敲门无人应"})
    second = keyed_post(volunteer, url, {"outcome": "no_answer", "note": "敲门无人应"})

    assert_replayed(first, second, 200)
    check_101.refresh_from_db()
    # The plan allows two tries: a second counted try would have escalated the check.
    assert (check_101.attempts, check_101.state) == (1, "retry")
    assert TaskReport.objects.filter(task=check_101).count() == 1
    assert messages() == before


def test_a_second_no_answer_with_its_own_key_is_the_second_try(emergency_world, check_101):
    volunteer = client_for(emergency_world.users[Role.VOLUNTEER])
    url = f"{URL}/tasks/{check_101.pk}/report"
    keyed_post(volunteer, url, {"outcome": "no_answer"})
    second = keyed_post(volunteer, url, {"outcome": "no_answer"}, key=OTHER_KEY)
    assert second.status_code == 200
    check_101.refresh_from_db()
    assert (check_101.attempts, check_101.state) == (2, "escalated")
    assert TaskReport.objects.filter(task=check_101).count() == 2


def test_a_report_that_files_a_help_request_files_it_once(emergency_world, check_101):
    volunteer = client_for(emergency_world.users[Role.VOLUNTEER])
    url = f"{URL}/tasks/{check_101.pk}/report"
    body = {
        "outcome": "needs_help",
        "help_kind": "medicine",
        "help_urgency": 2,
        "help_description": "降压药只剩一天",
    }
    first = keyed_post(volunteer, url, body)
    second = keyed_post(volunteer, url, body)
    assert_replayed(first, second, 200)
    assert HelpRequest.objects.count() == 1
    assert first.json()["help_request_id"] == HelpRequest.objects.get().pk


def test_another_outcome_under_the_same_key_is_refused(emergency_world, check_101):
    volunteer = client_for(emergency_world.users[Role.VOLUNTEER])
    url = f"{URL}/tasks/{check_101.pk}/report"
    keyed_post(volunteer, url, {"outcome": "no_answer"})
    assert_refused_as_reused(keyed_post(volunteer, url, {"outcome": "safe"}))
    check_101.refresh_from_db()
    assert (check_101.attempts, check_101.state, check_101.outcome) == (1, "retry", "no_answer")


# PostgreSQL: the same report sent twice at the same instant --------------------------------


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are a PostgreSQL matter")
def test_the_same_no_answer_sent_twice_at_once_counts_one_try(
    transactional_db, emergency_world, check_101
):
    url = f"{URL}/tasks/{check_101.pk}/report"
    user = emergency_world.users[Role.VOLUNTEER]
    answers = []

    def send():
        answers.append(keyed_post(client_for(user), url, {"outcome": "no_answer"}))

    assert run_together(send, send) == []
    assert sorted(response.status_code for response in answers) == [200, 200]
    assert answers[0].content == answers[1].content
    check_101.refresh_from_db()
    assert (check_101.attempts, check_101.state) == (1, "retry")
    assert TaskReport.objects.filter(task=check_101).count() == 1


# The web pages: a double tap does it once -----------------------------------------------------


def test_the_help_form_sent_twice_files_one_request(emergency_world, activation):
    resident = client_for(emergency_world.users[Role.RESIDENT])
    url = reverse("emergency:help_new")
    token = form_token(resident.get(url).content.decode(), 'data-testid="help-form"')
    before = messages()
    first, second = submit_twice(
        resident,
        url,
        {"kind": "food", "urgency": "3", "description": "家里没有米了", "once_token": token},
    )
    assert_same_redirect(first, second)
    assert first["Location"] == reverse(
        "emergency:help_detail", args=[HelpRequest.objects.get().pk]
    )
    assert messages() == (before[0] + 3, before[1] + 3)


def test_no_answer_tapped_twice_on_the_task_card_counts_one_try(emergency_world, check_101):
    volunteer = client_for(emergency_world.users[Role.VOLUNTEER])
    url = reverse("emergency:my_task_report", args=[check_101.pk])
    page = volunteer.get(reverse("emergency:my_tasks")).content.decode()
    token = form_token(page, f'action="{url}"')
    first, second = submit_twice(volunteer, url, {"outcome": "no_answer", "once_token": token})
    assert_same_redirect(first, second)
    check_101.refresh_from_db()
    assert (check_101.attempts, check_101.state) == (1, "retry")
    assert TaskReport.objects.filter(task=check_101).count() == 1


def test_the_draw_form_sent_twice_draws_once(emergency_world, activation, sandbags):
    secretary = client_for(emergency_world.users[Role.SECRETARY])
    url = reverse("emergency:activation_detail", args=[activation.pk])
    token = form_token(secretary.get(url).content.decode(), 'data-testid="draw-form"')
    first, second = submit_twice(
        secretary,
        url,
        {
            "action": "draw",
            "draw-item": sandbags.pk,
            "draw-quantity": 1,
            "draw-reason": "挡水",
            "once_token": token,
        },
    )
    assert_same_redirect(first, second)
    sandbags.refresh_from_db()
    assert sandbags.quantity == 34
    assert SupplyDraw.objects.count() == 1


def test_the_outcome_form_sent_twice_records_one_outcome(emergency_world, check_101):
    world = emergency_world
    for _ in range(2):
        task_report(actor=world.users[Role.VOLUNTEER], task=check_101, outcome="no_answer")
    check_101.refresh_from_db()
    assert check_101.state == "escalated"
    lead = client_for(world.users[Role.MICRO_GRID_LEAD])
    url = reverse("emergency:task_detail", args=[check_101.pk])
    token = form_token(lead.get(url).content.decode(), 'data-testid="outcome-form"')
    first, second = submit_twice(
        lead,
        url,
        {
            "action": "outcome",
            "outcome-outcome": "needs_help",
            "outcome-note": "需要送药",
            "outcome-help_kind": "medicine",
            "outcome-help_urgency": "2",
            "once_token": token,
        },
    )
    assert_same_redirect(first, second)
    check_101.refresh_from_db()
    assert (check_101.attempts, check_101.state) == (3, "done")
    assert HelpRequest.objects.filter(source_task=check_101).count() == 1
