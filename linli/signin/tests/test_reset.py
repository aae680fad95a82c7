"""Password reset (/signin/reset/), end to end: by a code sent by SMS, or by a link sent by
e-mail. The same answers whether or not an account has the number or address; the new
password passes AUTH_PASSWORD_VALIDATORS; the account's API tokens are revoked; audited."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine

from linli.accounts.models import ApiToken, AuditAction, AuditEntry, TokenRevocation
from linli.accounts.roles import Role
from linli.conftest import PASSWORD
from linli.notify.models import Channel, Notification, OutboxMessage
from linli.signin.models import EmailResetRequest, PhoneCode
from linli.signin.tests.support import KNOWN, NOON, UNKNOWN, english_client, last_code, wrong
from linli.testing.clients import token_headers

RESET = "/signin/reset/"
RESET_CODE = "/signin/reset/code/"
RESET_PASSWORD = "/signin/reset/password/"
RESET_EMAIL = "/signin/reset/email/"
DONE = "/signin/reset/done/"
NEW_PASSWORD = "quiet-lantern-river-42"


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture
def resident(world):
    user = world.users[Role.RESIDENT]
    user.phone = KNOWN
    user.email = "zhang.guiying@example.org"
    user.save(update_fields=["phone", "email"])
    return user


def logs_in(username: str, password: str) -> bool:
    """Whether the password login page lets `username` in with `password`."""
    response = english_client().post("/login/", {"username": username, "password": password})
    return response.status_code == 302


def password_audit(user) -> list[tuple]:
    return list(
        AuditEntry.objects.filter(action=AuditAction.UPDATE, field="password").values_list(
            "actor", "object_type", "object_id", "reason", "reason_code", "grid_path", "ip_address"
        )
    )


# By phone code ------------------------------------------------------------------------------------


def test_a_resident_resets_their_password_with_a_code_by_sms(world, resident, clock):
    token = token_headers(resident)["Authorization"].removeprefix("Bearer ")
    browser = english_client()
    response = browser.post(RESET, {"phone": KNOWN})
    assert (response.status_code, response["Location"]) == (302, RESET_CODE)
    assert "your code to reset your password is" in Notification.objects.get().title
    response = browser.post(RESET_CODE, {"code": last_code(KNOWN)})
    assert (response.status_code, response["Location"]) == (302, RESET_PASSWORD)
    page = browser.get(RESET_PASSWORD)
    assert page.status_code == 200
    assert 'autocomplete="new-password"' in page.content.decode()
    response = browser.post(
        RESET_PASSWORD, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert (response.status_code, response["Location"]) == (302, DONE)
    assert "Your new password is set." in browser.get(DONE).content.decode()

    assert logs_in(resident.username, NEW_PASSWORD) is True
    assert logs_in(resident.username, PASSWORD) is False
    revoked = ApiToken.objects.get(key_hash=ApiToken.hash_key(token))
    assert revoked.revoked_reason == TokenRevocation.PASSWORD_CHANGED
    assert password_audit(resident) == [
        (
            resident.pk,
            "user",
            str(resident.pk),
            "Password reset with a code sent by SMS",
            "password_reset_phone",
            world.building_group.path,
            "127.0.0.1",
        )
    ]
    revocation = AuditEntry.objects.get(action=AuditAction.TOKEN_REVOKE)
    assert (revocation.actor, revocation.reason_code) == (resident, "password_changed")
    # The way back in is closed behind the reset: the step asks for a code again.
    assert browser.get(RESET_PASSWORD)["Location"] == RESET


def test_a_weak_new_password_is_refused_at_the_field_and_nothing_changes(resident, clock):
    browser = english_client()
    browser.post(RESET, {"phone": KNOWN})
    browser.post(RESET_CODE, {"code": last_code(KNOWN)})
    response = browser.post(RESET_PASSWORD, {"new_password1": "12345", "new_password2": "12345"})
    assert response.status_code == 400
    assert (
        '<ul class="errorlist" role="alert" id="id_new_password2_errors"><li>This password is '
        "too short. It must contain at least 8 characters.</li><li>This password is too common."
        "</li></ul>"
    ) in response.content.decode()
    assert logs_in(resident.username, PASSWORD) is True
    assert password_audit(resident) == []


def test_the_new_password_must_be_set_within_ten_minutes_of_the_code(resident, clock):
    browser = english_client()
    browser.post(RESET, {"phone": KNOWN})
    browser.post(RESET_CODE, {"code": last_code(KNOWN)})
    clock.shift(timedelta(minutes=10))
    response = browser.post(
        RESET_PASSWORD, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert (response.status_code, response["Location"]) == (302, RESET)
    assert logs_in(resident.username, PASSWORD) is True


def test_the_password_step_is_closed_without_an_accepted_code(resident, clock):
    browser = english_client()
    browser.post(RESET, {"phone": KNOWN})
    browser.post(RESET_CODE, {"code": wrong(last_code(KNOWN))})
    response = browser.post(
        RESET_PASSWORD, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert (response.status_code, response["Location"]) == (302, RESET)
    assert logs_in(resident.username, PASSWORD) is True


def test_a_login_code_does_not_reset_a_password(resident, clock):
    browser = english_client()
    browser.post("/signin/phone/", {"phone": KNOWN})
    login_code = last_code(KNOWN)
    browser.post(RESET, {"phone": KNOWN})
    assert browser.post(RESET_CODE, {"code": login_code}).status_code == 400


def test_reset_by_phone_answers_alike_for_a_number_without_an_account(resident, clock):
    statuses = []
    for number in (KNOWN, UNKNOWN):
        browser = english_client()
        first = browser.post(RESET, {"phone": number})
        statuses.append((first.status_code, first["Location"], browser.get(RESET_CODE).status_code))
    assert statuses == [(302, RESET_CODE, 200)] * 2
    assert list(Notification.objects.values_list("address", flat=True)) == [KNOWN]
    assert PhoneCode.objects.count() == 2


# By e-mail --------------------------------------------------------------------------------------


def reset_link_path() -> str:
    notification = Notification.objects.get(kind="password_reset")
    link = next(line for line in notification.body.splitlines() if "://" in line)
    assert link.startswith("https://linli.example.org/signin/reset/email/")
    return urlsplit(link).path


def test_a_resident_resets_their_password_by_a_link_sent_by_e_mail(
    world, resident, clock, settings
):
    settings.LINLI_SITE_URL = "https://linli.example.org"
    token = token_headers(resident)["Authorization"].removeprefix("Bearer ")
    browser = english_client()
    response = browser.post(RESET_EMAIL, {"email": "  Zhang.Guiying@example.org "})
    assert (response.status_code, response["Location"]) == (302, "/signin/reset/email/sent/")
    notification = Notification.objects.get()
    assert (notification.recipient, notification.address, notification.title) == (
        None,
        "zhang.guiying@example.org",
        "Linli: reset your password",
    )
    assert notification.body.startswith(
        "Someone asked to reset the password of the Linli account resident. To choose a new "
        "password, open this link within 72 hours:\n"
    )
    assert list(OutboxMessage.objects.values_list("channel", flat=True)) == [Channel.EMAIL]

    path = reset_link_path()
    response = browser.get(path)
    # The token leaves the address (and so the Referer) for the session at once.
    assert response.status_code == 302
    set_password = response["Location"]
    assert set_password.endswith("/set-password/")
    assert browser.get(set_password).status_code == 200
    response = browser.post(
        set_password, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert (response.status_code, response["Location"]) == (302, DONE)
    assert logs_in(resident.username, NEW_PASSWORD) is True
    assert ApiToken.objects.get(key_hash=ApiToken.hash_key(token)).revoked_at == NOON
    assert [entry[3] for entry in password_audit(resident)] == [
        "Password reset with a link sent by e-mail"
    ]
    # The link works once: the password it was made for has changed.
    page = english_client().get(path)
    assert page.status_code == 200
    assert "This link no longer works" in page.content.decode()


def test_a_reset_link_of_a_deactivated_account_does_not_work(resident, clock, settings):
    settings.LINLI_SITE_URL = "https://linli.example.org"
    english_client().post(RESET_EMAIL, {"email": resident.email})
    path = reset_link_path()
    resident.is_active = False
    resident.save(update_fields=["is_active"])
    assert "This link no longer works" in english_client().get(path).content.decode()


def test_reset_by_e_mail_answers_alike_for_an_address_without_an_account(resident, clock):
    answers = []
    for email in (resident.email, "nobody@example.org"):
        response = english_client().post(RESET_EMAIL, {"email": email})
        answers.append((response.status_code, response["Location"]))
    assert answers == [(302, "/signin/reset/email/sent/")] * 2
    assert list(Notification.objects.values_list("address", flat=True)) == [resident.email]
    assert EmailResetRequest.objects.count() == 2


def test_a_second_reset_e_mail_waits_sixty_seconds(resident, clock):
    browser = english_client()
    browser.post(RESET_EMAIL, {"email": resident.email})
    response = browser.post(RESET_EMAIL, {"email": resident.email})
    assert response.status_code == 429
    assert "An e-mail was just sent. Wait 60 seconds before asking for another." in (
        response.content.decode()
    )
    assert Notification.objects.count() == 1


def test_a_malformed_e_mail_address_is_refused_at_the_field(db, clock):
    response = english_client().post(RESET_EMAIL, {"email": "not an address"})
    assert response.status_code == 400
    assert "Enter a valid e-mail address." in response.content.decode()
    assert EmailResetRequest.objects.count() == 0


def test_the_reset_pages_link_to_each_other(db):
    assert f'href="{RESET_EMAIL}"' in english_client().get(RESET).content.decode()
    assert f'href="{RESET}"' in english_client().get(RESET_EMAIL).content.decode()
