"""Who asked for help hears that it is on the way (and who is coming) and that it is done; the
household's building-group leader hears of a new request beside the micro-grid lead and the
secretaries. Emergency events: urgent, through quiet hours and channels turned off."""

from datetime import datetime, time

import pytest
import time_machine
from django.utils import timezone

from linli.accounts.roles import Role
from linli.emergency import services
from linli.emergency.models import HelpRequest
from linli.notify.events import event_for
from linli.notify.models import Notification, OutboxMessage
from linli.notify.services import preference_update
from linli.testing.clients import client_for

SHANGHAI = timezone.get_fixed_timezone(8 * 60)
NOON = datetime(2026, 12, 7, 12, 0, tzinfo=SHANGHAI)
NIGHT = datetime(2026, 12, 7, 23, 30, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _noon():
    with time_machine.travel(NOON, tick=False):
        yield


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
def resident(emergency_world):
    user = emergency_world.users[Role.RESIDENT]
    user.phone = "13800000001"
    user.save()
    return user


def ask(world, actor, *, on_behalf=False, household=None) -> HelpRequest:
    return services.help_request_create(
        actor=actor,
        household=household or world.household,
        kind="medicine",
        urgency=2,
        description="降压药只剩一天",
        on_behalf=on_behalf,
    )


def dispatch(world, request) -> HelpRequest:
    return services.help_request_dispatch(
        actor=world.users[Role.SECRETARY],
        request=request,
        expected_version=request.version,
        volunteer=world.volunteer,
    )


def notices(kind: str) -> list[tuple[str, str, dict, str]]:
    return [
        (n.recipient.username, n.title_template, n.title_params, n.link)
        for n in Notification.objects.filter(kind=kind)
        .select_related("recipient")
        .order_by("created_at", "id")
    ]


def channels(notification) -> list[tuple[str, object]]:
    return sorted(
        OutboxMessage.objects.filter(notification=notification).values_list(
            "channel", "next_attempt_at"
        )
    )


def test_the_leaders_of_the_household_hear_of_a_new_help_request(emergency_world, activation):
    world = emergency_world
    ask(world, world.users[Role.RESIDENT])
    assert sorted(
        Notification.objects.filter(kind="emergency_help").values_list(
            "recipient__username", flat=True
        )
    ) == ["building_group_leader", "micro_grid_lead", "secretary"]


def test_a_request_in_another_building_group_is_not_the_leaders(emergency_world, activation):
    world = emergency_world
    ask(
        world,
        world.users[Role.SECRETARY],
        on_behalf=True,
        household=world.other_micro_grid_household,
    )
    assert sorted(
        Notification.objects.filter(kind="emergency_help").values_list(
            "recipient__username", flat=True
        )
    ) == ["secretary"]


def test_who_asked_hears_who_is_coming_and_no_number(
    emergency_world, activation, resident, settings
):
    settings.LANGUAGE_CODE = "en"  # the stored titles are in the site's language
    world = emergency_world
    request = dispatch(world, ask(world, resident))
    link = f"/emergency/help/{request.pk}/"
    assert notices("emergency_help_on_the_way") == [
        ("resident", "Help is on the way: %(who)s is coming", {"who": "陈志愿"}, link)
    ]
    notice = Notification.objects.get(kind="emergency_help_on_the_way")
    # Reaches the phone: names the volunteer, never their phone, the room or the kind of help.
    assert notice.title == "Help is on the way: 陈志愿 is coming"
    assert channels(notice) == [("inapp", None), ("sms", None)]
    # The volunteer still hears as before.
    assert [n[0] for n in notices("emergency_help_dispatched")] == ["volunteer"]
    # The link opens the request for who asked.
    assert client_for(resident).get(link).status_code == 200


def test_who_asked_without_a_phone_hears_in_the_inbox(emergency_world, activation):
    world = emergency_world
    dispatch(world, ask(world, world.users[Role.RESIDENT]))
    notice = Notification.objects.get(kind="emergency_help_on_the_way")
    assert channels(notice) == [("inapp", None)]


def test_who_asked_hears_when_it_is_done(emergency_world, activation, resident):
    world = emergency_world
    request = dispatch(world, ask(world, resident))
    services.help_request_close(
        actor=world.users[Role.VOLUNTEER], request=request, resolution="降压药已送到"
    )
    assert notices("emergency_help_closed") == [
        ("resident", "Your help request has been dealt with", {}, f"/emergency/help/{request.pk}/")
    ]
    assert channels(Notification.objects.get(kind="emergency_help_closed")) == [
        ("inapp", None),
        ("sms", None),
    ]


def test_who_asked_hears_when_it_is_cancelled(emergency_world, activation, resident):
    world = emergency_world
    request = ask(world, resident)
    services.help_request_close(
        actor=world.users[Role.SECRETARY], request=request, resolution="家属已送医", cancelled=True
    )
    assert [n[1] for n in notices("emergency_help_closed")] == ["Your help request was cancelled"]


def test_a_request_filed_on_behalf_tells_the_household_not_the_filer(
    emergency_world, activation, resident
):
    world = emergency_world
    secretary = world.users[Role.SECRETARY]
    request = ask(world, secretary, on_behalf=True)
    services.help_request_close(actor=secretary, request=request, resolution="已上门送药")
    assert [n[0] for n in notices("emergency_help_closed")] == ["resident"]


def test_a_household_without_a_login_is_told_nothing(emergency_world, activation):
    world = emergency_world
    request = ask(
        world, world.users[Role.SECRETARY], on_behalf=True, household=world.neighbour_household
    )
    dispatch(world, request)
    assert notices("emergency_help_on_the_way") == []
    # No phone on the request and no consent to use the registered one: no SMS either.
    assert not Notification.objects.filter(recipient__isnull=True).exists()


def test_quiet_hours_and_channels_turned_off_do_not_hold_an_emergency(
    emergency_world, activation, resident
):
    world = emergency_world
    preference_update(
        user=resident,
        updated_by=resident,
        values={"sms": False, "quiet_from": time(22, 0), "quiet_until": time(7, 0)},
    )
    request = ask(world, resident)
    with time_machine.travel(NIGHT, tick=False):
        dispatch(world, request)
    notice = Notification.objects.get(kind="emergency_help_on_the_way")
    assert channels(notice) == [("inapp", None), ("sms", None)]


@pytest.mark.parametrize(
    ("kind", "channels_"),
    [
        ("emergency_activated", ("inapp", "email", "wecom", "sms")),
        ("emergency_tasks", ("inapp", "email", "wecom", "sms")),
        ("emergency_task_escalated", ("inapp", "email", "wecom", "sms")),
        ("emergency_help", ("inapp", "email", "wecom", "sms")),
        ("emergency_help_dispatched", ("inapp", "email", "wecom", "sms")),
        ("emergency_help_on_the_way", ("inapp", "sms", "wechat", "email")),
        ("emergency_help_closed", ("inapp", "sms", "wechat", "email")),
    ],
)
def test_every_emergency_event_is_declared_urgent(kind, channels_):
    event = event_for(kind)
    assert (event.app, event.urgent, event.channels) == ("emergency", True, channels_)
