"""A resident downloads everything held about their household and about them (PIPL Art.
45): one workbook, a sheet per kind of record, staff by post not name, audited."""

import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from openpyxl import load_workbook

from linli.accounts.models import AuditAction, AuditEntry
from linli.accounts.roles import Role
from linli.cases.models import CaseCategory
from linli.cases.services import case_create
from linli.emergency.models import Plan, TaskTemplate
from linli.emergency.services import activation_start, help_request_create
from linli.grids.services import visit_record
from linli.participation.activities.services import activity_create, signup_create
from linli.privacy.corrections import correction_request_create
from linli.privacy.notice import privacy_notice_accept
from linli.testing.clients import client_for
from linli.volunteers.models import ServiceKind
from linli.volunteers.services import service_hours_record, volunteer_review, volunteer_signup

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=SH)


@pytest.fixture
def pinned():
    with time_machine.travel(NOW, tick=False):
        yield


def sheets_of(response) -> dict[str, list[tuple]]:
    workbook = load_workbook(io.BytesIO(response.content))
    return {
        sheet.title: [tuple(row) for row in sheet.iter_rows(values_only=True)]
        for sheet in workbook.worksheets
    }


def minor_category() -> CaseCategory:
    return CaseCategory.objects.filter(parent__isnull=False).order_by("code").first()


def test_resident_downloads_their_household_visits_cases_help_hours_sign_ups_and_consent(
    world, pinned
):
    resident_user = world.users[Role.RESIDENT]
    leader = world.users[Role.BUILDING_GROUP_LEADER]
    secretary = world.users[Role.SECRETARY]
    # A visit to their household, and one to the neighbours (not theirs).
    visit_record(
        visitor=leader,
        household=world.household,
        method="door",
        finding="=血压偏高，已提醒复查",
        mood="good",
        needs_follow_up=True,
        visited_at=NOW - timedelta(days=3),
    )
    visit_record(
        visitor=leader,
        household=world.neighbour_household,
        method="phone",
        finding="李建国一切正常",
        visited_at=NOW - timedelta(days=2),
    )
    # A case they reported; another resident's case is not theirs.
    category = minor_category()
    case = case_create(
        reporter=resident_user,
        category=category,
        description="楼道灯坏了",
        source="resident_report",
        building=world.building,
        title="楼道灯",
    )
    case_create(
        reporter=world.users[Role.STREET_ADMIN],
        category=category,
        description="9号楼垃圾",
        source="staff",
        grid_unit=world.other_community,
        title="垃圾",
    )
    # An emergency help request for their household.
    plan = Plan.objects.create(
        grid_unit=world.community,
        grid_path=world.community.path,
        hazard="typhoon",
        name="A社区防台防汛预案",
        movement_rule="community",
        volunteer_capacity=8,
        acknowledge_minutes=15,
        retry_minutes=30,
        max_attempts=2,
    )
    TaskTemplate.objects.create(
        plan=plan,
        kind="welfare_check",
        title="独居老人安全确认",
        target_tags=",elderly_alone,",
        due_hours=2,
        required_team=ServiceKind.CARE,
        lowest_grade=4,
        sort_order=1,
    )
    activation = activation_start(
        actor=secretary,
        plan=plan,
        scope=world.community,
        grade=4,
        is_drill=True,
        acknowledge_problems=True,
    )
    help_request_create(
        actor=resident_user,
        household=world.household,
        kind="medicine",
        urgency=2,
        description="降压药吃完了",
    )
    # They volunteer, with hours on the ledger.
    volunteer = volunteer_signup(
        actor=resident_user,
        skills=[],
        willingness=[],
        availability=[],
        resident=world.resident,
    )
    volunteer = volunteer_review(actor=secretary, volunteer=volunteer, approve=True)
    service_hours_record(
        volunteer=volunteer,
        hours=Decimal("2.50"),
        source_kind="manual",
        source_id=None,
        note="敬老院探访",
        actor=secretary,
        occurred_on=date(2026, 11, 20),
    )
    # An activity they signed up for.
    activity = activity_create(
        actor=secretary,
        organiser=world.community,
        kind="action_day",
        title="周四行动日",
        capacity=20,
        starts_at=NOW + timedelta(days=2),
        ends_at=NOW + timedelta(days=2, hours=2),
    )
    signup_create(occurrence=activity.occurrences.get(), user=resident_user)
    privacy_notice_accept(user=resident_user, ip_address="10.0.0.8")
    correction_request_create(
        user=resident_user, resident=world.resident, field="phone", requested_value="13812349999"
    )

    response = client_for(resident_user).post("/privacy/my-data/", REMOTE_ADDR="10.0.0.9")

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="my-data.xlsx"'
    sheets = sheets_of(response)
    assert list(sheets) == [
        "My household",
        "Visits",
        "Cases",
        "Help requests",
        "Service hours",
        "Activity sign-ups",
        "Privacy notice",
        "Correction requests",
    ]
    assert sheets["My household"][1:] == [
        (
            "A1-1",
            "1号楼",
            "101",
            "张桂英",
            "female",
            1946,
            "138****1234",
            "110101********0038",
            "registered",
            None,
            "elderly_alone",
        ),
    ]
    # The visitor by post, never by name; a finding that looks like a formula stays text.
    assert sheets["Visits"] == [
        (
            "Household",
            "Visited at",
            "Method",
            "Visitor's post",
            "Mood",
            "Follow-up needed",
            "Finding",
        ),
        (
            "1号楼 101",
            "2026-11-28 10:00",
            "Door-to-door",
            "Building-group head",
            "Good",
            "yes",
            "'=血压偏高，已提醒复查",
        ),
    ]
    assert sheets["Cases"] == [
        (
            "Reference",
            "Filed at",
            "How it concerns me",
            "Category",
            "Title",
            "Description",
            "State",
            "Handled by (unit)",
            "Closed at",
        ),
        (
            case.reference,
            "2026-12-01 10:00",
            "I reported it",
            category.name_en,
            "楼道灯",
            "楼道灯坏了",
            case.get_state_display(),
            case.owner_unit.name,
            None,
        ),
    ]
    assert sheets["Help requests"] == [
        (
            "Filed at",
            "Emergency",
            "Kind of help",
            "Urgency",
            "What is needed",
            "Filed on my behalf",
            "State",
            "What was done",
            "Done at",
        ),
        (
            "2026-12-01 10:00",
            f"{activation.get_hazard_display()} 2026-12-01 10:00",
            "Medicine",
            "Urgent (within hours)",
            "降压药吃完了",
            "no",
            "Open",
            None,
            None,
        ),
    ]
    assert sheets["Service hours"] == [
        ("Date", "Hours", "Source", "Note"),
        ("2026-11-20", 2.5, "Recorded by staff", "敬老院探访"),
    ]
    assert sheets["Activity sign-ups"] == [
        ("Activity", "Starts at", "Status", "Signed up at", "Checked in at"),
        ("周四行动日", "2026-12-03 10:00", "Confirmed", "2026-12-01 10:00", None),
    ]
    assert sheets["Privacy notice"] == [
        ("Version", "Accepted at", "IP address"),
        ("2026-12", "2026-12-01 10:00", "10.0.0.8"),
    ]
    assert sheets["Correction requests"] == [
        (
            "Asked at",
            "Resident",
            "What is wrong",
            "Correct value",
            "Note",
            "State",
            "Handled at",
            "Decision",
        ),
        ("2026-12-01 10:00", "张桂英", "Phone", "13812349999", None, "Open", None, None),
    ]
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert (entry.actor, entry.object_type, entry.object_id, entry.object_label) == (
        resident_user,
        "household",
        str(world.household.pk),
        "my-data.xlsx",
    )
    assert entry.changes == {
        "count": 8,
        "sheets": {
            "household": 1,
            "visits": 1,
            "cases": 1,
            "help_requests": 1,
            "service_hours": 1,
            "sign_ups": 1,
            "privacy_notice": 1,
            "corrections": 1,
        },
    }
    assert (entry.grid_path, entry.ip_address) == (world.resident.grid_path, "10.0.0.9")


