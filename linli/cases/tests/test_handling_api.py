"""`/api/v1/cases/{id}`: dispatch to a person, escalation, 会商 records, merges, assignees."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.utils import translation

from linli.accounts.roles import Role
from linli.cases.models import Case, CaseCategory, CaseEvent, CaseSource, Coordination
from linli.cases.services import case_create, case_escalate, case_transition
from linli.conftest import World, build_world, make_user, run_together
from linli.grids.services import role_assign
from linli.notify.models import Notification
from linli.testing.clients import client_for

URL = "/api/v1/cases"
OTHER_SECRETARY = "other_secretary"


@pytest.fixture
def world(world: World) -> World:
    other = make_user(OTHER_SECRETARY)
    role_assign(
        user=other, role=Role.SECRETARY, grid_unit=world.other_community, post="party_secretary"
    )
    world.users[OTHER_SECRETARY] = other
    return world


def post_json(client: Client, url: str, data: dict):
    return client.post(url, data, content_type="application/json")


def report(world: World, category, description="楼道里堆满了纸箱") -> Case:
    return case_create(
        reporter=world.users[Role.RESIDENT],
        category=category,
        building=world.building,
        description=description,
        source=CaseSource.RESIDENT_REPORT,
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
        case.owner_user_id,
        case.due_at,
        CaseEvent.objects.filter(case=case).count(),
        Coordination.objects.filter(case=case).count(),
        Notification.objects.count(),
    )


MEETING = {
    "held_at": "2026-11-20T14:30:00+08:00",
    "participants": "书记、物业经理、楼组长",
    "partner_units": "区房管局",
    "decision": "物业三日内清理，房管局督办",
    "units_assigned": "物业公司",
    "due_at": "2026-11-23T18:00:00+08:00",
}

# role -> status for a role that may not record a 会商 on a case in community A.
COORDINATION_REFUSED = {
    "anonymous": 401,
    Role.RESIDENT: 403,
    Role.VOLUNTEER: 404,
    Role.PARTNER_LIAISON: 404,
    Role.BUILDING_GROUP_LEADER: 403,
    Role.MICRO_GRID_LEAD: 403,
    OTHER_SECRETARY: 404,
}


# 会商 --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.SECRETARY, Role.STREET_ADMIN])
def test_coordination_is_recorded_and_listed_in_the_detail(world, category, role):
    case = at_community(world, category)
    response = post_json(client_for(world.users[role]), f"{URL}/{case.pk}/coordinations", MEETING)
    assert response.status_code == 201
    body = response.json()
    meeting = Coordination.objects.get()
    assert body["coordinations"] == [
        {
            "id": meeting.pk,
            "held_at": "2026-11-20T14:30:00+08:00",
            "participants": "书记、物业经理、楼组长",
            "partner_units": "区房管局",
            "decision": "物业三日内清理，房管局督办",
            "units_assigned": "物业公司",
            "due_at": "2026-11-23T18:00:00+08:00",
        }
    ]
    assert (body["version"], body["due_at"]) == (4, "2026-11-23T18:00:00+08:00")
    assert body["events"][-1]["action"] == "coordinate"
    assert meeting.recorded_by == world.users[role]


def test_coordination_time_without_offset_is_shanghai_time(world, category):
    case = at_community(world, category)
    response = post_json(
        client_for(world.users[Role.SECRETARY]),
        f"{URL}/{case.pk}/coordinations",
        {**MEETING, "held_at": "2026-11-20T14:30", "due_at": "2026-11-23T18:00"},
    )
    assert response.status_code == 201
    assert response.json()["coordinations"][0]["held_at"] == "2026-11-20T14:30:00+08:00"


def test_coordination_is_refused_to_everyone_else_and_writes_nothing(world, category):
    case = at_community(world, category)
    before = snapshot(case)
    for role, status in COORDINATION_REFUSED.items():
        response = post_json(
            client_for(world.users[role]), f"{URL}/{case.pk}/coordinations", MEETING
        )
        assert response.status_code == status, role
        assert snapshot(case) == before, role
    denied = post_json(
        client_for(world.users[Role.MICRO_GRID_LEAD]), f"{URL}/{case.pk}/coordinations", MEETING
    )
    assert denied.json() == {
        "message": "Only the community secretary records a coordination meeting.",
        "field": None,
    }


def test_coordination_below_the_community_is_400_and_writes_nothing(world, category):
    case = report(world, category)
    before = snapshot(case)
    response = post_json(
        client_for(world.users[Role.SECRETARY]), f"{URL}/{case.pk}/coordinations", MEETING
    )
    assert response.status_code == 400
    assert response.json() == {
        "message": "A coordination meeting is held on cases escalated to the community.",
        "field": "case",
    }
    assert snapshot(case) == before


def test_coordination_due_before_the_meeting_is_400_naming_the_field(world, category):
    case = at_community(world, category)
    before = snapshot(case)
    response = post_json(
        client_for(world.users[Role.SECRETARY]),
        f"{URL}/{case.pk}/coordinations",
        {**MEETING, "due_at": "2026-11-19T09:00:00+08:00"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "message": "The due date must be after the meeting.",
        "field": "due_at",
    }
    assert snapshot(case) == before


def test_the_reporter_does_not_see_the_meetings(world, category):
    case = at_community(world, category)
    post_json(client_for(world.users[Role.SECRETARY]), f"{URL}/{case.pk}/coordinations", MEETING)
    body = client_for(world.users[Role.RESIDENT]).get(f"{URL}/{case.pk}").json()
    assert (body["coordinations"], body["owner_user"]) == ([], None)
    staff = client_for(world.users[Role.MICRO_GRID_LEAD]).get(f"{URL}/{case.pk}").json()
    assert [meeting["decision"] for meeting in staff["coordinations"]] == [
        "物业三日内清理，房管局督办"
    ]


# Escalation ---------------------------------------------------------------------------------


ESCALATION_REFUSED = {
    "anonymous": 401,
    Role.RESIDENT: 403,
    Role.VOLUNTEER: 404,
    Role.PARTNER_LIAISON: 404,
    OTHER_SECRETARY: 404,
}


def test_escalation_is_refused_to_those_without_a_post_and_writes_nothing(world, category):
    case = report(world, category)
    before = snapshot(case)
    for role, status in ESCALATION_REFUSED.items():
        response = post_json(
            client_for(world.users[role]),
            f"{URL}/{case.pk}/escalate",
            {"reason": "超出本级处置能力", "expected_version": case.version},
        )
        assert response.status_code == status, role
        assert snapshot(case) == before, role


@pytest.mark.parametrize(
    "role",
    [Role.BUILDING_GROUP_LEADER, Role.MICRO_GRID_LEAD, Role.SECRETARY, Role.STREET_ADMIN],
)
def test_staff_covering_the_case_escalate_it(world, category, role):
    case = report(world, category)
    response = post_json(
        client_for(world.users[role]),
        f"{URL}/{case.pk}/escalate",
        {"reason": "超出本级处置能力", "expected_version": case.version},
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["escalation_level"], body["grid_unit"], body["version"]) == (
        "micro_grid",
        world.micro_grid.name,
        2,
    )
    # The micro-grid's lead is told in the inbox.
    escalated = Notification.objects.filter(kind="case_escalated")
    assert list(escalated.values_list("recipient__username", flat=True)) == [Role.MICRO_GRID_LEAD]


# Dispatch to a person -------------------------------------------------------------------------


def test_assignees_list_names_posts_and_units_closest_first(world, category):
    case = report(world, category)
    response = client_for(world.users[Role.MICRO_GRID_LEAD]).get(f"{URL}/{case.pk}/assignees")
    assert response.status_code == 200
    assert response.json() == [
        {
            "user_id": world.users[Role.BUILDING_GROUP_LEADER].pk,
            "name": "building_group_leader",
            "post": "Building-group head",
            "unit": world.building_group.name,
        },
        {
            "user_id": world.users[Role.MICRO_GRID_LEAD].pk,
            "name": "micro_grid_lead",
            "post": "Party branch secretary",
            "unit": world.micro_grid.name,
        },
        {
            "user_id": world.users[Role.SECRETARY].pk,
            "name": "secretary",
            "post": "Party general branch secretary",
            "unit": world.community.name,
        },
        {
            "user_id": world.users[Role.STREET_ADMIN].pk,
            "name": "street_admin",
            "post": "Street administrator",
            "unit": world.street.name,
        },
    ]


def test_an_inactive_user_is_not_offered(world, category):
    case = report(world, category)
    leader = world.users[Role.BUILDING_GROUP_LEADER]
    leader.is_active = False
    leader.save(update_fields=["is_active"])
    response = client_for(world.users[Role.SECRETARY]).get(f"{URL}/{case.pk}/assignees")
    assert [row["user_id"] for row in response.json()] == [
        world.users[Role.MICRO_GRID_LEAD].pk,
        world.users[Role.SECRETARY].pk,
        world.users[Role.STREET_ADMIN].pk,
    ]


def test_assignees_are_refused_to_those_without_a_post(world, category):
    case = report(world, category)
    expected = {
        "anonymous": 401,
        Role.RESIDENT: 403,
        Role.VOLUNTEER: 404,
        Role.PARTNER_LIAISON: 404,
        OTHER_SECRETARY: 404,
    }
    for role, status in expected.items():
        response = client_for(world.users[role]).get(f"{URL}/{case.pk}/assignees")
        assert response.status_code == status, role


def test_dispatch_to_a_person_with_a_team_notifies_the_person(world, category):
    case = case_transition(
        case=report(world, category), actor=world.users[Role.SECRETARY], action="accept"
    )
    leader = world.users[Role.BUILDING_GROUP_LEADER]
    response = post_json(
        client_for(world.users[Role.SECRETARY]),
        f"{URL}/{case.pk}/actions",
        {
            "action": "dispatch",
            "expected_version": case.version,
            "owner_user_id": leader.pk,
            "handler_text": "物业公司",
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["state"], body["owner_user"], body["handler"]) == (
        "dispatched",
        "building_group_leader",
        "物业公司",
    )
    notification = Notification.objects.get(kind="case_assigned")
    # Stored in the site's language; shown in the reader's.
    assert (notification.recipient, notification.kind, notification.title) == (
        leader,
        "case_assigned",
        f"事项 {case.reference} 已派给您",
    )
    with translation.override("en"):
        assert notification.display_title == f"Case {case.reference} has been assigned to you"


def test_dispatch_to_someone_without_a_post_is_400_and_writes_nothing(world, category):
    case = case_transition(
        case=report(world, category), actor=world.users[Role.SECRETARY], action="accept"
    )
    before = snapshot(case)
    response = post_json(
        client_for(world.users[Role.SECRETARY]),
        f"{URL}/{case.pk}/actions",
        {
            "action": "dispatch",
            "expected_version": case.version,
            "owner_user_id": world.users[OTHER_SECRETARY].pk,
        },
    )
    assert response.status_code == 400
    assert response.json() == {
        "message": "This person holds no post covering the case.",
        "field": "owner_user",
    }
    assert snapshot(case) == before


# Merges and the detail --------------------------------------------------------------------------


def test_merge_shows_the_original_and_the_merged_cases(world, category):
    original = report(world, category)
    duplicate = report(world, category, description="1号楼楼道纸箱又堆起来了")
    client = client_for(world.users[Role.SECRETARY])
    response = post_json(
        client,
        f"{URL}/{duplicate.pk}/actions",
        {
            "action": "mark_duplicate",
            "expected_version": duplicate.version,
            "duplicate_of_id": original.pk,
        },
    )
    assert response.status_code == 200
    assert response.json()["duplicate_of"] == {
        "id": original.pk,
        "reference": original.reference,
        "state": "reported",
    }
    assert client.get(f"{URL}/{original.pk}").json()["duplicates"] == [
        {"id": duplicate.pk, "reference": duplicate.reference, "state": "duplicate"}
    ]


def test_detail_reports_the_loop_counters(world, category):
    case = case_create(
        reporter=world.users[Role.SECRETARY],
        category=category,
        building=world.building,
        description="12345转来：楼道堆物",
        source=CaseSource.HOTLINE_12345,
        hotline_reference="SH20261127-0042",
    )
    secretary = world.users[Role.SECRETARY]
    for action in ["accept", "dispatch", "request_extension", "approve_extension"]:
        case = case_transition(case=case, actor=secretary, action=action)
    body = client_for(world.users[Role.SECRETARY]).get(f"{URL}/{case.pk}").json()
    assert {
        key: body[key]
        for key in (
            "hotline_reference",
            "handler",
            "owner_user",
            "extension_count",
            "extension_pending",
            "reopen_count",
            "duplicate_of",
            "duplicates",
        )
    } == {
        "hotline_reference": "SH20261127-0042",
        "handler": category.usual_handler,
        "owner_user": None,
        "extension_count": 1,
        "extension_pending": False,
        "reopen_count": 0,
        "duplicate_of": None,
        "duplicates": [],
    }


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are a PostgreSQL matter")
@pytest.mark.django_db(transaction=True)
def test_two_dispatches_at_once_leave_one_owner_and_one_notification():
    world = build_world()
    # A transactional test empties every table, the seeded categories included.
    major, _ = CaseCategory.objects.get_or_create(
        code="SAF", defaults=dict(name_zh="安全隐患", name_en="Safety hazards")
    )
    category, _ = CaseCategory.objects.get_or_create(
        code="SAF-01",
        defaults=dict(parent=major, name_zh="楼道堆物", name_en="Stairwell clutter", sla_hours=72),
    )
    case = case_transition(
        case=report(world, category), actor=world.users[Role.SECRETARY], action="accept"
    )
    candidates = [world.users[Role.BUILDING_GROUP_LEADER], world.users[Role.MICRO_GRID_LEAD]]

    def dispatch(actor_role, owner):
        return lambda: case_transition(
            case=case,
            actor=world.users[actor_role],
            action="dispatch",
            owner_user=owner,
            expected_version=case.version,
        )

    errors = run_together(
        dispatch(Role.SECRETARY, candidates[0]), dispatch(Role.STREET_ADMIN, candidates[1])
    )
    assert len(errors) == 1
    assert isinstance(errors[0], ValidationError) and errors[0].code == "conflict"
    case.refresh_from_db()
    assert (case.state, case.version) == ("dispatched", 3)
    assert case.owner_user in candidates
    assigned = Notification.objects.filter(kind="case_assigned")
    assert list(assigned.values_list("recipient", flat=True)) == [case.owner_user_id]
