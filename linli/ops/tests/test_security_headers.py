"""Every answer carries the Content-Security-Policy; answers that may hold personal data are
never stored by a browser or a proxy (issue 13, holes 1, 5 and 15)."""

import re
from pathlib import Path

import pytest
from django.test import Client

from linli.accounts.roles import Role
from linli.conftest import PASSWORD
from linli.ops.security_headers import tile_source

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-elem 'self'; "
    "style-src-attr 'unsafe-inline'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; "
    "form-action 'self'"
)
NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"
TEMPLATES = sorted(Path(__file__).resolve().parents[2].glob("*/templates/**/*.html"))


@pytest.fixture(autouse=True)
def _no_tiles(settings):
    settings.LINLI_MAP_TILE_URL = ""


def test_an_anonymous_answer_has_the_policy_and_no_no_store(db):
    response = Client().get("/")
    assert (response.status_code, response["Location"]) == (302, "/login/?next=/")
    assert response["Content-Security-Policy"] == POLICY
    assert (response.get("Cache-Control"), response.get("Pragma")) == (None, None)
    assert "Pragma" not in response


def test_a_page_for_a_signed_in_user_is_not_stored(world):
    client = Client()
    client.force_login(world.users[Role.RESIDENT])
    response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == POLICY
    assert (response["Cache-Control"], response["Pragma"]) == ("no-store", "no-cache")


def test_the_answer_that_signs_a_user_in_is_not_stored(world):
    response = Client().post(
        "/login/", {"username": world.users[Role.RESIDENT].username, "password": PASSWORD}
    )
    assert (response.status_code, response.cookies["sessionid"].value != "") == (302, True)
    # The login view's own never_cache words stay; Pragma says this middleware saw a session.
    assert (response["Cache-Control"], response["Pragma"]) == (NEVER_CACHE, "no-cache")


def test_a_view_that_already_says_no_store_keeps_its_own_words(world):
    client = Client()
    client.force_login(world.users[Role.RESIDENT])
    response = client.get("/healthz")  # never_cache
    assert (response["Cache-Control"], response["Pragma"]) == (NEVER_CACHE, "no-cache")


def test_an_error_page_for_a_signed_in_user_is_not_stored_and_has_the_policy(world):
    client = Client()
    client.force_login(world.users[Role.RESIDENT])
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Security-Policy"] == POLICY
    assert (response["Cache-Control"], response["Pragma"]) == ("no-store", "no-cache")


@pytest.mark.parametrize(
    "path",
    ["/api/v1/residents", "/api/v1/docs", "/open311/v2/services.json"],
)
def test_every_api_and_open311_answer_is_not_stored_even_anonymous(db, path):
    response = Client().get(path)
    assert response["Content-Security-Policy"] == POLICY
    assert (response["Cache-Control"], response["Pragma"]) == ("no-store", "no-cache")


def test_an_answer_to_a_bearer_token_is_not_stored(world):
    response = Client().get("/api/v1/residents", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert (response["Cache-Control"], response["Pragma"]) == ("no-store", "no-cache")


def test_the_configured_tile_server_may_serve_images(db, settings):
    settings.LINLI_MAP_TILE_URL = "https://{s}.tiles.example.org/{z}/{x}/{y}.png"
    policy = Client().get("/login/")["Content-Security-Policy"]
    assert "img-src 'self' data: https://*.tiles.example.org;" in policy


@pytest.mark.parametrize(
    ("template", "source"),
    [
        ("", None),
        ("https://tiles.example.org/{z}/{x}/{y}.png", "https://tiles.example.org"),
        ("http://10.0.0.5:8080/{z}/{x}/{y}.png", "http://10.0.0.5:8080"),
        ("https://webrd0{s}.is.autonavi.com/appmaptile?x={x}", "https://*.is.autonavi.com"),
        ("https://tiles.{s}.example.org/{z}.png", "https:"),
        ("/tiles/{z}/{x}/{y}.png", None),
    ],
)
def test_tile_source_is_the_origin_of_the_template(template, source):
    assert tile_source(template) == source


# What the policy refuses must not be in any template: inline script, event-handler
# attributes, javascript: URLs, and htmx's own ways of evaluating strings.
FORBIDDEN = [
    re.compile(r"<script(?![^>]*\b(src|type=\"application/json\")\b)[^>]*>", re.IGNORECASE),
    re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    re.compile(r"javascript:", re.IGNORECASE),
    re.compile(r"\bhx-on|\bhx-vars|\bjs:", re.IGNORECASE),
    re.compile(r"<style", re.IGNORECASE),
]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda path: str(path).split("linli/", 1)[-1])
def test_no_template_needs_inline_script_or_eval(path):
    text = path.read_text()
    assert [pattern.pattern for pattern in FORBIDDEN if pattern.search(text)] == []


def test_htmx_evaluates_nothing_and_injects_no_style(db):
    body = Client().get("/login/").content.decode()
    assert (
        '<meta name="htmx-config" content=\'{"allowEval": false, "allowScriptTags": false, '
        '"includeIndicatorStyles": false, "historyCacheSize": 0, "refreshOnHistoryMiss": true}'
        "'>" in body
    )
