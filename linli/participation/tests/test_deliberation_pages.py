"""Deliberation pages: who sees which page, staff actions refused to others without a trace,
a resident's flow on the phone, and staff running a topic through to done."""

from datetime import date

import pytest
from django.urls import reverse

from linli.accounts.roles import Role
from linli.participation.deliberation import services
from linli.participation.deliberation.models import (
    Milestone,
    Opinion,
    Resolution,
    Round,
    StakeholderMembership,
    Topic,
    TopicSupport,
    TopicUpdate,
)
from linli.participation.tests.helpers import member, user_for
from linli.participation.tests.test_deliberation_services import (
    filed_case,
    make_topic,
    resolved,
    walk,
)
from linli.testing.clients import client_for

MANAGERS = {Role.STREET_ADMIN, Role.SECRETARY}
MEMBERS = {r for r in Role.values if r != Role.STREET_ADMIN}
ALL_ROLES = [*Role.values, "anonymous", "outsider"]


def expected(role: str, allowed: set[str]) -> int:
    if role == "anonymous":
        return 302
    return 200 if role in allowed else 404


def url(name: str, *args) -> str:
    return reverse(f"participation:deliberation_{name}", args=args)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_page_permission_matrix(world, role):
    topic = make_topic(world)
    everyone = set(Role.values) | {"outsider"}
    pages = {
        url("list"): everyone,
        url("new"): everyone,
        url("detail", topic.pk): MEMBERS | MANAGERS,
        url("groups"): MANAGERS,
    }
    client = client_for(user_for(world, role))
    got = {page: client.get(page).status_code for page in pages}
    assert got == {page: expected(role, allowed) for page, allowed in pages.items()}


def snapshot() -> tuple:
    return (
        list(Topic.objects.values_list("state", "invited_groups", "outcome").order_by("pk")),
        list(Round.objects.values_list("number", "closed_at").order_by("pk")),
        list(Opinion.objects.values_list("hidden_at", flat=True)),
        Resolution.objects.count(),
        Milestone.objects.count(),
        TopicUpdate.objects.count(),
        StakeholderMembership.objects.count(),
    )


@pytest.mark.parametrize("role", [r for r in ALL_ROLES if r not in MANAGERS])
def test_staff_actions_are_refused_to_others_and_change_nothing(world, role):
    topic = make_topic(world)
    opinion = services.opinion_post(actor=world.users[Role.RESIDENT], topic=topic, body="同意")
    case = filed_case(world)
    client = client_for(user_for(world, role))
    before = snapshot()
    posts = [
        (url("invite", topic.pk), {"groups": ["resident", "deputy"]}),
        (url("transition", topic.pk), {"action": "withdraw"}),
        (url("round_close", topic.pk), {}),
        (url("resolution", topic.pk), {"kind": "consensus", "text": "同意"}),
        (
            url("milestone", topic.pk),
            {"title": "t", "due_on": "2026-12-01", "responsible_text": "x"},
        ),
        (url("update", topic.pk), {"body": "x"}),
        (url("done", topic.pk), {"outcome": "x"}),
        (url("hide", opinion.pk), {"reason": "x"}),
        (url("from_case", case.pk), {}),
        (
            url("groups"),
            {"username": "resident", "group": "deputy", "community": world.community.pk},
        ),
    ]
    codes = [client.post(page, data).status_code for page, data in posts]
    if role == "anonymous":
        assert set(codes) == {302}
    elif role == "outsider":
        assert set(codes) == {404}
    else:
        # The topic is theirs to see: the refusal comes back as a message on its page. The
        # case and the groups page stay out of sight (404) for those who may not run them.
        assert codes[:8] == [302] * 8
        assert codes[9] == 404
    assert snapshot() == before


def test_a_resident_raises_supports_and_speaks_on_the_phone(world):
    client = client_for(world.users[Role.RESIDENT])
    response = client.post(
        url("new"),
        {"community": world.community.pk, "title": "加装电梯", "description": "三楼以上"},
    )
    topic = Topic.objects.get()
    assert response.status_code == 302 and response["Location"] == url("detail", topic.pk)
    services.topic_transition(actor=world.users[Role.SECRETARY], topic=topic, action="open")
    services.round_open(actor=world.users[Role.SECRETARY], topic=topic)

    page = client.get(url("detail", topic.pk)).content.decode()
    assert 'data-testid="support"' in page and 'data-testid="post-opinion"' in page
    client.post(url("support", topic.pk))
    client.post(url("opinion", topic.pk), {"body": "支持加装"})
    page = client.get(url("detail", topic.pk)).content.decode()
    assert 'data-testid="supported"' in page
    assert "1 support" in page
    assert "支持加装" in page
    assert TopicSupport.objects.count() == 1
    assert Opinion.objects.get().group == "resident"


def test_a_bad_topic_form_names_the_field_and_writes_nothing(world):
    response = client_for(world.users[Role.RESIDENT]).post(
        url("new"), {"community": world.community.pk, "title": "加装电梯", "description": " "}
    )
    assert response.status_code == 200
    assert 'data-testid="description-error"' in response.content.decode()
    assert Topic.objects.count() == 0


def test_a_hidden_opinion_shows_the_reason_to_others_and_the_original_to_its_author(world):
    topic = make_topic(world)
    opinion = services.opinion_post(actor=world.users[Role.RESIDENT], topic=topic, body="原话在此")
    client_for(world.users[Role.SECRETARY]).post(url("hide", opinion.pk), {"reason": "人身攻击"})
    other = client_for(world.users[Role.VOLUNTEER]).get(url("detail", topic.pk)).content.decode()
    author = client_for(world.users[Role.RESIDENT]).get(url("detail", topic.pk)).content.decode()
    assert "Hidden by moderator (人身攻击)" in other and "原话在此" not in other
    assert "Hidden by moderator (人身攻击)" in author and "原话在此" in author


