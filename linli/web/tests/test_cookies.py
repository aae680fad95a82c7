"""Cookies are Secure when the platform is served over TLS (LINLI_HTTPS) or the request came
over https through a trusted proxy; over plain http on the office LAN they are not, so a
browser on another machine keeps them and can log in."""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
from django.test import Client
from django.urls import reverse

from linli.accounts.roles import Role
from linli.conftest import PASSWORD
from linli.testing.browser import CHROMIUM, launched_chromium

LAN_HOST = "linli.lan"
COOKIES = ("sessionid", "csrftoken")
PROXY_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


def settings_under(env: dict[str, str], tmp_path) -> dict:
    """The cookie and proxy settings a fresh process derives from this environment."""
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("LINLI_") and key != "DATABASE_URL"
    }
    clean.update(env, LINLI_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="linli.settings")
    script = (
        "import json; from django.conf import settings as s; print(json.dumps({"
        "'session': s.SESSION_COOKIE_SECURE, 'csrf': s.CSRF_COOKIE_SECURE,"
        "'language': s.LANGUAGE_COOKIE_SECURE, 'proxy': s.SECURE_PROXY_SSL_HEADER,"
        "'redirect': s.SECURE_SSL_REDIRECT, 'hsts': s.SECURE_HSTS_SECONDS}))"
    )
    output = subprocess.run(
        [sys.executable, "-c", script], env=clean, capture_output=True, text=True, check=True
    ).stdout
    return json.loads(output)


def test_cookies_follow_linli_https_and_the_proxy_header_is_trusted_only_when_named(tmp_path):
    assert settings_under({}, tmp_path) == {
        "session": False,
        "csrf": False,
        "language": False,
        "proxy": None,
        "redirect": False,
        "hsts": 0,
    }
    assert settings_under({"LINLI_HTTPS": "1"}, tmp_path) == {
        "session": True,
        "csrf": True,
        "language": True,
        "proxy": list(PROXY_HEADER),
        "redirect": True,
        "hsts": 31536000,
    }
    # Behind a TLS proxy during a trial, without the redirect and HSTS of LINLI_HTTPS.
    assert settings_under({"LINLI_TRUSTED_PROXY": "1"}, tmp_path) == {
        "session": False,
        "csrf": False,
        "language": False,
        "proxy": list(PROXY_HEADER),
        "redirect": False,
        "hsts": 0,
    }


@pytest.fixture
def over_the_lan(settings):
    """The settings a LAN trial runs with: LINLI_HTTPS off, the server's name allowed."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, LAN_HOST]
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.LANGUAGE_COOKIE_SECURE = False
    settings.SECURE_PROXY_SSL_HEADER = None
    return settings


def log_in(client: Client, scheme: str, **extra):
    """Open the login page, then post it with its CSRF token, as a browser does."""
    origin = f"{scheme}://{LAN_HOST}"
    page = client.get(reverse("web:login"), HTTP_HOST=LAN_HOST, **extra)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    response = client.post(
        reverse("web:login"),
        {"username": Role.SECRETARY, "password": PASSWORD, "csrfmiddlewaretoken": token},
        HTTP_HOST=LAN_HOST,
        HTTP_ORIGIN=origin,
        HTTP_REFERER=f"{origin}/login/",
        **extra,
    )
    return page, response


def secure_flags(response) -> dict[str, bool]:
    return {name: bool(response.cookies[name]["secure"]) for name in COOKIES}


def test_over_http_on_the_lan_a_login_succeeds_and_its_cookies_are_not_secure(world, over_the_lan):
    client = Client(enforce_csrf_checks=True)
    page, response = log_in(client, "http")
    assert page.cookies["csrftoken"]["secure"] == ""
    assert (response.status_code, response["Location"]) == (302, reverse("web:home"))
    assert secure_flags(response) == {"sessionid": False, "csrftoken": False}
    assert client.get(reverse("web:home"), HTTP_HOST=LAN_HOST).status_code == 200


def test_with_linli_https_the_cookies_are_secure(world, over_the_lan):
    over_the_lan.SESSION_COOKIE_SECURE = True
    over_the_lan.CSRF_COOKIE_SECURE = True
    client = Client(enforce_csrf_checks=True)
    page, response = log_in(client, "https", secure=True)
    assert page.cookies["csrftoken"]["secure"] is True
    assert response.status_code == 302
    assert secure_flags(response) == {"sessionid": True, "csrftoken": True}


def test_over_https_through_a_trusted_proxy_the_cookies_are_secure(world, over_the_lan):
    over_the_lan.SECURE_PROXY_SSL_HEADER = PROXY_HEADER
    client = Client(enforce_csrf_checks=True)
    page, response = log_in(client, "https", HTTP_X_FORWARDED_PROTO="https")
    assert page.cookies["csrftoken"]["secure"] is True
    assert response.status_code == 302
    assert secure_flags(response) == {"sessionid": True, "csrftoken": True}
    # The language switch's cookie too.
    switched = client.post(
        reverse("set_language"),
        {"language": "en", "next": "/"},
        HTTP_HOST=LAN_HOST,
        HTTP_ORIGIN=f"https://{LAN_HOST}",
        HTTP_REFERER=f"https://{LAN_HOST}/",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
        HTTP_X_FORWARDED_PROTO="https",
    )
    assert switched.status_code == 302
    assert switched.cookies["django_language"]["secure"] is True


def test_the_proxy_header_from_a_client_is_ignored_unless_a_proxy_is_trusted(world, over_the_lan):
    client = Client(enforce_csrf_checks=True)
    page, response = log_in(client, "http", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 302
    assert secure_flags(response) == {"sessionid": False, "csrftoken": False}


# In Chromium, which drops a Secure cookie that an http page on another machine sets --------
@pytest.fixture(scope="module")
def lan_browser():
    # linli.lan stands for the server's name on the office LAN: not localhost, so Chromium
    # treats http://linli.lan as an insecure origin.
    with launched_chromium(f"--host-resolver-rules=MAP {LAN_HOST} 127.0.0.1") as chromium:
        yield chromium


def log_in_with_chromium(browser, base: str):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.fill("#id_username", Role.SECRETARY)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_load_state()
    return context, page


@pytest.mark.browser
@pytest.mark.skipif(not shutil.which(CHROMIUM), reason="needs Debian Chromium")
def test_chromium_on_another_machine_logs_in_over_plain_http(
    transactional_db, live_server, world, over_the_lan, lan_browser
):
    base = live_server.url.replace("localhost", LAN_HOST)

    context, page = log_in_with_chromium(lan_browser, base)
    assert page.url == f"{base}/"
    assert page.locator("header .whoami strong").inner_text() == Role.SECRETARY
    assert {cookie["name"]: cookie["secure"] for cookie in context.cookies()} == {
        "csrftoken": False,
        "sessionid": False,
    }
    context.close()

    # What the old settings (Secure whenever DEBUG is off) did to the same trial: Chromium
    # dropped the CSRF cookie and the login was refused.
    over_the_lan.SESSION_COOKIE_SECURE = True
    over_the_lan.CSRF_COOKIE_SECURE = True
    context, page = log_in_with_chromium(lan_browser, base)
    assert page.locator("h1").inner_text() == "表单未能提交"
    context.close()
