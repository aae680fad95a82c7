"""A volunteer application is not membership (issue 13, hole 4).

Someone with no post who applies through `POST /api/v1/volunteers` for community A stays
outside A until staff approve the application: no topics, no opinions (nor their authors),
no activities, no sign-up, no topic of their own; over the API and on the web alike. Once
approved they belong to A like any other volunteer (DESIGN §4: one definition of
membership: resident login, post, approved volunteer, partner liaison).
"""

import pytest
from django.test import Client

from linli.accounts.models import AuditEntry
from linli.accounts.roles import Role
from linli.conftest import make_user
from linli.grids.membership import member_community_ids
from linli.participation.deliberation import services as deliberation_services
from linli.participation.deliberation.models import Topic
from linli.participation.models import SignUp
from linli.participation.tests.conftest import make_activity
from linli.participation.tests.test_deliberation_services import make_topic
from linli.volunteers.models import Volunteer, VolunteerStatus
from linli.volunteers.services import volunteer_review, volunteer_set_active

APPLICATION = {
    "skills": ["driving"],
    "willingness": ["supplies"],
    "availability": ["sat_am"],
    "name": "钱多多",
    "work_unit": "区税务局",
}


@pytest.fixture
def scene(world):
    """Community A has an open topic with an opinion and an upcoming activity; a login with
    no post anywhere applies to serve A."""
    topic = make_topic(world)
    deliberation_services.opinion_post(
        actor=world.users[Role.RESIDENT], topic=topic, body="赞成在门口设站。"
    )
    occurrence = make_activity(world, capacity=5).occurrences.get()
    applicant = make_user("applicant")
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(applicant)
    response = client.post(
        "/api/v1/volunteers",
        {**APPLICATION, "grid_unit_id": world.community.pk},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["status"] == "applied"
    return world, topic, occurrence, applicant, client


def _approve(world, applicant) -> None:
    volunteer = Volunteer.objects.get(user=applicant)
    volunteer_review(actor=world.users[Role.SECRETARY], volunteer=volunteer, approve=True)


def test_an_application_alone_is_not_membership(scene):
    world, _topic, _occurrence, applicant, _client = scene
    assert member_community_ids(user=applicant) == []


def test_a_pending_applicant_sees_no_topic_opinion_or_activity_over_the_api(scene):
    world, topic, occurrence, _applicant, client = scene
    assert client.get("/api/v1/deliberation/topics").json() == {"items": [], "count": 0}
    detail = client.get(f"/api/v1/deliberation/topics/{topic.pk}")
    assert (detail.status_code, detail.json()) == (
        404,
        {"message": "Not found.", "field": "topic_id"},
    )
    assert client.get("/api/v1/activities?scope=mine").json() == {"items": [], "count": 0}
    assert client.get(f"/api/v1/activities/{occurrence.pk}").status_code == 404


def test_a_pending_applicant_can_neither_sign_up_nor_raise_a_topic_over_the_api(scene):
    world, _topic, occurrence, _applicant, client = scene
    sign_up = client.post(f"/api/v1/activities/{occurrence.pk}/sign-up")
    assert (sign_up.status_code, sign_up.json()["field"]) == (404, "occurrence_id")
    raised = client.post(
        "/api/v1/deliberation/topics",
        {"community_id": world.community.pk, "title": "加装电梯", "description": "三楼以上"},
        content_type="application/json",
    )
    assert (raised.status_code, raised.json()["field"]) == (400, "community_id")
    assert (SignUp.objects.count(), Topic.objects.count()) == (0, 1)


def test_a_pending_applicant_is_refused_on_the_web(scene):
    world, topic, occurrence, _applicant, client = scene
    assert list(client.get("/activities/").context["occurrences"]) == []
    assert list(client.get("/activities/deliberation/").context["topics"]) == []
    assert client.get(f"/activities/deliberation/{topic.pk}/").status_code == 404
    assert client.get(f"/activities/{occurrence.pk}/").status_code == 404
    assert client.post(f"/activities/{occurrence.pk}/sign-up/").status_code == 404
    assert client.get("/activities/deliberation/new/").status_code == 404
    assert SignUp.objects.count() == 0


def test_a_rejected_applicant_stays_outside(scene):
    world, topic, _occurrence, applicant, client = scene
    volunteer = Volunteer.objects.get(user=applicant)
    volunteer_review(
        actor=world.users[Role.SECRETARY], volunteer=volunteer, approve=False, note="名额已满"
    )
    assert member_community_ids(user=applicant) == []
    assert client.get(f"/api/v1/deliberation/topics/{topic.pk}").status_code == 404


def test_once_approved_the_applicant_belongs_to_the_community(scene):
    world, topic, occurrence, applicant, client = scene
    _approve(world, applicant)
    assert member_community_ids(user=applicant) == [world.community.pk]
    listing = client.get("/api/v1/deliberation/topics").json()
    assert [item["title"] for item in listing["items"]] == ["702路公交站点"]
    detail = client.get(f"/api/v1/deliberation/topics/{topic.pk}").json()
    assert [opinion["author"] for opinion in detail["opinions"]] == ["resident"]
    assert [item["id"] for item in client.get("/api/v1/activities?scope=mine").json()["items"]] == [
        occurrence.pk
    ]
    assert client.post(f"/api/v1/activities/{occurrence.pk}/sign-up").status_code == 201
    raised = client.post(
        "/api/v1/deliberation/topics",
        {"community_id": world.community.pk, "title": "加装电梯", "description": "三楼以上"},
        content_type="application/json",
    )
    assert (raised.status_code, raised.json()["state"]) == (201, "draft")
    assert client.get(f"/activities/deliberation/{topic.pk}/").status_code == 200
    assert client.get(f"/activities/{occurrence.pk}/").status_code == 200


def test_an_inactive_volunteer_keeps_membership_like_an_active_one(scene):
    # Pausing service is the volunteer's own choice and not a loss of membership; only an
    # application that was never approved (or was rejected) is outside.
    world, topic, _occurrence, applicant, client = scene
    _approve(world, applicant)
    volunteer = Volunteer.objects.get(user=applicant)
    volunteer_set_active(actor=applicant, volunteer=volunteer, active=False)
    assert Volunteer.objects.get(user=applicant).status == VolunteerStatus.INACTIVE
    assert member_community_ids(user=applicant) == [world.community.pk]


def test_the_approval_that_grants_membership_is_audited(scene):
    world, _topic, _occurrence, applicant, _client = scene
    _approve(world, applicant)
    entry = AuditEntry.objects.get(object_type="volunteer", action="update")
    assert (entry.actor, entry.field, entry.changes, entry.grid_path) == (
        world.users[Role.SECRETARY],
        "status",
        {"status": ["applied", "approved"]},
        world.community.path,
    )
