"""The round trip through WeChat's authorisation as a phone's WeChat makes it: our redirect
to the fake's authorize page, its redirect back to our callback with a code."""

import http.client
from urllib.parse import urlsplit

from django.test import Client

from linli.wechat.fake_server import FakeWeChat


def wechat_redirect_back(authorize_url: str) -> str:
    """Ask the fake's authorize page (as WeChat's browser would, without the fragment) and
    return where it sends the person back: our callback's path and query."""
    parts = urlsplit(authorize_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        connection.request("GET", f"{parts.path}?{parts.query}")
        response = connection.getresponse()
        response.read()
        assert response.status == 302, response.status
        location = response.getheader("Location")
    finally:
        connection.close()
    back = urlsplit(location)
    return f"{back.path}?{back.query}"


def through_wechat(client: Client, start: str, fake: FakeWeChat, *, method: str = "get"):
    """Start at `start` (GET, or POST for the account page's bind), go through the fake's
    authorisation and return our callback's response."""
    response = getattr(client, method)(start)
    assert response.status_code == 302, response.status_code
    assert response["Location"].startswith(f"{fake.url}/connect/oauth2/authorize?")
    return client.get(wechat_redirect_back(response["Location"]))
