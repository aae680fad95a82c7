"""Numbers inside free text: what a partner or volunteer reads has no full phone or ID
number in it, whatever the text around them."""

import re

from hypothesis import given
from hypothesis import strategies as st

from linli.accounts.privacy import id_number_is_valid, mask_numbers_in_text
from linli.conftest import ID_NUMBERS
from linli.testing.builders import with_check_character

MOBILE = re.compile(r"1[3-9]\d{9}")


def test_a_mobile_number_in_a_description_is_masked():
    assert mask_numbers_in_text("张帆联系沈阿姨 13812345678，下午在家") == (
        "张帆联系沈阿姨 138****5678，下午在家"
    )


def test_numbers_written_in_groups_and_id_numbers_and_landlines_are_masked():
    assert mask_numbers_in_text("电话 138 1234 5678 或 139-8765-4321") == (
        "电话 138****5678 或 139****4321"
    )
    assert mask_numbers_in_text(f"身份证{ID_NUMBERS[0]}。") == "身份证110101********0038。"
    assert mask_numbers_in_text("老证 110101900307003") == "老证 110101*****7003"
    assert mask_numbers_in_text("居委 021-12345678") == "居委 021-****5678"


def test_text_without_long_numbers_is_unchanged():
    text = "3号楼 2单元 501，周六 9:30 送 20 斤米"
    assert mask_numbers_in_text(text) == text
    assert mask_numbers_in_text("") == ""


filler = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=20)
mobiles = st.from_regex(r"\A1[3-9]\d{9}\Z")
ids = st.from_regex(r"\A\d{17}\Z").map(with_check_character)


@given(parts=st.lists(st.tuples(filler, st.one_of(mobiles, ids)), min_size=1, max_size=4))
def test_no_mobile_or_id_number_survives_masking(parts):
    text = " ".join(f"{before} {number} " for before, number in parts)
    masked = mask_numbers_in_text(text)
    assert not MOBILE.search(masked)
    digits_and_x = re.findall(r"[\dXx]{18}", masked)
    assert not [candidate for candidate in digits_and_x if id_number_is_valid(candidate.upper())]
    for _before, number in parts:
        assert number not in masked


@given(text=st.text(alphabet=st.characters(blacklist_categories=["Nd", "Cs"])))
def test_text_without_digits_is_unchanged(text):
    assert mask_numbers_in_text(text) == text
