"""The 民情 closed loop through the real services."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from linli.accounts.roles import Role
from linli.cases.models import Case, CaseCategory, CaseEvent, Coordination
from linli.cases.selectors import duplicate_candidates
from linli.cases.services import (
    case_create,
    case_escalate,
    case_from_visit,
    case_transition,
    cases_escalate_overdue,
    coordination_record,
)
from linli.grids.services import visit_record


def report(world, category, **kwargs):
    defaults = dict(
        reporter=world.users[Role.RESIDENT],
        category=category,
        description="楼道里堆满纸箱",
        source="resident_report",
        building=world.building,
    )
    return case_create(**{**defaults, **kwargs})


def walk(case, world, *actions):
    lead = world.users[Role.MICRO_GRID_LEAD]
    for action in actions:
        note = "done" if action in ("resolve", "reject", "return") else ""
        case = case_transition(case=case, actor=lead, action=action, note=note)
    return case


def test_seeded_categories_have_time_limits(db):
    minors = CaseCategory.objects.filter(parent__isnull=False)
    assert minors.count() == 12
    assert CaseCategory.objects.filter(parent__isnull=True).count() == 6
    assert CaseCategory.objects.get(name_zh="电动自行车违规充电").sla_hours == 24
    assert all(c.sla_hours > 0 and c.closing_condition for c in minors)
    assert not CaseCategory.objects.get(code="NEI-01").is_public


def test_create_routes_to_the_building_group_and_sets_due_exactly(world, category):
    case = report(world, category)
    assert case.owner_unit == world.building_group
    assert case.grid_path == world.building_group.path
    assert case.escalation_level == "building_group"
    assert case.state == "reported"
    assert case.due_at - case.created_at == timedelta(hours=72)
    assert case.reporter_resident == world.resident
    assert case.handler_text == "物业"
    assert case.reference == f"A{timezone.localdate(case.created_at):%Y%m%d}{case.pk:06d}"
    assert list(case.events.values_list("action", "to_state")) == [("create", "reported")]


def test_create_refuses_a_major_class_and_writes_nothing(world):
    major = CaseCategory.objects.get(code="SAF")
    with pytest.raises(ValidationError) as error:
        report(world, major)
    assert "category" in error.value.message_dict
    assert Case.objects.count() == 0


def test_create_without_a_place_names_the_building_field(world, category):
    with pytest.raises(ValidationError) as error:
        report(world, category, building=None)
    assert "building" in error.value.message_dict
    assert Case.objects.count() == 0


def test_hotline_case_needs_its_reference(world, category):
    lead = world.users[Role.MICRO_GRID_LEAD]
    with pytest.raises(ValidationError) as error:
        report(world, category, reporter=lead, source="hotline_12345")
    assert "hotline_reference" in error.value.message_dict
    case = report(world, category, reporter=lead, source="hotline_12345", hotline_reference="H1")
    assert case.hotline_reference == "H1"


def test_resident_cannot_file_in_another_community(world, category):
    far = world.other_community_household.building
    with pytest.raises(ValidationError) as error:
        report(world, category, building=far)
    assert error.value.code == "permission_denied"
    assert Case.objects.count() == 0


def test_the_whole_loop_appends_one_event_per_step(world, category):
    case = walk(
        report(world, category), world, "accept", "dispatch", "start", "resolve", "verify", "close"
    )
    assert case.state == "closed"
    assert case.version == 7
    assert case.closed_at is not None and case.resolved_at is not None
    assert list(case.events.values_list("action", "from_state", "to_state")) == [
        ("create", "", "reported"),
        ("accept", "reported", "accepted"),
        ("dispatch", "accepted", "dispatched"),
        ("start", "dispatched", "in_progress"),
        ("resolve", "in_progress", "resolved"),
        ("verify", "resolved", "verified"),
        ("close", "verified", "closed"),
    ]


def test_an_illegal_transition_is_refused_and_writes_nothing(world, category):
    case = report(world, category)
    with pytest.raises(ValidationError) as error, translation.override("en"):
        case_transition(case=case, actor=world.users[Role.SECRETARY], action="close")
    assert error.value.code == "illegal_transition"
    assert error.value.messages == ["“Close” is not possible while the case is “Reported”."]
    case.refresh_from_db()
    assert (case.state, case.version, case.events.count()) == ("reported", 1, 1)


def test_reject_needs_a_reason(world, category):
    case = report(world, category)
    lead = world.users[Role.BUILDING_GROUP_LEADER]
    with pytest.raises(ValidationError) as error:
        case_transition(case=case, actor=lead, action="reject")
    assert "note" in error.value.message_dict
    case = case_transition(case=case, actor=lead, action="reject", note="不属于社区事务")
    assert case.state == "rejected"


def test_building_group_leader_may_not_close(world, category):
    case = walk(report(world, category), world, "accept", "dispatch", "start", "resolve")
    with pytest.raises(ValidationError) as error:
        case_transition(case=case, actor=world.users[Role.BUILDING_GROUP_LEADER], action="verify")
    assert error.value.code == "permission_denied"
    case.refresh_from_db()
    assert case.state == "resolved"


def test_staff_outside_the_subtree_may_not_act(world, category):
    from linli.grids.services import role_assign

    outsider = world.users[Role.VOLUNTEER]
    role_assign(user=outsider, role=Role.MICRO_GRID_LEAD, grid_unit=world.other_micro_grid)
    case = report(world, category)
    with pytest.raises(ValidationError) as error:
        case_transition(case=case, actor=outsider, action="accept")
    assert error.value.code == "permission_denied"


def test_extensions_are_counted_and_capped_at_two(world, category):
    case = walk(report(world, category), world, "accept", "dispatch")
    due = case.due_at
    for _ in range(2):
        case = walk(case, world, "request_extension", "approve_extension")
    assert case.extension_count == 2
    assert case.due_at == due + timedelta(hours=2 * 72)
    with pytest.raises(ValidationError) as error:
        walk(case, world, "request_extension")
    assert error.value.code == "extension_cap"


def test_dispatch_to_a_person_without_a_post_is_refused(world, category):
    case = walk(report(world, category), world, "accept")
    with pytest.raises(ValidationError) as error:
        case_transition(
            case=case,
            actor=world.users[Role.SECRETARY],
            action="dispatch",
            owner_user=world.users[Role.RESIDENT],
        )
    assert "owner_user" in error.value.message_dict
    case = case_transition(
        case=case,
        actor=world.users[Role.SECRETARY],
        action="dispatch",
        owner_user=world.users[Role.BUILDING_GROUP_LEADER],
    )
    assert case.owner_user == world.users[Role.BUILDING_GROUP_LEADER]


def test_reporter_reopens_within_seven_days_only(world, category):
    resident = world.users[Role.RESIDENT]
    case = walk(report(world, category), world, "accept", "dispatch", "start", "resolve")
    reopened = case_transition(case=case, actor=resident, action="reopen", note="又堆上了")
    assert (reopened.state, reopened.reopen_count) == ("dispatched", 1)

    case = walk(reopened, world, "start", "resolve", "verify", "close")
    Case.objects.filter(pk=case.pk).update(
        closed_at=timezone.now() - timedelta(days=8), resolved_at=None
    )
    with pytest.raises(ValidationError) as error:
        case_transition(case=case, actor=resident, action="reopen", note="again")
    assert error.value.code == "reopen_window"


def test_only_the_reporter_rates_and_only_after_resolve(world, category):
    resident = world.users[Role.RESIDENT]
    case = report(world, category)
    with pytest.raises(ValidationError) as error:
        case_transition(case=case, actor=resident, action="rate", satisfaction=5)
    assert error.value.code == "illegal_transition"
    case = walk(case, world, "accept", "dispatch", "start", "resolve")
    with pytest.raises(ValidationError) as error:
        case_transition(case=case, actor=world.users[Role.SECRETARY], action="rate", satisfaction=5)
    assert error.value.code == "permission_denied"
    with pytest.raises(ValidationError) as error:
        case_transition(case=case, actor=resident, action="rate", satisfaction=6)
    assert "satisfaction" in error.value.message_dict
    case = case_transition(case=case, actor=resident, action="rate", satisfaction=4, comment="快")
    assert (case.state, case.satisfaction, case.satisfaction_comment) == ("resolved", 4, "快")


def test_merge_into_another_open_case(world, category):
    first = report(world, category)
    second = report(world, category)
    merged = case_transition(
        case=second,
        actor=world.users[Role.MICRO_GRID_LEAD],
        action="mark_duplicate",
        duplicate_of=first,
    )
    assert (merged.state, merged.duplicate_of) == ("duplicate", first)
    with pytest.raises(ValidationError):
        case_transition(
            case=first,
            actor=world.users[Role.MICRO_GRID_LEAD],
            action="mark_duplicate",
            duplicate_of=first,
        )


def test_stale_version_is_a_conflict(world, category):
    case = report(world, category)
    lead = world.users[Role.MICRO_GRID_LEAD]
    case_transition(case=case, actor=lead, action="accept", expected_version=1)
    with pytest.raises(ValidationError) as error:
        case_transition(case=case, actor=lead, action="reject", note="x", expected_version=1)
    assert error.value.code == "conflict"


def test_escalation_climbs_each_level_to_the_street(world, category):
    case = report(world, category)
    lead = world.users[Role.SECRETARY]
    owners = []
    for _ in range(3):
        case = case_escalate(case=case, actor=lead, reason="超出本级能力")
        owners.append((case.owner_unit, case.escalation_level))
    assert owners == [
        (world.micro_grid, "micro_grid"),
        (world.community, "community"),
        (world.street, "street"),
    ]
    with pytest.raises(ValidationError) as error:
        case_escalate(case=case, actor=lead, reason="again")
    assert error.value.code == "top_level"
    assert case.events.filter(action="escalate").count() == 3


def test_escalation_notifies_the_post_holders_of_the_new_owner(world, category):
    from linli.notify.models import Notification

    case = report(world, category)
    with translation.override("en"):
        case_escalate(
            case=case, actor=world.users[Role.BUILDING_GROUP_LEADER], reason="超出本级能力"
        )
    notes = Notification.objects.filter(kind="case_escalated")
    assert [note.recipient for note in notes] == [world.users[Role.MICRO_GRID_LEAD]]
    # Sent while the page was English, stored in the site's language, read in the reader's.
    assert notes[0].title == f"民情事项 {case.reference} 已上报至第一微网格"
    with translation.override("en"):
        assert notes[0].display_title == f"Case {case.reference} was escalated to 第一微网格"


def test_overdue_sweep_escalates_once_per_overdue_case(world, category):
    overdue = report(world, category)
    fresh = report(world, category)
    now = overdue.due_at + timedelta(minutes=1)
    Case.objects.filter(pk=fresh.pk).update(due_at=now + timedelta(hours=1))
    assert cases_escalate_overdue(now=now) == 1
    overdue.refresh_from_db()
    fresh.refresh_from_db()
    assert (overdue.owner_unit, overdue.escalation_level) == (world.micro_grid, "micro_grid")
    assert overdue.due_at == now + timedelta(hours=72)
    assert fresh.escalation_level == "building_group"
    assert cases_escalate_overdue(now=now) == 0


def test_coordination_only_at_community_level_by_the_secretary(world, category):
    case = report(world, category)
    secretary = world.users[Role.SECRETARY]
    now = timezone.now()
    meeting = dict(
        held_at=now,
        participants="党总支、物业、居民代表",
        decision="统一清理",
        due_at=now + timedelta(days=3),
        partner_units="物业公司",
    )
    with pytest.raises(ValidationError) as error:
        coordination_record(case=case, actor=secretary, **meeting)
    assert "case" in error.value.message_dict
    for _ in range(2):
        case = case_escalate(case=case, actor=secretary, reason="超出本级能力")
    with pytest.raises(ValidationError) as error:
        coordination_record(case=case, actor=world.users[Role.MICRO_GRID_LEAD], **meeting)
    assert error.value.code == "permission_denied"
    record = coordination_record(case=case, actor=secretary, **meeting)
    case.refresh_from_db()
    assert Coordination.objects.get() == record
    assert case.due_at == meeting["due_at"]
    assert case.events.last().action == "coordinate"


def test_duplicates_same_building_or_within_fifty_metres_and_seven_days(world, category):
    lat, lon = Decimal("31.230000"), Decimal("121.450000")
    lead = world.users[Role.MICRO_GRID_LEAD]
    near = case_create(
        reporter=lead,
        category=category,
        description="堆物",
        source="patrol",
        grid_unit=world.micro_grid,
        latitude=lat + Decimal("0.0003"),
        longitude=lon,
    )  # about 33 m north
    far = case_create(
        reporter=lead,
        category=category,
        description="堆物",
        source="patrol",
        grid_unit=world.micro_grid,
        latitude=lat + Decimal("0.0006"),
        longitude=lon,
    )  # about 67 m north
    same_building = report(world, category)
    other_category = report(world, CaseCategory.objects.get(code="ENV-03"))
    now = timezone.now()
    found = duplicate_candidates(
        user=lead, category=category, building=world.building, latitude=lat, longitude=lon, now=now
    )
    assert set(found) == {near, same_building}
    assert far not in found and other_category not in found
    later = duplicate_candidates(
        user=lead,
        category=category,
        building=world.building,
        latitude=lat,
        longitude=lon,
        now=now + timedelta(days=8),
    )
    assert later == []


def test_case_from_visit_in_one_step(world, category):
    leader = world.users[Role.BUILDING_GROUP_LEADER]
    visit = visit_record(
        visitor=leader,
        household=world.household,
        method="door",
        finding="楼道里有电动车充电",
        needs_follow_up=True,
    )
    case = case_from_visit(
        actor=leader, visit=visit, category=CaseCategory.objects.get(code="SAF-02")
    )
    assert (case.source, case.visit, case.building) == ("visit", visit, world.building)
    assert case.description == "楼道里有电动车充电"
    assert case.due_at - case.created_at == timedelta(hours=24)
    assert CaseEvent.objects.filter(case=case).count() == 1
