"""Behaviour of `/api/v1/deliberation` and its permission matrix: a denied call answers
401/403/404 and changes nothing."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from linli.accounts.roles import Role
from linli.participation.deliberation import services
from linli.participation.deliberation.models import (
    Milestone,
    Opinion,
    OpinionReport,
    Resolution,
    Round,
    Topic,
    TopicSupport,
    TopicUpdate,
)
from linli.participation.tests.helpers import user_for
from linli.participation.tests.test_deliberation_services import filed_case, make_topic, resolved
from linli.testing.clients import client_for

URL = "/api/v1/deliberation"
MANAGERS = {Role.STREET_ADMIN, Role.SECRETARY}
# Everyone with a post in community A; the street admin's post is above it.
MEMBERS = {r for r in Role.values if r != Role.STREET_ADMIN}
ALL_ROLES = [*Role.values, "anonymous", "outsider"]


def post_json(client, url: str, data: dict | None = None):
    return client.post(url, data or {}, content_type="application/json")


def snapshot() -> tuple:
    return (
        list(Topic.objects.values_list("state", "invited_groups", "outcome").order_by("pk")),
        list(Round.objects.values_list("number", "closed_at").order_by("pk")),
        list(Opinion.objects.values_list("body", "hidden_at").order_by("pk")),
        TopicSupport.objects.count(),
        OpinionReport.objects.count(),
        Resolution.objects.count(),
        list(Milestone.objects.values_list("progress", flat=True)),
        TopicUpdate.objects.count(),
    )


def denied_status(role: str) -> int:
    return {"anonymous": 401, "outsider": 404}.get(role, 403)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_read_permission_matrix(world, role):
    topic = make_topic(world)
    client = client_for(user_for(world, role))
    listing = client.get(f"{URL}/topics")
    detail = client.get(f"{URL}/topics/{topic.pk}")
    if role == "anonymous":
        assert (listing.status_code, detail.status_code) == (401, 401)
        return
    assert listing.status_code == 200
    if role == "outsider":
        assert listing.json() == {"items": [], "count": 0}
        assert detail.status_code == 404
        assert detail.json() == {"message": "Not found.", "field": "topic_id"}
        return
    assert [item["title"] for item in listing.json()["items"]] == ["702路公交站点"]
    assert detail.status_code == 200
    assert detail.json()["rounds"][0]["number"] == 1


STAFF_CALLS = {
    "invite": lambda t, o, m: (f"topics/{t.pk}/invite", {"invited_groups": ["resident", "deputy"]}),
    "withdraw": lambda t, o, m: (f"topics/{t.pk}/transition", {"action": "withdraw"}),
    "round_close": lambda t, o, m: (f"topics/{t.pk}/rounds/close", {}),
    "resolution": lambda t, o, m: (
        f"topics/{t.pk}/resolution",
        {"kind": "vote", "text": "同意", "votes_for": 9, "votes_against": 1, "votes_abstain": 0},
    ),
    "hide": lambda t, o, m: (f"opinions/{o.pk}/hide", {"reason": "广告"}),
}


@pytest.mark.parametrize("call", sorted(STAFF_CALLS))
@pytest.mark.parametrize("role", ALL_ROLES)
def test_staff_write_matrix_on_an_open_topic(world, role, call):
    topic = make_topic(world)
    opinion = services.opinion_post(actor=world.users[Role.RESIDENT], topic=topic, body="同意")
    path, payload = STAFF_CALLS[call](topic, opinion, None)
    before = snapshot()
    response = post_json(client_for(user_for(world, role)), f"{URL}/{path}", payload)
    if role in MANAGERS:
        assert response.status_code in (200, 201), response.json()
        assert snapshot() != before
    else:
        assert response.status_code == denied_status(role), response.content
        assert snapshot() == before


BOARD_CALLS = {
    "milestone": lambda t, m: (
        f"topics/{t.pk}/milestones",
        {"title": "设站", "due_on": "2026-12-31", "responsible_text": "公交公司"},
    ),
    "progress": lambda t, m: (f"topics/{t.pk}/milestones/{m.pk}/progress", {"progress": 50}),
    "update": lambda t, m: (f"topics/{t.pk}/updates", {"body": "已勘察"}),
    "done": lambda t, m: (f"topics/{t.pk}/done", {"outcome": "702路新增站点"}),
}


@pytest.mark.parametrize("call", sorted(BOARD_CALLS))
@pytest.mark.parametrize("role", ALL_ROLES)
def test_staff_write_matrix_on_the_implementation_board(world, role, call):
    topic = resolved(world)
    milestone = services.milestone_add(
        actor=world.users[Role.SECRETARY],
        topic=topic,
        title="勘察",
        due_on=date(2026, 12, 1),
        responsible_text="公交公司",
    )
    path, payload = BOARD_CALLS[call](topic, milestone)
    before = snapshot()
    response = post_json(client_for(user_for(world, role)), f"{URL}/{path}", payload)
    if role in MANAGERS:
        assert response.status_code in (200, 201), response.json()
        assert snapshot() != before
    else:
        assert response.status_code == denied_status(role), response.content
        assert snapshot() == before


@pytest.mark.parametrize("role", ALL_ROLES)
def test_member_write_matrix(world, role):
    topic = make_topic(world)
    opinion = services.opinion_post(actor=world.users[Role.RESIDENT], topic=topic, body="原话")
    client = client_for(user_for(world, role))
    before = snapshot()
    support = post_json(client, f"{URL}/topics/{topic.pk}/support")
    if role in MEMBERS:
        assert support.status_code == 201
        assert support.json()["support_count"] == 1
        assert support.json()["supported"] is True
    else:
        assert support.status_code == denied_status(role)
        assert snapshot() == before
    posted = post_json(client, f"{URL}/topics/{topic.pk}/opinions", {"body": "附议"})
    if role == Role.RESIDENT:
        assert posted.status_code == 201
        assert posted.json()["group"] == "resident"
    elif role in MEMBERS:
        # Only residents are invited, and only the resident belongs to 居民.
        assert posted.status_code == 403
        assert posted.json() == {
            "message": "None of your groups is invited to this topic.",
            "field": "group",
        }
    else:
        assert posted.status_code == denied_status(role)
    reported = post_json(client, f"{URL}/opinions/{opinion.pk}/report", {"reason": "广告"})
    expected = 201 if role in MEMBERS else denied_status(role)
    assert reported.status_code == expected


@pytest.mark.parametrize("role", ALL_ROLES)
def test_raising_a_topic(world, role):
    response = post_json(
        client_for(user_for(world, role)),
        f"{URL}/topics",
        {"community_id": world.community.pk, "title": "加装电梯", "description": "三楼以上"},
    )
    if role in MEMBERS or role in MANAGERS:
        assert response.status_code == 201
        assert (response.json()["state"], response.json()["invited_groups"]) == (
            "draft",
            ["resident"],
        )
    elif role == "anonymous":
        assert response.status_code == 401
    else:
        assert response.status_code == 400
        assert response.json()["field"] == "community_id"
        assert Topic.objects.count() == 0


def test_a_bad_topic_names_the_field(world):
    response = post_json(
        client_for(world.users[Role.RESIDENT]),
        f"{URL}/topics",
        {"community_id": world.community.pk, "title": " ", "description": "x"},
    )
    assert response.status_code == 400
    assert response.json() == {"message": "Give the topic a title.", "field": "title"}
    assert Topic.objects.count() == 0


def test_a_second_support_is_refused_clearly(world):
    topic = make_topic(world)
    client = client_for(world.users[Role.RESIDENT])
    assert post_json(client, f"{URL}/topics/{topic.pk}/support").status_code == 201
    again = post_json(client, f"{URL}/topics/{topic.pk}/support")
    assert again.status_code == 400
    assert again.json() == {"message": "You already support this topic.", "field": "topic"}
    assert TopicSupport.objects.count() == 1


def test_opening_a_second_round_is_a_conflict(world):
    topic = make_topic(world)
    response = post_json(
        client_for(world.users[Role.SECRETARY]), f"{URL}/topics/{topic.pk}/rounds/open"
    )
    assert response.status_code == 409
    assert response.json() == {"message": "A round is already open.", "field": "round"}


def test_a_hidden_opinion_reads_as_hidden_to_others_and_whole_to_its_author(world):
    topic = make_topic(world)
    opinion = services.opinion_post(actor=world.users[Role.RESIDENT], topic=topic, body="原话")
    services.opinion_hide(actor=world.users[Role.SECRETARY], opinion=opinion, reason="人身攻击")
    author = client_for(world.users[Role.RESIDENT]).get(f"{URL}/topics/{topic.pk}").json()
    other = client_for(world.users[Role.VOLUNTEER]).get(f"{URL}/topics/{topic.pk}").json()
    assert [(o["body"], o["hidden"], o["hidden_reason"]) for o in author["opinions"]] == [
        ("原话", True, "人身攻击")
    ]
    assert [(o["body"], o["hidden"], o["hidden_reason"]) for o in other["opinions"]] == [
        (None, True, "人身攻击")
    ]


def test_a_reply_to_an_invisible_opinion_names_parent_id(world):
    topic = make_topic(world)
    response = post_json(
        client_for(world.users[Role.RESIDENT]),
        f"{URL}/topics/{topic.pk}/opinions",
        {"body": "x", "parent_id": 999999},
    )
    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "field": "parent_id"}


def test_staff_lift_a_case_into_a_topic(world):
    case = filed_case(world)
    denied = post_json(
        client_for(world.users[Role.MICRO_GRID_LEAD]),
        f"{URL}/topics/from-case",
        {"case_id": case.pk},
    )
    assert denied.status_code == 403
    response = post_json(
        client_for(world.users[Role.SECRETARY]), f"{URL}/topics/from-case", {"case_id": case.pk}
    )
    assert response.status_code == 201
    assert (response.json()["case_id"], response.json()["community_id"]) == (
        case.pk,
        world.community.pk,
    )
    outsider = post_json(
        client_for(user_for(world, "outsider")), f"{URL}/topics/from-case", {"case_id": case.pk}
    )
    assert outsider.status_code == 404
    assert Topic.objects.count() == 1


def test_the_topic_list_costs_the_same_queries_for_many_topics(world):
    client = client_for(world.users[Role.RESIDENT])
    make_topic(world)
    client.get(f"{URL}/topics")
    with CaptureQueriesContext(connection) as one:
        client.get(f"{URL}/topics")
    for _ in range(4):
        make_topic(world)
    with CaptureQueriesContext(connection) as five:
        assert client.get(f"{URL}/topics").json()["count"] == 5
    assert len(five.captured_queries) == len(one.captured_queries)
