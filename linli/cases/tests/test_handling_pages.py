"""The staff side of a case's page: dispatch to a person, escalation beyond this level, the
会商 record, merging duplicates, and what the reporter sees."""

from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone, translation

from linli.accounts.roles import Role
from linli.cases.models import Case, CaseEvent, CaseSource, CaseState, Coordination
from linli.cases.services import case_create, case_escalate, case_transition
from linli.conftest import World, make_user
from linli.grids.services import role_assign
from linli.notify.models import Notification
from linli.testing.clients import client_for

OTHER_SECRETARY = "other_secretary"
ALL_ROLES = [
    "anonymous",
    Role.RESIDENT,
    Role.VOLUNTEER,
    Role.PARTNER_LIAISON,
    Role.BUILDING_GROUP_LEADER,
    Role.MICRO_GRID_LEAD,
    Role.SECRETARY,
    OTHER_SECRETARY,
    Role.STREET_ADMIN,
]


@pytest.fixture
def world(world: World) -> World:
    # The secretary of community C: a post like the secretary's, in another subtree.
    other = make_user(OTHER_SECRETARY)
    role_assign(
        user=other, role=Role.SECRETARY, grid_unit=world.other_community, post="party_secretary"
    )
    world.users[OTHER_SECRETARY] = other
    return world


def in_site_language(msgid: str, **values) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        text = translation.gettext(msgid)
    return text % values if values else text


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def report(world: World, category, description="楼道里堆满了纸箱") -> Case:
    return case_create(
        reporter=world.users[Role.RESIDENT],
        category=category,
        building=world.building,
        description=description,
        source=CaseSource.RESIDENT_REPORT,
    )


def accepted(world: World, category) -> Case:
    return case_transition(
        case=report(world, category), actor=world.users[Role.SECRETARY], action="accept"
    )


def at_community(world: World, category) -> Case:
    case = report(world, category)
    for _step in range(2):
        case = case_escalate(case=case, actor=world.users[Role.SECRETARY], reason="超出本级能力")
    return case


def snapshot(case: Case) -> tuple:
    case = Case.objects.get(pk=case.pk)
    return (
        case.state,
        case.version,
        case.escalation_level,
        case.owner_unit_id,
        case.owner_user_id,
        case.duplicate_of_id,
        CaseEvent.objects.filter(case=case).count(),
        Coordination.objects.filter(case=case).count(),
        Notification.objects.count(),
    )


def assert_refused(response, role: str) -> None:
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse(settings.LOGIN_URL))
    elif role in (Role.RESIDENT, Role.BUILDING_GROUP_LEADER, Role.MICRO_GRID_LEAD):
        # They see the case but hold no post for this step.
        assert response.status_code == 403
    else:
        assert response.status_code == 404


# Dispatch to a person -----------------------------------------------------------------------


def test_dispatch_form_offers_the_people_covering_the_case_closest_first(world, category):
    case = accepted(world, category)
    response = client_for(world.users[Role.SECRETARY], language=None).get(
        reverse("cases:detail", args=[case.pk])
    )
    posts = response.context["assignees"]
    assert [post.user for post in posts] == [
        world.users[Role.BUILDING_GROUP_LEADER],
        world.users[Role.MICRO_GRID_LEAD],
        world.users[Role.SECRETARY],
        world.users[Role.STREET_ADMIN],
    ]
    assert [post.grid_unit for post in posts] == [
        world.building_group,
        world.micro_grid,
        world.community,
        world.street,
    ]
    body = response.content.decode()
    leader = posts[0]
    assert (
        f'<option value="{leader.user_id}">{leader.user} · {leader.get_post_display()} · '
        f"{world.building_group.name}</option>"
    ) in body
    # The team field starts from the category's usual handler.
    assert f'value="{category.usual_handler}"' in body
    assert world.resident.phone not in body


