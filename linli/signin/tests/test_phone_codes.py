"""Phone codes (linli.signin.services): the number's normal form, expiry, wrong tries, the
resend and hourly limits per number and per address, hashed storage and the no-oracle rule."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction

from linli.errors import RATE_LIMITED, Invalid, RateLimited, error_codes, status_for
from linli.notify.models import Channel, Notification, OutboxMessage
from linli.signin.models import EmailResetRequest, PhoneCode, PhoneCodePurpose
from linli.signin.services import (
    normalise_phone,
    phone_code_account,
    phone_code_request,
    phone_code_verify,
    signin_records_purge,
)
from linli.signin.tests.support import KNOWN, NOON, UNKNOWN, last_code, sent_codes, wrong

LOGIN = PhoneCodePurpose.LOGIN
ADDRESS = "203.0.113.7"


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture
def resident(world):
    user = world.users["resident"]
    user.phone = KNOWN
    user.save(update_fields=["phone"])
    return user


def refusal(error: ValidationError) -> tuple[int, dict]:
    return status_for(error), error.message_dict


# The number -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "13812341234",
        "138 1234 1234",
        "138-1234-1234",
        "+86 138 1234 1234",
        "+8613812341234",
        "8613812341234",
        "１３８１２３４１２３４",  # full-width digits from a Chinese input method
        " 13812341234 ",
    ],
)
def test_a_mainland_mobile_number_is_read_in_every_usual_spelling(raw):
    assert normalise_phone(raw) == "13812341234"


@pytest.mark.parametrize(
    "raw",
    ["", "1381234123", "138123412345", "12812341234", "23812341234", "+1 138 1234 1234", "abc"],
)
def test_anything_else_is_refused_naming_the_phone(raw):
    with pytest.raises(Invalid) as caught:
        normalise_phone(raw)
    assert refusal(caught.value) == (
        400,
        {"phone": ["Enter an 11-digit mainland mobile number, such as 13812345678."]},
    )


# Storage and delivery -------------------------------------------------------------------------


def test_a_code_is_six_digits_sent_by_sms_and_stored_only_as_a_hash(resident, clock):
    phone_code_request(phone="+86 138-1234-1234", purpose=LOGIN, address=ADDRESS)
    code = last_code(KNOWN)
    assert len(code) == 6 and code.isdigit()
    notification = Notification.objects.get(address=KNOWN)
    assert notification.recipient is None
    assert notification.title == (
        f"Linli: your login code is {code}, valid for 5 minutes. Never tell it to anyone, "
        "staff included."
    )
    assert list(OutboxMessage.objects.values_list("channel", "status")) == [
        (Channel.SMS, "pending")
    ]
    row = PhoneCode.objects.get()
    assert (row.purpose, row.address, row.failed_attempts, row.used_at) == (
        LOGIN,
        ADDRESS,
        0,
        None,
    )
    assert (row.created_at, row.expires_at) == (NOON, NOON + timedelta(minutes=5))
    # Neither the number nor the code is in the table in the clear.
    stored = " ".join(str(value) for value in PhoneCode.objects.values_list().get())
    assert KNOWN not in stored and code not in stored


def test_a_registration_code_goes_to_a_number_without_an_account(db, clock):
    phone_code_request(phone=UNKNOWN, purpose=PhoneCodePurpose.REGISTER, address=ADDRESS)
    code = last_code(UNKNOWN)
    assert Notification.objects.get(address=UNKNOWN).title == (
        f"Linli: your registration code is {code}, valid for 5 minutes. Never tell it to anyone."
    )
    phone_code_verify(phone=UNKNOWN, purpose=PhoneCodePurpose.REGISTER, code=code)


def test_an_unknown_purpose_is_refused_and_nothing_is_written(resident, clock):
    with pytest.raises(Invalid) as caught:
        phone_code_request(phone=KNOWN, purpose="admin", address=ADDRESS)
    assert refusal(caught.value) == (400, {"purpose": ["Unknown purpose for a code."]})
    assert (PhoneCode.objects.count(), Notification.objects.count()) == (0, 0)


# Using a code ------------------------------------------------------------------------------------

WRONG_CODE = {"code": ["That code is wrong or no longer valid. Check it, or ask for a new one."]}
TOO_MANY = {"code": ["That code was typed wrongly too many times. Ask for a new one."]}


def test_the_right_code_is_accepted_once(resident, clock):
    phone_code_request(phone=KNOWN, purpose=LOGIN, address=ADDRESS)
    code = last_code(KNOWN)
    phone_code_verify(phone=KNOWN, purpose=LOGIN, code=f" {code[:3]} {code[3:]} ")
    assert PhoneCode.objects.get().used_at == NOON
    with pytest.raises(Invalid) as caught:
        phone_code_verify(phone=KNOWN, purpose=LOGIN, code=code)
    assert refusal(caught.value) == (400, WRONG_CODE)


def test_a_code_answers_for_five_minutes_and_not_a_second_more(resident, clock):
    phone_code_request(phone=KNOWN, purpose=LOGIN, address=ADDRESS)
    code = last_code(KNOWN)
    clock.shift(timedelta(minutes=5))
    with pytest.raises(Invalid) as caught:
        phone_code_verify(phone=KNOWN, purpose=LOGIN, code=code)
    assert refusal(caught.value) == (400, WRONG_CODE)
    assert PhoneCode.objects.get().used_at is None


def test_a_code_is_still_good_one_second_before_it_expires(resident, clock):
    phone_code_request(phone=KNOWN, purpose=LOGIN, address=ADDRESS)
    clock.shift(timedelta(minutes=5) - timedelta(seconds=1))
    phone_code_verify(phone=KNOWN, purpose=LOGIN, code=last_code(KNOWN))


def test_the_expiry_follows_the_setting(resident, clock, settings):
    settings.LINLI_PHONE_CODE_TTL_SECONDS = 120
    phone_code_request(phone=KNOWN, purpose=LOGIN, address=ADDRESS)
    assert "valid for 2 minutes" in Notification.objects.get().title
    clock.shift(timedelta(seconds=120))
    with pytest.raises(Invalid):
        phone_code_verify(phone=KNOWN, purpose=LOGIN, code=last_code(KNOWN))


def test_a_code_is_good_for_its_purpose_only(resident, clock):
    phone_code_request(phone=KNOWN, purpose=PhoneCodePurpose.RESET, address=ADDRESS)
    with pytest.raises(Invalid) as caught:
        phone_code_verify(phone=KNOWN, purpose=LOGIN, code=last_code(KNOWN))
    assert refusal(caught.value) == (400, WRONG_CODE)
    phone_code_verify(phone=KNOWN, purpose=PhoneCodePurpose.RESET, code=last_code(KNOWN))


def test_a_new_code_replaces_the_one_before(resident, clock):
    phone_code_request(phone=KNOWN, purpose=LOGIN, address=ADDRESS)
    clock.shift(timedelta(seconds=60))
    phone_code_request(phone=KNOWN, purpose=LOGIN, address=ADDRESS)
    first, second = sent_codes(KNOWN)
    with pytest.raises(Invalid):
        phone_code_verify(phone=KNOWN, purpose=LOGIN, code=first)
    phone_code_verify(phone=KNOWN, purpose=LOGIN, code=second)


def test_a_code_dies_at_the_fifth_wrong_try_even_for_the_right_code_after(resident, clock):
    phone_code_request(phone=KNOWN, purpose=LOGIN, address=ADDRESS)
    code = last_code(KNOWN)
    answers = []
    for _try in range(5):
        with pytest.raises(ValidationError) as caught:
            phone_code_verify(phone=KNOWN, purpose=LOGIN, code=wrong(code))
        answers.append(refusal(caught.value))
    assert answers == [(400, WRONG_CODE)] * 4 + [(429, TOO_MANY)]
    with pytest.raises(RateLimited) as caught:
        phone_code_verify(phone=KNOWN, purpose=LOGIN, code=code)
    assert refusal(caught.value) == (429, TOO_MANY)
    row = PhoneCode.objects.get()
    assert (row.failed_attempts, row.used_at) == (5, None)


def test_the_fourth_wrong_try_still_leaves_the_right_code_good(resident, clock):
    phone_code_request(phone=KNOWN, purpose=LOGIN, address=ADDRESS)
    code = last_code(KNOWN)
    for _try in range(4):
        with pytest.raises(Invalid):
            phone_code_verify(phone=KNOWN, purpose=LOGIN, code=wrong(code))
    phone_code_verify(phone=KNOWN, purpose=LOGIN, code=code)


def test_wrong_tries_count_even_when_the_caller_rolls_its_transaction_back(resident, clock):
    phone_code_request(phone=KNOWN, purpose=LOGIN, address=ADDRESS)
    code = last_code(KNOWN)
    codes = []
    for _try in range(5):
        with pytest.raises(ValidationError) as caught, transaction.atomic():
            phone_code_verify(phone=KNOWN, purpose=LOGIN, code=wrong(code))
        codes.append(error_codes(caught.value))
    assert codes[-1] == {RATE_LIMITED}
    # The rows' counts were rolled back with the callers' transactions; the cache's were not.
    assert PhoneCode.objects.get().failed_attempts == 0
    with pytest.raises(RateLimited):
        phone_code_verify(phone=KNOWN, purpose=LOGIN, code=code)


def test_a_malformed_code_is_refused_without_costing_a_try(resident, clock):
    phone_code_request(phone=KNOWN, purpose=LOGIN, address=ADDRESS)
    for typed in ["12345", "1234567", "abcdef", ""]:
        with pytest.raises(Invalid) as caught:
            phone_code_verify(phone=KNOWN, purpose=LOGIN, code=typed)
        assert refusal(caught.value) == (400, {"code": ["Type the 6 digits of the code."]})
    assert PhoneCode.objects.get().failed_attempts == 0


def test_a_dead_code_is_replaced_by_asking_again_a_minute_later(resident, clock):
    phone_code_request(phone=KNOWN, purpose=LOGIN, address=ADDRESS)
    code = last_code(KNOWN)
    for _try in range(5):
        with pytest.raises(ValidationError):
            phone_code_verify(phone=KNOWN, purpose=LOGIN, code=wrong(code))
    clock.shift(timedelta(seconds=60))
    phone_code_request(phone=KNOWN, purpose=LOGIN, address=ADDRESS)
    phone_code_verify(phone=KNOWN, purpose=LOGIN, code=last_code(KNOWN))


def test_a_number_that_never_asked_is_refused_as_a_wrong_code(db, clock):
    with pytest.raises(Invalid) as caught:
        phone_code_verify(phone=UNKNOWN, purpose=LOGIN, code="123456")
    assert refusal(caught.value) == (400, WRONG_CODE)


# Limits ------------------------------------------------------------------------------------------


def test_a_second_code_waits_sixty_seconds_per_number_and_purpose(resident, clock):
    phone_code_request(phone=KNOWN, purpose=LOGIN, address=ADDRESS)
    clock.shift(timedelta(seconds=18))
    with pytest.raises(RateLimited) as caught:
        phone_code_request(phone=KNOWN, purpose=LOGIN, address=ADDRESS)
    assert refusal(caught.value) == (
        429,
        {"phone": ["A code was just sent. Wait 42 seconds before asking for another."]},
    )
    # Another purpose is not held back; the refused request was not recorded.
    phone_code_request(phone=KNOWN, purpose=PhoneCodePurpose.RESET, address=ADDRESS)
    clock.shift(timedelta(seconds=42))
    phone_code_request(phone=KNOWN, purpose=LOGIN, address=ADDRESS)
    assert len(sent_codes(KNOWN)) == 3
    assert PhoneCode.objects.count() == 3


def test_a_number_gets_at_most_five_codes_an_hour(resident, clock):
    for _minute in range(5):
        phone_code_request(phone=KNOWN, purpose=LOGIN, address=ADDRESS)
        clock.shift(timedelta(minutes=1))
    # 12:05: the first code (12:00) leaves the hour at 13:00.
    with pytest.raises(RateLimited) as caught:
        phone_code_request(phone=KNOWN, purpose=PhoneCodePurpose.RESET, address="198.51.100.1")
    assert refusal(caught.value) == (
        429,
        {"phone": ["This number has been sent enough codes for now. Try again in 55 minutes."]},
    )
    clock.shift(timedelta(minutes=55))
    phone_code_request(phone=KNOWN, purpose=LOGIN, address=ADDRESS)
    assert len(sent_codes(KNOWN)) == 6


def test_one_address_asks_for_at_most_thirty_codes_an_hour(db, clock):
    numbers = [f"1390000{serial:04d}" for serial in range(31)]
    for number in numbers[:30]:
        phone_code_request(phone=number, purpose=PhoneCodePurpose.REGISTER, address=ADDRESS)
        clock.shift(timedelta(seconds=10))
    with pytest.raises(RateLimited) as caught:
        phone_code_request(phone=numbers[30], purpose=PhoneCodePurpose.REGISTER, address=ADDRESS)
    assert refusal(caught.value) == (
        429,
        {"phone": ["Too many codes were asked for from this network. Try again in 55 minutes."]},
    )
    # Another address is not held back, and the limit runs out by itself.
    phone_code_request(phone=numbers[30], purpose=PhoneCodePurpose.REGISTER, address="198.51.100.1")
    clock.shift(timedelta(minutes=55))
    phone_code_request(phone=numbers[29], purpose=PhoneCodePurpose.LOGIN, address=ADDRESS)
    assert PhoneCode.objects.count() == 32


def test_reset_emails_count_towards_the_address_limit(db, clock, settings):
    settings.LINLI_PHONE_CODES_PER_ADDRESS_HOUR = 2
    from linli.signin.services import password_reset_email_request

    password_reset_email_request(email="nobody@example.org", address=ADDRESS)
    phone_code_request(phone=UNKNOWN, purpose=LOGIN, address=ADDRESS)
    with pytest.raises(RateLimited) as caught:
        phone_code_request(phone=KNOWN, purpose=LOGIN, address=ADDRESS)
    assert error_codes(caught.value) == {RATE_LIMITED}
    assert EmailResetRequest.objects.count() == 1


def test_limits_are_bounded_in_time_so_nobody_locks_a_resident_out_for_good(resident, clock):
    # Someone spends the number's five codes and kills each with wrong tries.
    for _round in range(5):
        phone_code_request(phone=KNOWN, purpose=LOGIN, address="198.51.100.66")
        for _try in range(5):
            with pytest.raises(ValidationError):
                phone_code_verify(phone=KNOWN, purpose=LOGIN, code=wrong(last_code(KNOWN)))
        clock.shift(timedelta(minutes=1))
    with pytest.raises(RateLimited):
        phone_code_request(phone=KNOWN, purpose=LOGIN, address=ADDRESS)
    # An hour after the first, the resident gets a code and logs in.
    clock.shift(timedelta(minutes=55))
    phone_code_request(phone=KNOWN, purpose=LOGIN, address=ADDRESS)
    assert phone_code_account(phone=KNOWN, purpose=LOGIN, code=last_code(KNOWN)) == resident


# No oracle ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("purpose", [PhoneCodePurpose.LOGIN, PhoneCodePurpose.RESET])
def test_an_unknown_number_is_answered_and_counted_alike_but_sent_nothing(resident, clock, purpose):
    assert phone_code_request(phone=KNOWN, purpose=purpose, address=ADDRESS) is None
    assert phone_code_request(phone=UNKNOWN, purpose=purpose, address=ADDRESS) is None
    assert list(Notification.objects.values_list("address", flat=True)) == [KNOWN]
    assert PhoneCode.objects.count() == 2
    # The limits answer the unknown number exactly as the known one.
    clock.shift(timedelta(seconds=1))
    answers = []
    for phone in (KNOWN, UNKNOWN):
        with pytest.raises(RateLimited) as caught:
            phone_code_request(phone=phone, purpose=purpose, address=ADDRESS)
        answers.append(refusal(caught.value))
    assert answers[0] == answers[1]
    # And its code is refused like any wrong code.
    with pytest.raises(Invalid) as caught:
        phone_code_account(phone=UNKNOWN, purpose=purpose, code="123456")
    assert refusal(caught.value) == (400, WRONG_CODE)


def test_a_deactivated_login_is_sent_no_code(resident, clock):
    resident.is_active = False
    resident.save(update_fields=["is_active"])
    phone_code_request(phone=KNOWN, purpose=LOGIN, address=ADDRESS)
    assert Notification.objects.count() == 0
    assert PhoneCode.objects.count() == 1


def test_a_number_two_logins_share_is_refused_only_after_the_right_code(world, resident, clock):
    other = world.users["volunteer"]
    other.phone = KNOWN
    other.save(update_fields=["phone"])
    phone_code_request(phone=KNOWN, purpose=LOGIN, address=ADDRESS)
    with pytest.raises(Invalid) as caught:
        phone_code_account(phone=KNOWN, purpose=LOGIN, code=wrong(last_code(KNOWN)))
    assert refusal(caught.value) == (400, WRONG_CODE)
    with pytest.raises(Invalid) as caught:
        phone_code_account(phone=KNOWN, purpose=LOGIN, code=last_code(KNOWN))
    assert refusal(caught.value) == (
        400,
        {
            "phone": [
                "More than one account uses this number. Log in with your username and "
                "password, or ask your community office."
            ]
        },
    )


# Housekeeping ------------------------------------------------------------------------------------


def test_the_purge_deletes_what_is_older_than_a_day(resident, clock):
    phone_code_request(phone=KNOWN, purpose=LOGIN, address=ADDRESS)
    clock.shift(timedelta(hours=23))
    phone_code_request(phone=KNOWN, purpose=LOGIN, address=ADDRESS)
    clock.shift(timedelta(hours=1, seconds=1))
    assert signin_records_purge() == 1
    assert list(PhoneCode.objects.values_list("created_at", flat=True)) == [
        NOON + timedelta(hours=23)
    ]
