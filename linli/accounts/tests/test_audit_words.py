"""The audit log in words: each entry written by the real services reads as one sentence a
secretary understands, with its changes as lines, never a Python structure."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation

from linli.accounts.audit_words import AuditLine, describe, field_noun
from linli.accounts.models import ApiToken, AuditAction, AuditEntry, TokenRevocation
from linli.accounts.roles import Role
from linli.accounts.services import token_revoke
from linli.grids.importing import registry_import
from linli.grids.services import resident_reveal, resident_update, role_assign
from linli.grids.tests.test_importing import GOOD_ROWS, csv_bytes
from linli.privacy.notice import privacy_notice_accept
from linli.privacy.retention import retention_run
from linli.privacy.services import resident_move_out

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def chinese():
    with translation.override("zh-hans"):
        yield


def latest(**filters) -> AuditEntry:
    return AuditEntry.objects.filter(**filters).select_related("actor").order_by("-id").first()


def test_a_reveal_reads_as_who_saw_whose_full_number_and_why(world, chinese):
    resident_reveal(
        user=world.users[Role.MICRO_GRID_LEAD],
        resident=world.resident,
        field="phone",
        purpose="visit_contact",
        reason="约定上门时间",
    )
    assert describe(latest(action=AuditAction.REVEAL)) == AuditLine(
        sentence="micro_grid_lead 查看了居民“张桂英”的完整电话",
        details=[],
        reason="上门走访联系：约定上门时间",
    )


def test_an_id_number_reveal_names_the_id_number(world, chinese):
    resident_reveal(
        user=world.users[Role.SECRETARY],
        resident=world.neighbour,
        field="id_number",
        purpose="verify_identity",
        reason="办理高龄补贴",
    )
    line = describe(latest(action=AuditAction.REVEAL))
    assert line.sentence == "secretary 查看了居民“李建国”的完整身份证号"


def test_an_update_shows_the_masked_phone_change_as_an_arrow(world, chinese):
    resident_update(user=world.users[Role.SECRETARY], resident=world.resident, phone="13912345678")
    assert describe(latest(action=AuditAction.UPDATE)) == AuditLine(
        sentence="secretary 修改了居民“张桂英”",
        details=["电话：138****1234 → 139****5678"],
        reason="",
    )


def test_an_update_shows_choices_booleans_and_empty_values_in_words(world, chinese):
    resident_update(
        user=world.users[Role.SECRETARY],
        resident=world.neighbour,
        residency_type="migrant",
        vulnerability_tags=["elderly_alone", "disabled"],
    )
    details = describe(latest(action=AuditAction.UPDATE)).details
    assert details == ["户籍类型：户籍 → 外来", "关爱标签：— → 残疾、独居老人"]


def test_an_import_check_reads_as_a_dry_run_with_its_counts(world, chinese):
    registry_import(
        actor=world.users[Role.SECRETARY],
        source=csv_bytes(GOOD_ROWS[:2]),
        filename="check.csv",
        dry_run=True,
    )
    line = describe(latest(action=AuditAction.IMPORT_CHECK))
    assert line.sentence == "secretary 检查了居民登记表“check.csv”，未导入（试运行）"
    assert line.details == [
        "共 2 行：新增 2，更新 0，未变 0，错误 0",
        "楼栋：新增 1，更新 0，未变 0",
        "住户：新增 2，更新 0，未变 0",
        "仅检查，未写入任何数据。",
    ]


def test_a_refused_import_does_not_read_as_a_dry_run(world, chinese):
    bad_row = [*GOOD_ROWS[0]]
    bad_row[0] = "NOPE"  # a building-group code nobody has
    registry_import(
        actor=world.users[Role.SECRETARY],
        source=csv_bytes([bad_row]),
        filename="bad.csv",
        dry_run=False,
    )
    line = describe(latest(action=AuditAction.IMPORT_CHECK))
    assert line.sentence == "secretary 尝试导入居民登记表“bad.csv”，因有错误未导入，未写入任何数据"
    assert "仅检查，未写入任何数据。" not in line.details


def test_a_role_grant_names_the_person_the_role_in_words_and_the_grid(world, chinese):
    role_assign(
        user=world.users[Role.VOLUNTEER],
        role=Role.MICRO_GRID_LEAD,
        grid_unit=world.other_micro_grid,
        post="branch_secretary",
        assigned_by=world.users[Role.SECRETARY],
    )
    assert describe(latest(action=AuditAction.ROLE_GRANT)).sentence == (
        "secretary 授予了岗位“volunteer · 微网格负责人 · 第二微网格”"
    )


def test_an_anonymisation_by_the_retention_rule_is_the_systems(world, chinese):
    with time_machine.travel(datetime(2027, 3, 15, 10, 0, tzinfo=SHANGHAI), tick=False):
        resident_move_out(
            actor=world.users[Role.SECRETARY],
            resident=world.neighbour,
            moved_out_on=date(2026, 9, 1),
        )
        retention_run(dry_run=False)
    entry = latest(action=AuditAction.ANONYMISE)
    line = describe(entry)
    assert line.sentence == f"系统（保存期限规则） 匿名化了居民“#{world.neighbour.pk}”"
    assert line.reason == entry.reason != ""
    assert line.details == []


def test_a_move_out_shows_the_date_change(world, chinese):
    with time_machine.travel(datetime(2027, 3, 15, 10, 0, tzinfo=SHANGHAI), tick=False):
        resident_move_out(
            actor=world.users[Role.SECRETARY],
            resident=world.neighbour,
            moved_out_on=date(2026, 9, 1),
        )
    assert describe(latest(action=AuditAction.UPDATE)).details == ["迁出日期：— → 2026-09-01"]


def test_an_unknown_object_type_and_keys_are_shown_by_name_without_failing(world, chinese):
    entry = AuditEntry.objects.create(
        actor=None,
        action=AuditAction.UPDATE,
        object_type="parking_permit",
        object_label="沪A12345",
        changes={
            "colour": ["red", "blue"],
            "phone": ["", None],
            "is_public": [False, True],
            "owners": ["张三", "李四"],
            "nested": {"a": 1, "b": [1, 2]},
            "count": 3,
        },
    )
    assert describe(entry) == AuditLine(
        sentence="系统 修改了parking permit“沪A12345”",
        details=[
            "colour：red → blue",
            "电话：— → —",
            "公开：否 → 是",
            "owners：张三 → 李四",
            "nested：a 1，b 1、2",
            "共 3 条",
        ],
        reason="",
    )


def test_an_unknown_action_is_described_without_failing(world, chinese):
    entry = AuditEntry(action="teleport", object_type="resident", object_label="张桂英")
    assert describe(entry).sentence == "系统 对居民“张桂英”执行了“teleport”"


def test_every_action_has_its_own_sentence_in_both_languages(world):
    for action in AuditAction.values:
        entry = AuditEntry(action=action, object_type="resident", object_label="张桂英")
        with translation.override("en"):
            english = describe(entry).sentence
        with translation.override("zh-hans"):
            chinese = describe(entry).sentence
        assert english.startswith("System ") and "张桂英" in english, action
        assert chinese.startswith("系统") and "张桂英" in chinese, action
        assert chinese != english and "did" not in english, action


def test_an_export_names_the_list_and_the_count_and_filter_in_words(world, chinese):
    entry = AuditEntry.objects.create(
        actor=world.users[Role.SECRETARY],
        action=AuditAction.EXPORT,
        object_type="resident",
        object_label="residents.xlsx",
        changes={"count": 120, "filter": {"q": "张", "grid": "A1"}},
    )
    assert describe(entry) == AuditLine(
        sentence="secretary 导出了居民名单“residents.xlsx”",
        details=["共 120 条", "筛选条件：关键词 张，网格 A1"],
        reason="",
    )


def test_english_sentences_are_complete(world):
    resident_reveal(
        user=world.users[Role.MICRO_GRID_LEAD],
        resident=world.resident,
        field="phone",
        purpose="visit_contact",
        reason="约定上门时间",
    )
    with translation.override("en"):
        line = describe(latest(action=AuditAction.REVEAL))
    assert line.sentence == "micro_grid_lead revealed the full phone of resident “张桂英”"
    assert line.reason == "Contact for a home visit: 约定上门时间"


def test_a_token_revocation_uses_the_same_verb_as_its_filter_option(world, chinese):
    secretary = world.users[Role.SECRETARY]
    token = ApiToken.objects.create(
        user=secretary,
        key_hash="f" * 64,
        key_prefix="abcd1234",
        expires_at=datetime(2030, 1, 1, tzinfo=SHANGHAI),
    )
    token_revoke(actor=secretary, token=token, reason=TokenRevocation.BY_OWNER)
    line = describe(latest(action=AuditAction.TOKEN_REVOKE))
    assert line.sentence == "secretary 撤销了API 令牌“secretary · abcd1234…”"
    assert str(AuditAction.TOKEN_REVOKE.label) == "撤销 API 令牌"
    assert field_noun("revoked_reason") == "撤销原因"
    assert field_noun("revoked_at") == "撤销时间"


def test_a_privacy_notice_consent_names_the_version_only(world, settings, chinese):
    settings.LINLI_PRIVACY_NOTICE_VERSION = "2026-12"
    privacy_notice_accept(user=world.users[Role.RESIDENT], ip_address="10.0.0.8")
    entry = latest(action=AuditAction.CONSENT)
    assert entry.object_label == "2026-12"
    assert describe(entry).sentence == "resident 同意了隐私告知（2026-12版）"
    with translation.override("en"):
        assert describe(entry).sentence == (
            "resident agreed to the privacy notice (version 2026-12)"
        )


def test_a_consent_written_before_the_label_was_the_version_still_reads_well(chinese):
    entry = AuditEntry(
        action=AuditAction.CONSENT,
        object_type="privacy_notice",
        object_id="2026-12",
        object_label="secretary · 2026-12",
    )
    assert describe(entry).sentence == "系统 同意了隐私告知（2026-12版）"
