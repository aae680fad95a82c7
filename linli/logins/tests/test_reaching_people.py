"""Staff set a resident's notification settings on their behalf, and see what could not
be delivered in their area."""

import pytest
from django.urls import reverse

from linli.accounts.models import AuditEntry
from linli.accounts.roles import Role
from linli.notify.models import NotificationPreference, OutboxMessage, OutboxStatus
from linli.notify.services import notification_send
from linli.testing.clients import client_for


def test_a_secretary_sets_a_residents_sms_phone_on_their_behalf(world):
    secretary, resident = world.users[Role.SECRETARY], world.users[Role.RESIDENT]
    response = client_for(secretary).post(
        reverse("logins:preferences", args=[resident.pk]),
        {"sms": "on", "sms_phone": "13900000002", "daily_digest": "on"},
    )
    assert response.status_code == 302
    preference = NotificationPreference.objects.get(user=resident)
    assert (preference.sms_phone, preference.daily_digest, preference.updated_by) == (
        "13900000002",
        True,
        secretary,
    )
    entry = AuditEntry.objects.get(reason_code="notification_preference")
    assert (entry.actor, entry.object_id, entry.field) == (
        secretary,
        str(resident.pk),
        "notification_preference",
    )
    assert entry.changes["sms_phone"] == ["", "13900000002"]


def test_a_wrong_phone_is_a_form_error_and_nothing_is_written(world):
    response = client_for(world.users[Role.SECRETARY]).post(
        reverse("logins:preferences", args=[world.users[Role.RESIDENT].pk]),
        {"sms": "on", "sms_phone": "123"},
    )
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["sms_phone"]
    assert not NotificationPreference.objects.exists()
    assert not AuditEntry.objects.filter(reason_code="notification_preference").exists()


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.STREET_ADMIN, 200),
        (Role.SECRETARY, 200),
        (Role.MICRO_GRID_LEAD, 404),
        (Role.BUILDING_GROUP_LEADER, 404),
        (Role.VOLUNTEER, 404),
        (Role.PARTNER_LIAISON, 404),
        (Role.RESIDENT, 404),
    ],
)
def test_who_may_open_the_on_behalf_and_undeliverable_pages(world, role, status):
    client = client_for(world.users[role])
    resident = world.users[Role.RESIDENT]
    assert client.get(reverse("logins:preferences", args=[resident.pk])).status_code == status
    assert client.get(reverse("logins:undeliverable")).status_code == status


def test_a_secretary_of_another_community_gets_404(world):
    from linli.accounts.models import User
    from linli.grids.services import role_assign

    other = User.objects.create_user("other_secretary")
    role_assign(user=other, role=Role.SECRETARY, grid_unit=world.other_community)
    response = client_for(other).get(
        reverse("logins:preferences", args=[world.users[Role.RESIDENT].pk])
    )
    assert response.status_code == 404


def test_the_undeliverable_page_lists_failed_messages_of_the_area_only(world):
    resident = world.users[Role.RESIDENT]
    (notification,) = notification_send(
        recipients=[resident], kind="case_escalated", title="Case 7", channels=("sms",)
    )
    OutboxMessage.objects.filter(notification=notification).update(
        status=OutboxStatus.FAILED, last_error="recipient has no mobile phone"
    )
    page = client_for(world.users[Role.SECRETARY]).get(reverse("logins:undeliverable"))
    assert [message.last_error for message in page.context["page"]] == [
        "recipient has no mobile phone"
    ]
    assert b"recipient has no mobile phone" in page.content


def test_the_undeliverable_page_lists_who_has_no_phone_for_sms(world):
    resident = world.users[Role.RESIDENT]
    resident.phone = ""
    resident.save()
    page = client_for(world.users[Role.SECRETARY]).get(reverse("logins:undeliverable"))
    assert resident in page.context["no_phone"]
    resident.phone = "13800000001"
    resident.save()
    page = client_for(world.users[Role.SECRETARY]).get(reverse("logins:undeliverable"))
    assert resident not in page.context["no_phone"]
