from hypothesis import given
from hypothesis import strategies as st

from linli.accounts.privacy import (
    decrypt_text,
    encrypt_text,
    id_number_hash,
    id_number_is_valid,
    mask_id_number,
    mask_phone,
)
from linli.testing.builders import with_check_character


def test_phone_is_masked_to_first_three_and_last_four():
    assert mask_phone("13812341234") == "138****1234"


def test_id_number_is_masked_to_first_six_and_last_four():
    assert mask_id_number("110101199003070038") == "110101********0038"


def test_id_number_with_wrong_check_character_is_invalid():
    assert id_number_is_valid("110101199003070038") is True
    assert id_number_is_valid("110101199003070039") is False
    assert id_number_is_valid("11010119900307003") is False


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_every_id_number_with_correct_check_character_is_valid(first_17):
    assert id_number_is_valid(with_check_character(first_17))


@given(st.text(min_size=0, max_size=40))
def test_encryption_round_trips_and_never_contains_the_plain_text(value):
    token = encrypt_text(value)
    assert decrypt_text(token) == value
    if len(value) >= 4:
        assert value not in token


def test_encrypting_twice_gives_different_ciphertexts_but_one_lookup_hash():
    assert encrypt_text("110101199003070038") != encrypt_text("110101199003070038")
    assert id_number_hash("110101199003070038") == id_number_hash(" 110101199003070038 ")
    assert id_number_hash("11010119900307003x") == id_number_hash("11010119900307003X")


def test_lookup_hash_depends_on_the_configured_key(settings):
    before = id_number_hash("110101199003070038")
    settings.FIELD_ENCRYPTION_KEY = "another-key"
    assert id_number_hash("110101199003070038") != before
