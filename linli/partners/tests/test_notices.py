"""Claims and the needs list reach people: the claimant and the beneficiary household at each
step of a claim, and the list keepers when a need waits too long for one. Each on the
channels its event declares, where the person has an address and has not said otherwise."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery.schedules import crontab
from django.conf import settings

from linli.accounts.roles import Role
from linli.conftest import make_user
from linli.grids.services import role_assign
from linli.notify.events import EVENTS
from linli.notify.models import Notification, OutboxMessage
from linli.notify.services import preference_update
from linli.partners.models import Need
from linli.partners.services import (
    claim_need,
    claim_transition,
    liaison_link,
    need_create,
)
from linli.partners.services.notices import waiting_needs_notify
from linli.partners.tasks import notify_waiting_needs
from linli.partners.tests.conftest import build_lists

SHANGHAI = ZoneInfo("Asia/Shanghai")
CREATED = datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI)


def sent(kind: str | None = None) -> list[tuple[str, str, str]]:
    """(recipient, kind, title in English) of every notification, in sending order."""
    notes = Notification.objects.order_by("id")
    if kind is not None:
        notes = notes.filter(kind=kind)
    return [(note.recipient.username, note.kind, note.display_title) for note in notes]


def channels_of(username: str, kind: str) -> list[str]:
    (note,) = Notification.objects.filter(recipient__username=username, kind=kind)
    return sorted(OutboxMessage.objects.filter(notification=note).values_list("channel", flat=True))


def with_phone(user, phone="13800000001"):
    user.phone = phone
    user.save(update_fields=["phone"])
    return user


@pytest.fixture
def resident(lists):
    return with_phone(lists.world.users[Role.RESIDENT])


def second_liaison(lists, username="liaison_two"):
    user = make_user(username)
    role_assign(
        user=user,
        role=Role.PARTNER_LIAISON,
        grid_unit=lists.world.community,
        post="partner_liaison",
    )
    liaison_link(actor=lists.world.users[Role.SECRETARY], partner=lists.partner, user=user)
    return user


# Declared ---------------------------------------------------------------------------------


def test_every_kind_partners_send_is_declared_with_its_channels():
    declared = {kind: EVENTS[kind] for kind in EVENTS if EVENTS[kind].app == "partners"}
    assert {kind: event.channels for kind, event in declared.items()} == {
        "claim": ("inapp", "sms", "wechat"),
        "claim_delivered": ("inapp", "sms", "wechat"),
        "claim_hours_pending": ("inapp",),
        "need_waiting": ("inapp", "email", "wechat"),
    }
    assert not any(event.urgent for event in declared.values())


# Claim steps ------------------------------------------------------------------------------


def test_a_partner_claim_tells_the_household_and_the_other_liaisons_not_the_one_who_acted(
    lists, resident
):
    liaison = lists.world.users[Role.PARTNER_LIAISON]
    other = second_liaison(lists)
    number = lists.need.pk
    claim_need(actor=liaison, need=lists.need, partner=lists.partner)
    assert sent() == [
        ("liaison_two", "claim", f"Need No. {number} is claimed by 静安区人民法院"),
        ("resident", "claim", f"静安区人民法院 will help with your household's need No. {number}"),
    ]
    assert channels_of("resident", "claim") == ["inapp", "sms"]
    assert channels_of(other.username, "claim") == ["inapp"]


def test_each_step_of_a_volunteers_claim_reaches_the_other_side(lists, resident):
    world = lists.world
    secretary, volunteer_user = world.users[Role.SECRETARY], world.users[Role.VOLUNTEER]
    # The volunteer gave a phone on their profile only: SMS goes there.
    lists.volunteer.phone = "13600000009"
    lists.volunteer.save(update_fields=["phone"])
    number = lists.need.pk

    claim = claim_need(actor=secretary, need=lists.need, volunteer=lists.volunteer)
    assert sent() == [
        ("volunteer", "claim", f"Need No. {number} is claimed by 陈志愿"),
        ("resident", "claim", f"陈志愿 will help with your household's need No. {number}"),
    ]
    assert channels_of("volunteer", "claim") == ["inapp", "sms"]

    Notification.objects.all().delete()
    claim = claim_transition(claim=claim, actor=volunteer_user, action="start")
    assert sent() == [
        ("resident", "claim", f"陈志愿 started on your household's need No. {number}"),
    ]

    Notification.objects.all().delete()
    claim = claim_transition(claim=claim, actor=volunteer_user, action="deliver", hours="2")
    assert sent() == [
        (
            "resident",
            "claim_delivered",
            f"Need No. {number} was delivered: please confirm you received it",
        ),
    ]
    assert channels_of("resident", "claim_delivered") == ["inapp", "sms"]

    Notification.objects.all().delete()
    claim_transition(claim=claim, actor=resident, action="confirm")
    assert sent() == [
        ("volunteer", "claim", f"Need No. {number}: the household confirmed receipt"),
    ]


def test_not_received_and_cancelled_reach_the_other_side(lists, resident):
    liaison = lists.world.users[Role.PARTNER_LIAISON]
    number = lists.need.pk
    claim = claim_need(actor=liaison, need=lists.need, partner=lists.partner)
    claim = claim_transition(claim=claim, actor=liaison, action="start")
    claim = claim_transition(claim=claim, actor=liaison, action="deliver")
    Notification.objects.all().delete()

    claim = claim_transition(claim=claim, actor=resident, action="dispute", note="少了一份")
    assert sent() == [
        ("partner_liaison", "claim", f"Need No. {number}: the household says it did not arrive"),
    ]
    Notification.objects.all().delete()

    claim_transition(claim=claim, actor=liaison, action="cancel", note="人手不够")
    assert sent() == [
        (
            "resident",
            "claim",
            f"静安区人民法院 can no longer help with your household's need No. {number}",
        ),
    ]


def test_claim_messages_carry_neither_the_needs_title_nor_the_typed_reason(lists, resident):
    liaison = lists.world.users[Role.PARTNER_LIAISON]
    claim = claim_need(actor=liaison, need=lists.need, partner=lists.partner)
    claim_transition(claim=claim, actor=liaison, action="cancel", note="老人住院了")
    texts = [
        f"{note.title} {note.display_title} {note.body}"
        for note in Notification.objects.filter(kind__startswith="claim")
    ]
    assert len(texts) == 2
    assert not any(lists.need.title in text or "住院" in text for text in texts)


def test_a_resident_without_a_phone_or_with_sms_off_hears_in_the_inbox_only(lists):
    world = lists.world
    liaison, resident = world.users[Role.PARTNER_LIAISON], world.users[Role.RESIDENT]
    claim = claim_need(actor=liaison, need=lists.need, partner=lists.partner)
    assert channels_of("resident", "claim") == ["inapp"]

    with_phone(resident)
    preference_update(user=resident, updated_by=resident, values={"sms": False})
    claim_transition(claim=claim, actor=liaison, action="start")
    notes = Notification.objects.filter(recipient=resident).order_by("id")
    assert [
        sorted(OutboxMessage.objects.filter(notification=note).values_list("channel", flat=True))
        for note in notes
    ] == [["inapp"], ["inapp"]]


def test_a_household_without_a_login_and_a_need_of_an_area_have_no_beneficiary_to_tell(lists):
    world = lists.world
    secretary = world.users[Role.SECRETARY]
    # 李建国 of household 102 has no login; the second need is for the whole building group.
    for need in (
        need_create(
            actor=secretary, category="food", title="助餐", household=world.neighbour_household
        ),
        need_create(
            actor=secretary, category="repair", title="修灯", grid_unit=world.building_group
        ),
    ):
        claim_need(actor=secretary, need=need, partner=lists.partner)
    assert [(user, kind) for user, kind, _title in sent()] == [
        ("partner_liaison", "claim"),
        ("partner_liaison", "claim"),
    ]


def test_hours_waiting_stay_in_the_staff_inbox_and_their_approval_reaches_the_volunteer(
    lists, resident
):
    world = lists.world
    with_phone(world.users[Role.SECRETARY], "13900000003")
    volunteer_user = world.users[Role.VOLUNTEER]
    claim = claim_need(actor=volunteer_user, need=lists.need, volunteer=lists.volunteer)
    claim = claim_transition(claim=claim, actor=volunteer_user, action="start")
    claim = claim_transition(claim=claim, actor=volunteer_user, action="deliver", hours="24")
    claim_transition(claim=claim, actor=resident, action="confirm")
    assert sorted(user for user, _kind, _title in sent("claim_hours_pending")) == [
        "micro_grid_lead",
        "secretary",
        "street_admin",
    ]
    assert channels_of("secretary", "claim_hours_pending") == ["inapp"]

    Notification.objects.all().delete()
    claim_transition(claim=claim, actor=world.users[Role.STREET_ADMIN], action="approve_hours")
    assert sent() == [
        ("volunteer", "claim", f"Your 24.00 hours for need No. {lists.need.pk} are approved"),
    ]


# Needs that wait ----------------------------------------------------------------------------


@pytest.fixture
def waiting(world):
    """The lists world, its need created on CREATED; the secretary has an e-mail address."""
    with time_machine.travel(CREATED, tick=False):
        lists = build_lists(world)
    secretary = world.users[Role.SECRETARY]
    secretary.email = "secretary@example.org"
    secretary.save(update_fields=["email"])
    return lists


def test_the_job_runs_daily_at_nine_in_shanghai():
    entry = settings.LINLI_JOBS["partners-need-waiting"]
    assert entry["task"] == "partners.notify_waiting_needs"
    assert entry["schedule"] == crontab(hour=9, minute=0)
    assert settings.LINLI_NEED_WAITING_DAYS == 7


def test_a_need_waiting_eight_days_tells_the_list_keepers_once(waiting):
    number = waiting.need.pk
    with time_machine.travel(CREATED + timedelta(days=8), tick=False):
        assert notify_waiting_needs() == 1
        assert notify_waiting_needs() == 0
    assert sorted(sent("need_waiting")) == [
        (username, "need_waiting", f"Need No. {number} has waited for a claim since 2026-11-02")
        for username in ("micro_grid_lead", "secretary", "street_admin")
    ]
    assert channels_of("secretary", "need_waiting") == ["email", "inapp"]
    assert channels_of("street_admin", "need_waiting") == ["inapp"]
    assert Need.objects.get().waiting_notice_at == CREATED + timedelta(days=8)


def test_a_need_waiting_six_days_tells_nobody(waiting):
    with time_machine.travel(CREATED + timedelta(days=6), tick=False):
        assert waiting_needs_notify() == 0
    assert not Notification.objects.exists()


def test_a_need_still_waiting_a_period_later_is_told_again(waiting):
    with time_machine.travel(CREATED + timedelta(days=8), tick=False):
        waiting_needs_notify()
    with time_machine.travel(CREATED + timedelta(days=14), tick=False):
        assert waiting_needs_notify() == 0
    with time_machine.travel(CREATED + timedelta(days=15), tick=False):
        assert waiting_needs_notify() == 1
    assert Notification.objects.filter(kind="need_waiting").count() == 6


def test_a_claim_restarts_the_wait_and_a_fully_claimed_need_does_not_wait(waiting):
    world = waiting.world
    with time_machine.travel(CREATED + timedelta(days=5), tick=False):
        claim_need(
            actor=world.users[Role.PARTNER_LIAISON], need=waiting.need, partner=waiting.partner
        )
    # One of two visits claimed on day 5: the rest waits from then.
    with time_machine.travel(CREATED + timedelta(days=11), tick=False):
        assert waiting_needs_notify() == 0
    with time_machine.travel(CREATED + timedelta(days=13), tick=False):
        assert waiting_needs_notify() == 1
        claim_need(
            actor=world.users[Role.PARTNER_LIAISON], need=waiting.need, partner=waiting.partner
        )
    with time_machine.travel(CREATED + timedelta(days=40), tick=False):
        assert waiting_needs_notify() == 0
