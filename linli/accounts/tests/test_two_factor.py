"""Two-factor sign-in for staff who may reveal, export or import (linli.accounts.two_factor).

Enforcement is off for the rest of the suite (linli/conftest.py); every test here turns it on
unless it says otherwise, logs in with the password through the real login page, and reads
codes from the device's secret at a pinned clock."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from linli.accounts import two_factor
from linli.accounts.models import ApiToken, AuditAction, AuditEntry
from linli.accounts.roles import Role
from linli.conftest import PASSWORD
from linli.ops import checks

NOON = datetime(2027, 3, 15, 12, 0, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
RESIDENTS = "/registry/residents/"
ENROL = "/account/two-factor/enrol/"
VERIFY = "/account/two-factor/verify/"


@pytest.fixture(autouse=True)
def _enforced(settings):
    settings.LINLI_STAFF_TWO_FACTOR = True


# Audit reasons are written in the language active at the time, also outside a request
# (services called by the test itself, the command line).
pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def client() -> Client:
    # English, so that the assertions on messages hold whatever the default language.
    return Client(headers={"Accept-Language": "en"})


def password_login(username: str) -> Client:
    browser = client()
    response = browser.post(reverse("web:login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return browser


def code_of(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits):06d}"


def enrolled(user) -> tuple[TOTPDevice, list[str]]:
    device = two_factor.two_factor_enrolment_start(user=user)
    result = two_factor.two_factor_enrolment_confirm(user=user, device=device, code=code_of(device))
    assert not isinstance(result, two_factor.CodeRefusal), result
    return result


def verified_login(username: str, device: TOTPDevice, clock) -> Client:
    # Each code is accepted once: the next login waits for the next 30-second step.
    clock.shift(timedelta(seconds=30))
    browser = password_login(username)
    response = browser.post(VERIFY, {"code": code_of(device)})
    assert response.status_code == 302
    return browser


# Who is asked -------------------------------------------------------------------------------


def test_the_rule_names_exactly_the_roles_that_reveal_export_or_import():
    assert {
        Role.STREET_ADMIN,
        Role.SECRETARY,
        Role.MICRO_GRID_LEAD,
    } == two_factor.TWO_FACTOR_ROLES


def test_needs_two_factor_for_staff_who_reveal_and_superusers_only(world, django_user_model):
    needs = {role: two_factor.needs_two_factor(world.users[role]) for role in Role.values}
    assert needs == {
        Role.STREET_ADMIN: True,
        Role.SECRETARY: True,
        Role.MICRO_GRID_LEAD: True,
        Role.BUILDING_GROUP_LEADER: False,
        Role.VOLUNTEER: False,
        Role.PARTNER_LIAISON: False,
        Role.RESIDENT: False,
    }
    root = django_user_model.objects.create_superuser("root", password=PASSWORD)
    assert two_factor.needs_two_factor(root) is True


def test_a_secretary_after_the_password_is_sent_to_enrolment_and_sees_no_resident(world):
    browser = password_login(Role.SECRETARY)
    response = browser.get(RESIDENTS)
    assert response.status_code == 302
    assert response["Location"] == f"{ENROL}?next=%2Fregistry%2Fresidents%2F"
    # Home, the admin and a POST elsewhere are closed too.
    assert browser.get("/")["Location"] == f"{ENROL}?next=%2F"
    assert browser.get("/admin/")["Location"] == f"{ENROL}?next=%2Fadmin%2F"
    assert browser.post("/registry/visits/new/")["Location"] == ENROL
    # The enrolment page itself opens, with the QR code as inline SVG and no script.
    page = browser.get(ENROL)
    assert page.status_code == 200
    html = page.content.decode()
    assert '<svg width="' in html and 'class="segno"' in html
    assert "data:" not in html.split('data-testid="two-factor-qr"')[1].split("</div>")[0]
    assert "<script>" not in html and " onload=" not in html
    device = TOTPDevice.objects.get(user=world.users[Role.SECRETARY])
    assert device.confirmed is False


def test_the_api_answers_an_unverified_staff_session_with_403_naming_otp(world):
    browser = password_login(Role.SECRETARY)
    response = browser.get("/api/v1/households")
    assert response.status_code == 403
    assert response.json() == {
        "message": "Two-factor sign-in needed: enter the code from your authenticator app "
        "on the website first.",
        "field": "otp",
    }


def test_a_resident_is_never_asked(world):
    browser = password_login(Role.RESIDENT)
    assert browser.get("/registry/me/").status_code == 200
    assert browser.get("/").status_code == 200
    assert not TOTPDevice.objects.exists()


def test_with_the_setting_off_staff_are_never_asked(world, settings):
    settings.LINLI_STAFF_TWO_FACTOR = False
    browser = password_login(Role.SECRETARY)
    assert browser.get(RESIDENTS).status_code == 200
    assert browser.get("/api/v1/households").status_code == 200
    response = browser.post(
        "/api/v1/auth/token",
        {"username": Role.SECRETARY, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200


# Enrolment and codes ------------------------------------------------------------------------


def test_enrolment_with_the_current_code_confirms_the_device_and_shows_codes_once(world, clock):
    secretary = world.users[Role.SECRETARY]
    browser = password_login(Role.SECRETARY)
    browser.get(ENROL)
    device = TOTPDevice.objects.get(user=secretary)

    response = browser.post(ENROL, {"code": code_of(device), "next": RESIDENTS})
    assert response.status_code == 302
    assert (
        response["Location"]
        == "/account/two-factor/recovery-codes/?next=%2Fregistry%2Fresidents%2F"
    )
    device.refresh_from_db()
    assert device.confirmed is True
    tokens = sorted(
        StaticToken.objects.filter(device__user=secretary).values_list("token", flat=True)
    )
    assert len(tokens) == 10

    page = browser.get(response["Location"]).content.decode()
    shown = sorted(code.replace("-", "") for code in _codes_in(page))
    assert shown == tokens
    download = browser.get("/account/two-factor/recovery-codes/download/")
    assert download["Content-Disposition"] == 'attachment; filename="linli-recovery-codes.txt"'
    assert (
        sorted(
            line.replace("-", "")
            for line in download.content.decode().splitlines()
            if len(line) == 9
        )
        == tokens
    )
    done = browser.post("/account/two-factor/recovery-codes/done/", {"next": RESIDENTS})
    assert done["Location"] == RESIDENTS
    # Verified: the register opens; the codes are not shown again.
    assert browser.get(RESIDENTS).status_code == 200
    assert _codes_in(browser.get("/account/two-factor/recovery-codes/").content.decode()) == []
    assert browser.get("/account/two-factor/recovery-codes/download/").status_code == 404

    entry = AuditEntry.objects.get(action=AuditAction.TWO_FACTOR)
    assert (entry.actor, entry.object_type, entry.object_id, entry.grid_path) == (
        secretary,
        "user",
        str(secretary.pk),
        world.community.path,
    )
    assert entry.reason == "Set up an authenticator app and 10 recovery codes"


def _codes_in(html: str) -> list[str]:
    if 'data-testid="recovery-code-list"' not in html:
        return []
    listing = html.split('data-testid="recovery-code-list"')[1].split("</ol>")[0]
    return [part.split("</code>")[0] for part in listing.split("<code>")[1:]]


def test_a_wrong_code_is_refused_and_then_throttled(world, clock):
    secretary = world.users[Role.SECRETARY]
    device, _codes = enrolled(secretary)
    clock.shift(timedelta(seconds=30))
    browser = password_login(Role.SECRETARY)
    assert browser.get(RESIDENTS)["Location"] == f"{VERIFY}?next=%2Fregistry%2Fresidents%2F"

    wrong = f"{(int(code_of(device)) + 1) % 1_000_000:06d}"
    response = browser.post(VERIFY, {"code": wrong})
    assert response.status_code == 400
    assert "That code is not right." in response.content.decode()
    # Straight after a failure even the right code waits (1 s, then 2, 4 …), and the page
    # says so without calling one slip "too many".
    response = browser.post(VERIFY, {"code": code_of(device)})
    assert response.status_code == 400
    assert (
        "That code was not accepted. Wait 1 second before the next try."
        in response.content.decode()
    )
    assert "Too many" not in response.content.decode()
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    assert browser.get(RESIDENTS).status_code == 302

    # A second wrong code doubles the wait: the plural.
    clock.shift(timedelta(seconds=2))
    assert browser.post(VERIFY, {"code": wrong}).status_code == 400
    response = browser.post(VERIFY, {"code": code_of(device)})
    assert (
        "That code was not accepted. Wait 2 seconds before the next try."
        in response.content.decode()
    )

    clock.shift(timedelta(seconds=3))
    response = browser.post(VERIFY, {"code": code_of(device), "next": RESIDENTS})
    assert response["Location"] == RESIDENTS
    assert browser.get(RESIDENTS).status_code == 200


def test_a_code_is_accepted_once_only(world, clock):
    device, _codes = enrolled(world.users[Role.SECRETARY])
    clock.shift(timedelta(seconds=30))
    first = password_login(Role.SECRETARY)
    assert first.post(VERIFY, {"code": code_of(device)}).status_code == 302
    second = password_login(Role.SECRETARY)
    assert second.post(VERIFY, {"code": code_of(device)}).status_code == 400


def test_a_recovery_code_works_once_only(world, clock):
    secretary = world.users[Role.SECRETARY]
    _device, codes = enrolled(secretary)
    first = password_login(Role.SECRETARY)
    typed = two_factor.format_recovery_code(codes[3]).upper()  # as copied from paper
    assert first.post(VERIFY, {"code": typed})["Location"] == "/"
    assert first.get(RESIDENTS).status_code == 200
    assert StaticToken.objects.filter(device__user=secretary).count() == 9

    clock.shift(timedelta(seconds=5))
    second = password_login(Role.SECRETARY)
    assert second.post(VERIFY, {"code": typed}).status_code == 400
    assert second.get(RESIDENTS).status_code == 302
    reasons = list(
        AuditEntry.objects.filter(action=AuditAction.TWO_FACTOR)
        .order_by("id")
        .values_list("reason", flat=True)
    )
    assert reasons == [
        "Set up an authenticator app and 10 recovery codes",
        "Signed in with a recovery code (9 left)",
    ]


def test_an_enrolled_person_cannot_replace_the_authenticator_with_the_password_alone(world, clock):
    secretary = world.users[Role.SECRETARY]
    device, _codes = enrolled(secretary)
    browser = password_login(Role.SECRETARY)
    response = browser.get(ENROL)
    assert response["Location"] == f"{VERIFY}?next=%2Faccount%2Ftwo-factor%2Fenrol%2F"
    assert list(TOTPDevice.objects.filter(user=secretary)) == [device]


def test_recovery_codes_are_shown_on_the_first_visit_only(world, clock):
    secretary = world.users[Role.SECRETARY]
    browser = password_login(Role.SECRETARY)
    browser.get(ENROL)
    device = TOTPDevice.objects.get(user=secretary)
    codes_page = browser.post(ENROL, {"code": code_of(device), "next": RESIDENTS})["Location"]
    tokens = sorted(
        StaticToken.objects.filter(device__user=secretary).values_list("token", flat=True)
    )

    first = browser.get(codes_page).content.decode()
    assert sorted(code.replace("-", "") for code in _codes_in(first)) == tokens
    assert "These codes are shown only now." in first
    # The download linked from that page still works while it is open …
    assert browser.get("/account/two-factor/recovery-codes/download/").status_code == 200

    # … but coming back (or reloading) before "I have kept them" shows no code, only the
    # way to make new ones.
    again = browser.get(codes_page).content.decode()
    assert _codes_in(again) == []
    assert 'data-testid="codes-already-shown"' in again
    assert "Your new recovery codes were shown once and are not shown again." in again
    assert "Make new recovery codes" in again
    assert browser.get("/account/two-factor/recovery-codes/download/").status_code == 404
    assert _codes_in(browser.get(codes_page).content.decode()) == []

    # New codes are shown once again, and only once.
    assert browser.post("/account/two-factor/recovery-codes/").status_code == 302
    new_tokens = sorted(
        StaticToken.objects.filter(device__user=secretary).values_list("token", flat=True)
    )
    shown = _codes_in(browser.get("/account/two-factor/recovery-codes/").content.decode())
    assert sorted(code.replace("-", "") for code in shown) == new_tokens
    assert _codes_in(browser.get("/account/two-factor/recovery-codes/").content.decode()) == []


def test_regenerating_recovery_codes_replaces_them_and_is_audited(world, clock):
    secretary = world.users[Role.SECRETARY]
    device, old_codes = enrolled(secretary)
    browser = verified_login(Role.SECRETARY, device, clock)
    response = browser.post("/account/two-factor/recovery-codes/")
    assert response["Location"] == "/account/two-factor/recovery-codes/"
    new_codes = sorted(
        StaticToken.objects.filter(device__user=secretary).values_list("token", flat=True)
    )
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    shown = _codes_in(browser.get("/account/two-factor/recovery-codes/").content.decode())
    assert sorted(code.replace("-", "") for code in shown) == new_codes
    assert AuditEntry.objects.filter(action=AuditAction.TWO_FACTOR).latest("id").reason == (
        "Made 10 new recovery codes; the old ones no longer work"
    )


# The API token ------------------------------------------------------------------------------


def request_token(username: str, otp: str | None = None):
    payload = {"username": username, "password": PASSWORD}
    if otp is not None:
        payload["otp"] = otp
    return client().post("/api/v1/auth/token", payload, content_type="application/json")


def test_the_token_endpoint_requires_a_code_from_the_secretary(world, clock):
    response = request_token(Role.SECRETARY)
    assert response.status_code == 401
    assert response.json() == {
        "message": "This account needs two-factor sign-in: log in on the website once to set "
        "up an authenticator app, then send its code as otp.",
        "field": "otp",
    }
    device, _codes = enrolled(world.users[Role.SECRETARY])
    clock.shift(timedelta(seconds=30))
    response = request_token(Role.SECRETARY)
    assert (response.status_code, response.json()["field"]) == (401, "otp")
    wrong = f"{(int(code_of(device)) + 1) % 1_000_000:06d}"
    response = request_token(Role.SECRETARY, wrong)
    assert response.json() == {"message": _wrong_message(), "field": "otp"}
    assert not ApiToken.objects.exists()
    clock.shift(timedelta(seconds=2))
    response = request_token(Role.SECRETARY, code_of(device))
    assert response.status_code == 200
    token = response.json()["token"]
    assert ApiToken.objects.get().user == world.users[Role.SECRETARY]
    # The token opens the API although the same browser's session is unverified.
    browser = password_login(Role.SECRETARY)
    answer = browser.get("/api/v1/households", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200


def _wrong_message() -> str:
    return (
        "That code is not right. Type the 6 digits your authenticator app shows now, or one "
        "of your recovery codes."
    )


def test_the_token_endpoint_asks_no_code_of_a_resident(world):
    assert request_token(Role.RESIDENT).status_code == 200


# Resets -------------------------------------------------------------------------------------


def test_a_street_administrator_resets_a_secretarys_two_factor_and_it_is_audited(world, clock):
    secretary, admin = world.users[Role.SECRETARY], world.users[Role.STREET_ADMIN]
    enrolled(secretary)
    admin_device, _codes = enrolled(admin)
    browser = verified_login(Role.STREET_ADMIN, admin_device, clock)
    page = browser.get("/account/two-factor/staff/").content.decode()
    assert page.count('data-testid="two-factor-staff-row"') == 2  # secretary, micro-grid lead

    response = browser.post(
        f"/account/two-factor/staff/{secretary.pk}/reset/", {"reason": "phone lost"}
    )
    assert response["Location"] == "/account/two-factor/staff/"
    assert not TOTPDevice.objects.filter(user=secretary).exists()
    assert not StaticDevice.objects.filter(user=secretary).exists()
    entry = AuditEntry.objects.filter(action=AuditAction.TWO_FACTOR).latest("id")
    assert (entry.actor, entry.object_id, entry.reason, entry.grid_path) == (
        admin,
        str(secretary.pk),
        "Two-factor sign-in reset by an administrator: phone lost",
        world.community.path,
    )
    # The secretary sets up an authenticator again at their next page.
    assert password_login(Role.SECRETARY).get(RESIDENTS)["Location"].startswith(ENROL)


def test_only_a_verified_street_administrator_resets(world, clock):
    secretary, admin = world.users[Role.SECRETARY], world.users[Role.STREET_ADMIN]
    secretary_device, _ = enrolled(secretary)
    enrolled(admin)
    reset = f"/account/two-factor/staff/{world.users[Role.MICRO_GRID_LEAD].pk}/reset/"
    # With the password alone the street administrator is sent to enter a code.
    unverified = password_login(Role.STREET_ADMIN)
    assert unverified.post(reset, {"reason": "x"})["Location"] == VERIFY
    # A verified secretary has no reset page.
    browser = verified_login(Role.SECRETARY, secretary_device, clock)
    assert browser.get("/account/two-factor/staff/").status_code == 404
    admin_reset = f"/account/two-factor/staff/{admin.pk}/reset/"
    assert browser.post(admin_reset, {"reason": "x"}).status_code == 404
    assert TOTPDevice.objects.filter(user=admin, confirmed=True).exists()
    assert not AuditEntry.objects.filter(reason__startswith="Two-factor sign-in reset").exists()


def test_it_resets_from_the_command_line_audited_without_an_actor(world, clock, capsys):
    secretary = world.users[Role.SECRETARY]
    enrolled(secretary)
    call_command("two-factor", "reset", Role.SECRETARY, "--reason", "ticket 42")
    assert not TOTPDevice.objects.filter(user=secretary).exists()
    entry = AuditEntry.objects.filter(action=AuditAction.TWO_FACTOR).latest("id")
    assert (entry.actor, entry.reason) == (
        None,
        "Two-factor sign-in reset by IT at the command line: ticket 42",
    )
    assert "reset" in capsys.readouterr().out


# Deployment --------------------------------------------------------------------------------


def test_check_deploy_warns_when_two_factor_is_off(settings):
    assert checks.check_two_factor() == []
    settings.LINLI_STAFF_TWO_FACTOR = False
    [message] = checks.check_two_factor()
    assert message.id == "linli.W013"
    assert message.msg.startswith("LINLI_STAFF_TWO_FACTOR is off:")


def test_the_demo_says_whether_its_staff_are_asked_for_a_code(settings):
    from linli.demo.management.commands.demo import two_factor_note
    from linli.demo.tests.test_logins_table import DEMO_LOGINS

    settings.LINLI_STAFF_TWO_FACTOR = False
    with translation.override("en"):
        assert two_factor_note(DEMO_LOGINS) == (
            "Two-factor sign-in is off here (LINLI_STAFF_TWO_FACTOR=0); in production street, "
            "secretary, grid1 also type a code from an authenticator app."
        )
    settings.LINLI_STAFF_TWO_FACTOR = True
    with translation.override("en"):
        assert two_factor_note(DEMO_LOGINS) == (
            "Two-factor sign-in is on: street, secretary, grid1 set up an authenticator app at "
            "their first log-in."
        )
