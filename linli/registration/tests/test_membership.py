"""Membership, once: a resident whose login was made by registering (or linked by staff, as
the admin's "居民登录账号" does) takes part like the demo resident, who also holds a resident
post: activities of their community, the deliberation hall, speaking as a resident."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.conftest import make_user
from linli.grids.models import RoleAssignment
from linli.grids.services import resident_link_login
from linli.participation.activities.services import activity_create
from linli.participation.deliberation import services as deliberation
from linli.participation.deliberation.models import Opinion
from linli.registration.tests.support import web_register
from linli.testing.clients import client_for


def community_activity(world):
    starts_at = timezone.now().replace(microsecond=0) + timedelta(days=2)
    activity = activity_create(
        actor=world.users[Role.SECRETARY],
        organiser=world.community,
        kind="action_day",
        title="周四行动日",
        capacity=20,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
    )
    return activity.occurrences.get()


def open_topic(world):
    secretary = world.users[Role.SECRETARY]
    topic = deliberation.topic_create(
        actor=secretary, community=world.community, title="加装电梯", description="三楼以上"
    )
    topic = deliberation.topic_transition(actor=secretary, topic=topic, action="open")
    deliberation.round_open(actor=secretary, topic=topic)
    return topic


def registered_resident(world):
    client = client_for(None)
    answer = web_register(
        client, world.building, phone="13500001234", name="李建国", room="102", id_last4="0054"
    )
    assert answer.status_code == 302
    user = User.objects.get(username="13500001234")
    # Linked, and holding no post: nothing but the registry link makes them a member.
    assert not RoleAssignment.objects.filter(user=user).exists()
    return client, user


def operator() -> User:
    # The admin's "居民登录账号": an operator links a login attached nowhere yet.
    return User.objects.create_superuser(username="operator", password="x", email="")


def staff_linked_resident(world):
    user = make_user("老李")
    resident_link_login(actor=operator(), resident=world.neighbour, user=user)
    return client_for(user), user


@pytest.mark.parametrize("how", ["registered", "linked by staff"])
def test_a_resident_by_their_login_alone_opens_activities_and_deliberation(world, how):
    occurrence = community_activity(world)
    topic = open_topic(world)
    client, user = (registered_resident if how == "registered" else staff_linked_resident)(world)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"

    assert client.get(reverse("participation:detail", args=[occurrence.pk])).status_code == 200
    listing = client.get(reverse("participation:list"))
    assert listing.status_code == 200 and "周四行动日" in listing.content.decode()
    deliberation_list = client.get(reverse("participation:deliberation_list"))
    assert deliberation_list.status_code == 200
    assert "加装电梯" in deliberation_list.content.decode()
    detail = client.get(reverse("participation:deliberation_detail", args=[topic.pk]))
    assert detail.status_code == 200


@pytest.mark.parametrize("how", ["registered", "linked by staff"])
def test_a_resident_by_their_login_alone_speaks_for_the_residents(world, how):
    topic = open_topic(world)
    _client, user = (registered_resident if how == "registered" else staff_linked_resident)(world)
    opinion = deliberation.opinion_post(actor=user, topic=topic, body="支持加装")
    assert (opinion.group, Opinion.objects.get().author) == ("resident", user)


def test_a_resident_of_another_community_does_not_see_the_activity(world):
    occurrence = community_activity(world)
    user = make_user("赵强的手机")
    resident_link_login(actor=operator(), resident=world.other_community_resident, user=user)
    answer = client_for(user).get(reverse("participation:detail", args=[occurrence.pk]))
    assert answer.status_code == 404
