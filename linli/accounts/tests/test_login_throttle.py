from django.test import Client
from django.urls import reverse

from linli.accounts.roles import Role
from linli.conftest import PASSWORD


def login(client: Client, username: str, password: str):
    return client.post(
        reverse("web:login"), {"username": username, "password": password}, REMOTE_ADDR="10.0.0.7"
    )


def test_right_password_logs_in(world, client):
    response = login(client, Role.SECRETARY, PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(world.users[Role.SECRETARY].pk)


def test_five_failures_lock_the_account_even_against_the_right_password(world, client):
    for _ in range(5):
        assert login(client, Role.SECRETARY, "wrong").status_code in (200, 429)
    response = login(client, Role.SECRETARY, PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_lockout_is_per_username_and_address(world, client):
    for _ in range(5):
        login(client, Role.SECRETARY, "wrong")
    assert login(client, Role.MICRO_GRID_LEAD, PASSWORD).status_code == 302