def test_a_case_filed_from_a_visit_to_the_household_is_about_my_household(world, pinned):
    leader = world.users[Role.BUILDING_GROUP_LEADER]
    visit = visit_record(
        visitor=leader, household=world.household, method="door", finding="厨房漏水"
    )
    case = case_create(
        reporter=leader,
        category=minor_category(),
        description="厨房漏水",
        source="visit",
        building=world.building,
        visit=visit,
        title="漏水",
    )
    rows = sheets_of(client_for(world.users[Role.RESIDENT]).post("/privacy/my-data/"))["Cases"]
    assert [(row[0], row[2]) for row in rows[1:]] == [(case.reference, "About my household")]


def test_a_resident_who_is_no_volunteer_gets_no_hours_sheet_and_chinese_titles(world, pinned):
    client = Client()
    client.force_login(world.users[Role.RESIDENT])
    sheets = sheets_of(client.post("/privacy/my-data/", headers={"Accept-Language": "zh-hans"}))
    assert list(sheets) == [
        "我的家庭",
        "走访记录",
        "诉求",
        "应急求助",
        "活动报名",
        "隐私告知同意",
        "更正申请",
    ]
    assert sheets["走访记录"] == [
        ("房屋", "走访时间", "方式", "走访人岗位", "情绪", "需跟进", "发现"),
    ]


def test_the_download_is_a_post_with_csrf_and_get_only_describes_it(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users[Role.RESIDENT])
    page = client.get("/privacy/my-data/")
    assert page.status_code == 200
    assert b'data-testid="download-my-data"' in page.content
    assert client.post("/privacy/my-data/").status_code == 403
    assert not AuditEntry.objects.filter(action=AuditAction.EXPORT).exists()


@pytest.mark.parametrize("role", [Role.SECRETARY, Role.VOLUNTEER, Role.PARTNER_LIAISON])
def test_someone_without_a_household_has_nothing_to_download(world, role):
    assert client_for(world.users[role]).post("/privacy/my-data/").status_code == 404
    assert not AuditEntry.objects.filter(action=AuditAction.EXPORT).exists()


def test_the_own_household_page_offers_the_download_and_the_correction_form(world):
    content = client_for(world.users[Role.RESIDENT]).get("/registry/me/").content.decode()
    assert 'action="/privacy/my-data/"' in content
    assert 'href="/privacy/my-corrections/"' in content