def test_staff_run_a_case_topic_to_done_and_the_case_closes(world):
    case = walk(filed_case(world), world, "accept", "dispatch", "start", "resolve")
    client = client_for(world.users[Role.SECRETARY])
    client.post(url("from_case", case.pk))
    topic = Topic.objects.get()
    for page, data in [
        (url("invite", topic.pk), {"groups": ["resident", "property"]}),
        (url("transition", topic.pk), {"action": "open"}),
        (url("round_open", topic.pk), {}),
        (url("round_close", topic.pk), {}),
        (
            url("resolution", topic.pk),
            {
                "kind": "vote",
                "text": "申请增设站点",
                "votes_for": "20",
                "votes_against": "1",
                "votes_abstain": "2",
            },
        ),
        (
            url("milestone", topic.pk),
            {"title": "勘察", "due_on": "2026-12-01", "responsible_text": "公交公司"},
        ),
        (url("update", topic.pk), {"body": "公交公司已勘察"}),
        (url("done", topic.pk), {"outcome": "702路新增站点"}),
    ]:
        assert client.post(page, data).status_code == 302
    milestone = Milestone.objects.get()
    topic.refresh_from_db()
    case.refresh_from_db()
    assert (topic.state, topic.invited_groups, topic.case_link) == (
        "done",
        ["resident", "property"],
        "closed",
    )
    assert case.state == "closed"
    page = client_for(world.users[Role.RESIDENT]).get(url("detail", topic.pk)).content.decode()
    assert "702路新增站点" in page
    assert "Vote: 20 for, 1 against, 2 abstaining" in page
    assert milestone.title in page and "公交公司已勘察" in page


def test_a_refused_resolution_is_shown_on_the_page(world):
    topic = make_topic(world)
    client = client_for(world.users[Role.SECRETARY])
    response = client.post(
        url("resolution", topic.pk), {"kind": "vote", "text": "x", "votes_for": "-3"}, follow=True
    )
    assert "A count cannot be negative." in response.content.decode()
    assert Resolution.objects.count() == 0


def test_staff_record_a_stakeholder_membership(world):
    person = member(world, "deputy_wang")
    client = client_for(world.users[Role.SECRETARY])
    response = client.post(
        url("groups"),
        {"username": "deputy_wang", "group": "deputy", "community": world.community.pk},
    )
    assert response.status_code == 302
    membership = StakeholderMembership.objects.get()
    assert (membership.user, membership.group, membership.verified_by) == (
        person,
        "deputy",
        world.users[Role.SECRETARY],
    )
    missing = client.post(
        url("groups"), {"username": "nobody", "group": "deputy", "community": world.community.pk}
    )
    assert 'data-testid="username-error"' in missing.content.decode()
    assert StakeholderMembership.objects.count() == 1


def test_the_menu_links_to_the_deliberation_hall(world):
    page = client_for(world.users[Role.RESIDENT]).get(url("list")).content.decode()
    assert f'href="{url("list")}" aria-current="page" data-testid="deliberation-link"' in page


def test_staff_lift_a_case_by_its_reference_from_the_list(world):
    case = filed_case(world)
    client = client_for(world.users[Role.SECRETARY])
    assert 'data-testid="lift-case"' in client.get(url("list")).content.decode()
    response = client.post(url("from_reference"), {"reference": case.reference})
    topic = Topic.objects.get()
    assert (response["Location"], topic.case) == (url("detail", topic.pk), case)
    missing = client.post(url("from_reference"), {"reference": "NOPE"}, follow=True)
    assert "No case with that reference is in your scope." in missing.content.decode()
    assert Topic.objects.count() == 1


def test_the_topic_page_counts_opinions_by_group(world):
    topic = make_topic(world, invited_groups=["resident", "property"])
    manager = member(world, "property_manager")
    services.stakeholder_membership_add(
        actor=world.users[Role.SECRETARY], user=manager, group="property", community=world.community
    )
    first = services.opinion_post(actor=world.users[Role.RESIDENT], topic=topic, body="同意")
    services.opinion_post(actor=manager, topic=topic, body="配合", parent=first)
    services.opinion_post(actor=world.users[Role.RESIDENT], topic=topic, body="再议")
    page = client_for(world.users[Role.VOLUNTEER]).get(url("detail", topic.pk)).content.decode()
    assert (
        '<span class="tag">Residents (居民) 2</span> <span class="tag">Property management (物业) 1</span>'
        in page
    )


def test_staff_see_the_controls_of_each_state_and_residents_see_none(world):
    topic = resolved(world)
    staff = client_for(world.users[Role.SECRETARY])
    page = staff.get(url("detail", topic.pk)).content.decode()
    assert url("milestone", topic.pk) in page and url("done", topic.pk) not in page
    services.milestone_add(
        actor=world.users[Role.SECRETARY],
        topic=topic,
        title="勘察",
        due_on=date(2026, 12, 1),
        responsible_text="公交公司",
    )
    page = staff.get(url("detail", topic.pk)).content.decode()
    milestone = Milestone.objects.get()
    assert url("progress", topic.pk, milestone.pk) in page and url("done", topic.pk) in page
    resident_page = (
        client_for(world.users[Role.RESIDENT]).get(url("detail", topic.pk)).content.decode()
    )
    assert 'data-testid="staff-controls"' not in resident_page
    assert "勘察" in resident_page and "0%" in resident_page
