"""The logins table `linli demo` prints lines up in a terminal, where a Chinese character or
full-width bracket takes two columns, a combining accent none, and '·' one."""

from django.utils import translation

from linli.accounts.roles import Role
from linli.demo.generator import DemoLogin
from linli.demo.management.commands.demo import (
    display_width,
    format_table,
    logins_table,
    role_with_post,
)
from linli.grids.models import Post


def test_display_width_counts_terminal_columns():
    assert display_width("grid1") == 5
    assert display_width("微网格负责人") == 12
    assert display_width("（党支部书记）") == 14  # full-width brackets are two columns
    assert display_width("阿依古丽·买买提") == 15  # the middle dot is one
    assert display_width("Cafe\u0301") == 4  # e + combining acute accent
    assert display_width("a\u200bb") == 2  # a zero-width space takes none


def test_the_table_lines_up_with_chinese_full_width_and_combining_characters():
    rows = [
        ["grid1", "微网格负责人（党支部书记）", "叶建国"],
        ["street", "Street admin", "阿依古丽·买买提"],
        ["e", "Cafe\u0301", "x"],
    ]
    table = format_table(["用户名", "角色", "显示名称"], rows)
    # Columns of 6, 26 and 15 terminal cells, two spaces between them.
    assert table.split("\n") == [
        "用户名  角色" + " " * 24 + "显示名称",
        "------  " + "-" * 26 + "  " + "-" * 15,
        "grid1   微网格负责人（党支部书记）  叶建国",
        "street  Street admin" + " " * 16 + "阿依古丽·买买提",
        "e       Cafe\u0301" + " " * 24 + "x",
    ]
    # Every column starts at the same terminal column on every line.
    lines = table.split("\n")
    for line, (_, second, third) in zip(lines[2:], rows, strict=True):
        assert display_width(line[: line.index(second)]) == 8
        assert display_width(line[: line.rindex(third)]) == 36


def test_a_role_and_its_post_are_joined_with_brackets_never_a_middle_dot():
    with translation.override("en"):
        assert role_with_post("Micro-grid lead", "Branch secretary") == (
            "Micro-grid lead (Branch secretary)"
        )
    with translation.override("zh-hans"):
        assert role_with_post("微网格负责人", "党支部书记") == "微网格负责人（党支部书记）"
    assert role_with_post("楼组长", "楼组长") == "楼组长"
    assert role_with_post("志愿者", "") == "志愿者"


def test_a_post_the_role_already_names_is_shown_alone():
    with translation.override("zh-hans"):
        assert role_with_post("社区党总支书记 / 居委会社工", "社区党总支书记") == "社区党总支书记"
    with translation.override("en"):
        assert role_with_post("Party secretary / committee staff", "Committee staff") == (
            "Party secretary / committee staff (Committee staff)"  # case differs: both shown
        )


# The logins of the default demo (seed 20240601), as `linli demo` found them.
DEMO_LOGINS = [
    DemoLogin("street", Role.STREET_ADMIN, Post.STREET_ADMIN, "G街道", "罗燕"),
    DemoLogin("secretary", Role.SECRETARY, Post.PARTY_SECRETARY, "A社区", "侯淑兰"),
    DemoLogin("grid1", Role.MICRO_GRID_LEAD, Post.BRANCH_SECRETARY, "A社区 第一微网格", "叶建国"),
    DemoLogin(
        "leader",
        Role.BUILDING_GROUP_LEADER,
        Post.BUILDING_GROUP_HEAD,
        "A社区 第一微网格 1号楼组",
        "史秀荣",
    ),
    DemoLogin("volunteer", Role.VOLUNTEER, Post.VOLUNTEER, "A社区", "牛海燕"),
    DemoLogin("partner", Role.PARTNER_LIAISON, Post.PARTNER_LIAISON, "A社区", "罗鑫"),
    DemoLogin("resident", Role.RESIDENT, Post.RESIDENT, "A社区 第一微网格 1号楼组", "罗洋"),
]


def test_the_demo_logins_table_fits_80_columns():
    with translation.override("zh-hans"):
        table = logins_table(DEMO_LOGINS, password="linli-demo")
    assert table.split("\n") == [
        "用户名     角色                        管辖范围                  显示名称",
        "---------  --------------------------  ------------------------  --------",
        "street     街道管理员                  G街道                     罗燕",
        "secretary  社区党总支书记              A社区                     侯淑兰",
        "grid1      微网格负责人（党支部书记）  A社区 第一微网格          叶建国",
        "leader     楼组长                      A社区 第一微网格 1号楼组  史秀荣",
        "volunteer  志愿者                      A社区                     牛海燕",
        "partner    共建单位联络人              A社区                     罗鑫",
        "resident   居民                        A社区 第一微网格 1号楼组  罗洋",
        "所有账号的密码：linli-demo",
    ]
    assert max(display_width(line) for line in table.split("\n")) <= 80
