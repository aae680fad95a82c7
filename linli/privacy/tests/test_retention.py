"""Retention: what is past its period is anonymised, what is not stays, aggregates and the
audit trail survive, and a dry run changes nothing."""

from datetime import date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command

from linli.accounts.models import ApiToken, AuditAction, AuditEntry
from linli.accounts.roles import Role
from linli.cases.models import Case, CaseCategory
from linli.cases.services import case_create
from linli.grids.models import Resident, ResidentAccount, RoleAssignment, Visit
from linli.grids.services import resident_create, visit_record
from linli.privacy.corrections import correction_request_apply, correction_request_create
from linli.privacy.models import CorrectionRequest
from linli.privacy.retention import retention_run
from linli.privacy.services import (
    ANONYMISED_NAME,
    resident_anonymise,
    resident_move_out,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2027, 3, 15, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def counts(outcomes) -> dict[str, int]:
    return {outcome.rule.name: outcome.count for outcome in outcomes}


def test_a_resident_who_moved_out_is_anonymised_after_the_departed_period(world, now):
    secretary = world.users[Role.SECRETARY]
    resident_move_out(actor=secretary, resident=world.neighbour, moved_out_on=date(2026, 9, 15))
    resident_move_out(
        actor=secretary, resident=world.other_micro_grid_resident, moved_out_on=date(2026, 9, 17)
    )

    # 180 days before 2027-03-15 is 2026-09-16: only the first has been gone long enough.
    assert counts(retention_run(dry_run=True))["departed_residents"] == 1
    assert Resident.objects.get(pk=world.neighbour.pk).name == "李建国"

    assert counts(retention_run(dry_run=False))["departed_residents"] == 1

    gone = Resident.objects.get(pk=world.neighbour.pk)
    assert (
        gone.name,
        gone.phone,
        gone.id_number_encrypted,
        gone.id_number_masked,
        gone.party_membership,
        gone.vulnerability_tags,
        gone.anonymised_at,
    ) == (ANONYMISED_NAME, "", "", "", "", "", NOW)
    assert gone.id_number_hash == f"anonymised:{gone.pk}"
    # What the aggregates count stays.
    assert (gone.sex, gone.birth_year, gone.household_id) == (
        "male",
        1958,
        world.neighbour_household.pk,
    )
    assert Resident.objects.get(pk=world.other_micro_grid_resident.pk).name == "王芳"
    entry = AuditEntry.objects.get(action=AuditAction.ANONYMISE, object_id=str(gone.pk))
    assert (entry.actor, entry.object_type, entry.object_label, entry.grid_path) == (
        None,
        "resident",
        f"#{gone.pk}",
        world.neighbour.grid_path,
    )
    assert entry.reason == "保存期限规则：已迁出的居民，保存180天"
    # A second run finds nothing left to do.
    assert counts(retention_run(dry_run=False))["departed_residents"] == 0


def test_anonymising_a_resident_unlinks_their_login_and_switches_off_a_resident_only_login(
    world, now
):
    resident_user = world.users[Role.RESIDENT]
    key = ApiToken.new_key()
    ApiToken.objects.create(
        user=resident_user, key_hash=ApiToken.hash_key(key), expires_at=NOW + timedelta(days=30)
    )
    resident_anonymise(
        actor=world.users[Role.SECRETARY],
        resident=world.resident,
        reason="本人书面申请删除个人信息（2027-03-10）",
    )

    resident_user.refresh_from_db()
    assert not ResidentAccount.objects.filter(user=resident_user).exists()
    assert not RoleAssignment.objects.filter(user=resident_user).exists()
    assert resident_user.is_active is False
    token = ApiToken.objects.get(key_hash=ApiToken.hash_key(key))
    assert token.revoked_reason == "deactivated"
    entry = AuditEntry.objects.get(action=AuditAction.ANONYMISE)
    assert (entry.actor, entry.reason, entry.object_label) == (
        world.users[Role.SECRETARY],
        "本人书面申请删除个人信息（2027-03-10）",
        f"#{world.resident.pk}",
    )


def test_anonymising_a_resident_deletes_their_correction_requests_the_audit_stays(world, now):
    resident_user, secretary = world.users[Role.RESIDENT], world.users[Role.SECRETARY]
    husband = resident_create(
        household=world.household,
        name="周德明",
        sex="male",
        birth_year=1944,
        id_number="110101199003070118",
    )
    applied = correction_request_create(
        user=resident_user, resident=world.resident, field="phone", requested_value="13812349999"
    )
    correction_request_apply(actor=secretary, correction=applied, decision_note="已核实")
    correction_request_create(
        user=resident_user,
        resident=world.resident,
        field="other",
        note="我叫张桂英，电话13812349999",
    )
    kept = correction_request_create(
        user=resident_user, resident=husband, field="name", requested_value="周德铭"
    )
    audit_before = AuditEntry.objects.filter(object_type="correction_request").count()

    resident_anonymise(actor=secretary, resident=world.resident, reason="本人书面申请删除个人信息")

    assert list(CorrectionRequest.objects.values_list("pk", flat=True)) == [kept.pk]
    # Two requests made and one applied, for her; one made for her husband.
    assert audit_before == 4
    assert AuditEntry.objects.filter(object_type="correction_request").count() == 4
    assert AuditEntry.objects.filter(
        object_type="correction_request", action=AuditAction.CORRECT
    ).values_list("object_id", flat=True).get() == str(applied.pk)


def test_anonymising_needs_a_reason_and_a_post_covering_the_resident(world, now):
    with pytest.raises(ValidationError) as refused:
        resident_anonymise(actor=world.users[Role.SECRETARY], resident=world.resident, reason="x")
    assert list(refused.value.message_dict) == ["reason"]

    with pytest.raises(ValidationError) as denied:
        resident_anonymise(
            actor=world.users[Role.BUILDING_GROUP_LEADER],
            resident=world.other_community_resident,
            reason="本人书面申请删除个人信息",
        )
    assert denied.value.code == "permission_denied"
    assert Resident.objects.filter(anonymised_at__isnull=False).count() == 0
    assert not AuditEntry.objects.filter(action=AuditAction.ANONYMISE).exists()


def test_a_move_out_date_in_the_future_is_refused(world, now):
    with pytest.raises(ValidationError) as refused:
        resident_move_out(
            actor=world.users[Role.SECRETARY],
            resident=world.neighbour,
            moved_out_on=date(2027, 3, 16),
        )
    assert list(refused.value.message_dict) == ["moved_out_on"]
    assert Resident.objects.get(pk=world.neighbour.pk).moved_out_on is None


def test_reporters_of_cases_closed_over_three_years_ago_are_forgotten_the_case_stays(world, now):
    reporter = world.users[Role.RESIDENT]
    category = CaseCategory.objects.filter(parent__isnull=False).first()
    old = case_create(
        reporter=reporter,
        category=category,
        description="楼道灯坏了",
        source="resident_report",
        building=world.building,
    )
    recent = case_create(
        reporter=reporter,
        category=category,
        description="电梯异响",
        source="resident_report",
        building=world.building,
    )
    Case.objects.filter(pk=old.pk).update(
        state="closed", closed_at=datetime(2024, 3, 15, 9, 59, tzinfo=SHANGHAI)
    )
    Case.objects.filter(pk=recent.pk).update(
        state="closed", closed_at=datetime(2024, 3, 15, 10, 1, tzinfo=SHANGHAI)
    )

    assert counts(retention_run(dry_run=False))["closed_case_reporters"] == 1

    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.reporter, old.reporter_resident, old.description, old.state) == (
        None,
        None,
        "楼道灯坏了",
        "closed",
    )
    assert recent.reporter == reporter


