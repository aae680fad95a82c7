"""Text typed by staff on an emergency task or help request can name a person and their
number: the volunteer holding the task, and the volunteer or partner unit a request was
sent to, read it with the numbers masked; staff of the place, the household and whoever
filed it read it as typed."""

import pytest
from django.urls import reverse

from linli.accounts.roles import Role
from linli.emergency import services
from linli.emergency.models import HelpRequest, Task
from linli.partners.services import liaison_link, partner_create
from linli.testing.clients import client_for

TYPED = "张帆联系沈阿姨 13812345678，身份证 110101199003070038"
MASKED = "张帆联系沈阿姨 138****5678，身份证 110101********0038"
TYPED_TITLE = "沈阿姨 13812345678 安全确认"
MASKED_TITLE = "沈阿姨 138****5678 安全确认"
WARNING = (
    "Partners and volunteers will see this text: do not write names, phone numbers or ID "
    "numbers into it."
)


@pytest.fixture
def activation(emergency_world, plan):
    return services.activation_start(
        actor=emergency_world.users[Role.SECRETARY],
        plan=plan,
        scope=emergency_world.community,
        grade=4,
        is_drill=False,
    )


@pytest.fixture
def typed_task(emergency_world, activation) -> Task:
    """The welfare check of 张桂英's household, held by 陈志愿, with staff's words in it."""
    task = Task.objects.get(household=emergency_world.household)
    assert task.assignee == emergency_world.volunteer
    Task.objects.filter(pk=task.pk).update(title=TYPED_TITLE, instructions=TYPED)
    task.refresh_from_db()
    return task


@pytest.fixture
def pharmacy(emergency_world):
    secretary = emergency_world.users[Role.SECRETARY]
    partner = partner_create(
        actor=secretary,
        community=emergency_world.community,
        name="社区药房",
        partner_type="enterprise",
    )
    liaison_link(actor=secretary, partner=partner, user=emergency_world.users[Role.PARTNER_LIAISON])
    return partner


def typed_request(world, **handler) -> HelpRequest:
    """Filed by the secretary on 张桂英's behalf, then sent to `handler`."""
    secretary = world.users[Role.SECRETARY]
    help_request = services.help_request_create(
        actor=secretary,
        household=world.household,
        kind="medicine",
        urgency=2,
        description=TYPED,
        on_behalf=True,
    )
    return services.help_request_dispatch(
        actor=secretary, request=help_request, expected_version=help_request.version, **handler
    )


@pytest.fixture
def sent_to_volunteer(emergency_world, activation) -> HelpRequest:
    return typed_request(emergency_world, volunteer=emergency_world.second_volunteer)


@pytest.fixture
def sent_to_partner(emergency_world, activation, pharmacy) -> HelpRequest:
    return typed_request(emergency_world, partner=pharmacy)


# Tasks -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role, title, instructions",
    [
        (Role.SECRETARY, TYPED_TITLE, TYPED),
        (Role.MICRO_GRID_LEAD, TYPED_TITLE, TYPED),
        (Role.VOLUNTEER, MASKED_TITLE, MASKED),
    ],
)
def test_the_api_masks_numbers_in_a_tasks_title_and_instructions_for_its_volunteer(
    emergency_world, typed_task, role, title, instructions
):
    client = client_for(emergency_world.users[role])

    detail = client.get(f"/api/v1/emergency/tasks/{typed_task.pk}").json()
    listed = client.get(
        "/api/v1/emergency/tasks", {"activation_id": typed_task.activation_id}
    ).json()

    assert (detail["title"], detail["instructions"]) == (title, instructions)
    assert [item["title"] for item in listed["items"] if item["id"] == typed_task.pk] == [title]


def test_the_api_masks_numbers_in_an_earlier_report_note_for_the_volunteer(
    emergency_world, typed_task
):
    services.task_report(
        actor=emergency_world.users[Role.SECRETARY], task=typed_task, outcome="not_home", note=TYPED
    )

    def notes(role) -> list[str]:
        body = client_for(emergency_world.users[role]).get(
            f"/api/v1/emergency/tasks/{typed_task.pk}"
        )
        return [report["note"] for report in body.json()["reports"]]

    assert notes(Role.SECRETARY) == [TYPED]
    assert notes(Role.VOLUNTEER) == [MASKED]


def test_the_task_card_masks_numbers_for_the_volunteer(emergency_world, typed_task):
    response = client_for(emergency_world.users[Role.VOLUNTEER]).get(reverse("emergency:my_tasks"))

    page = response.content.decode()
    assert f'<p class="task-title" data-testid="task-title">{MASKED_TITLE}</p>' in page
    assert f'<p class="small" data-testid="task-instructions">{MASKED}</p>' in page
    assert "13812345678" not in page
    assert "110101199003070038" not in page


