"""The privacy notice: accepted at first sign-in (and again for a new version), recorded and
audited; until then pages lead to the notice and the API answers 403 naming it."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from linli.accounts.models import AuditAction, AuditEntry
from linli.accounts.roles import Role
from linli.conftest import PASSWORD
from linli.privacy.models import PrivacyNoticeAcceptance
from linli.testing.clients import client_for

MOMENT = datetime(2026, 12, 7, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _notice_required(settings):
    settings.LINLI_PRIVACY_NOTICE_REQUIRED = True
    settings.LINLI_PRIVACY_NOTICE_VERSION = "2026-12"


def accepted(world, role=Role.RESIDENT) -> Client:
    client = client_for(world.users[role])
    client.post("/privacy/notice/")
    return client


def test_a_page_leads_to_the_notice_until_it_is_accepted(world):
    client = client_for(world.users[Role.RESIDENT])
    response = client.get("/registry/me/?tab=1")
    assert response.status_code == 302
    assert response["Location"] == "/privacy/notice/?next=%2Fregistry%2Fme%2F%3Ftab%3D1"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert b'data-testid="accept-notice"' in page.content
    assert b'data-version="2026-12"' in page.content


def test_accepting_records_version_moment_and_address_audits_it_and_goes_on(world):
    with time_machine.travel(MOMENT, tick=False):
        client = client_for(world.users[Role.RESIDENT])
        response = client.post(
            "/privacy/notice/", {"next": "/registry/me/"}, REMOTE_ADDR="10.1.2.3"
        )
        own_household = client.get("/registry/me/")
    assert (response.status_code, response["Location"]) == (302, "/registry/me/")
    user = world.users[Role.RESIDENT]
    assert list(
        PrivacyNoticeAcceptance.objects.values_list("user", "version", "accepted_at", "ip_address")
    ) == [(user.pk, "2026-12", MOMENT, "10.1.2.3")]
    assert list(
        AuditEntry.objects.filter(action=AuditAction.CONSENT).values_list(
            "actor", "object_type", "object_id", "object_label", "grid_path", "ip_address"
        )
    ) == [
        (
            user.pk,
            "privacy_notice",
            "2026-12",
            "2026-12",
            world.resident.grid_path,
            "10.1.2.3",
        )
    ]
    assert own_household.status_code == 200


def test_accepting_twice_keeps_the_first_acceptance_and_one_audit_entry(world):
    client = client_for(world.users[Role.RESIDENT])
    client.post("/privacy/notice/")
    client.post("/privacy/notice/")
    assert PrivacyNoticeAcceptance.objects.count() == 1
    assert AuditEntry.objects.filter(action=AuditAction.CONSENT).count() == 1


def test_a_new_version_is_asked_for_again(world, settings):
    client = accepted(world)
    assert client.get("/registry/me/").status_code == 200
    settings.LINLI_PRIVACY_NOTICE_VERSION = "2027-06"
    # The session remembered 2026-12, not the new version.
    assert client.get("/registry/me/")["Location"].startswith("/privacy/notice/")


def test_accepting_the_notice_needs_the_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users[Role.RESIDENT])
    assert client.post("/privacy/notice/").status_code == 403
    assert PrivacyNoticeAcceptance.objects.count() == 0


def test_next_leading_off_the_site_goes_home_instead(world):
    response = client_for(world.users[Role.RESIDENT]).post(
        "/privacy/notice/", {"next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


@pytest.mark.parametrize(
    "path", ["/privacy/notice/", "/healthz", "/account/two-factor/verify/", "/i18n/setlang/"]
)
def test_the_notice_sign_out_two_factor_language_and_operations_stay_open(world, path):
    response = client_for(world.users[Role.RESIDENT]).get(path)
    assert not response.get("Location", "").startswith("/privacy/notice/")


def test_logout_stays_open(world):
    client = client_for(world.users[Role.RESIDENT])
    response = client.post("/logout/")
    assert response.status_code == 302
    assert not response["Location"].startswith("/privacy/notice/")


def test_staff_are_asked_too(world):
    response = client_for(world.users[Role.SECRETARY]).get("/")
    assert response["Location"] == "/privacy/notice/?next=%2F"


def test_htmx_requests_are_redirected_by_header(world):
    response = client_for(world.users[Role.RESIDENT]).get(
        "/registry/me/", headers={"HX-Request": "true"}
    )
    assert (response.status_code, response["HX-Redirect"]) == (
        204,
        "/privacy/notice/?next=%2Fregistry%2Fme%2F",
    )


def test_anonymous_visitors_read_the_notice_without_a_button(db):
    response = Client().get("/privacy/notice/")
    assert response.status_code == 200
    assert b'data-testid="privacy-notice"' in response.content
    assert b'data-testid="accept-notice"' not in response.content


def test_the_notice_states_the_retention_periods_from_settings(world, settings):
    settings.LINLI_RETENTION_DEPARTED_DAYS = 90
    settings.LINLI_RETENTION_CASE_REPORTER_YEARS = 4
    settings.LINLI_RETENTION_VISIT_FINDING_YEARS = 0
    settings.LINLI_RETENTION_HELP_REQUEST_YEARS = 1
    text = client_for(world.users[Role.RESIDENT]).get("/privacy/notice/").content.decode()
    assert "anonymised 90 days after the move" in text
    assert "erased 4 years after the case is closed" in text
    assert "What a visit noted is kept until it is deleted on request." in text
    assert "erased 1 year after the emergency ends" in text


def test_the_notice_is_not_asked_for_when_the_setting_is_off(world, settings):
    settings.LINLI_PRIVACY_NOTICE_REQUIRED = False
    assert client_for(world.users[Role.RESIDENT]).get("/registry/me/").status_code == 200


# The API -------------------------------------------------------------------------------------


def test_api_session_calls_answer_403_naming_the_notice(world):
    response = client_for(world.users[Role.RESIDENT]).get("/api/v1/notifications")
    assert response.status_code == 403
    assert response.json()["field"] == "privacy_notice"


def test_api_shows_the_notice_and_accepts_it(world):
    with time_machine.travel(MOMENT, tick=False):
        client = client_for(world.users[Role.RESIDENT])
        shown = client.get("/api/v1/privacy/notice")
        assert shown.status_code == 200
        assert shown.json() == {
            "version": "2026-12",
            "text_url": "http://testserver/privacy/notice/",
            "required": True,
            "accepted": False,
            "accepted_at": None,
        }
        answer = client.post(
            "/api/v1/privacy/notice/accept", {"version": "2026-12"}, content_type="application/json"
        )
        # Still at the pinned moment: the session was opened then (a clock moved by
        # LINLI_TEST_CLOCK would find it expired outside).
        after = client.get("/api/v1/notifications")
        notice = client.get("/api/v1/privacy/notice")
    assert answer.status_code == 200
    assert answer.json() == {"version": "2026-12", "accepted_at": "2026-12-07T01:30:00Z"}
    assert after.status_code == 200
    assert notice.json()["accepted"] is True


def test_api_refuses_to_accept_another_version(world):
    response = client_for(world.users[Role.RESIDENT]).post(
        "/api/v1/privacy/notice/accept", {"version": "2025-01"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["field"] == "version"
    assert PrivacyNoticeAcceptance.objects.count() == 0


def test_bearer_tokens_are_refused_too_until_the_app_accepts(world):
    client = Client()
    token = client.post(
        "/api/v1/auth/token",
        {"username": "resident", "password": PASSWORD},
        content_type="application/json",
    ).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    refused = client.get("/api/v1/notifications", headers=bearer)
    assert (refused.status_code, refused.json()["field"]) == (403, "privacy_notice")
    accept = client.post(
        "/api/v1/privacy/notice/accept",
        {"version": "2026-12"},
        content_type="application/json",
        headers=bearer,
    )
    assert accept.status_code == 200
    assert client.get("/api/v1/notifications", headers=bearer).status_code == 200


def test_an_unknown_bearer_token_still_gets_the_apis_401(db):
    response = Client().get("/api/v1/notifications", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
