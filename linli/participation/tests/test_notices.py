"""Activities and deliberation reach people: sign-ups when a date moves place or is
cancelled, followers of a series when a new activity of it is published, participants and
followers of a topic at each round, its resolution and its end. Each person once, on the
channels the event declares where they have an address and have not said otherwise."""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from linli.accounts.roles import Role
from linli.conftest import make_user
from linli.grids.services import role_assign
from linli.notify.events import EVENTS
from linli.notify.models import Notification, OutboxMessage, Subscription
from linli.notify.services import follow, preference_update
from linli.participation.activities.services import (
    activity_update,
    occurrence_cancel,
    reminders_send,
    signup_cancel,
    signup_create,
    venue_create,
)
from linli.participation.deliberation.services import (
    milestone_add,
    opinion_post,
    resolution_record,
    round_close,
    round_open,
    topic_create,
    topic_done,
    topic_support,
    topic_transition,
)
from linli.participation.notices import series_target, topic_target
from linli.participation.tests.conftest import make_activity
from linli.participation.tests.helpers import member, user_for
from linli.testing.clients import client_for


def sent(kind: str) -> list[tuple[str, str]]:
    """(recipient, title in English) of the notifications of `kind`, by recipient."""
    notes = Notification.objects.filter(kind=kind).order_by("recipient__username", "id")
    return [(note.recipient.username, note.display_title) for note in notes]


def channels_of(username: str, kind: str) -> list[str]:
    (note,) = Notification.objects.filter(recipient__username=username, kind=kind)
    return sorted(OutboxMessage.objects.filter(notification=note).values_list("channel", flat=True))


def with_phone(user, phone="13800000001"):
    user.phone = phone
    user.save(update_fields=["phone"])
    return user


def resident_of_a(world, username: str):
    """Another resident login of community A (a resident post in building group A1-1)."""
    user = make_user(username)
    role_assign(user=user, role=Role.RESIDENT, grid_unit=world.building_group, post="resident")
    return user


def test_every_kind_participation_sends_is_declared_with_its_channels():
    declared = {kind: event for kind, event in EVENTS.items() if event.app == "participation"}
    assert sorted(declared) == [
        "activity.cancelled",
        "activity.changed",
        "activity.promoted",
        "activity.published",
        "activity.reminder",
        "topic.done",
        "topic.resolved",
        "topic.round",
        "topic.withdrawn",
    ]
    assert {event.channels for event in declared.values()} == {("inapp", "sms", "wechat")}
    assert not any(event.urgent for event in declared.values())


# Activities ---------------------------------------------------------------------------------


def test_a_cancelled_date_tells_every_sign_up_and_only_them(world):
    occurrence = make_activity(world, capacity=2).occurrences.get()
    resident = with_phone(world.users[Role.RESIDENT])
    signup_create(occurrence=occurrence, user=resident)
    signup_create(occurrence=occurrence, user=member(world, "placed"))
    signup_create(occurrence=occurrence, user=member(world, "waiting"))
    gone = signup_create(occurrence=occurrence, user=member(world, "gone"))
    signup_cancel(sign_up=gone, actor=gone.user)
    follow(user=member(world, "series_follower"), target=series_target(occurrence.activity))
    member(world, "bystander")
    Notification.objects.all().delete()

    occurrence_cancel(occurrence=occurrence, actor=world.users[Role.SECRETARY], reason="台风预警")

    assert sent("activity.cancelled") == [
        ("placed", "Cancelled: 周四行动日"),
        ("resident", "Cancelled: 周四行动日"),
        ("waiting", "Cancelled: 周四行动日"),
    ]
    assert Notification.objects.count() == 3
    assert channels_of("resident", "activity.cancelled") == ["inapp", "sms"]
    assert channels_of("placed", "activity.cancelled") == ["inapp"]


