"""Help requests (求助) on the web: a resident asks for their household, staff file for a
resident without a smartphone, life-threatening requests show 120/110 at once, the list is
most urgent and oldest first, and a request is dispatched and closed (a stale dispatch is
told the request changed)."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from linli.accounts.roles import Role
from linli.emergency import services
from linli.emergency.models import HelpRequest, HelpState
from linli.notify.models import Notification
from linli.partners.services import liaison_link, partner_create
from linli.testing.clients import client_for


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def activation(emergency_world, plan):
    return services.activation_start(
        actor=emergency_world.users[Role.SECRETARY],
        plan=plan,
        scope=emergency_world.community,
        grade=4,
        is_drill=False,
    )


def filed(world, *, household=None, urgency=3, kind="food", ago_minutes=0) -> HelpRequest:
    help_request = services.help_request_create(
        actor=world.users[Role.SECRETARY],
        household=household or world.household,
        kind=kind,
        urgency=urgency,
        description="需要帮助",
        on_behalf=True,
    )
    if ago_minutes:
        HelpRequest.objects.filter(pk=help_request.pk).update(
            created_at=timezone.now() - timedelta(minutes=ago_minutes)
        )
        help_request.refresh_from_db()
    return help_request


def test_the_form_carries_the_120_110_instructions_before_anything_is_sent(
    emergency_world, activation
):
    response = client_for(emergency_world.users[Role.RESIDENT]).get(reverse("emergency:help_new"))

    assert response.status_code == 200
    page = response.content.decode()
    # Always at the top, and the full steps revealed the moment life-threatening is chosen.
    assert 'data-testid="emergency-numbers"' in page
    assert 'data-testid="life-threatening-instructions"' in page
    assert 'href="tel:120"' in page
    assert 'href="tel:110"' in page
    assert 'data-testid="help-urgency-1"' in page
    assert 'data-testid="help-household"' in page


def test_someone_without_a_household_or_staff_post_is_told_how_to_get_help(
    emergency_world, activation
):
    response = client_for(emergency_world.users["volunteer2"]).get(reverse("emergency:help_new"))

    page = response.content.decode()
    assert 'data-testid="no-household"' in page
    assert 'data-testid="help-form"' not in page
    assert 'href="tel:120"' in page


def test_resident_asks_for_help_for_own_household(emergency_world, activation):
    world = emergency_world
    client = client_for(world.users[Role.RESIDENT])

    response = client.post(
        reverse("emergency:help_new"),
        {"kind": "medical", "urgency": "1", "description": "老伴摔倒了，起不来"},
    )

    help_request = HelpRequest.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("emergency:help_detail", args=[help_request.pk])
    assert help_request.household == world.household
    assert help_request.activation == activation
    assert (help_request.kind, help_request.urgency, help_request.state) == ("medical", 1, "open")
    assert help_request.on_behalf is False
    assert help_request.submitted_by == world.users[Role.RESIDENT]
    confirmation = client.get(response.url)
    page = confirmation.content.decode()
    assert 'data-testid="life-threatening-instructions"' in page
    assert 'href="tel:120"' in page
    # The resident follows the request but neither dispatches nor closes it.
    assert 'data-testid="dispatch-form"' not in page
    assert 'data-testid="close-form"' not in page


def test_a_request_that_can_wait_shows_no_120_steps_on_confirmation(emergency_world, activation):
    world = emergency_world
    client = client_for(world.users[Role.RESIDENT])

    response = client.post(
        reverse("emergency:help_new"),
        {"kind": "food", "urgency": "3", "description": "家里没有米了"},
    )

    page = client.get(response.url).content.decode()
    assert 'data-testid="life-threatening-instructions"' not in page


def test_without_an_active_emergency_the_resident_is_pointed_to_120_and_110(emergency_world):
    response = client_for(emergency_world.users[Role.RESIDENT]).post(
        reverse("emergency:help_new"),
        {"kind": "medical", "urgency": "1", "description": "胸口疼"},
    )

    assert response.status_code == 400
    errors = response.context["form"].non_field_errors()
    assert errors == [
        "No emergency is active here. For a life-threatening emergency call 120 (ambulance) "
        "or 110 (police); for anything else report a problem."
    ]
    assert 'data-testid="help-form-errors"' in response.content.decode()
    assert HelpRequest.objects.count() == 0


def test_missing_answers_are_shown_at_their_fields(emergency_world, activation):
    response = client_for(emergency_world.users[Role.RESIDENT]).post(
        reverse("emergency:help_new"), {"kind": "", "urgency": "", "description": ""}
    )

    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors == {
        "kind": ["Choose the kind of help needed."],
        "urgency": ["Choose how urgent it is."],
        "description": ["Say what is needed."],
    }
    assert HelpRequest.objects.count() == 0


def test_staff_file_on_behalf_of_a_household_by_building_and_room(emergency_world, activation):
    world = emergency_world
    leader = world.users[Role.BUILDING_GROUP_LEADER]
    client = client_for(leader)
    page = client.get(reverse("emergency:help_new"))
    # The building-group leader's scope holds one building.
    assert [building.name for building in page.context["buildings"]] == ["1号楼"]

    response = client.post(
        reverse("emergency:help_new"),
        {
            "building": world.buildings["1号楼"].pk,
            "room": "102",
            "kind": "water",
            "urgency": "2",
            "description": "李建国家停水两天，腿脚不便",
        },
    )

    help_request = HelpRequest.objects.get()
    assert response.status_code == 302
    assert help_request.household == world.neighbour_household
    assert help_request.on_behalf is True
    assert help_request.submitted_by == leader
    assert (help_request.kind, help_request.urgency) == ("water", 2)


def test_staff_cannot_file_for_a_building_outside_their_scope(emergency_world, activation):
    world = emergency_world

    response = client_for(world.users[Role.BUILDING_GROUP_LEADER]).post(
        reverse("emergency:help_new"),
        {
            "building": world.buildings["2号楼"].pk,
            "room": "201",
            "kind": "food",
            "urgency": "3",
            "description": "需要买菜",
        },
    )

    assert response.status_code == 400
    assert response.context["form"].errors == {"building": ["Choose the building."]}
    assert HelpRequest.objects.count() == 0


def test_staff_typing_an_unknown_room_is_told_so(emergency_world, activation):
    world = emergency_world

    response = client_for(world.users[Role.SECRETARY]).post(
        reverse("emergency:help_new"),
        {
            "building": world.buildings["2号楼"].pk,
            "room": "999",
            "kind": "food",
            "urgency": "3",
            "description": "需要买菜",
        },
    )

    assert response.status_code == 400
    assert response.context["form"].errors == {
        "room": ["No household is registered in 2号楼 room 999."]
    }
    assert HelpRequest.objects.count() == 0


def test_staff_list_is_most_urgent_then_oldest_first(emergency_world, activation):
    world = emergency_world
    old_normal = filed(world, urgency=3, ago_minutes=90)
    new_normal = filed(world, household=world.other_micro_grid_household, urgency=3)
    life = filed(world, household=world.neighbour_household, urgency=1, ago_minutes=5)
    urgent = filed(world, urgency=2, ago_minutes=30)

    response = client_for(world.users[Role.SECRETARY]).get(reverse("emergency:help_list"))

    assert response.status_code == 200
    assert [row.pk for row in response.context["page"]] == [
        life.pk,
        urgent.pk,
        old_normal.pk,
        new_normal.pk,
    ]


def test_list_filters_by_state(emergency_world, activation):
    world = emergency_world
    secretary = world.users[Role.SECRETARY]
    done = filed(world)
    services.help_request_close(actor=secretary, request=done, resolution="已送到")
    still_open = filed(world, urgency=2)
    client = client_for(secretary)

    open_rows = client.get(reverse("emergency:help_list"))
    done_rows = client.get(reverse("emergency:help_list"), {"state": "done"})
    all_rows = client.get(reverse("emergency:help_list"), {"state": "all"})

    assert [row.pk for row in open_rows.context["page"]] == [still_open.pk]
    assert [row.pk for row in done_rows.context["page"]] == [done.pk]
    assert [row.pk for row in all_rows.context["page"]] == [still_open.pk, done.pk]


def test_resident_lists_only_their_own_household(emergency_world, activation):
    world = emergency_world
    own = filed(world)
    filed(world, household=world.neighbour_household)

    response = client_for(world.users[Role.RESIDENT]).get(reverse("emergency:help_list"))

    assert [row.pk for row in response.context["page"]] == [own.pk]


def test_volunteer_lists_the_requests_dispatched_to_them(emergency_world, activation):
    world = emergency_world
    secretary = world.users[Role.SECRETARY]
    theirs = filed(world)
    services.help_request_dispatch(
        actor=secretary, request=theirs, expected_version=1, volunteer=world.volunteer
    )
    filed(world, household=world.neighbour_household)

    response = client_for(world.users[Role.VOLUNTEER]).get(reverse("emergency:help_list"))
    tasks = client_for(world.users[Role.VOLUNTEER]).get(reverse("emergency:my_tasks"))

    assert [row.pk for row in response.context["page"]] == [theirs.pk]
    assert tasks.context["help_dispatched"] == 1


def test_dispatch_to_a_volunteer_then_the_volunteer_closes_it(emergency_world, activation):
    world = emergency_world
    help_request = filed(world, kind="medicine")
    secretary_client = client_for(world.users[Role.SECRETARY])
    detail = secretary_client.get(reverse("emergency:help_detail", args=[help_request.pk]))
    assert [v.name for v in detail.context["volunteers"]] == ["刘志愿", "陈志愿"]

    response = secretary_client.post(
        reverse("emergency:help_dispatch", args=[help_request.pk]),
        {"handler": f"volunteer:{world.volunteer.pk}", "version": "1"},
    )

    assert response.status_code == 302
    assert messages_of(response) == ["Dispatched to 陈志愿."]
    help_request.refresh_from_db()
    assert (help_request.state, help_request.volunteer, help_request.version) == (
        HelpState.DISPATCHED,
        world.volunteer,
        2,
    )

    volunteer_client = client_for(world.users[Role.VOLUNTEER])
    page = volunteer_client.get(reverse("emergency:help_detail", args=[help_request.pk]))
    assert 'data-testid="close-form"' in page.content.decode()
    assert 'data-testid="dispatch-form"' not in page.content.decode()
    closed = volunteer_client.post(
        reverse("emergency:help_close", args=[help_request.pk]),
        {"resolution": "降压药已送到"},
    )

    assert closed.status_code == 302
    help_request.refresh_from_db()
    assert (help_request.state, help_request.resolution) == (HelpState.DONE, "降压药已送到")
    assert help_request.done_at is not None


def test_dispatch_to_a_partner_unit(emergency_world, activation):
    world = emergency_world
    secretary = world.users[Role.SECRETARY]
    pharmacy = partner_create(
        actor=secretary, community=world.community, name="社区药房", partner_type="enterprise"
    )
    liaison_link(actor=secretary, partner=pharmacy, user=world.users[Role.PARTNER_LIAISON])
    help_request = filed(world, kind="medicine")

    response = client_for(secretary).post(
        reverse("emergency:help_dispatch", args=[help_request.pk]),
        {"handler": f"partner:{pharmacy.pk}", "version": "1"},
    )

    assert response.status_code == 302
    help_request.refresh_from_db()
    assert (help_request.state, help_request.partner, help_request.volunteer) == (
        HelpState.DISPATCHED,
        pharmacy,
        None,
    )
    # The unit's liaison is told, follows the request and closes it.
    liaison = world.users[Role.PARTNER_LIAISON]
    notice = Notification.objects.get(kind="emergency_help_dispatched")
    assert (notice.recipient, notice.link) == (liaison, f"/emergency/help/{help_request.pk}/")
    liaison_client = client_for(liaison)
    page = liaison_client.get(reverse("emergency:help_detail", args=[help_request.pk]))
    assert 'data-testid="close-form"' in page.content.decode()
    closed = liaison_client.post(
        reverse("emergency:help_close", args=[help_request.pk]), {"resolution": "药已送到"}
    )
    assert closed.status_code == 302
    help_request.refresh_from_db()
    assert (help_request.state, help_request.resolution) == (HelpState.DONE, "药已送到")


def test_staff_cancel_a_request(emergency_world, activation):
    world = emergency_world
    help_request = filed(world)

    response = client_for(world.users[Role.SECRETARY]).post(
        reverse("emergency:help_close", args=[help_request.pk]),
        {"resolution": "家属已送医", "cancelled": "1"},
    )

    assert response.status_code == 302
    help_request.refresh_from_db()
    assert (help_request.state, help_request.resolution) == (HelpState.CANCELLED, "家属已送医")


def test_a_stale_dispatch_is_told_the_request_changed_and_changes_nothing(
    emergency_world, activation
):
    world = emergency_world
    help_request = filed(world)
    services.help_request_dispatch(
        actor=world.users[Role.MICRO_GRID_LEAD],
        request=help_request,
        expected_version=1,
        volunteer=world.second_volunteer,
    )

    response = client_for(world.users[Role.SECRETARY]).post(
        reverse("emergency:help_dispatch", args=[help_request.pk]),
        {"handler": f"volunteer:{world.volunteer.pk}", "version": "1"},
    )

    assert response.status_code == 302
    assert messages_of(response) == ["Someone changed this request a moment ago; reload it."]
    help_request.refresh_from_db()
    assert (help_request.volunteer, help_request.version) == (world.second_volunteer, 2)


def test_dispatch_without_a_handler_is_refused_in_words(emergency_world, activation):
    world = emergency_world
    help_request = filed(world)

    response = client_for(world.users[Role.SECRETARY]).post(
        reverse("emergency:help_dispatch", args=[help_request.pk]),
        {"handler": "", "version": "1"},
    )

    assert messages_of(response) == ["Choose a volunteer or a partner unit."]
    help_request.refresh_from_db()
    assert (help_request.state, help_request.version) == (HelpState.OPEN, 1)


def test_dispatch_and_close_by_someone_without_command_are_forbidden(emergency_world, activation):
    world = emergency_world
    help_request = filed(world)
    leader = client_for(world.users[Role.BUILDING_GROUP_LEADER])
    page = leader.get(reverse("emergency:help_detail", args=[help_request.pk]))
    assert 'data-testid="dispatch-form"' not in page.content.decode()

    dispatch = leader.post(
        reverse("emergency:help_dispatch", args=[help_request.pk]),
        {"handler": f"volunteer:{world.volunteer.pk}", "version": "1"},
    )
    close = leader.post(
        reverse("emergency:help_close", args=[help_request.pk]), {"resolution": "已处理"}
    )

    assert (dispatch.status_code, close.status_code) == (403, 403)
    help_request.refresh_from_db()
    assert (help_request.state, help_request.version, help_request.volunteer) == (
        HelpState.OPEN,
        1,
        None,
    )


def test_a_request_outside_ones_scope_is_not_found(emergency_world, activation):
    world = emergency_world
    help_request = filed(world, household=world.other_micro_grid_household)

    response = client_for(world.users[Role.RESIDENT]).get(
        reverse("emergency:help_detail", args=[help_request.pk])
    )

    assert response.status_code == 404