def test_acknowledging_says_the_masked_title(emergency_world, typed_task):
    response = client_for(emergency_world.users[Role.VOLUNTEER]).post(
        reverse("emergency:my_task_ack", args=[typed_task.pk]), follow=True
    )

    page = response.content.decode()
    assert f"You took on “{MASKED_TITLE}”." in page
    assert "13812345678" not in page


# Help requests ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role, description",
    [
        (Role.SECRETARY, TYPED),
        (Role.BUILDING_GROUP_LEADER, TYPED),
        (Role.RESIDENT, TYPED),  # 张桂英's own household
        ("volunteer2", MASKED),  # 刘志愿, who it was sent to
    ],
)
def test_the_api_masks_a_help_requests_description_for_the_volunteer_it_was_sent_to(
    emergency_world, sent_to_volunteer, role, description
):
    client = client_for(emergency_world.users[role])

    detail = client.get(f"/api/v1/emergency/help-requests/{sent_to_volunteer.pk}").json()
    listed = client.get("/api/v1/emergency/help-requests").json()

    assert detail["description"] == description
    assert [item["description"] for item in listed["items"]] == [description]


@pytest.mark.parametrize(
    "role, description", [(Role.SECRETARY, TYPED), (Role.PARTNER_LIAISON, MASKED)]
)
def test_the_api_masks_a_help_requests_description_for_the_partner_it_was_sent_to(
    emergency_world, sent_to_partner, role, description
):
    client = client_for(emergency_world.users[role])

    detail = client.get(f"/api/v1/emergency/help-requests/{sent_to_partner.pk}").json()

    assert detail["description"] == description


@pytest.mark.parametrize(
    "role, shown, hidden",
    [
        (Role.SECRETARY, TYPED, MASKED),
        (Role.PARTNER_LIAISON, MASKED, "13812345678"),
    ],
)
def test_the_help_pages_mask_numbers_for_the_partner_it_was_sent_to(
    emergency_world, sent_to_partner, role, shown, hidden
):
    client = client_for(emergency_world.users[role])

    detail = client.get(reverse("emergency:help_detail", args=[sent_to_partner.pk]))
    listed = client.get(reverse("emergency:help_list"), {"state": "all"})

    assert f'<dd data-testid="help-description">{shown}</dd>' in detail.content.decode()
    assert hidden not in detail.content.decode()
    assert f'<span class="small" data-testid="help-description">{shown}</span>' in (
        listed.content.decode()
    )
    assert hidden not in listed.content.decode()


def test_the_help_page_masks_numbers_for_the_volunteer_it_was_sent_to(
    emergency_world, sent_to_volunteer
):
    response = client_for(emergency_world.users["volunteer2"]).get(
        reverse("emergency:help_detail", args=[sent_to_volunteer.pk])
    )

    page = response.content.decode()
    assert f'<dd data-testid="help-description">{MASKED}</dd>' in page
    assert "13812345678" not in page


def test_a_volunteer_reads_the_help_request_they_filed_as_typed(emergency_world, typed_task):
    """Their own words: the volunteer filed it from their welfare check."""
    services.task_report(
        actor=emergency_world.users[Role.VOLUNTEER],
        task=typed_task,
        outcome="needs_help",
        help_kind="medicine",
        help_urgency=2,
        help_description=TYPED,
    )
    help_request = HelpRequest.objects.get(source_task=typed_task)

    body = (
        client_for(emergency_world.users[Role.VOLUNTEER])
        .get(f"/api/v1/emergency/help-requests/{help_request.pk}")
        .json()
    )

    assert body["description"] == TYPED


# Warnings on the staff forms ------------------------------------------------------------------


def test_the_staff_help_form_warns_that_partners_and_volunteers_read_the_description(
    emergency_world, activation
):
    staff = client_for(emergency_world.users[Role.SECRETARY]).get(reverse("emergency:help_new"))
    resident = client_for(emergency_world.users[Role.RESIDENT]).get(reverse("emergency:help_new"))

    assert (
        f'<p class="muted small" id="id_description_warning" data-testid="free-text-warning">'
        f"{WARNING}</p>"
    ) in staff.content.decode()
    assert WARNING not in resident.content.decode()


def test_the_add_task_form_warns_at_title_and_instructions(emergency_world, activation):
    response = client_for(emergency_world.users[Role.SECRETARY]).get(
        reverse("emergency:activation_detail", args=[activation.pk])
    )

    page = response.content.decode()
    assert f'<p class="muted small" id="id_task-title_helptext">{WARNING}</p>' in page
    assert f'<p class="muted small" id="id_task-instructions_helptext">{WARNING}</p>' in page


def test_the_task_template_form_warns_at_title_and_instructions(emergency_world, plan):
    response = client_for(emergency_world.users[Role.SECRETARY]).get(
        reverse("emergency:plan_template_new", args=[plan.pk])
    )

    page = response.content.decode()
    assert f'<p class="muted small" id="id_title_helptext">{WARNING}</p>' in page
    assert f'<p class="muted small" id="id_instructions_helptext">{WARNING}</p>' in page
