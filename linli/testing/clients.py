"""The test client of a user: signed in with a session as the web pages are, or holding an
API token as an app does."""

from django.test import Client

from linli.accounts.models import User
from linli.testing.builders import PASSWORD


def token_headers(user: User | None) -> dict[str, str]:
    """The Authorization header of a new API token for `user`, asked for as an app asks:
    from the token route, with the password. Anonymous (None) sends no header."""
    if user is None:
        return {}
    response = Client().post(
        "/api/v1/auth/token",
        {"username": user.username, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return {"Authorization": f"Bearer {response.json()['token']}"}


def client_for(
    user: User | None, *, language: str | None = "en", token: bool = False, **options
) -> Client:
    """A test client for `user`, anonymous when None: signed in with a session, or with a
    bearer token (`token`) and no session.

    It asks for `language` (Accept-Language): English by default, so that assertions on
    words hold whatever the site's default language (zh-hans) and its catalogue; None asks
    for nothing, and the site's default applies. Other options go to Django's Client
    (enforce_csrf_checks, raise_request_exception).
    """
    headers = {} if language is None else {"Accept-Language": language}
    if token:
        headers.update(token_headers(user))
    client = Client(headers=headers, **options)
    if user is not None and not token:
        client.force_login(user)
    return client
