"""Deliberation (议事厅) through the real services: every refusal names the field and writes
nothing; a case lifted into a topic is closed when the topic is done."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from linli.accounts.models import AuditEntry
from linli.accounts.roles import Role
from linli.cases.models import CaseCategory
from linli.cases.services import case_create, case_transition
from linli.participation.deliberation import selectors, services
from linli.participation.deliberation.models import (
    Milestone,
    Opinion,
    Resolution,
    Round,
    StakeholderMembership,
    Topic,
    TopicSupport,
)
from linli.participation.tests.helpers import member


def staff(world):
    return world.users[Role.SECRETARY]


def resident(world):
    return world.users[Role.RESIDENT]


def make_topic(world, *, actor=None, state="open", round_open=True, **kwargs):
    defaults = dict(
        actor=actor or staff(world),
        community=world.community,
        title="702路公交站点",
        description="小区门口没有公交站，老人出行不便。",
    )
    topic = services.topic_create(**{**defaults, **kwargs})
    if state in ("open", "resolved", "implementing"):
        topic = services.topic_transition(actor=staff(world), topic=topic, action="open")
        if round_open:
            services.round_open(actor=staff(world), topic=topic)
    return topic


def refused(call, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as error:
        call(**kwargs)
    return error.value


def fields(error: ValidationError) -> dict[str, list[str]]:
    return error.message_dict


def counts() -> tuple[int, ...]:
    return (
        Topic.objects.count(),
        Round.objects.count(),
        Opinion.objects.count(),
        TopicSupport.objects.count(),
        Resolution.objects.count(),
        Milestone.objects.count(),
    )


# Topics ---------------------------------------------------------------------------------


def test_a_resident_raises_a_draft_topic_inviting_residents(world):
    topic = services.topic_create(
        actor=resident(world), community=world.community, title=" 加装电梯 ", description="三楼以上"
    )
    assert (topic.state, topic.title, topic.invited_groups, topic.grid_path) == (
        "draft",
        "加装电梯",
        ["resident"],
        world.community.path,
    )


@pytest.mark.parametrize(
    ("title", "description", "field", "message"),
    [
        ("", "x", "title", "Give the topic a title."),
        ("t", "  ", "description", "Describe the topic."),
        ("t" * 101, "x", "title", "Keep it to 100 characters."),
    ],
)
def test_a_topic_without_title_or_description_is_refused(world, title, description, field, message):
    error = refused(
        services.topic_create,
        actor=resident(world),
        community=world.community,
        title=title,
        description=description,
    )
    assert fields(error) == {field: [message]}
    assert Topic.objects.count() == 0


def test_a_topic_in_another_community_is_refused(world):
    error = refused(
        services.topic_create,
        actor=resident(world),
        community=world.other_community,
        title="t",
        description="d",
    )
    assert error.messages == ["You may raise topics only in your own community."]
    assert Topic.objects.count() == 0


def test_a_topic_must_belong_to_a_community(world):
    error = refused(
        services.topic_create,
        actor=staff(world),
        community=world.micro_grid,
        title="t",
        description="d",
    )
    assert fields(error) == {"community": ["Choose a community."]}


def test_only_staff_invite_groups_and_unknown_groups_are_refused(world):
    error = refused(
        services.topic_create,
        actor=resident(world),
        community=world.community,
        title="t",
        description="d",
        invited_groups=["resident", "property"],
    )
    assert error.messages == ["Only staff invite stakeholder groups."]
    topic = make_topic(world, state="draft")
    error = refused(services.topic_invite, actor=staff(world), topic=topic, groups=["martians"])
    assert fields(error) == {"invited_groups": ["Unknown group: martians."]}
    topic = services.topic_invite(actor=staff(world), topic=topic, groups=["property", "resident"])
    assert topic.invited_groups == ["resident", "property"]


def test_a_micro_grid_lead_raises_topics_but_cannot_open_or_resolve(world):
    lead = world.users[Role.MICRO_GRID_LEAD]
    topic = make_topic(world, actor=lead, state="draft")
    assert topic.raised_by == lead
    error = refused(services.topic_transition, actor=lead, topic=topic, action="open")
    assert error.code == "permission_denied"
    topic = services.topic_transition(actor=staff(world), topic=topic, action="open")
    error = refused(
        services.resolution_record, actor=lead, topic=topic, kind="consensus", text="同意"
    )
    assert error.code == "permission_denied"
    assert Topic.objects.get().state == "open"


def test_drafts_are_seen_by_their_author_and_staff_only(world):
    topic = make_topic(world, actor=resident(world), state="draft")
    neighbour = member(world, "neighbour")
    assert list(selectors.topics_visible(user=resident(world))) == [topic]
    assert list(selectors.topics_visible(user=staff(world))) == [topic]
    assert list(selectors.topics_visible(user=neighbour)) == []
    services.topic_transition(actor=staff(world), topic=topic, action="open")
    assert list(selectors.topics_visible(user=neighbour)) == [topic]
    assert list(selectors.topics_visible(user=world.users[Role.PARTNER_LIAISON])) == [topic]
    assert list(selectors.topics_visible(user=world.users[Role.STREET_ADMIN])) == [topic]


def test_a_topic_of_another_community_is_not_visible(world):
    make_topic(world)
    outsider = member(world, "outsider", unit=world.other_community)
    assert list(selectors.topics_visible(user=outsider)) == []


def test_an_illegal_state_step_is_refused_and_nothing_changes(world):
    topic = make_topic(world, state="draft")
    error = refused(services.topic_transition, actor=staff(world), topic=topic, action="implement")
    assert error.error_dict["state"][0].code == "illegal_transition"
    assert fields(error) == {"state": ["This is not possible while the topic is “Draft”."]}
    assert Topic.objects.get().state == "draft"
    error = refused(services.topic_transition, actor=staff(world), topic=topic, action="fly")
    assert fields(error) == {"action": ["Unknown action."]}


# Rounds, supports and opinions -----------------------------------------------------------


def test_rounds_open_one_at_a_time_and_are_numbered(world):
    topic = make_topic(world, round_open=False)
    first = services.round_open(actor=staff(world), topic=topic)
    error = refused(services.round_open, actor=staff(world), topic=topic)
    assert fields(error) == {"round": ["A round is already open."]}
    services.round_close(actor=staff(world), topic=topic)
    error = refused(services.round_close, actor=staff(world), topic=topic)
    assert fields(error) == {"round": ["No round is open."]}
    second = services.round_open(actor=staff(world), topic=topic)
    assert (first.number, second.number) == (1, 2)


def test_a_round_opens_only_on_an_open_topic(world):
    topic = make_topic(world, state="draft")
    error = refused(services.round_open, actor=staff(world), topic=topic)
    assert fields(error) == {"state": ["Open the topic before opening a round."]}
    assert Round.objects.count() == 0


def test_a_resident_supports_once(world):
    topic = make_topic(world)
    services.topic_support(actor=resident(world), topic=topic)
    error = refused(services.topic_support, actor=resident(world), topic=topic)
    assert fields(error) == {"topic": ["You already support this topic."]}
    assert TopicSupport.objects.count() == 1
    assert selectors.topic_get(user=resident(world), topic_id=topic.pk).support_count == 1


def test_support_from_outside_the_community_is_refused(world):
    topic = make_topic(world)
    outsider = member(world, "outsider", unit=world.other_community)
    error = refused(services.topic_support, actor=outsider, topic=topic)
    assert error.code == "permission_denied"
    assert TopicSupport.objects.count() == 0


def test_a_resident_opinion_is_tagged_residents_by_default(world):
    topic = make_topic(world)
    opinion = services.opinion_post(actor=resident(world), topic=topic, body=" 同意设站 ")
    assert (opinion.group, opinion.body, opinion.round.number) == ("resident", "同意设站", 1)


def test_opinions_wait_for_an_open_round(world):
    topic = make_topic(world, round_open=False)
    before = counts()
    error = refused(services.opinion_post, actor=resident(world), topic=topic, body="同意")
    assert fields(error) == {"round": ["No round is open; opinions wait for the next one."]}
    assert counts() == before


def test_an_opinion_for_a_group_one_does_not_belong_to_is_refused(world):
    topic = make_topic(world, invited_groups=["resident", "property"])
    before = counts()
    error = refused(
        services.opinion_post, actor=resident(world), topic=topic, body="x", group="property"
    )
    assert fields(error) == {"group": ["You do not belong to that group."]}
    assert counts() == before


def test_a_group_that_is_not_invited_cannot_speak(world):
    topic = make_topic(world)  # residents only
    manager = member(world, "property_manager")
    services.stakeholder_membership_add(
        actor=staff(world), user=manager, group="property", community=world.community
    )
    error = refused(services.opinion_post, actor=manager, topic=topic, body="x")
    assert fields(error) == {"group": ["None of your groups is invited to this topic."]}
    error = refused(services.opinion_post, actor=manager, topic=topic, body="x", group="property")
    assert fields(error) == {"group": ["That group is not invited to this topic."]}
    services.topic_invite(actor=staff(world), topic=topic, groups=["resident", "property"])
    topic.refresh_from_db()
    opinion = services.opinion_post(actor=manager, topic=topic, body="物业配合")
    assert opinion.group == "property"


def test_an_empty_opinion_is_refused(world):
    topic = make_topic(world)
    error = refused(services.opinion_post, actor=resident(world), topic=topic, body="   ")
    assert fields(error) == {"body": ["Write your opinion."]}
    assert Opinion.objects.count() == 0


def test_replies_go_one_level_deep(world):
    topic = make_topic(world)
    top = services.opinion_post(actor=resident(world), topic=topic, body="同意")
    neighbour_user = world.users[Role.RESIDENT]
    reply = services.opinion_post(actor=neighbour_user, topic=topic, body="附议", parent=top)
    error = refused(
        services.opinion_post, actor=resident(world), topic=topic, body="x", parent=reply
    )
    assert fields(error) == {"parent": ["Replies go one level deep."]}
    tops = selectors.opinions_for(topic=topic)
    assert [(item.body, [r.body for r in item.reply_list]) for item in tops] == [("同意", ["附议"])]


def test_a_membership_is_recorded_once_by_staff(world):
    person = member(world, "deputy")
    services.stakeholder_membership_add(
        actor=staff(world), user=person, group="deputy", community=world.community
    )
    error = refused(
        services.stakeholder_membership_add,
        actor=staff(world),
        user=person,
        group="deputy",
        community=world.community,
    )
    assert fields(error) == {"group": ["This person already belongs to that group."]}
    error = refused(
        services.stakeholder_membership_add,
        actor=resident(world),
        user=person,
        group="enterprise",
        community=world.community,
    )
    assert error.code == "permission_denied"
    assert StakeholderMembership.objects.count() == 1
    assert selectors.groups_of(user=person, community=world.community) == ["deputy"]


# Moderation -------------------------------------------------------------------------------


def test_a_hidden_opinion_keeps_its_text_for_the_author_and_is_audited(world):
    topic = make_topic(world)
    opinion = services.opinion_post(actor=resident(world), topic=topic, body="原话")
    neighbour = member(world, "neighbour")
    services.opinion_report(actor=neighbour, opinion=opinion, reason="人身攻击")
    hidden = services.opinion_hide(actor=staff(world), opinion=opinion, reason="人身攻击")
    assert Opinion.objects.filter(pk=opinion.pk).values_list("body", flat=True).get() == "原话"
    assert selectors.opinion_text_for(opinion=hidden, user=resident(world)) == "原话"
    assert selectors.opinion_text_for(opinion=hidden, user=neighbour) is None
    entry = AuditEntry.objects.get(object_type="opinion")
    assert (entry.action, entry.field, entry.actor, entry.reason, entry.object_id) == (
        "update",
        "hidden",
        staff(world),
        "人身攻击",
        str(opinion.pk),
    )


def test_hiding_needs_a_reason_and_staff(world):
    topic = make_topic(world)
    opinion = services.opinion_post(actor=resident(world), topic=topic, body="原话")
    error = refused(services.opinion_hide, actor=staff(world), opinion=opinion, reason=" ")
    assert fields(error) == {"reason": ["Say why the opinion is hidden."]}
    error = refused(
        services.opinion_hide, actor=world.users[Role.MICRO_GRID_LEAD], opinion=opinion, reason="x"
    )
    assert error.code == "permission_denied"
    opinion.refresh_from_db()
    assert (
        opinion.hidden_at,
        AuditEntry.objects.filter(object_type="opinion").count(),
    ) == (
        None,
        0,
    )


def test_a_report_needs_a_reason_and_is_made_once(world):
    topic = make_topic(world)
    opinion = services.opinion_post(actor=resident(world), topic=topic, body="原话")
    neighbour = member(world, "neighbour")
    error = refused(services.opinion_report, actor=neighbour, opinion=opinion, reason="")
    assert fields(error) == {"reason": ["Say why you report this opinion."]}
    services.opinion_report(actor=neighbour, opinion=opinion, reason="广告")
    error = refused(services.opinion_report, actor=neighbour, opinion=opinion, reason="广告")
    assert fields(error) == {"opinion": ["You already reported this opinion."]}


# Resolution and implementation ------------------------------------------------------------


def test_a_vote_resolution_closes_the_round_and_resolves_the_topic(world):
    topic = make_topic(world)
    resolution = services.resolution_record(
        actor=staff(world),
        topic=topic,
        kind="vote",
        text="申请702路增设站点",
        votes_for=23,
        votes_against=2,
        votes_abstain="1",
    )
    topic.refresh_from_db()
    assert (resolution.votes_for, resolution.votes_against, resolution.votes_abstain) == (23, 2, 1)
    assert topic.state == "resolved"
    assert Round.objects.get().closed_at is not None


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (dict(kind="poll", text="x"), "kind", "Choose vote or consensus."),
        (dict(kind="consensus", text=""), "text", "Write the resolution."),
        (
            dict(kind="vote", text="x", votes_for="many", votes_against=0, votes_abstain=0),
            "votes_for",
            "Give a whole number.",
        ),
        (
            dict(kind="vote", text="x", votes_for=1, votes_against=-1, votes_abstain=0),
            "votes_against",
            "A count cannot be negative.",
        ),
        (
            dict(kind="vote", text="x", votes_for=0, votes_against=0, votes_abstain=0),
            "votes_for",
            "A vote needs at least one vote cast.",
        ),
    ],
)
def test_a_bad_resolution_names_the_field_and_writes_nothing(world, data, field, message):
    topic = make_topic(world)
    before = counts()
    error = refused(services.resolution_record, actor=staff(world), topic=topic, **data)
    assert fields(error) == {field: [message]}
    assert counts() == before
    assert Topic.objects.get().state == "open"
    assert Round.objects.get().closed_at is None


def resolved(world, **kwargs):
    topic = make_topic(world, **kwargs)
    services.resolution_record(actor=staff(world), topic=topic, kind="consensus", text="同意")
    topic.refresh_from_db()
    return topic


def test_the_first_milestone_starts_implementation_and_progress_is_bounded(world):
    topic = resolved(world)
    milestone = services.milestone_add(
        actor=staff(world),
        topic=topic,
        title="公交公司勘察",
        due_on=date(2026, 12, 31),
        responsible_text="公交公司",
    )
    topic.refresh_from_db()
    assert topic.state == "implementing"
    error = refused(
        services.milestone_progress, actor=staff(world), milestone=milestone, progress=101
    )
    assert fields(error) == {"progress": ["Progress runs from 0 to 100."]}
    services.milestone_progress(
        actor=staff(world), milestone=milestone, progress=60, note="已完成勘察"
    )
    milestone.refresh_from_db()
    assert milestone.progress == 60
    assert list(topic.updates.values_list("body", flat=True)) == ["已完成勘察"]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            dict(title="", due_on=date(2026, 12, 1), responsible_text="x"),
            "title",
            "Name the milestone.",
        ),
        (dict(title="t", due_on=None, responsible_text="x"), "due_on", "Give the due date."),
        (
            dict(title="t", due_on=date(2026, 12, 1)),
            "responsible_text",
            "Name the responsible unit.",
        ),
    ],
)
def test_a_bad_milestone_names_the_field(world, data, field, message):
    topic = resolved(world)
    error = refused(services.milestone_add, actor=staff(world), topic=topic, **data)
    assert fields(error) == {field: [message]}
    assert Milestone.objects.count() == 0
    assert Topic.objects.get().state == "resolved"


def test_milestones_wait_for_the_resolution(world):
    topic = make_topic(world)
    error = refused(
        services.milestone_add,
        actor=staff(world),
        topic=topic,
        title="t",
        due_on=date(2026, 12, 1),
        responsible_text="x",
    )
    assert fields(error) == {
        "state": ["The implementation board opens once the resolution is recorded."]
    }


# Cases ------------------------------------------------------------------------------------


def filed_case(world):
    return case_create(
        reporter=resident(world),
        category=CaseCategory.objects.get(code="SAF-01"),
        description="小区门口没有公交站",
        source="resident_report",
        building=world.building,
    )


def walk(case, world, *actions):
    lead = world.users[Role.MICRO_GRID_LEAD]
    for action in actions:
        note = "done" if action == "resolve" else ""
        case = case_transition(case=case, actor=lead, action=action, note=note)
    return case


def finish(world, topic):
    services.topic_transition(actor=staff(world), topic=topic, action="open")
    services.resolution_record(actor=staff(world), topic=topic, kind="consensus", text="同意")
    services.milestone_add(
        actor=staff(world),
        topic=topic,
        title="设站",
        due_on=date(2026, 12, 1),
        responsible_text="公交公司",
    )
    return services.topic_done(actor=staff(world), topic=topic, outcome="702路新增站点")


def test_a_case_lifted_into_a_topic_is_closed_when_the_topic_is_done(world):
    case = walk(filed_case(world), world, "accept", "dispatch", "start", "resolve")
    topic = services.topic_from_case(actor=staff(world), case=case)
    assert (topic.case, topic.community, topic.description, topic.state) == (
        case,
        world.community,
        "小区门口没有公交站",
        "draft",
    )
    topic = finish(world, topic)
    case.refresh_from_db()
    assert (topic.state, topic.outcome, topic.case_link) == ("done", "702路新增站点", "closed")
    assert case.state == "closed"
    close = case.events.get(action="close")
    assert (
        close.note == f"Closed by the deliberation resolution: /activities/deliberation/{topic.pk}/"
    )


def test_a_case_whose_state_does_not_allow_closing_is_left_and_reported(world):
    case = walk(filed_case(world), world, "accept", "dispatch")
    topic = finish(world, services.topic_from_case(actor=staff(world), case=case))
    case.refresh_from_db()
    assert (topic.state, topic.case_link, case.state) == ("done", "left_open", "dispatched")


def test_a_case_is_lifted_once(world):
    case = filed_case(world)
    services.topic_from_case(actor=staff(world), case=case)
    error = refused(services.topic_from_case, actor=staff(world), case=case)
    assert fields(error) == {"case": ["This case is already a deliberation topic."]}
    error = refused(services.topic_from_case, actor=world.users[Role.MICRO_GRID_LEAD], case=case)
    assert error.code == "permission_denied"
    assert Topic.objects.count() == 1


def test_done_needs_an_outcome(world):
    topic = resolved(world)
    services.milestone_add(
        actor=staff(world), topic=topic, title="t", due_on=date(2026, 12, 1), responsible_text="x"
    )
    error = refused(services.topic_done, actor=staff(world), topic=topic, outcome="")
    assert fields(error) == {"outcome": ["Say what came of it."]}
    assert Topic.objects.get().state == "implementing"
