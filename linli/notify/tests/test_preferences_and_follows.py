"""Everyday notifications reach people on their own terms: the event's channels, the
person's preferences and address, quiet hours, a daily digest, follows and unsubscribing."""

from datetime import datetime, time

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from linli.accounts.roles import Role
from linli.notify import selectors
from linli.notify.contacts import contact_address
from linli.notify.events import EVENTS, register_event
from linli.notify.models import (
    Channel,
    Notification,
    NotificationPreference,
    OutboxMessage,
    OutboxStatus,
    Subscription,
)
from linli.notify.services import (
    digests_send,
    follow,
    message_send_to_address,
    notification_send,
    preference_update,
    unfollow,
    unsubscribe_apply,
)
from linli.notify.unsubscribe import unsubscribe_token
from linli.testing.clients import client_for

SHANGHAI = timezone.get_fixed_timezone(8 * 60)
EVENING = datetime(2026, 12, 5, 23, 30, tzinfo=SHANGHAI)
NOON = datetime(2026, 12, 5, 12, 0, tzinfo=SHANGHAI)


@pytest.fixture
def everyday_event():
    kind = "test_case_state"
    register_event(
        kind,
        label="Your case changed state",
        recipients="The reporter",
        channels=(Channel.SMS, Channel.EMAIL),
    )
    yield kind
    EVENTS.pop(kind, None)


@pytest.fixture
def urgent_event():
    kind = "test_warning"
    register_event(
        kind, label="Warning", recipients="Everyone", channels=(Channel.SMS,), urgent=True
    )
    yield kind
    EVENTS.pop(kind, None)


def rows(notification) -> list[tuple[str, str]]:
    return sorted(
        OutboxMessage.objects.filter(notification=notification).values_list("channel", "status")
    )


def send(user, kind, **options):
    (notification,) = notification_send(
        recipients=[user], kind=kind, title="Case 7 accepted", channels=None, **options
    )
    return notification


@pytest.fixture
def resident(world):
    user = world.users[Role.RESIDENT]
    user.phone = "13800000001"
    user.email = "resident@example.org"
    user.save()
    return user


def test_an_event_goes_on_its_channels_where_the_person_has_an_address(world, everyday_event):
    user = world.users[Role.RESIDENT]
    user.phone, user.email = "13800000001", ""
    user.save()
    assert rows(send(user, everyday_event)) == [("inapp", "pending"), ("sms", "pending")]


def test_an_unknown_kind_stays_in_the_inbox(resident):
    assert rows(send(resident, "not_declared")) == [("inapp", "pending")]


def test_a_channel_turned_off_is_not_used_but_the_inbox_always_is(resident, everyday_event):
    preference_update(user=resident, updated_by=resident, values={"sms": False, "email": False})
    assert rows(send(resident, everyday_event)) == [("inapp", "pending")]


def test_an_urgent_event_ignores_the_channels_turned_off(resident, urgent_event):
    preference_update(user=resident, updated_by=resident, values={"sms": False})
    assert rows(send(resident, urgent_event)) == [("inapp", "pending"), ("sms", "pending")]


def test_quiet_hours_delay_everyday_messages_to_their_end_but_not_urgent_ones(
    resident, everyday_event, urgent_event
):
    preference_update(
        user=resident,
        updated_by=resident,
        values={"quiet_from": time(22, 0), "quiet_until": time(7, 0)},
    )
    with time_machine.travel(EVENING, tick=False):
        everyday = send(resident, everyday_event)
        urgent = send(resident, urgent_event)
    sms = OutboxMessage.objects.get(notification=everyday, channel="sms")
    assert sms.next_attempt_at == datetime(2026, 12, 6, 7, 0, tzinfo=SHANGHAI)
    assert OutboxMessage.objects.get(notification=everyday, channel="inapp").next_attempt_at is None
    assert OutboxMessage.objects.get(notification=urgent, channel="sms").next_attempt_at is None


