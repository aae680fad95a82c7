"""Password spraying: many usernames tried from one address.

Axes locks one username from one address after LINLI_LOGIN_FAILURE_LIMIT failures; an
address that fails against many usernames is locked for every username once its failures
reach LINLI_LOGIN_ADDRESS_FAILURE_LIMIT (30 by default) within the cool-off window. The
address is the client's: behind a trusted proxy (LINLI_TRUSTED_PROXY) the rightmost
address of X-Forwarded-For, otherwise the connection's (the header is ignored)."""

import pytest
from axes.models import AccessAttempt
from django.test import Client, RequestFactory
from django.urls import reverse

from linli.accounts.models import ApiToken
from linli.accounts.roles import Role
from linli.conftest import PASSWORD

ATTACKER = "203.0.113.5"


@pytest.fixture
def client():
    return Client(headers={"Accept-Language": "en"})


def web_login(client, username: str, password: str, **meta):
    return client.post(reverse("web:login"), {"username": username, "password": password}, **meta)


def token_request(client, username: str, password: str, **meta):
    return client.post(
        "/api/v1/auth/token",
        {"username": username, "password": password},
        content_type="application/json",
        **meta,
    )


def spray(client, count: int, **meta) -> None:
    """`count` failed logins, each against a different username, from one client."""
    for number in range(count):
        response = web_login(client, f"guess{number:02d}", "123456", **meta)
        assert response.status_code in (200, 429)


def test_thirty_one_failures_over_thirty_one_usernames_lock_the_address_for_a_new_username(
    world, client
):
    spray(client, 31, REMOTE_ADDR=ATTACKER)
    assert AccessAttempt.objects.filter(ip_address=ATTACKER).count() == 31

    response = web_login(client, Role.SECRETARY, PASSWORD, REMOTE_ADDR=ATTACKER)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # The token endpoint shares the lock.
    response = token_request(client, Role.MICRO_GRID_LEAD, PASSWORD, REMOTE_ADDR=ATTACKER)
    assert response.status_code == 429
    assert response.json() == {
        "message": "Too many failed login attempts. Try again later.",
        "field": "username",
    }
    assert ApiToken.objects.count() == 0


def test_the_address_limit_is_counted_across_usernames_from_the_setting(world, client, settings):
    settings.LINLI_LOGIN_ADDRESS_FAILURE_LIMIT = 10
    spray(client, 9, REMOTE_ADDR=ATTACKER)
    # Nine failures: below the limit, a right password still logs in.
    assert web_login(client, Role.SECRETARY, PASSWORD, REMOTE_ADDR=ATTACKER).status_code == 302
    client.logout()
    web_login(client, "guess99", "123456", REMOTE_ADDR=ATTACKER)
    # The tenth failure: the address is locked, and the success before it did not wipe the
    # failures against the other usernames.
    assert web_login(client, Role.STREET_ADMIN, PASSWORD, REMOTE_ADDR=ATTACKER).status_code == 429


def test_a_locked_address_leaves_other_addresses_alone(world, client):
    spray(client, 31, REMOTE_ADDR=ATTACKER)
    assert (
        web_login(client, Role.SECRETARY, PASSWORD, REMOTE_ADDR="198.51.100.7").status_code == 302
    )


def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(world, client, settings):
    settings.LINLI_TRUSTED_PROXY = True
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for number in range(31):
        # Whatever the client puts on the left, the proxy appends the address it saw.
        forwarded = f"192.0.2.{number}, {ATTACKER}"
        web_login(client, f"guess{number:02d}", "123456", HTTP_X_FORWARDED_FOR=forwarded, **proxy)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}

    locked = web_login(client, Role.SECRETARY, PASSWORD, HTTP_X_FORWARDED_FOR=ATTACKER, **proxy)
    assert locked.status_code == 429
    # Another client behind the same proxy is not locked with the attacker.
    other = web_login(
        client, Role.SECRETARY, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy
    )
    assert other.status_code == 302


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(world, client, settings):
    settings.LINLI_TRUSTED_PROXY = False
    for number in range(31):
        # A client that forges a new address for every attempt still counts as one address.
        web_login(
            client,
            f"guess{number:02d}",
            "123456",
            REMOTE_ADDR=ATTACKER,
            HTTP_X_FORWARDED_FOR=f"192.0.2.{number}",
        )
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}
    response = web_login(
        client, Role.SECRETARY, PASSWORD, REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR="192.0.2.200"
    )
    assert response.status_code == 429


def request_from(remote: str, forwarded: str | None = None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


def test_client_address_takes_the_rightmost_untrusted_forwarded_address(settings):
    from linli.accounts.addresses import client_address

    settings.LINLI_TRUSTED_PROXY = True
    settings.LINLI_TRUSTED_PROXY_ADDRESSES = ["10.0.0.3"]
    # 10.0.0.3 is a second proxy of ours (e.g. a load balancer before the web proxy).
    request = request_from("10.0.0.2", f"192.0.2.1, {ATTACKER}, 10.0.0.3")
    assert client_address(request) == ATTACKER
    assert client_address(request_from("10.0.0.2", "2001:db8::7")) == "2001:db8::7"
    # A header the proxy did not write an address into: the connection's address.
    assert client_address(request_from("10.0.0.2", "unknown")) == "10.0.0.2"
    assert client_address(request_from("10.0.0.2")) == "10.0.0.2"
    assert client_address(request_from("10.0.0.2", "")) == "10.0.0.2"


def test_client_address_ignores_the_header_without_a_trusted_proxy(settings):
    from linli.accounts.addresses import client_address

    settings.LINLI_TRUSTED_PROXY = False
    assert client_address(request_from("10.0.0.2", ATTACKER)) == "10.0.0.2"
    assert client_address(None) is None


def test_audit_entries_and_login_throttling_read_the_same_address(settings):
    from linli.accounts.services import client_address as services_client_address

    settings.LINLI_TRUSTED_PROXY = True
    assert services_client_address(request_from("10.0.0.2", f"192.0.2.1, {ATTACKER}")) == ATTACKER
    assert settings.AXES_CLIENT_IP_CALLABLE == "linli.accounts.addresses.client_address"
