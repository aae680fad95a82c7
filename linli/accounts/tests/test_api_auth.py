"""Authentication on `/api/v1`: bearer tokens, the session with CSRF, login throttling."""

import pytest
from axes.models import AccessAttempt
from django.test import Client

from linli.accounts.models import ApiToken
from linli.accounts.roles import Role
from linli.conftest import PASSWORD
from linli.grids.models import Visit

CSRF_SECRET = "k" * 32


@pytest.fixture
def client():
    # English, so that the assertions on messages hold whatever the default language.
    return Client(headers={"Accept-Language": "en"})


def request_token(client, username: str, password: str):
    return client.post(
        "/api/v1/auth/token",
        {"username": username, "password": password},
        content_type="application/json",
    )


def visit_payload(world) -> dict:
    return {"household_id": world.household.pk, "method": "door", "finding": "All well"}


def test_token_is_issued_for_the_right_password_and_opens_the_api(client, world):
    response = request_token(client, "micro_grid_lead", PASSWORD)
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "micro_grid_lead"
    token = ApiToken.objects.get()
    assert token.user == world.users[Role.MICRO_GRID_LEAD]
    # Only the hash is stored.
    assert token.key_hash == ApiToken.hash_key(body["token"])
    assert body["token"] not in token.key_hash
    assert token.user.last_login is not None

    listing = Client().get(
        "/api/v1/residents", headers={"Authorization": f"Bearer {body['token']}"}
    )
    assert listing.status_code == 200
    assert listing.json()["count"] == 2
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_wrong_password_issues_no_token(client, world):
    response = request_token(client, "micro_grid_lead", "wrong")
    assert response.status_code == 401
    assert response.json() == {"message": "Invalid username or password.", "field": "password"}
    assert ApiToken.objects.count() == 0


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(client, world):
    response = request_token(client, "nobody", "wrong")
    assert response.status_code == 401
    assert response.json() == {"message": "Invalid username or password.", "field": "password"}


def test_token_route_is_locked_after_five_failures_even_for_the_right_password(client, world):
    for _ in range(5):
        assert request_token(client, "secretary", "wrong").status_code in (401, 429)
    response = request_token(client, "secretary", PASSWORD)
    assert response.status_code == 429
    assert response.json() == {
        "message": "Too many failed login attempts. Try again later.",
        "field": "username",
    }
    assert ApiToken.objects.count() == 0
    assert AccessAttempt.objects.get(username="secretary").failures_since_start >= 5


def test_lockout_of_one_user_leaves_another_user_alone(client, world):
    for _ in range(5):
        request_token(client, "secretary", "wrong")
    assert request_token(client, "micro_grid_lead", PASSWORD).status_code == 200


def test_success_before_the_limit_resets_the_failure_count(client, world):
    for _ in range(4):
        request_token(client, "secretary", "wrong")
    assert request_token(client, "secretary", PASSWORD).status_code == 200
    for _ in range(4):
        request_token(client, "secretary", "wrong")
    assert request_token(client, "secretary", PASSWORD).status_code == 200


def test_inactive_user_gets_no_token_and_their_old_token_stops_working(client, world):
    user = world.users[Role.SECRETARY]
    token = request_token(client, "secretary", PASSWORD).json()["token"]
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert request_token(client, "secretary", PASSWORD).status_code == 401
    response = client.get("/api/v1/residents", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_unknown_bearer_token_is_unauthenticated(client, world):
    response = client.get("/api/v1/residents", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert response.json() == {"message": "Authentication required.", "field": None}


def test_anonymous_write_is_unauthenticated_not_a_csrf_failure(world):
    client = Client(enforce_csrf_checks=True, headers={"Accept-Language": "en"})
    response = client.post("/api/v1/visits", visit_payload(world), content_type="application/json")
    assert response.status_code == 401
    assert Visit.objects.count() == 0


def test_session_reads_need_no_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users[Role.MICRO_GRID_LEAD])
    assert client.get("/api/v1/residents").json()["count"] == 2


def test_session_write_without_csrf_token_is_refused_and_writes_nothing(world):
    client = Client(enforce_csrf_checks=True, headers={"Accept-Language": "en"})
    client.force_login(world.users[Role.MICRO_GRID_LEAD])
    response = client.post("/api/v1/visits", visit_payload(world), content_type="application/json")
    assert response.status_code == 403
    assert response.json() == {
        "message": "CSRF check failed: send the X-CSRFToken header with session requests.",
        "field": None,
    }
    assert Visit.objects.count() == 0


def test_session_write_with_csrf_token_is_accepted(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users[Role.MICRO_GRID_LEAD])
    client.cookies["csrftoken"] = CSRF_SECRET
    response = client.post(
        "/api/v1/visits",
        visit_payload(world),
        content_type="application/json",
        headers={"X-CSRFToken": CSRF_SECRET},
    )
    assert response.status_code == 201
    assert Visit.objects.count() == 1


def test_bearer_write_needs_no_csrf_token(client, world):
    token = request_token(client, "micro_grid_lead", PASSWORD).json()["token"]
    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post(
        "/api/v1/visits",
        visit_payload(world),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201
    assert Visit.objects.get().visitor == world.users[Role.MICRO_GRID_LEAD]