def test_outside_quiet_hours_a_message_goes_at_once(resident, everyday_event):
    preference_update(
        user=resident,
        updated_by=resident,
        values={"quiet_from": time(22, 0), "quiet_until": time(7, 0)},
    )
    with time_machine.travel(NOON, tick=False):
        notification = send(resident, everyday_event)
    assert (
        OutboxMessage.objects.get(notification=notification, channel="sms").next_attempt_at is None
    )


def test_quiet_hours_need_both_ends(resident):
    with pytest.raises(Exception) as refused:
        preference_update(user=resident, updated_by=resident, values={"quiet_from": time(22, 0)})
    assert "quiet_until" in refused.value.message_dict
    assert not NotificationPreference.objects.filter(user=resident).exists()


def test_a_daily_digest_holds_messages_and_sends_one_per_channel(
    resident, everyday_event, settings
):
    settings.LANGUAGE_CODE = "en"  # the stored titles are in the site's language
    preference_update(user=resident, updated_by=resident, values={"daily_digest": True})
    with time_machine.travel(NOON, tick=False):
        first = send(resident, everyday_event)
        second = notification_send(
            recipients=[resident], kind=everyday_event, title="Case 8 closed", channels=None
        )[0]
    assert rows(first) == [("email", "held"), ("inapp", "pending"), ("sms", "held")]

    with time_machine.travel(datetime(2026, 12, 5, 19, 0, tzinfo=SHANGHAI), tick=False):
        assert digests_send() == 1
    digest = Notification.objects.get(recipient=resident, kind="digest")
    assert digest.title == "Linli: 2 updates today"
    assert digest.body == "· Case 7 accepted\n· Case 8 closed"
    assert digest.read_at is not None
    assert rows(digest) == [("email", "pending"), ("sms", "pending")]
    assert set(
        OutboxMessage.objects.filter(notification__in=[first, second])
        .exclude(channel="inapp")
        .values_list("status", flat=True)
    ) == {OutboxStatus.DIGESTED}
    assert digests_send() == 0


def test_the_sms_phone_on_the_preferences_comes_first(resident):
    preference_update(user=resident, updated_by=resident, values={"sms_phone": "13900000002"})
    resident.refresh_from_db()
    assert contact_address(resident, Channel.SMS) == "13900000002"


def test_a_volunteer_without_a_login_phone_is_reached_on_the_profile_phone(world):
    from linli.volunteers.models import Volunteer, VolunteerOrigin

    user = world.users[Role.VOLUNTEER]
    user.phone = ""
    user.save()
    Volunteer.objects.update_or_create(
        user=user,
        defaults={
            "origin": VolunteerOrigin.OUTSIDE,
            "name": "志愿者",
            "phone": "13700000003",
            "grid_unit": world.community,
        },
    )
    assert contact_address(user, Channel.SMS) == "13700000003"


def test_a_message_to_an_address_goes_through_the_outbox_and_no_inbox(db):
    notification = message_send_to_address(
        channel=Channel.SMS, address="13800000009", kind="phone_code", title="Code 123456"
    )
    assert notification.recipient is None
    assert rows(notification) == [("sms", "pending")]


def test_a_message_to_an_address_refuses_the_inbox_channel(db):
    with pytest.raises(Exception) as refused:
        message_send_to_address(channel=Channel.INAPP, address="x", kind="k", title="t")
    assert "channel" in refused.value.message_dict
    assert Notification.objects.count() == 0


def test_followers_of_a_target_and_of_an_area_above(world):
    lead = world.users[Role.MICRO_GRID_LEAD]
    resident = world.users[Role.RESIDENT]
    follow(user=lead, target="case:42")
    follow(user=lead, target="case:42")
    follow(user=resident, target=selectors.area_target(world.community.path))
    assert list(selectors.followers("case:42")) == [lead]
    assert list(selectors.area_followers(world.micro_grid.path)) == [resident]
    assert list(selectors.area_followers(world.other_community.path)) == []
    assert unfollow(user=lead, target="case:42") is True
    assert unfollow(user=lead, target="case:42") is False