def test_a_new_place_reaches_each_person_signed_up_for_a_coming_date_once(world):
    secretary = world.users[Role.SECRETARY]
    activity = make_activity(world, rrule="FREQ=WEEKLY;COUNT=2", capacity=1)
    first, second = activity.occurrences.order_by("starts_at")
    resident = with_phone(world.users[Role.RESIDENT])
    signup_create(occurrence=first, user=resident)
    signup_create(occurrence=second, user=resident)
    signup_create(occurrence=second, user=member(world, "waiting_second"))
    signup_create(occurrence=second, user=member(world, "late"))  # waitlisted behind
    member(world, "bystander")
    hall = venue_create(actor=secretary, community=world.community, name="共享客厅", capacity=50)

    def update(venue):
        activity_update(
            actor=secretary, activity=activity, title=activity.title, capacity=1, venue=venue
        )

    update(hall)
    assert sent("activity.changed") == [
        ("late", "周四行动日 moves to 共享客厅"),
        ("resident", "周四行动日 moves to 共享客厅"),
        ("waiting_second", "周四行动日 moves to 共享客厅"),
    ]
    assert channels_of("resident", "activity.changed") == ["inapp", "sms"]
    links = dict(Notification.objects.values_list("recipient__username", "link"))
    assert links["resident"] == reverse("participation:detail", args=[first.pk])
    assert links["late"] == reverse("participation:detail", args=[second.pk])

    Notification.objects.all().delete()
    update(hall)  # the same place again: nothing changed, nobody told
    assert not Notification.objects.exists()


def test_a_new_activity_reaches_the_followers_of_its_series_who_may_see_it(world):
    secretary = world.users[Role.SECRETARY]
    earlier = make_activity(world)
    target = series_target(earlier)
    assert target == f"series:{world.community.pk}:action_day"
    follower = with_phone(member(world, "follower"))
    outsider = user_for(world, "outsider")  # of community C: cannot see A's activities
    for user in (follower, outsider, secretary):
        follow(user=user, target=target)
    follow(user=member(world, "fair_fan"), target=f"series:{world.community.pk}:service_fair")

    activity = make_activity(world, title="春季大扫除", starts_in=timedelta(days=3))

    first = activity.occurrences.get()
    (note,) = Notification.objects.filter(kind="activity.published")
    assert note.recipient == follower
    assert note.display_title.startswith("New activity: 春季大扫除, ")
    assert (note.link, note.unsubscribe_target) == (
        reverse("participation:detail", args=[first.pk]),
        target,
    )
    assert channels_of("follower", "activity.published") == ["inapp", "sms"]


def test_reminders_and_promotions_use_the_declared_channels(world):
    occurrence = make_activity(world, capacity=1, starts_in=timedelta(hours=12)).occurrences.get()
    holder = signup_create(occurrence=occurrence, user=member(world, "holder"))
    resident = with_phone(world.users[Role.RESIDENT])
    signup_create(occurrence=occurrence, user=resident)
    signup_cancel(sign_up=holder, actor=holder.user)
    assert channels_of("resident", "activity.promoted") == ["inapp", "sms"]
    preference_update(user=resident, updated_by=resident, values={"sms": False})
    assert reminders_send() == 1
    assert channels_of("resident", "activity.reminder") == ["inapp"]


# Deliberation -------------------------------------------------------------------------------


@pytest.fixture
def topic(world):
    """An open topic of community A raised by the resident (who has a phone)."""
    raiser = with_phone(world.users[Role.RESIDENT])
    topic = topic_create(
        actor=raiser, community=world.community, title="加装电梯", description="3号楼想加装电梯"
    )
    return topic_transition(actor=world.users[Role.SECRETARY], topic=topic, action="open")


