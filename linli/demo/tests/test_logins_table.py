"""The logins table `linli demo` prints lines up in a terminal, where a Chinese character or
full-width bracket takes two columns, a combining accent none, and '·' one."""

from django.utils import translation

from linli.demo.management.commands.demo import display_width, format_table, role_with_post


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