def test_a_target_without_a_kind_is_refused(world):
    with pytest.raises(Exception) as refused:
        follow(user=world.users[Role.RESIDENT], target="42")
    assert "target" in refused.value.message_dict
    assert Subscription.objects.count() == 0


def test_unsubscribing_from_a_followed_message_ends_the_follow(resident, everyday_event):
    follow(user=resident, target="case:42")
    notification = send(resident, everyday_event, unsubscribe_target="case:42")
    unsubscribe_apply(unsubscribe_token(notification))
    assert not Subscription.objects.filter(user=resident).exists()


def test_unsubscribing_from_an_own_message_mutes_its_kind_outside_the_inbox(
    resident, everyday_event
):
    notification = send(resident, everyday_event)
    unsubscribe_apply(unsubscribe_token(notification))
    unsubscribe_apply(unsubscribe_token(notification))
    assert NotificationPreference.objects.get(user=resident).muted_kinds == [everyday_event]
    assert rows(send(resident, everyday_event)) == [("inapp", "pending")]


def test_an_urgent_kind_cannot_be_muted(resident, urgent_event):
    notification = send(resident, urgent_event)
    unsubscribe_apply(unsubscribe_token(notification))
    assert not NotificationPreference.objects.filter(user=resident).exists()


def test_the_unsubscribe_page_asks_for_one_click_and_needs_no_login(resident, everyday_event):
    notification = send(resident, everyday_event)
    url = reverse("notify:unsubscribe", args=[unsubscribe_token(notification)])
    client = client_for(None)
    assert client.get(url).status_code == 200
    assert not NotificationPreference.objects.filter(user=resident).exists()
    assert client.post(url).status_code == 200
    assert NotificationPreference.objects.get(user=resident).muted_kinds == [everyday_event]


def test_a_forged_unsubscribe_link_is_400_and_changes_nothing(resident):
    response = client_for(None).post(reverse("notify:unsubscribe", args=["forged"]))
    assert response.status_code == 400
    assert not NotificationPreference.objects.exists()


def test_an_everyday_e_mail_carries_a_one_click_unsubscribe(resident, everyday_event, settings):
    from linli.notify.tasks import outbox_deliver

    settings.LANGUAGE_CODE = "en"  # the footer is in the site's language
    settings.EMAIL_HOST = "localhost"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    notification = send(resident, everyday_event)
    message = OutboxMessage.objects.get(notification=notification, channel="email")
    outbox_deliver(message_ids=[message.pk])
    message.refresh_from_db()
    assert message.last_error == ""
    (sent,) = mail.outbox
    link = "http://127.0.0.1:8000" + reverse(
        "notify:unsubscribe", args=[unsubscribe_token(notification)]
    )
    assert sent.extra_headers["List-Unsubscribe"] == f"<{link}>"
    assert sent.body.endswith(f"Stop these messages: {link}")


def test_the_settings_page_saves_channels_quiet_hours_and_digest(resident):
    client = client_for(resident)
    response = client.post(
        reverse("notify:preferences"),
        {
            "email": "on",
            "sms_phone": "139 0000 0002",
            "quiet_from": "22:00",
            "quiet_until": "07:00",
        },
    )
    assert response.status_code == 302
    preference = NotificationPreference.objects.get(user=resident)
    assert (preference.sms, preference.email, preference.wechat) == (False, True, False)
    assert preference.sms_phone == "13900000002"
    assert (preference.quiet_from, preference.quiet_until) == (time(22, 0), time(7, 0))
    assert preference.updated_by == resident


