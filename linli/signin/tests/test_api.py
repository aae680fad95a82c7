"""The app's sign-in by phone code: POST /api/v1/signin/phone-codes, then
POST /api/v1/signin/phone-sessions for a bearer token. The same answer for a number without
an account; refusals name the field (400 wrong input, 422 outside the schema, 429 limits)."""

from datetime import timedelta

import pytest
import time_machine
from django_otp.oath import totp

from linli.accounts import two_factor
from linli.accounts.models import ApiToken
from linli.accounts.roles import Role
from linli.notify.models import Notification
from linli.signin.models import PhoneCode
from linli.signin.tests.support import KNOWN, NOON, UNKNOWN, english_client, last_code, wrong

CODES = "/api/v1/signin/phone-codes"
SESSIONS = "/api/v1/signin/phone-sessions"
ACCEPTED = {
    "message": "If this number can receive a code for this purpose, the code is on its way.",
    "expires_in": 300,
    "resend_after": 60,
}
WRONG_CODE = {
    "message": "That code is wrong or no longer valid. Check it, or ask for a new one.",
    "field": "code",
}


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture
def resident(world):
    user = world.users[Role.RESIDENT]
    user.phone = KNOWN
    user.save(update_fields=["phone"])
    return user


def post(path: str, payload) -> tuple[int, dict]:
    response = english_client().post(path, payload, content_type="application/json")
    return response.status_code, response.json()


def test_an_app_signs_in_with_a_code_by_sms(resident, clock):
    assert post(CODES, {"phone": "+86 138 1234 1234"}) == (202, ACCEPTED)
    status, body = post(SESSIONS, {"phone": KNOWN, "code": last_code(KNOWN), "name": "手机"})
    assert status == 200
    assert (body["username"], body["name"], body["expires_at"]) == (
        "resident",
        "手机",
        "2027-04-14T04:00:00Z",
    )
    token = ApiToken.objects.get(key_hash=ApiToken.hash_key(body["token"]))
    assert (token.user, token.key_prefix) == (resident, body["token"][:8])
    me = english_client().get(
        "/api/v1/auth/tokens", headers={"Authorization": f"Bearer {body['token']}"}
    )
    assert me.status_code == 200 and me.json()["count"] == 1
    resident.refresh_from_db()
    assert resident.last_login == NOON
    # The code is used up.
    assert post(SESSIONS, {"phone": KNOWN, "code": last_code(KNOWN)}) == (400, WRONG_CODE)


def test_a_number_without_an_account_gets_the_same_answer_and_no_sms(resident, clock):
    assert post(CODES, {"phone": KNOWN}) == post(CODES, {"phone": UNKNOWN}) == (202, ACCEPTED)
    assert list(Notification.objects.values_list("address", flat=True)) == [KNOWN]
    assert PhoneCode.objects.count() == 2
    assert post(SESSIONS, {"phone": UNKNOWN, "code": "123456"}) == (400, WRONG_CODE)
    # And the limits answer both alike.
    assert post(CODES, {"phone": KNOWN}) == post(CODES, {"phone": UNKNOWN})


def test_a_malformed_number_answers_400_naming_the_phone(db, clock):
    assert post(CODES, {"phone": "12345"}) == (
        400,
        {
            "message": "Enter an 11-digit mainland mobile number, such as 13812345678.",
            "field": "phone",
        },
    )
    assert post(SESSIONS, {"phone": "12345", "code": "123456"})[1]["field"] == "phone"
    assert PhoneCode.objects.count() == 0


def test_a_second_code_within_a_minute_answers_429_naming_the_phone(resident, clock):
    post(CODES, {"phone": KNOWN})
    clock.shift(timedelta(seconds=59))
    assert post(CODES, {"phone": KNOWN}) == (
        429,
        {
            "message": "A code was just sent. Wait 1 second before asking for another.",
            "field": "phone",
        },
    )


def test_the_fifth_wrong_code_answers_429_naming_the_code(resident, clock):
    post(CODES, {"phone": KNOWN})
    code = last_code(KNOWN)
    answers = [post(SESSIONS, {"phone": KNOWN, "code": wrong(code)}) for _try in range(5)]
    assert answers == [(400, WRONG_CODE)] * 4 + [
        (
            429,
            {
                "message": "That code was typed wrongly too many times. Ask for a new one.",
                "field": "code",
            },
        )
    ]
    assert post(SESSIONS, {"phone": KNOWN, "code": code})[0] == 429
    assert ApiToken.objects.count() == 0


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        (CODES, {}, "phone"),
        (CODES, {"phone": "1" * 33}, "phone"),
        (CODES, {"phone": KNOWN, "purpose": "admin"}, "purpose"),
        (SESSIONS, {"phone": KNOWN}, "code"),
        (SESSIONS, {"phone": KNOWN, "code": "1" * 13}, "code"),
        (SESSIONS, {"phone": KNOWN, "code": "123456", "name": "x" * 101}, "name"),
    ],
)
def test_input_outside_the_schema_answers_422_naming_the_field(db, path, payload, field):
    status, body = post(path, payload)
    assert (status, body["field"]) == (422, field)
    assert PhoneCode.objects.count() == 0


def test_a_registration_code_is_sent_to_any_number(db, clock):
    assert post(CODES, {"phone": UNKNOWN, "purpose": "register"}) == (202, ACCEPTED)
    assert "registration code" in Notification.objects.get(address=UNKNOWN).title


def code_of(device) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}"


def test_staff_who_need_two_factor_also_send_their_authenticator_code(world, clock, settings):
    settings.LINLI_STAFF_TWO_FACTOR = True
    secretary = world.users[Role.SECRETARY]
    secretary.phone = KNOWN
    secretary.save(update_fields=["phone"])
    device = two_factor.two_factor_enrolment_start(user=secretary)
    two_factor.two_factor_enrolment_confirm(user=secretary, device=device, code=code_of(device))
    clock.shift(timedelta(seconds=30))

    post(CODES, {"phone": KNOWN})
    assert post(SESSIONS, {"phone": KNOWN, "code": last_code(KNOWN)}) == (
        401,
        {"message": "Send the 6-digit code from your authenticator app as otp.", "field": "otp"},
    )
    assert ApiToken.objects.count() == 0
    clock.shift(timedelta(seconds=60))
    post(CODES, {"phone": KNOWN})
    status, body = post(
        SESSIONS, {"phone": KNOWN, "code": last_code(KNOWN), "otp": code_of(device)}
    )
    assert (status, body["username"]) == (200, "secretary")


def test_the_routes_are_in_the_openapi_document_with_their_answers(db):
    paths = english_client().get("/api/v1/openapi.json").json()["paths"]
    assert sorted(paths[CODES]["post"]["responses"]) == ["202", "400", "422", "429"]
    assert sorted(paths[SESSIONS]["post"]["responses"]) == ["200", "400", "401", "422", "429"]
