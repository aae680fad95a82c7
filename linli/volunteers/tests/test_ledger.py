"""The service-hours ledger: append-only, corrections with reasons, totals and export."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from openpyxl import load_workbook

from linli.accounts.models import AuditEntry
from linli.accounts.roles import Role
from linli.volunteers import selectors
from linli.volunteers.exporting import hours_export
from linli.volunteers.models import ServiceHoursEntry
from linli.volunteers.services import (
    service_hours_add,
    service_hours_correct,
    service_hours_record,
    team_member_add,
    teams_create_defaults,
    volunteer_review,
    volunteer_signup,
)
from linli.volunteers.tests.conftest import register

DAY = date(2026, 3, 5)


def record(volunteer, hours, kind="activity", note="", **kwargs):
    return service_hours_record(
        volunteer=volunteer,
        hours=Decimal(hours),
        source_kind=kind,
        source_id=kwargs.pop("source_id", None),
        note=note,
        actor=None,
        occurred_on=kwargs.pop("occurred_on", DAY),
    )


def test_record_appends_with_the_current_team(world, volunteer):
    team = teams_create_defaults(community=world.community)[1]
    team_member_add(actor=world.users[Role.SECRETARY], team=team, volunteer=volunteer)
    entry = record(volunteer, "2.5", kind="claim", source_id=41)
    assert (entry.hours, entry.team, entry.source_kind, entry.source_id) == (
        Decimal("2.5"),
        team,
        "claim",
        41,
    )
    assert entry.grid_path == "/S/B/A/"


@pytest.mark.parametrize(
    ("hours", "kind", "note", "errors"),
    [
        ("0", "activity", "", {"hours": ["Hours cannot be zero."]}),
        ("-1", "activity", "", {"hours": ["Only a correction can take hours away."]}),
        ("24.5", "activity", "", {"hours": ["One entry is at most 24 hours."]}),
        ("1.234", "activity", "", {"hours": ["Enter the hours with at most two decimals."]}),
        ("1", "party", "", {"source_kind": ["Unknown source of hours: party"]}),
        ("-1", "correction", "", {"note": ["Say why the hours are corrected."]}),
    ],
)
def test_bad_entries_name_the_field_and_write_nothing(volunteer, hours, kind, note, errors):
    with pytest.raises(ValidationError) as error:
        record(volunteer, hours, kind=kind, note=note)
    assert error.value.message_dict == errors
    assert ServiceHoursEntry.objects.count() == 0


def test_future_date_is_refused(volunteer):
    with pytest.raises(ValidationError) as error:
        record(volunteer, "1", occurred_on=timezone.localdate() + timedelta(days=1))
    assert list(error.value.message_dict) == ["occurred_on"]


def test_applicant_gets_no_hours(world):
    applicant = register(world, approve=False)
    with pytest.raises(ValidationError) as error:
        record(applicant, "1")
    assert list(error.value.message_dict) == ["volunteer"]


def test_correction_is_a_new_entry_and_cannot_go_below_zero(world, volunteer):
    secretary = world.users[Role.SECRETARY]
    original = record(volunteer, "3")
    correction = service_hours_correct(
        actor=secretary,
        volunteer=volunteer,
        hours=Decimal("-1"),
        reason="多记 1 小时",
        corrects=original,
    )
    assert (correction.source_kind, correction.source_id, correction.note) == (
        "correction",
        original.pk,
        "多记 1 小时",
    )
    original.refresh_from_db()
    assert original.hours == Decimal("3.00")
    with pytest.raises(ValidationError) as error:
        service_hours_correct(
            actor=secretary, volunteer=volunteer, hours=Decimal("-2.5"), reason="x"
        )
    assert error.value.message_dict == {
        "hours": ["The correction would take the total below zero (2.00)."]
    }
    assert selectors.hours_total(volunteer=volunteer) == Decimal("2.00")


def test_database_refuses_zero_hours_by_name(volunteer):
    with pytest.raises(IntegrityError, match="servicehours_hours_nonzero"), transaction.atomic():
        ServiceHoursEntry.objects.create(
            volunteer=volunteer,
            grid_path=volunteer.grid_path,
            hours=Decimal("0"),
            source_kind="correction",
            note="x",
            occurred_on=DAY,
        )


def test_only_staff_in_scope_add_hours_by_hand(world, volunteer):
    for role in (Role.MICRO_GRID_LEAD, Role.BUILDING_GROUP_LEADER, Role.VOLUNTEER, Role.RESIDENT):
        with pytest.raises(ValidationError) as error:
            service_hours_add(actor=world.users[role], volunteer=volunteer, hours=1, note="")
        assert error.value.code == "permission_denied"
    assert ServiceHoursEntry.objects.count() == 0
    service_hours_add(actor=world.users[Role.SECRETARY], volunteer=volunteer, hours=1, note="巡楼")
    assert ServiceHoursEntry.objects.count() == 1


def test_totals_per_person_team_and_month(world, volunteer):
    secretary = world.users[Role.SECRETARY]
    team = teams_create_defaults(community=world.community)[1]
    other = register(world, name="吴护士")
    record(volunteer, "2", occurred_on=date(2026, 2, 27))
    team_member_add(actor=secretary, team=team, volunteer=volunteer)
    record(volunteer, "1.5", occurred_on=date(2026, 3, 2))
    record(other, "4", occurred_on=date(2026, 3, 3))
    record(other, "-0.5", kind="correction", note="签到有误", occurred_on=date(2026, 3, 4))
    assert selectors.hours_totals_by_volunteer(user=secretary) == [
        {"volunteer_id": volunteer.pk, "name": "周医生", "total": Decimal("3.50")},
        {"volunteer_id": other.pk, "name": "吴护士", "total": Decimal("3.50")},
    ]
    assert selectors.hours_totals_by_team(user=secretary, start=date(2026, 3, 1)) == [
        {"team_id": team.pk, "name": "医疗保障", "total": Decimal("1.50")},
        {"team_id": None, "name": "", "total": Decimal("3.50")},
    ]
    months = selectors.hours_totals_by_month(user=secretary)
    assert [(str(row["month"])[:7], row["total"]) for row in months] == [
        ("2026-02", Decimal("2.00")),
        ("2026-03", Decimal("5.00")),
    ]
    # Outside the community's scope nothing is counted.
    assert selectors.hours_totals_by_volunteer(user=world.users[Role.BUILDING_GROUP_LEADER]) == []


def test_volunteer_sees_only_own_hours(world, volunteer):
    own = volunteer_signup(
        actor=world.users[Role.RESIDENT], skills=[], willingness=[], availability=["mon_am"]
    )
    volunteer_review(actor=world.users[Role.SECRETARY], volunteer=own, approve=True)
    record(own, "1")
    record(volunteer, "2")
    entries = selectors.hours_entries(user=world.users[Role.RESIDENT])
    assert [(entry.volunteer.name, entry.hours) for entry in entries] == [
        ("张桂英", Decimal("1.00"))
    ]


def test_export_lists_entries_and_totals_and_is_audited(world, volunteer):
    record(volunteer, "2", kind="activity", note="周四行动日", occurred_on=date(2026, 3, 5))
    record(volunteer, "1.25", kind="emergency_task", source_id=7, occurred_on=date(2026, 3, 6))
    with translation.override("en"):
        exported = hours_export(user=world.users[Role.SECRETARY], start=date(2026, 3, 1))
    assert exported.count == 2
    workbook = load_workbook(io.BytesIO(exported.content))
    assert workbook.sheetnames == ["Service hours", "Totals"]
    rows = [list(row) for row in workbook["Service hours"].iter_rows(values_only=True)]
    assert rows[0] == ["Date", "Volunteer", "Team", "Hours", "Source", "Source id", "Note"]
    assert [row[1:] for row in rows[1:]] == [
        ["周医生", None, 2, "Activity", None, "周四行动日"],
        ["周医生", None, 1.25, "Emergency task", 7, None],
    ]
    assert [list(row) for row in workbook["Totals"].iter_rows(values_only=True)] == [
        ["Volunteer", "Total hours"],
        ["周医生", 3.25],
    ]
    entry = AuditEntry.objects.get(object_type="service_hours")
    assert (entry.action, entry.changes) == (
        "export",
        {"count": 2, "filter": {"start": "2026-03-01"}},
    )


def test_export_refused_to_someone_without_volunteers_or_scope(world):
    with pytest.raises(ValidationError) as error:
        hours_export(user=world.users[Role.PARTNER_LIAISON])
    assert error.value.code == "permission_denied"
    assert not AuditEntry.objects.filter(object_type="service_hours").exists()