def test_the_settings_page_names_the_wrong_field_and_saves_nothing(resident):
    response = client_for(resident).post(
        reverse("notify:preferences"), {"sms": "on", "sms_phone": "12345", "quiet_from": "22:00"}
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"sms_phone", "quiet_until"}
    assert not NotificationPreference.objects.exists()


def test_the_settings_page_lists_follows_and_unfollows(resident):
    follow(user=resident, target="case:42")
    client = client_for(resident)
    assert client.get(reverse("notify:preferences")).status_code == 200
    assert client.post(reverse("notify:unfollow"), {"target": "case:42"}).status_code == 302
    assert not Subscription.objects.exists()


def test_the_settings_page_needs_a_login(db):
    response = client_for(None).get(reverse("notify:preferences"))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_api_reads_and_changes_my_settings(resident):
    client = client_for(resident, token=True)
    assert client.get("/api/v1/notifications/preferences").json()["sms"] is True
    response = client.patch(
        "/api/v1/notifications/preferences",
        {"sms": False, "quiet_from": "21:30:00", "quiet_until": "06:30:00"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json() | {} == {
        "sms": False,
        "email": True,
        "wechat": True,
        "sms_phone": "",
        "quiet_from": "21:30:00",
        "quiet_until": "06:30:00",
        "daily_digest": False,
        "muted_kinds": [],
    }


def test_the_api_refuses_half_quiet_hours_naming_the_field(resident):
    client = client_for(resident, token=True)
    response = client.patch(
        "/api/v1/notifications/preferences",
        {"quiet_from": "21:30:00"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "quiet_until" in response.content.decode()
    assert not NotificationPreference.objects.exists()


def test_the_api_lists_and_deletes_follows(resident):
    follow(user=resident, target="case:42")
    client = client_for(resident, token=True)
    assert [row["target"] for row in client.get("/api/v1/notifications/follows").json()] == [
        "case:42"
    ]
    assert client.delete("/api/v1/notifications/follows/case:42").status_code == 204
    assert not Subscription.objects.exists()


def test_the_event_table_lists_every_declared_event(everyday_event):
    from linli.notify.management.commands.notification_events import event_table

    row = "|  | Your case changed state (`test_case_state`) | The reporter | In-app inbox, SMS, Email |  |"
    assert row in event_table().splitlines()


def test_many_messages_to_addresses_are_queued_in_one_batch(db, django_capture_on_commit_callbacks):
    from linli.notify.services import (
        ADDRESS_DELIVERY_CHUNK,
        AddressMessage,
        messages_send_to_addresses,
    )

    rows = [AddressMessage(address=f"1380000{n:04d}", title=f"Invite {n}") for n in range(1001)]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert (
            messages_send_to_addresses(channel=Channel.SMS, kind="invitation", messages=rows)
            == 1001
        )
    assert OutboxMessage.objects.filter(channel="sms", status="pending").count() == 1001
    assert len(callbacks) == -(-1001 // ADDRESS_DELIVERY_CHUNK)


def test_a_batch_with_an_empty_address_is_refused_naming_the_row_and_writes_nothing(db):
    from linli.notify.services import AddressMessage, messages_send_to_addresses

    rows = [
        AddressMessage(address="13800000001", title="A"),
        AddressMessage(address=" ", title="B"),
    ]
    with pytest.raises(Exception) as refused:
        messages_send_to_addresses(channel=Channel.SMS, kind="invitation", messages=rows)
    assert refused.value.message_dict == {"address": ["Row 2: give the address to send to."]}
    assert Notification.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("[null, null]", "body"),
        ('{"quiet_from": "22:00:00Z", "quiet_until": "07:00:00Z"}', "quiet_from"),
    ],
)
def test_the_api_refuses_a_body_that_is_no_object_or_a_zoned_time(resident, body, field):
    response = client_for(resident, token=True).patch(
        "/api/v1/notifications/preferences", body, content_type="application/json"
    )
    assert (response.status_code, response.json()["field"]) == (400, field)
    assert not NotificationPreference.objects.exists()