def test_rounds_resolution_and_outcome_reach_participants_and_followers_each_once(world, topic):
    secretary = world.users[Role.SECRETARY]
    supporter = member(world, "supporter")
    speaker = resident_of_a(world, "speaker")
    watcher = member(world, "watcher")
    outsider = user_for(world, "outsider")
    topic_support(actor=supporter, topic=topic)
    for user in (supporter, watcher, outsider, secretary):
        follow(user=user, target=topic_target(topic.pk))

    round_open(actor=secretary, topic=topic)
    assert sent("topic.round") == [
        ("resident", "Round 1 of “加装电梯” is open: have your say"),
        ("supporter", "Round 1 of “加装电梯” is open: have your say"),
        ("watcher", "Round 1 of “加装电梯” is open: have your say"),
    ]
    assert channels_of("resident", "topic.round") == ["inapp", "sms"]
    assert channels_of("watcher", "topic.round") == ["inapp"]
    unsubscribe = dict(
        Notification.objects.values_list("recipient__username", "unsubscribe_target")
    )
    assert unsubscribe == {"resident": "", "supporter": "", "watcher": f"topic:{topic.pk}"}

    opinion_post(actor=speaker, topic=topic, body="支持，但要考虑一楼住户")
    Notification.objects.all().delete()
    round_close(actor=secretary, topic=topic)
    everyone = ["resident", "speaker", "supporter", "watcher"]
    assert sent("topic.round") == [(user, "Round 1 of “加装电梯” has closed") for user in everyone]

    resolution_record(actor=secretary, topic=topic, kind="consensus", text="同意加装，费用分摊")
    assert sent("topic.resolved") == [
        (user, "“加装电梯” is resolved: read the resolution") for user in everyone
    ]

    milestone_add(
        actor=secretary, topic=topic, title="施工", due_on=date(2030, 1, 1), responsible_text="物业"
    )
    topic_done(actor=secretary, topic=topic, outcome="电梯已投入使用")
    assert sent("topic.done") == [(user, "“加装电梯” is done") for user in everyone]
    assert set(Notification.objects.filter(kind="topic.done").values_list("body", flat=True)) == {
        "电梯已投入使用"
    }
    assert not Notification.objects.filter(recipient__in=[secretary, outsider]).exists()


def test_a_withdrawn_topic_tells_its_participants(world, topic):
    topic_support(actor=member(world, "supporter"), topic=topic)
    topic_transition(actor=world.users[Role.SECRETARY], topic=topic, action="withdraw")
    assert sent("topic.withdrawn") == [
        ("resident", "“加装电梯” was withdrawn"),
        ("supporter", "“加装电梯” was withdrawn"),
    ]


# Follow buttons -----------------------------------------------------------------------------

MATRIX = [("member", 302), ("outsider", 404), ("anonymous", 302)]


def _viewer(world, who):
    if who == "member":
        return world.users[Role.RESIDENT]
    return user_for(world, who)


@pytest.mark.parametrize("who, status", MATRIX)
def test_following_a_topic_by_role(world, topic, who, status):
    user = _viewer(world, who)
    client = client_for(user)
    response = client.post(reverse("participation:deliberation_follow", args=[topic.pk]))
    assert response.status_code == status
    followed = Subscription.objects.filter(target=topic_target(topic.pk))
    if who == "member":
        assert response["Location"] == reverse("participation:deliberation_detail", args=[topic.pk])
        assert list(followed.values_list("user__username", flat=True)) == ["resident"]
        page = client.get(reverse("participation:deliberation_detail", args=[topic.pk]))
        assert page.status_code == 200
        assert "Stop following" in page.content.decode()
        response = client.post(reverse("participation:deliberation_unfollow", args=[topic.pk]))
        assert response.status_code == 302
    elif who == "anonymous":
        assert response["Location"].startswith("/login/")
    assert not followed.exists()


@pytest.mark.parametrize("who, status", MATRIX)
def test_following_an_activity_series_by_role(world, who, status):
    occurrence = make_activity(world).occurrences.get()
    user = _viewer(world, who)
    client = client_for(user)
    response = client.post(reverse("participation:follow_series", args=[occurrence.pk]))
    assert response.status_code == status
    followed = Subscription.objects.filter(target=series_target(occurrence.activity))
    if who == "member":
        assert response["Location"] == reverse("participation:detail", args=[occurrence.pk])
        assert list(followed.values_list("user__username", flat=True)) == ["resident"]
        page = client.get(reverse("participation:detail", args=[occurrence.pk]))
        assert page.status_code == 200
        assert 'data-testid="follow-series"' in page.content.decode()
        assert "Stop following" in page.content.decode()
        response = client.post(reverse("participation:unfollow_series", args=[occurrence.pk]))
        assert response.status_code == 302
    elif who == "anonymous":
        assert response["Location"].startswith("/login/")
    assert not followed.exists()


def test_the_follow_list_names_a_followed_topic_and_series(world, topic):
    from linli.notify.events import describe_target

    occurrence = make_activity(world).occurrences.get()
    assert describe_target(topic_target(topic.pk)) == (
        "加装电梯",
        reverse("participation:deliberation_detail", args=[topic.pk]),
    )
    assert describe_target(series_target(occurrence.activity)) == (
        "Action day (周四行动日) · A社区",
        reverse("participation:list"),
    )
    assert describe_target("series:999:action_day") == ("series:999:action_day", "")
