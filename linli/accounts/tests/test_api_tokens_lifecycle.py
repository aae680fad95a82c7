"""API tokens have a lifecycle: they expire after LINLI_API_TOKEN_DAYS, their owner lists and
revokes them, and they are revoked with the password, the account or the last role."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from linli.accounts.models import ApiToken, AuditAction, AuditEntry, TokenRevocation, User
from linli.accounts.roles import Role
from linli.conftest import PASSWORD
from linli.grids.models import RoleAssignment
from linli.grids.services import role_assign, role_revoke
from linli.testing.clients import client_for

ISSUED = datetime(2026, 3, 6, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def client():
    return Client(headers={"Accept-Language": "en"})


@pytest.fixture
def at_issue():
    """The clock stands at ISSUED for the whole test."""
    with time_machine.travel(ISSUED, tick=False):
        yield


def issue(client, username: str, name: str | None = None) -> dict:
    payload = {"username": username, "password": PASSWORD}
    if name is not None:
        payload["name"] = name
    response = client.post("/api/v1/auth/token", payload, content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def residents(key: str):
    return Client(headers={"Accept-Language": "en"}).get("/api/v1/residents", headers=bearer(key))


def token_of(key: str) -> ApiToken:
    return ApiToken.objects.get(key_hash=ApiToken.hash_key(key))


def revocations() -> list[tuple]:
    return list(
        AuditEntry.objects.filter(action=AuditAction.TOKEN_REVOKE)
        .order_by("id")
        .values_list("actor__username", "object_type", "object_label", "reason_code")
    )


def revocation_words() -> list[str]:
    """The reasons as the audit log shows them (in the language of the request that
    revoked: English here)."""
    entries = AuditEntry.objects.filter(action=AuditAction.TOKEN_REVOKE).order_by("id")
    return list(entries.values_list("reason", flat=True))


# Expiry -------------------------------------------------------------------------------------


def test_token_answers_until_exactly_the_configured_days_after_it_was_issued(
    client, world, settings
):
    settings.LINLI_API_TOKEN_DAYS = 7
    with time_machine.travel(ISSUED, tick=False):
        body = issue(client, Role.MICRO_GRID_LEAD)
    assert datetime.fromisoformat(body["expires_at"]) == ISSUED + timedelta(days=7)
    assert token_of(body["token"]).expires_at == ISSUED + timedelta(days=7)

    with time_machine.travel(ISSUED + timedelta(days=7, seconds=-1), tick=False):
        assert residents(body["token"]).status_code == 200
    with time_machine.travel(ISSUED + timedelta(days=7), tick=False):
        response = residents(body["token"])
    assert response.status_code == 401
    assert response.json() == {
        "message": "This token has expired. Sign in again for a new one.",
        "field": None,
    }


def test_token_lasts_thirty_days_by_default(client, world):
    with time_machine.travel(ISSUED, tick=False):
        body = issue(client, Role.SECRETARY)
    assert datetime.fromisoformat(body["expires_at"]) == ISSUED + timedelta(days=30)
    with time_machine.travel(ISSUED + timedelta(days=30), tick=False):
        assert residents(body["token"]).status_code == 401


# Issuing ------------------------------------------------------------------------------------


def test_token_is_issued_with_an_optional_name(client, world):
    with time_machine.travel(ISSUED, tick=False):
        body = issue(client, Role.MICRO_GRID_LEAD, name="巡访手机")
    assert set(body) >= {"token", "username", "name", "expires_at"}
    assert body["name"] == "巡访手机"
    token = token_of(body["token"])
    assert token.name == "巡访手机"
    assert token.key_prefix == body["token"][:8]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "n" * 101),
        ("username", "u" * 151),
        ("username", "u" * 300),
        ("password", "p" * 4097),
    ],
)
def test_overlong_token_request_fields_are_refused_naming_the_field(client, world, field, value):
    payload = {"username": "secretary", "password": PASSWORD, field: value}
    response = client.post("/api/v1/auth/token", payload, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["field"] == field
    assert ApiToken.objects.count() == 0


def test_schema_documents_the_bounds_of_the_token_request(client, db):
    schema = client.get("/api/v1/openapi.json").json()["components"]["schemas"]["TokenIn"]
    assert schema["properties"]["username"]["maxLength"] == 150
    assert schema["properties"]["password"]["maxLength"] == 4096
    assert schema["properties"]["name"]["maxLength"] == 100
    assert schema["required"] == ["username", "password"]


# The app's logout: DELETE /auth/token ---------------------------------------------------------


def test_deleting_the_token_revokes_the_one_used_and_no_other(client, world, at_issue):
    phone = issue(client, Role.MICRO_GRID_LEAD, name="phone")["token"]
    tablet = issue(client, Role.MICRO_GRID_LEAD, name="tablet")["token"]
    response = client.delete("/api/v1/auth/token", headers=bearer(phone))
    assert response.status_code == 204

    token = token_of(phone)
    assert token.revoked_at == ISSUED
    assert token.revoked_reason == TokenRevocation.LOGOUT
    answer = residents(phone)
    assert answer.status_code == 401
    assert answer.json() == {
        "message": "This token has been revoked. Sign in again for a new one.",
        "field": None,
    }
    assert residents(tablet).status_code == 200
    assert revocations() == [
        ("micro_grid_lead", "api_token", f"micro_grid_lead · {phone[:8]}… (phone)", "logout")
    ]
    assert revocation_words() == ["Logged out"]


def test_a_revocation_is_filed_where_the_owner_works_for_their_secretary_to_read(
    client, world, at_issue
):
    from linli.grids.selectors import audit_entries_visible

    key = issue(client, Role.MICRO_GRID_LEAD)["token"]
    client.delete("/api/v1/auth/token", headers=bearer(key))

    entry = AuditEntry.objects.get(action=AuditAction.TOKEN_REVOKE)
    assert entry.grid_path == world.micro_grid.path
    assert audit_entries_visible(user=world.users[Role.SECRETARY]).filter(pk=entry.pk).exists()
    assert not (
        audit_entries_visible(user=world.users[Role.BUILDING_GROUP_LEADER])
        .filter(pk=entry.pk)
        .exists()
    )


def test_deleting_the_token_with_a_session_is_unauthenticated_and_revokes_nothing(client, world):
    issue(client, Role.MICRO_GRID_LEAD)
    client.force_login(world.users[Role.MICRO_GRID_LEAD])
    response = client.delete("/api/v1/auth/token")
    assert response.status_code == 401
    assert ApiToken.objects.filter(revoked_at__isnull=False).count() == 0


# Listing and revoking one's own tokens -------------------------------------------------------


def test_token_list_shows_only_the_callers_tokens_and_never_the_hash(client, world):
    with time_machine.travel(ISSUED, tick=False):
        old = issue(client, Role.MICRO_GRID_LEAD, name="old phone")["token"]
        issue(client, Role.SECRETARY, name="not mine")
    with time_machine.travel(ISSUED + timedelta(hours=1), tick=False):
        current = issue(client, Role.MICRO_GRID_LEAD)["token"]
        client.delete("/api/v1/auth/token", headers=bearer(old))
    with time_machine.travel(ISSUED + timedelta(hours=2), tick=False):
        response = client.get("/api/v1/auth/tokens", headers=bearer(current))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert body["items"] == [
        {
            "id": token_of(current).pk,
            "prefix": current[:8],
            "name": "",
            "created_at": "2026-03-06T03:00:00Z",
            "expires_at": "2026-04-05T03:00:00Z",
            "last_used_at": "2026-03-06T04:00:00Z",
            "revoked_at": None,
            "revoked_reason": "",
            "revoked_reason_text": "",
            "active": True,
            "current": True,
        },
        {
            "id": token_of(old).pk,
            "prefix": old[:8],
            "name": "old phone",
            "created_at": "2026-03-06T02:00:00Z",
            "expires_at": "2026-04-05T02:00:00Z",
            "last_used_at": "2026-03-06T03:00:00Z",
            "revoked_at": "2026-03-06T03:00:00Z",
            "revoked_reason": "logout",
            "revoked_reason_text": "Logged out",
            "active": False,
            "current": False,
        },
    ]
    assert "hash" not in response.content.decode()
    assert token_of(current).key_hash not in response.content.decode()


def test_token_list_over_the_session_marks_no_token_current(client, world):
    issue(client, Role.VOLUNTEER)
    client.force_login(world.users[Role.VOLUNTEER])
    items = client.get("/api/v1/auth/tokens").json()["items"]
    assert [item["current"] for item in items] == [False]


def test_owner_revokes_one_of_their_tokens_by_id(client, world, at_issue):
    current = issue(client, Role.RESIDENT)["token"]
    lost = issue(client, Role.RESIDENT, name="lost phone")["token"]
    response = client.delete(f"/api/v1/auth/tokens/{token_of(lost).pk}", headers=bearer(current))
    assert response.status_code == 204
    token = token_of(lost)
    assert (token.revoked_at, token.revoked_reason) == (ISSUED, TokenRevocation.BY_OWNER)
    assert residents(lost).status_code == 401
    assert residents(current).status_code == 200
    assert revocations() == [
        ("resident", "api_token", f"resident · {lost[:8]}… (lost phone)", "by_owner")
    ]
    assert revocation_words() == ["Revoked by its owner"]
    # Again: nothing more to do, nothing more recorded.
    again = client.delete(f"/api/v1/auth/tokens/{token.pk}", headers=bearer(current))
    assert again.status_code == 204
    assert len(revocations()) == 1


def test_another_users_token_cannot_be_revoked_and_is_not_found(client, world):
    mine = issue(client, Role.VOLUNTEER)["token"]
    theirs = issue(client, Role.STREET_ADMIN)["token"]
    response = client.delete(f"/api/v1/auth/tokens/{token_of(theirs).pk}", headers=bearer(mine))
    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "field": "token_id"}
    assert token_of(theirs).revoked_at is None
    assert residents(theirs).status_code == 200
    assert revocations() == []


# Revoked with the password, the account, the last role ---------------------------------------


def test_a_new_password_revokes_every_token_of_the_user(client, world):
    first = issue(client, Role.SECRETARY)["token"]
    second = issue(client, Role.SECRETARY)["token"]
    other = issue(client, Role.MICRO_GRID_LEAD)["token"]
    user = world.users[Role.SECRETARY]
    user.set_password("a-brand-new-passphrase")
    user.save()
    assert residents(first).status_code == 401
    assert residents(second).status_code == 401
    assert residents(other).status_code == 200
    assert set(ApiToken.objects.filter(user=user).values_list("revoked_reason", flat=True)) == {
        TokenRevocation.PASSWORD_CHANGED
    }
    assert revocations() == [
        (None, "api_token", f"secretary · {first[:8]}…", "password_changed"),
        (None, "api_token", f"secretary · {second[:8]}…", "password_changed"),
    ]


def superuser_client() -> Client:
    return client_for(User.objects.create_superuser("root", password=PASSWORD))


def test_a_password_set_in_the_admin_revokes_the_users_tokens(client, world):
    key = issue(client, Role.SECRETARY)["token"]
    user = world.users[Role.SECRETARY]
    admin = superuser_client()
    response = admin.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": "a-brand-new-passphrase", "password2": "a-brand-new-passphrase"},
    )
    assert response.status_code == 302
    assert residents(key).status_code == 401
    assert token_of(key).revoked_reason == TokenRevocation.PASSWORD_CHANGED


def test_deactivating_an_account_in_the_admin_revokes_its_tokens(client, world):
    key = issue(client, Role.VOLUNTEER)["token"]
    user = world.users[Role.VOLUNTEER]
    admin = superuser_client()
    joined = user.date_joined.astimezone(ZoneInfo("Asia/Shanghai"))
    response = admin.post(
        f"/admin/accounts/user/{user.pk}/change/",
        {
            "username": user.username,
            "first_name": "",
            "last_name": "",
            "email": "",
            # is_active left out: the box is unticked.
            "date_joined_0": joined.strftime("%Y-%m-%d"),
            "date_joined_1": joined.strftime("%H:%M:%S"),
            "display_name": user.display_name,
            "phone": "",
        },
    )
    assert response.status_code == 302, response.content
    user.refresh_from_db()
    assert user.is_active is False
    token = token_of(key)
    assert token.revoked_reason == TokenRevocation.DEACTIVATED
    assert revocations() == [("root", "api_token", f"volunteer · {key[:8]}…", "deactivated")]
    assert revocation_words() == ["Account deactivated"]
    # Reactivated, the account's old token stays revoked.
    user.is_active = True
    user.save(update_fields=["is_active"])
    assert residents(key).status_code == 401


def test_removing_the_last_role_revokes_the_users_tokens(client, world):
    key = issue(client, Role.MICRO_GRID_LEAD)["token"]
    lead = world.users[Role.MICRO_GRID_LEAD]
    street_admin = world.users[Role.STREET_ADMIN]
    assignment = RoleAssignment.objects.get(user=lead)
    role_revoke(assignment=assignment, revoked_by=street_admin)
    assert residents(key).status_code == 401
    assert token_of(key).revoked_reason == TokenRevocation.ROLE_REMOVED
    assert revocations() == [
        ("street_admin", "api_token", f"micro_grid_lead · {key[:8]}…", "role_removed")
    ]


def test_removing_one_of_two_roles_keeps_the_users_tokens(client, world):
    key = issue(client, Role.MICRO_GRID_LEAD)["token"]
    lead = world.users[Role.MICRO_GRID_LEAD]
    street_admin = world.users[Role.STREET_ADMIN]
    extra = role_assign(
        user=lead, role=Role.MICRO_GRID_LEAD, grid_unit=world.other_micro_grid, assigned_by=None
    )
    role_revoke(assignment=extra, revoked_by=street_admin)
    assert residents(key).status_code == 200
    assert revocations() == []


def test_web_logout_leaves_the_apps_tokens_alone(client, world):
    key = issue(client, Role.SECRETARY)["token"]
    client.force_login(world.users[Role.SECRETARY])
    client.post(reverse("web:logout"))
    assert residents(key).status_code == 200


# The web page: /account/tokens/ ---------------------------------------------------------------


def test_token_page_lists_own_tokens_and_revokes_one(client, world):
    with time_machine.travel(ISSUED, tick=False):
        kept = issue(client, Role.SECRETARY, name="值班手机")["token"]
        lost = issue(client, Role.SECRETARY, name="旧平板")["token"]
        theirs = issue(client, Role.MICRO_GRID_LEAD, name="not mine")["token"]
    # An hour later.
    with time_machine.travel(ISSUED + timedelta(hours=1), tick=False):
        client.force_login(world.users[Role.SECRETARY])
        page = client.get("/account/tokens/")
        assert page.status_code == 200
        assert "no-store" in page["Cache-Control"]
        html = page.content.decode()
        assert "值班手机" in html and "旧平板" in html and "not mine" not in html
        assert kept[:8] in html and theirs[:8] not in html
        assert token_of(kept).key_hash not in html
        # The user menu leads here.
        assert 'href="/account/tokens/"' in client.get("/").content.decode()

        response = client.post(f"/account/tokens/{token_of(lost).pk}/revoke/")
        assert response.status_code == 302
        assert response["Location"] == "/account/tokens/"
        assert token_of(lost).revoked_reason == TokenRevocation.BY_OWNER
        assert residents(lost).status_code == 401
        assert residents(kept).status_code == 200
        html = client.get("/account/tokens/").content.decode()
        assert "Revoked by its owner" in html

        # Another person's token: not found, untouched.
        refused = client.post(f"/account/tokens/{token_of(theirs).pk}/revoke/")
        assert refused.status_code == 404
        assert token_of(theirs).revoked_at is None
        # Revoking is a POST only.
        assert client.get(f"/account/tokens/{token_of(kept).pk}/revoke/").status_code == 405


def test_token_page_needs_a_login(client, db):
    response = client.get("/account/tokens/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