def test_dispatch_to_a_chosen_person_sets_the_owner_and_notifies_them(world, category):
    case = accepted(world, category)
    leader = world.users[Role.BUILDING_GROUP_LEADER]
    response = client_for(world.users[Role.SECRETARY], language=None).post(
        reverse("cases:act", args=[case.pk]),
        {
            "action": "dispatch",
            "version": case.version,
            "owner_user": leader.pk,
            "handler_text": "物业公司",
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.state, case.owner_user, case.handler_text) == (
        CaseState.DISPATCHED,
        leader,
        "物业公司",
    )
    notification = Notification.objects.get(kind="case_assigned")
    assert (notification.recipient, notification.kind, notification.link) == (
        leader,
        "case_assigned",
        reverse("cases:detail", args=[case.pk]),
    )
    assert notification.title == in_site_language(
        "Case %(reference)s has been assigned to you", reference=case.reference
    )


def test_reassign_to_another_person_moves_the_owner(world, category):
    case = accepted(world, category)
    case = case_transition(
        case=case,
        actor=world.users[Role.SECRETARY],
        action="dispatch",
        owner_user=world.users[Role.BUILDING_GROUP_LEADER],
    )
    lead = world.users[Role.MICRO_GRID_LEAD]
    client_for(world.users[Role.SECRETARY], language=None).post(
        reverse("cases:act", args=[case.pk]),
        {"action": "reassign", "version": case.version, "owner_user": lead.pk, "note": "转交"},
    )
    case.refresh_from_db()
    assert (case.state, case.owner_user) == (CaseState.DISPATCHED, lead)
    assert list(
        Notification.objects.filter(kind="case_assigned")
        .order_by("pk")
        .values_list("recipient__username", flat=True)
    ) == [
        Role.BUILDING_GROUP_LEADER,
        Role.MICRO_GRID_LEAD,
    ]


def test_dispatch_to_someone_not_offered_is_refused_and_writes_nothing(world, category):
    case = accepted(world, category)
    before = snapshot(case)
    response = client_for(world.users[Role.SECRETARY], language=None).post(
        reverse("cases:act", args=[case.pk]),
        {"action": "dispatch", "version": case.version, "owner_user": world.users["volunteer"].pk},
    )
    assert messages_of(response) == [in_site_language("Choose a person from the list.")]
    assert snapshot(case) == before


def test_stale_dispatch_shows_the_conflict_and_notifies_nobody(world, category):
    case = accepted(world, category)
    stale = case.version
    case_transition(case=case, actor=world.users[Role.SECRETARY], action="dispatch")
    before = snapshot(case)
    response = client_for(world.users[Role.SECRETARY], language=None).post(
        reverse("cases:act", args=[case.pk]),
        {
            "action": "reassign",
            "version": stale,
            "owner_user": world.users[Role.BUILDING_GROUP_LEADER].pk,
        },
    )
    assert messages_of(response) == [
        in_site_language("Someone else changed this case; reload it and try again.")
    ]
    assert snapshot(case) == before


# Escalation beyond this level -----------------------------------------------------------------


def test_detail_offers_escalation_with_the_current_and_next_level(world, category):
    case = report(world, category)
    response = client_for(world.users[Role.BUILDING_GROUP_LEADER], language=None).get(
        reverse("cases:detail", args=[case.pk])
    )
    assert response.context["can_escalate"] is True
    assert response.context["next_escalation"]["unit"] == world.micro_grid
    body = response.content.decode()
    assert 'data-testid="escalate"' in body
    assert f"（{world.micro_grid.name}）" in body


def test_a_case_at_the_street_offers_no_escalation(world, category):
    case = report(world, category)
    for _step in range(3):
        case = case_escalate(case=case, actor=world.users[Role.STREET_ADMIN], reason="难")
    response = client_for(world.users[Role.STREET_ADMIN], language=None).get(
        reverse("cases:detail", args=[case.pk])
    )
    assert response.context["can_escalate"] is False
    assert 'data-testid="escalate"' not in response.content.decode()


@pytest.mark.parametrize(
    "role",
    [Role.BUILDING_GROUP_LEADER, Role.MICRO_GRID_LEAD, Role.SECRETARY, Role.STREET_ADMIN],
)
def test_staff_covering_the_case_escalate_it_one_level(world, category, role):
    case = report(world, category)
    response = client_for(world.users[role], language=None).post(
        reverse("cases:escalate", args=[case.pk]),
        {"reason": "超出本级处置能力", "version": case.version},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", args=[case.pk])
    case.refresh_from_db()
    assert (case.state, case.escalation_level, case.owner_unit, case.version) == (
        CaseState.REPORTED,
        "micro_grid",
        world.micro_grid,
        2,
    )
    event = case.events.last()
    assert (event.action, event.note, event.actor) == (
        "escalate",
        "超出本级处置能力",
        world.users[role],
    )
    assert messages_of(response) == [
        in_site_language("The case went up to %(unit)s.", unit=world.micro_grid.name)
    ]


def test_escalation_is_refused_to_everyone_else_and_writes_nothing(world, category):
    case = report(world, category)
    before = snapshot(case)
    for role in [
        "anonymous",
        Role.RESIDENT,
        Role.VOLUNTEER,
        Role.PARTNER_LIAISON,
        OTHER_SECRETARY,
    ]:
        response = client_for(world.users[role], language=None).post(
            reverse("cases:escalate", args=[case.pk]),
            {"reason": "超出本级处置能力", "version": case.version},
        )
        assert_refused(response, role)
        assert snapshot(case) == before, role


def test_escalation_without_a_reason_is_refused_and_writes_nothing(world, category):
    case = report(world, category)
    before = snapshot(case)
    response = client_for(world.users[Role.MICRO_GRID_LEAD], language=None).post(
        reverse("cases:escalate", args=[case.pk]), {"reason": "  ", "version": case.version}
    )
    assert messages_of(response) == [in_site_language("Say why the case goes up a level.")]
    assert snapshot(case) == before


def test_escalation_with_a_stale_version_shows_the_conflict_and_writes_nothing(world, category):
    case = report(world, category)
    stale = case.version
    case_transition(case=case, actor=world.users[Role.SECRETARY], action="accept")
    before = snapshot(case)
    response = client_for(world.users[Role.MICRO_GRID_LEAD], language=None).post(
        reverse("cases:escalate", args=[case.pk]), {"reason": "难", "version": stale}
    )
    assert messages_of(response) == [
        in_site_language("Someone else changed this case; reload it and try again.")
    ]
    assert snapshot(case) == before


def test_escalation_page_accepts_only_post(world, category):
    case = report(world, category)
    response = client_for(world.users[Role.SECRETARY], language=None).get(
        reverse("cases:escalate", args=[case.pk])
    )
    assert response.status_code == 405


# 会商 --------------------------------------------------------------------------------------------


def meeting_form(**overrides) -> dict:
    return {
        "held_at": "2026-11-20T14:30",
        "participants": "书记、物业经理、楼组长",
        "partner_units": "区房管局",
        "decision": "物业三日内清理，房管局督办",
        "units_assigned": "物业公司",
        "due_at": "2026-11-23T18:00",
        **overrides,
    }


def shanghai(text: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(text))


@pytest.mark.parametrize("role", [Role.SECRETARY, Role.STREET_ADMIN])
def test_the_secretary_records_a_meeting_on_a_case_at_the_community(world, category, role):
    case = at_community(world, category)
    client = client_for(world.users[role], language=None)
    page = client.get(reverse("cases:coordination", args=[case.pk]))
    assert page.status_code == 200
    assert 'type="datetime-local"' in page.content.decode()
    response = client.post(reverse("cases:coordination", args=[case.pk]), meeting_form())
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", args=[case.pk])
    meeting = Coordination.objects.get()
    assert (
        meeting.case,
        meeting.held_at,
        meeting.participants,
        meeting.partner_units,
        meeting.decision,
        meeting.units_assigned,
        meeting.due_at,
        meeting.recorded_by,
    ) == (
        case,
        shanghai("2026-11-20T14:30"),
        "书记、物业经理、楼组长",
        "区房管局",
        "物业三日内清理，房管局督办",
        "物业公司",
        shanghai("2026-11-23T18:00"),
        world.users[role],
    )
    case.refresh_from_db()
    assert (case.due_at, case.version) == (shanghai("2026-11-23T18:00"), 4)
    assert case.events.last().action == "coordinate"


def test_coordination_is_refused_to_everyone_else_and_writes_nothing(world, category):
    case = at_community(world, category)
    before = snapshot(case)
    for role in ALL_ROLES:
        if role in (Role.SECRETARY, Role.STREET_ADMIN):
            continue
        client = client_for(world.users[role], language=None)
        assert_refused(client.get(reverse("cases:coordination", args=[case.pk])), role)
        assert_refused(
            client.post(reverse("cases:coordination", args=[case.pk]), meeting_form()), role
        )
        assert snapshot(case) == before, role


def test_coordination_before_the_community_level_sends_back_with_a_message(world, category):
    case = report(world, category)
    response = client_for(world.users[Role.SECRETARY], language=None).get(
        reverse("cases:coordination", args=[case.pk])
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", args=[case.pk])
    assert messages_of(response) == [
        in_site_language("A coordination meeting is held on open cases escalated to the community.")
    ]
    before = snapshot(case)
    posted = client_for(world.users[Role.SECRETARY], language=None).post(
        reverse("cases:coordination", args=[case.pk]), meeting_form()
    )
    assert posted.status_code == 200
    assert posted.context["form"].non_field_errors() == [
        in_site_language("A coordination meeting is held on cases escalated to the community.")
    ]
    assert snapshot(case) == before


def test_coordination_due_before_the_meeting_is_a_field_error(world, category):
    case = at_community(world, category)
    before = snapshot(case)
    response = client_for(world.users[Role.SECRETARY], language=None).post(
        reverse("cases:coordination", args=[case.pk]),
        meeting_form(due_at="2026-11-19T09:00"),
    )
    assert response.status_code == 200
    assert response.context["form"].errors["due_at"] == [
        in_site_language("The due date must be after the meeting.")
    ]
    assert snapshot(case) == before


def test_detail_links_to_the_meeting_form_and_lists_earlier_meetings(world, category):
    case = at_community(world, category)
    secretary = client_for(world.users[Role.SECRETARY], language=None)
    secretary.post(reverse("cases:coordination", args=[case.pk]), meeting_form())
    page = secretary.get(reverse("cases:detail", args=[case.pk]))
    assert page.context["can_coordinate"] is True
    assert [meeting.decision for meeting in page.context["meetings"]] == [
        "物业三日内清理，房管局督办"
    ]
    body = page.content.decode()
    assert reverse("cases:coordination", args=[case.pk]) in body
    assert "区房管局" in body
    # The micro-grid lead handles the case but holds no 会商.
    lead = client_for(world.users[Role.MICRO_GRID_LEAD], language=None).get(
        reverse("cases:detail", args=[case.pk])
    )
    assert lead.context["can_coordinate"] is False
    # Meetings may name other residents: the reporter does not see them.
    reporter = client_for(world.users[Role.RESIDENT], language=None).get(
        reverse("cases:detail", args=[case.pk])
    )
    assert reporter.context["meetings"] == []
    assert "区房管局" not in reporter.content.decode()


# Merging duplicates ---------------------------------------------------------------------------


def test_staff_see_suspected_duplicates_with_both_merges(world, category):
    first = report(world, category)
    second = report(world, category, description="1号楼楼道纸箱又堆起来了")
    response = client_for(world.users[Role.SECRETARY], language=None).get(
        reverse("cases:detail", args=[second.pk])
    )
    assert response.context["duplicates"] == [
        {"case": first, "merge_this_into_other": True, "merge_other_into_this": True}
    ]
    body = response.content.decode()
    assert f'data-testid="merge-into-{first.pk}"' in body
    assert f'data-testid="merge-from-{first.pk}"' in body
    reporter = client_for(world.users[Role.RESIDENT], language=None).get(
        reverse("cases:detail", args=[second.pk])
    )
    assert reporter.context["duplicates"] == []
    assert 'data-testid="duplicates"' not in reporter.content.decode()


def test_merging_this_case_links_it_to_the_original_both_ways(world, category):
    original = report(world, category)
    duplicate = report(world, category, description="1号楼楼道纸箱又堆起来了")
    client = client_for(world.users[Role.SECRETARY], language=None)
    response = client.post(
        reverse("cases:act", args=[duplicate.pk]),
        {"action": "mark_duplicate", "version": duplicate.version, "duplicate_of": original.pk},
    )
    assert response["Location"] == reverse("cases:detail", args=[duplicate.pk])
    duplicate.refresh_from_db()
    assert (duplicate.state, duplicate.duplicate_of) == (CaseState.DUPLICATE, original)
    page = client.get(reverse("cases:detail", args=[duplicate.pk]))
    assert page.context["original"] == original
    body = page.content.decode()
    link = f'<a href="{reverse("cases:detail", args=[original.pk])}">{original.reference}</a>'
    assert body.count(link) == 2  # in the facts and in the timeline
    original_page = client.get(reverse("cases:detail", args=[original.pk]))
    assert original_page.context["merged"] == [duplicate]
    assert reverse("cases:detail", args=[duplicate.pk]) in original_page.content.decode()


def test_merging_the_other_case_into_this_one_returns_to_this_page(world, category):
    this = report(world, category)
    other = report(world, category, description="1号楼楼道纸箱又堆起来了")
    response = client_for(world.users[Role.SECRETARY], language=None).post(
        reverse("cases:act", args=[other.pk]),
        {
            "action": "mark_duplicate",
            "version": other.version,
            "duplicate_of": this.pk,
            "return_to": this.pk,
        },
    )
    assert response["Location"] == reverse("cases:detail", args=[this.pk])
    other.refresh_from_db()
    assert (other.state, other.duplicate_of) == (CaseState.DUPLICATE, this)


def test_merging_is_refused_to_those_without_the_post_and_writes_nothing(world, category):
    original = report(world, category)
    duplicate = report(world, category, description="1号楼楼道纸箱又堆起来了")
    before = snapshot(duplicate)
    for role in ["anonymous", Role.VOLUNTEER, Role.PARTNER_LIAISON, OTHER_SECRETARY]:
        response = client_for(world.users[role], language=None).post(
            reverse("cases:act", args=[duplicate.pk]),
            {"action": "mark_duplicate", "version": duplicate.version, "duplicate_of": original.pk},
        )
        assert_refused(response, role)
        assert snapshot(duplicate) == before, role
    # The reporter sees the case; the refusal is a message in words.
    response = client_for(world.users[Role.RESIDENT], language=None).post(
        reverse("cases:act", args=[duplicate.pk]),
        {"action": "mark_duplicate", "version": duplicate.version, "duplicate_of": original.pk},
    )
    assert response.status_code == 302
    assert messages_of(response) == [
        in_site_language(
            "You may not do “%(action)s” on this case.",
            action=in_site_language("Mark as duplicate"),
        )
    ]
    assert snapshot(duplicate) == before


# What the page shows --------------------------------------------------------------------------


def test_detail_shows_owner_handler_source_extensions_and_reopens(world, category):
    case = case_create(
        reporter=world.users[Role.SECRETARY],
        category=category,
        building=world.building,
        description="12345转来：楼道堆物",
        source=CaseSource.HOTLINE_12345,
        hotline_reference="SH20261127-0042",
    )
    secretary = world.users[Role.SECRETARY]
    case = case_transition(case=case, actor=secretary, action="accept")
    case = case_transition(
        case=case,
        actor=secretary,
        action="dispatch",
        owner_user=world.users[Role.BUILDING_GROUP_LEADER],
        handler_text="物业公司",
    )
    case = case_transition(case=case, actor=secretary, action="request_extension")
    Case.objects.filter(pk=case.pk).update(due_at=timezone.now() - timedelta(hours=1))
    response = client_for(world.users[Role.SECRETARY], language=None).get(
        reverse("cases:detail", args=[case.pk])
    )
    body = response.content.decode()
    assert response.context["overdue"] is True
    assert (
        f'<dd data-testid="owner">{world.building_group.name} · '
        f"{world.users[Role.BUILDING_GROUP_LEADER]}</dd>"
    ) in body
    assert '<dd data-testid="handler">物业公司</dd>' in body
    assert "SH20261127-0042" in body
    assert '<dd class="nowrap" data-testid="due"><span class="tag">' in body
    assert 'data-testid="extensions">0 <span class="tag">' in body
    # A requested extension waits for approval: no second request, approval offered.
    names = [action["name"] for action in response.context["actions"]]
    assert "request_extension" not in names
    assert "approve_extension" in names


def test_note_required_steps_render_a_required_note(world, category):
    case = report(world, category)
    response = client_for(world.users[Role.SECRETARY], language=None).get(
        reverse("cases:detail", args=[case.pk])
    )
    reject = next(a for a in response.context["actions"] if a["name"] == "reject")
    accept = next(a for a in response.context["actions"] if a["name"] == "accept")
    assert str(reject["note_required"]) == in_site_language("A rejection needs a reason.")
    assert accept["note_required"] is None
    assert f'required aria-label="{reject["note_required"]}"' in response.content.decode()


def resolved(world: World, category) -> Case:
    case = accepted(world, category)
    leader = world.users[Role.BUILDING_GROUP_LEADER]
    for action in ["dispatch", "start"]:
        case = case_transition(case=case, actor=leader, action=action)
    return case_transition(case=case, actor=leader, action="resolve", note="已清理")


def test_reporter_sees_rating_and_reopen_but_no_staff_controls(world, category):
    case = resolved(world, category)
    response = client_for(world.users[Role.RESIDENT], language=None).get(
        reverse("cases:detail", args=[case.pk])
    )
    assert response.context["can_rate"] is True
    assert [action["name"] for action in response.context["actions"]] == ["reopen"]
    assert response.context["can_escalate"] is False
    assert response.context["assignees"] == []
    body = response.content.decode()
    for marker in ['data-testid="escalate"', 'name="owner_user"', 'data-testid="coordinate"']:
        assert marker not in body
    # The person in charge is staff business; the owning unit is shown.
    assert f'<dd data-testid="owner">{world.building_group.name}</dd>' in body


def test_reporter_reopens_within_seven_days_and_not_after(world, category):
    case = resolved(world, category)
    client = client_for(world.users[Role.RESIDENT], language=None)
    response = client.post(
        reverse("cases:act", args=[case.pk]),
        {"action": "reopen", "version": case.version, "note": "又堆上了"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.state, case.reopen_count) == (CaseState.DISPATCHED, 1)
    page = client_for(world.users[Role.SECRETARY], language=None).get(
        reverse("cases:detail", args=[case.pk])
    )
    assert 'data-testid="reopened"' in page.content.decode()

    leader = world.users[Role.BUILDING_GROUP_LEADER]
    case = case_transition(case=case, actor=leader, action="start")
    case = case_transition(case=case, actor=leader, action="resolve", note="已清理")
    Case.objects.filter(pk=case.pk).update(resolved_at=timezone.now() - timedelta(days=8))
    late = client.get(reverse("cases:detail", args=[case.pk]))
    assert late.context["actions"] == []


def test_reassign_form_keeps_the_current_team(world, category):
    case = case_transition(
        case=accepted(world, category),
        actor=world.users[Role.SECRETARY],
        action="dispatch",
        handler_text="绿化队",
    )
    body = (
        client_for(world.users[Role.SECRETARY], language=None)
        .get(reverse("cases:detail", args=[case.pk]))
        .content.decode()
    )
    assert 'id="handler-reassign" maxlength="100" value="绿化队"' in body


def test_staff_merge_into_a_case_named_by_its_reference(world, category):
    original = report(world, category)
    # Eight days old: no longer suggested, still mergeable by reference.
    Case.objects.filter(pk=original.pk).update(created_at=timezone.now() - timedelta(days=8))
    duplicate = report(world, category, description="1号楼楼道纸箱又堆起来了")
    client = client_for(world.users[Role.SECRETARY], language=None)
    page = client.get(reverse("cases:detail", args=[duplicate.pk]))
    assert page.context["duplicates"] == []
    assert 'data-testid="merge-by-reference"' in page.content.decode()
    client.post(
        reverse("cases:act", args=[duplicate.pk]),
        {
            "action": "mark_duplicate",
            "version": duplicate.version,
            "duplicate_of_reference": original.reference,
        },
    )
    duplicate.refresh_from_db()
    assert (duplicate.state, duplicate.duplicate_of) == (CaseState.DUPLICATE, original)


def test_merge_into_a_case_out_of_scope_is_refused_and_writes_nothing(world, category):
    far = case_create(
        reporter=world.users[Role.STREET_ADMIN],
        category=category,
        building=world.other_community_household.building,
        description="9号楼楼道堆物",
        source=CaseSource.STAFF,
    )
    duplicate = report(world, category)
    before = snapshot(duplicate)
    response = client_for(world.users[Role.SECRETARY], language=None).post(
        reverse("cases:act", args=[duplicate.pk]),
        {
            "action": "mark_duplicate",
            "version": duplicate.version,
            "duplicate_of_reference": far.reference,
        },
    )
    assert messages_of(response) == [in_site_language("Choose another open case to merge into.")]
    assert snapshot(duplicate) == before


def test_stale_merge_from_the_original_page_writes_nothing(world, category):
    this = report(world, category)
    other = report(world, category, description="1号楼楼道纸箱又堆起来了")
    stale = other.version
    case_transition(case=other, actor=world.users[Role.SECRETARY], action="accept")
    before = snapshot(other)
    response = client_for(world.users[Role.SECRETARY], language=None).post(
        reverse("cases:act", args=[other.pk]),
        {
            "action": "mark_duplicate",
            "version": stale,
            "duplicate_of": this.pk,
            "return_to": this.pk,
        },
    )
    assert response["Location"] == reverse("cases:detail", args=[this.pk])
    assert messages_of(response) == [
        in_site_language("Someone else changed this case; reload it and try again.")
    ]
    assert snapshot(other) == before