def test_visit_findings_older_than_three_years_are_erased_the_visit_is_counted_still(world, now):
    lead = world.users[Role.MICRO_GRID_LEAD]
    old = visit_record(
        visitor=lead,
        household=world.household,
        method="door",
        finding="张阿姨血压偏高，女儿每周来一次",
        visited_at=datetime(2024, 3, 14, 16, 0, tzinfo=SHANGHAI),
    )
    recent = visit_record(
        visitor=lead,
        household=world.household,
        method="door",
        finding="情况良好",
        visited_at=NOW - timedelta(days=30),
    )

    retention_run(dry_run=False)

    assert dict(Visit.objects.values_list("pk", "finding")) == {old.pk: "", recent.pk: "情况良好"}


def test_a_rule_whose_period_is_zero_is_off(world, now, settings):
    settings.LINLI_RETENTION_DEPARTED_DAYS = 0
    resident_move_out(
        actor=world.users[Role.SECRETARY], resident=world.neighbour, moved_out_on=date(2020, 1, 1)
    )

    [departed] = [o for o in retention_run(dry_run=False) if o.rule.name == "departed_residents"]

    assert (departed.cutoff, departed.count) == (None, 0)
    assert Resident.objects.get(pk=world.neighbour.pk).anonymised_at is None


def test_the_command_dry_run_reports_in_words_and_changes_nothing(world, now):
    resident_move_out(
        actor=world.users[Role.SECRETARY], resident=world.neighbour, moved_out_on=date(2026, 1, 1)
    )
    out = StringIO()

    call_command("retention", "run", "--dry-run", stdout=out)

    assert out.getvalue().splitlines() == [
        "保存期限预演：未做任何更改。各规则现在将匿名化：",
        "  已迁出的居民：1，2026-09-16 10:00 之前的全部",
        "  已办结诉求的反映人：0，2024-03-15 10:00 之前的全部",
        "  走访记录的情况描述：0，2024-03-15 10:00 之前的全部",
        "  应急求助的内容：0，2024-03-15 10:00 之前的全部",
        "共将匿名化 1 条。",
    ]
    assert Resident.objects.get(pk=world.neighbour.pk).anonymised_at is None


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (
            datetime(2027, 3, 15, 10, 0, tzinfo=SHANGHAI),
            datetime(2024, 3, 15, 10, 0, tzinfo=SHANGHAI),
        ),
        (
            datetime(2028, 2, 29, 8, 0, tzinfo=SHANGHAI),
            datetime(2025, 2, 28, 8, 0, tzinfo=SHANGHAI),
        ),
    ],
)
def test_a_period_in_years_counts_calendar_years_in_shanghai(moment, expected):
    from linli.privacy.retention import RULES

    reporters = next(rule for rule in RULES if rule.name == "closed_case_reporters")

    assert reporters.cutoff(moment) == expected


def test_no_number_of_an_anonymised_resident_can_be_revealed(world, now):
    from linli.grids.services import resident_reveal

    resident_anonymise(
        actor=world.users[Role.SECRETARY], resident=world.neighbour, reason="本人书面申请删除"
    )

    with pytest.raises(ValidationError) as refused:
        resident_reveal(
            user=world.users[Role.SECRETARY],
            resident=Resident.objects.get(pk=world.neighbour.pk),
            field="id_number",
            purpose="verify_identity",
            reason="核实身份办理业务",
        )

    assert refused.value.message_dict == {"field": ["该居民已匿名化，不再保存任何号码。"]}
    assert not AuditEntry.objects.filter(action=AuditAction.REVEAL).exists()
