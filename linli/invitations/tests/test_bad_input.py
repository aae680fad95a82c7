"""Wrong input on the form or to the service: an error naming the field, nothing written."""

import pytest
from django.core.exceptions import ValidationError

from linli.accounts.models import AuditEntry
from linli.accounts.roles import Role
from linli.invitations.models import Invitation, InvitationBatch
from linli.invitations.selectors import household_selection
from linli.invitations.services import invitations_create
from linli.notify.models import Notification
from linli.testing.clients import client_for

pytestmark = pytest.mark.django_db


def nothing_written() -> bool:
    return not (
        InvitationBatch.objects.exists()
        or Invitation.objects.exists()
        or Notification.objects.exists()
        or AuditEntry.objects.filter(object_type="invitation_batch").exists()
    )


def post(world, **fields):
    data = {
        "selection": "building",
        "building": world.building.pk,
        "days": "30",
        "channel": "sms",
        "skip_registered": "on",
        "action": "create",
    }
    data.update(fields)
    return client_for(world.users[Role.SECRETARY]).post("/invitations/", data)


@pytest.mark.parametrize("days", ["0", "200", "-3", "", "thirty", "1.5"])
def test_days_outside_one_to_ninety_is_a_form_error_at_days(world, more, days):
    response = post(world, days=days)

    assert response.status_code == 400
    assert response.context["form"].errors == {"days": ["Give a number of days from 1 to 90."]}
    assert "Give a number of days from 1 to 90." in response.content.decode()
    assert nothing_written()


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"building": ""}, {"building": ["Choose a building."]}),
        (
            {"selection": "grid_unit", "building": ""},
            {"grid_unit": ["Choose a building group or micro-grid."]},
        ),
        (
            {"selection": "everyone"},
            {"selection": ["Select a valid choice. everyone is not one of the available choices."]},
        ),
        (
            {"channel": "pigeon"},
            {"channel": ["Select a valid choice. pigeon is not one of the available choices."]},
        ),
        ({"building": "abc"}, {"building": ["Enter a whole number."]}),
    ],
)
def test_a_missing_or_unknown_choice_is_named(world, more, fields, errors):
    response = post(world, **fields)

    assert response.status_code == 400
    assert response.context["form"].errors == errors
    assert nothing_written()


def test_nothing_to_invite_is_said_at_the_selection(world, more):
    # 2号楼 has one household, 201; a volunteer-free world: invite it, then again by SMS
    # after it registered.
    from linli.grids.models import Building
    from linli.grids.services import resident_account_link

    resident_account_link(
        resident=world.other_micro_grid_resident, user=world.users[Role.VOLUNTEER]
    )
    response = post(world, building=Building.objects.get(name="2号楼").pk)

    assert response.status_code == 400
    assert response.context["form"].errors == {
        "selection": [
            "No household to invite: every household here already has a login, or none was found."
        ]
    }
    assert nothing_written()


@pytest.mark.parametrize(
    ("days", "channel"), [(0, "letter"), (91, "letter"), (30, "fax"), (True, "sms")]
)
def test_the_service_refuses_wrong_days_and_channels_by_field(world, more, days, channel):
    selection = household_selection(
        user=world.users[Role.SECRETARY], kind="building", building_id=world.building.pk
    )
    with pytest.raises(ValidationError) as refused:
        invitations_create(
            actor=world.users[Role.SECRETARY],
            households=selection,
            resident_filter="",
            days=days,
            channel=channel,
        )

    field = "channel" if channel == "fax" else "days"
    assert list(refused.value.message_dict) == [field]
    assert nothing_written()


def test_a_letter_batch_larger_than_the_limit_is_refused(world, more, monkeypatch):
    from linli.invitations import services

    monkeypatch.setattr(services, "LETTERS_MAX", 1)
    response = post(world, channel="letter")

    assert response.status_code == 400
    assert response.context["form"].errors == {
        "selection": ["2 households is more than one batch holds (1): pick a smaller area."]
    }
    assert nothing_written()


def test_preview_counts_and_writes_nothing(world, more):
    response = post(world, action="preview")

    assert response.status_code == 200
    assert response.context["preview"] == {
        "households": 2,
        "registered": 1,
        "skipped": 1,
        "with_phone": 1,
        "without_phone": 1,
        "description": "1号楼",
    }
    assert "2 households to invite." in response.content.decode()
    assert nothing_written()
