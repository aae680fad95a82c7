"""Logging in with a phone code on the web (/signin/phone/), end to end: the number, the
code from the outbox, the session; the same answers for a number without an account; staff
still asked for their second factor; the password login page links here."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from linli.accounts import two_factor
from linli.accounts.roles import Role
from linli.notify.models import Notification
from linli.signin.models import PhoneCode
from linli.signin.tests.support import KNOWN, NOON, UNKNOWN, english_client, last_code, wrong

PHONE = "/signin/phone/"
CODE = "/signin/phone/code/"
RESIDENTS = "/registry/residents/"


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def with_phone(user, phone: str = KNOWN):
    user.phone = phone
    user.save(update_fields=["phone"])
    return user


def session_user_id(browser) -> str | None:
    return browser.session.get("_auth_user_id")


def test_the_password_login_page_links_to_phone_login_and_reset(db):
    page = english_client().get("/login/?next=/cases/").content.decode()
    assert '<a href="/signin/phone/?next=/cases/" data-testid="phone-login-link">' in page
    assert (
        '<a href="/signin/reset/" data-testid="forgot-password-link">Forgot password?</a>' in page
    )


def test_the_pages_are_made_for_thumbs_and_one_time_codes(world, clock):
    with_phone(world.users[Role.RESIDENT])
    browser = english_client()
    page = browser.get(PHONE).content.decode()
    assert 'name="phone" id="id_phone" inputmode="tel" autocomplete="tel"' in page
    browser.post(PHONE, {"phone": KNOWN})
    page = browser.get(CODE).content.decode()
    assert 'inputmode="numeric" autocomplete="one-time-code"' in page
    assert "If 138****1234 is the number of a Linli account" in page


def test_a_resident_logs_in_with_the_code_sent_to_their_phone(world, clock):
    resident = with_phone(world.users[Role.RESIDENT])
    browser = english_client()
    response = browser.post(PHONE, {"phone": "138 1234 1234", "next": "/activities/"})
    assert (response.status_code, response["Location"]) == (302, CODE)
    response = browser.post(CODE, {"code": last_code(KNOWN)})
    assert (response.status_code, response["Location"]) == (302, "/activities/")
    assert session_user_id(browser) == str(resident.pk)
    assert browser.get("/").status_code == 200
    resident.refresh_from_db()
    assert resident.last_login == NOON


def test_an_outside_next_address_is_not_followed(world, clock):
    with_phone(world.users[Role.RESIDENT])
    browser = english_client()
    browser.post(PHONE, {"phone": KNOWN, "next": "https://evil.example/"})
    response = browser.post(CODE, {"code": last_code(KNOWN)})
    assert response["Location"] == "/"


def test_a_wrong_code_is_shown_at_the_field_and_logs_nobody_in(world, clock):
    with_phone(world.users[Role.RESIDENT])
    browser = english_client()
    browser.post(PHONE, {"phone": KNOWN})
    response = browser.post(CODE, {"code": wrong(last_code(KNOWN))})
    assert response.status_code == 400
    assert (
        '<ul class="errorlist" role="alert" id="id_code_errors"><li>That code is wrong or no '
        "longer valid. Check it, or ask for a new one.</li></ul>"
    ) in response.content.decode()
    assert session_user_id(browser) is None


def test_the_fifth_wrong_code_answers_429_and_the_code_is_dead(world, clock):
    with_phone(world.users[Role.RESIDENT])
    browser = english_client()
    browser.post(PHONE, {"phone": KNOWN})
    code = last_code(KNOWN)
    statuses = [browser.post(CODE, {"code": wrong(code)}).status_code for _try in range(5)]
    assert statuses == [400, 400, 400, 400, 429]
    response = browser.post(CODE, {"code": code})
    assert response.status_code == 429
    assert "That code was typed wrongly too many times. Ask for a new one." in (
        response.content.decode()
    )
    assert session_user_id(browser) is None


def test_a_new_code_is_sent_after_sixty_seconds_not_before(world, clock):
    with_phone(world.users[Role.RESIDENT])
    browser = english_client()
    browser.post(PHONE, {"phone": KNOWN})
    response = browser.post(CODE, {"resend": "1"})
    assert response.status_code == 429
    assert "A code was just sent. Wait 60 seconds before asking for another." in (
        response.content.decode()
    )
    clock.shift(timedelta(seconds=60))
    response = browser.post(CODE, {"resend": "1"})
    assert response.status_code == 200
    assert "A new code is on its way." in response.content.decode()
    assert Notification.objects.filter(address=KNOWN).count() == 2


def test_a_malformed_number_is_refused_at_the_field_and_nothing_is_written(db, clock):
    response = english_client().post(PHONE, {"phone": "1234"})
    assert response.status_code == 400
    assert (
        "Enter an 11-digit mainland mobile number, such as 13812345678."
        in response.content.decode()
    )
    assert (PhoneCode.objects.count(), Notification.objects.count()) == (0, 0)


def test_the_code_page_without_a_number_sends_back_to_the_first_step(db):
    response = english_client().get(CODE)
    assert (response.status_code, response["Location"]) == (302, PHONE)


def strip_csrf(html: str) -> str:
    """The page without its CSRF tokens (new on every answer) and with the number typed."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    html = re.sub(r'"X-CSRFToken": "[^"]+"', "", html)
    return html.replace("138****1234", "NUMBER").replace("139****4321", "NUMBER")


def test_a_number_without_an_account_gets_the_same_answers_and_no_sms(world, clock):
    with_phone(world.users[Role.RESIDENT])
    answers = []
    for number in (KNOWN, UNKNOWN):
        browser = english_client()
        first = browser.post(PHONE, {"phone": number})
        page = browser.get(CODE)
        second = browser.post(
            CODE, {"code": "123456" if number == UNKNOWN else wrong(last_code(KNOWN))}
        )
        resend = browser.post(CODE, {"resend": "1"})
        answers.append(
            (
                first.status_code,
                first["Location"],
                page.status_code,
                strip_csrf(page.content.decode()),
                second.status_code,
                strip_csrf(second.content.decode()),
                resend.status_code,
                strip_csrf(resend.content.decode()),
            )
        )
    assert answers[0] == answers[1]
    assert list(Notification.objects.values_list("address", flat=True)) == [KNOWN]
    assert PhoneCode.objects.count() == 2


def test_the_trial_notice_shows_while_no_gateway_is_configured(world, clock, settings):
    with_phone(world.users[Role.RESIDENT])
    browser = english_client()
    browser.post(PHONE, {"phone": KNOWN})
    page = browser.get(CODE).content.decode()
    assert 'data-testid="trial-notice"' in page
    assert 'data-testid="trial-link"' not in page  # only street administrators get the link
    settings.LINLI_SMS_GATEWAY_URL = "http://127.0.0.1:9/sms"
    assert 'data-testid="trial-notice"' not in browser.get(CODE).content.decode()


# Staff still give their second factor -------------------------------------------------------------


def code_of(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}"


def test_staff_logged_in_by_phone_code_are_still_asked_for_their_second_factor(
    world, clock, settings
):
    settings.LINLI_STAFF_TWO_FACTOR = True
    secretary = with_phone(world.users[Role.SECRETARY])
    device = two_factor.two_factor_enrolment_start(user=secretary)
    two_factor.two_factor_enrolment_confirm(user=secretary, device=device, code=code_of(device))
    clock.shift(timedelta(seconds=30))  # each TOTP code is accepted once

    browser = english_client()
    browser.post(PHONE, {"phone": KNOWN, "next": RESIDENTS})
    response = browser.post(CODE, {"code": last_code(KNOWN)})
    assert response["Location"] == RESIDENTS
    assert session_user_id(browser) == str(secretary.pk)
    # The phone code is one factor: the register stays closed until the authenticator's code.
    response = browser.get(RESIDENTS)
    assert (response.status_code, response["Location"]) == (
        302,
        "/account/two-factor/verify/?next=%2Fregistry%2Fresidents%2F",
    )
    assert browser.get("/api/v1/households").status_code == 403
    response = browser.post("/account/two-factor/verify/", {"code": code_of(device)})
    assert response.status_code == 302
    assert browser.get(RESIDENTS).status_code == 200


def test_staff_without_an_authenticator_are_sent_to_set_one_up(world, clock, settings):
    settings.LINLI_STAFF_TWO_FACTOR = True
    with_phone(world.users[Role.STREET_ADMIN])
    browser = english_client()
    browser.post(PHONE, {"phone": KNOWN})
    browser.post(CODE, {"code": last_code(KNOWN)})
    response = browser.get("/")
    assert (response.status_code, response["Location"]) == (
        302,
        f"{reverse('two_factor:enrol')}?next=%2F",
    )
