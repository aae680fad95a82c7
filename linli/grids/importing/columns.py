"""The columns of a registry file, and the words each one accepts (README "Import columns").

Headers are matched in Chinese (primary) or English, with a few common variants; values in
Chinese or as the stored codes. The labels are shared with the export, so that an exported
list imports again as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from linli.grids.models import PartyMembership, ResidencyType, Sex, VulnerabilityTag


@dataclass(frozen=True)
class Column:
    key: str  # the English header, also the field name
    zh: str  # the Chinese header (primary)
    required: bool
    help_en: str
    help_zh: str
    example: str


COLUMNS: tuple[Column, ...] = (
    Column(
        "building_group_code",
        "楼组网格编码",
        True,
        "Code of an existing building-group grid inside your area",
        "已有的楼组网格编码，须在您的管辖范围内",
        "A1-1",
    ),
    Column("building", "楼栋", True, "Building name, e.g. 12号楼", "楼栋名称，如 12号楼", "12号楼"),
    Column("room", "室号", True, "Room, e.g. 301", "室号，如 301", "301"),
    Column("name", "姓名", True, "Full name", "姓名", "张桂英"),
    Column("sex", "性别", True, "男 / 女 (male / female)", "男 / 女", "女"),
    Column("birth_year", "出生年份", True, "Year of birth, e.g. 1948", "出生年份，如 1948", "1948"),
    Column(
        "phone",
        "手机号",
        False,
        "Mobile number: 11 digits starting with 1",
        "以1开头的11位手机号，可不填",
        "13812341234",
    ),
    Column(
        "id_number",
        "身份证号",
        True,
        "18-character resident ID number (check character verified)",
        "18位居民身份证号（校验码须正确）",
        "110101194603070029",
    ),
    Column(
        "residency_type",
        "户籍类型",
        False,
        "户籍 / 常住 / 外来 (registered / permanent / migrant); empty means 户籍",
        "户籍 / 常住 / 外来，不填视为户籍",
        "户籍",
    ),
    Column(
        "party_membership",
        "党员类型",
        False,
        "Empty, or 在职 / 退休 / 流动 (in_service / retired / floating)",
        "非党员不填；党员填 在职 / 退休 / 流动",
        "退休",
    ),
    Column(
        "vulnerability_tags",
        "困难标签",
        False,
        "Separated by 、 ; or ,: 独居老人 空巢 残疾 重病 低保 孕产妇 留守儿童",
        "多个用 、 ; 或 , 分隔：独居老人 空巢 残疾 重病 低保 孕产妇 留守儿童",
        "独居老人、低保",
    ),
)
COLUMN_BY_KEY = {column.key: column for column in COLUMNS}

TAG_LABELS_ZH = {
    VulnerabilityTag.ELDERLY_ALONE: "独居老人",
    VulnerabilityTag.EMPTY_NEST: "空巢",
    VulnerabilityTag.DISABLED: "残疾",
    VulnerabilityTag.SERIOUS_ILLNESS: "重病",
    VulnerabilityTag.LOW_INCOME: "低保",
    VulnerabilityTag.PREGNANT: "孕产妇",
    VulnerabilityTag.LEFT_BEHIND_CHILD: "留守儿童",
}
RESIDENCY_LABELS_ZH = {
    ResidencyType.REGISTERED: "户籍",
    ResidencyType.PERMANENT: "常住",
    ResidencyType.MIGRANT: "外来",
}
PARTY_LABELS_ZH = {
    PartyMembership.NONE: "",
    PartyMembership.IN_SERVICE: "在职",
    PartyMembership.RETIRED: "退休",
    PartyMembership.FLOATING: "流动",
}
SEX_LABELS_ZH = {Sex.MALE: "男", Sex.FEMALE: "女"}


def header_key(text: str) -> str:
    return text.strip().lstrip("*").strip().lower().replace(" ", "_").replace("-", "_")


HEADERS: dict[str, str] = {}
for _column in COLUMNS:
    HEADERS[header_key(_column.key)] = _column.key
    HEADERS[header_key(_column.zh)] = _column.key
HEADERS.update(
    {
        "building_group": "building_group_code",
        "楼组编码": "building_group_code",
        "网格编码": "building_group_code",
        "房号": "room",
        "室": "room",
        "手机": "phone",
        "联系电话": "phone",
        "身份证": "id_number",
        "公民身份号码": "id_number",
        "户籍": "residency_type",
        "党员": "party_membership",
        "标签": "vulnerability_tags",
        "tags": "vulnerability_tags",
    }
)

SEX_VALUES = {"男": Sex.MALE.value, "女": Sex.FEMALE.value, "male": "male", "female": "female"}
SEX_VALUES.update({"m": "male", "f": "female", "男性": "male", "女性": "female"})
RESIDENCY_VALUES = {"": ResidencyType.REGISTERED.value}
RESIDENCY_VALUES.update({value: value for value in ResidencyType.values})
RESIDENCY_VALUES.update({zh: str(code) for code, zh in RESIDENCY_LABELS_ZH.items()})
RESIDENCY_VALUES.update({"户籍人口": "registered", "常住人口": "permanent", "外来人口": "migrant"})
RESIDENCY_VALUES.update({"流动": "migrant", "流动人口": "migrant"})
PARTY_VALUES = {value: value for value in PartyMembership.values}
PARTY_VALUES.update({zh: str(code) for code, zh in PARTY_LABELS_ZH.items()})
PARTY_VALUES.update({"无": "", "否": "", "群众": "", "非党员": "", "none": ""})
PARTY_VALUES.update({"在职党员": "in_service", "退休党员": "retired", "流动党员": "floating"})
TAG_VALUES = {value: value for value in VulnerabilityTag.values}
TAG_VALUES.update({zh: str(code) for code, zh in TAG_LABELS_ZH.items()})
TAG_VALUES.update({"空巢老人": "empty_nest", "残疾人": "disabled", "低保户": "low_income"})
TAG_SPLIT = re.compile(r"[、;；,，\s]+")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
# Where each column sorts in a report: the file's order, not the alphabet.
COLUMN_ORDER = {column.key: index for index, column in enumerate(COLUMNS)}
