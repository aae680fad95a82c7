"""The web shell: log in and out, lock-out page, language switch, menu, static assets."""

from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import translation

from linli.accounts.roles import Role
from linli.conftest import PASSWORD

ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


pytestmark = pytest.mark.usefixtures("english")


def test_login_page_is_chinese_by_default_and_offers_english(db, client):
    with translation.override(None):
        content = client.get(reverse("web:login")).content.decode()
    assert '<html lang="zh-hans">' in content
    assert 'name="language" value="en"' in content
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in content


def test_wrong_password_shows_an_error_on_the_login_page(world, client):
    response = client.post(
        reverse("web:login"), {"username": Role.SECRETARY, "password": "wrong"}, **ENGLISH
    )
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_then_home_names_the_user_and_their_post(world, client):
    response = client.post(
        reverse("web:login"),
        {"username": Role.SECRETARY, "password": PASSWORD},
        follow=True,
        **ENGLISH,
    )
    content = response.content.decode()
    assert response.redirect_chain == [(reverse("web:home"), 302)]
    assert "<strong>secretary</strong>" in content
    assert "Party general branch secretary · A社区" in content


def test_locked_out_page_explains_the_lock(world, client):
    for _ in range(5):
        client.post(
            reverse("web:login"),
            {"username": Role.SECRETARY, "password": "wrong"},
            REMOTE_ADDR="10.0.0.9",
        )
    response = client.post(
        reverse("web:login"),
        {"username": Role.SECRETARY, "password": PASSWORD},
        REMOTE_ADDR="10.0.0.9",
        **ENGLISH,
    )
    assert response.status_code == 429
    assert "Too many failed log-in attempts" in response.content.decode()


def test_logout_is_a_post_and_returns_to_the_login_page(world, client):
    client.force_login(world.users[Role.SECRETARY])
    assert client.get(reverse("web:logout")).status_code == 405
    response = client.post(reverse("web:logout"))
    assert (response.status_code, response["Location"]) == (302, reverse("web:login"))
    assert "_auth_user_id" not in client.session


def test_language_switch_works_before_logging_in(db, client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/login/"})
    assert response["Location"] == "/login/"
    with translation.override(None):
        content = client.get(reverse("web:login")).content.decode()
    assert '<html lang="en">' in content
    assert "Log in to Linli" in content
    assert 'name="language" value="zh-hans"' in content


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        (Role.SECRETARY, ["Grids", "Residents", "Visits", "Audit log"], ["My household"]),
        (Role.BUILDING_GROUP_LEADER, ["Grids", "Residents", "Visits"], ["Audit log"]),
        (Role.RESIDENT, ["My household"], ["Grids", "Residents", "Visits", "Audit log"]),
        (Role.VOLUNTEER, ["Home"], ["Grids", "Residents", "Visits", "Audit log"]),
    ],
)
def test_menu_offers_only_what_the_role_may_open(world, client, role, shown, hidden):
    client.force_login(world.users[role])
    content = client.get(reverse("web:home"), **ENGLISH).content.decode()
    menu = content.split('<nav class="mainnav"', 1)[1].split("</nav>", 1)[0]
    for label in shown:
        assert f">{label}</a>" in menu
    for label in hidden:
        assert f">{label}</a>" not in menu


def test_htmx_is_vendored_with_its_licence_line_and_styles_exist():
    htmx = Path(finders.find("web/htmx.min.js")).read_text()
    assert htmx.startswith("/*! htmx.org 2.")
    assert "Zero-Clause BSD" in htmx.splitlines()[0]
    assert "sourceMappingURL" not in htmx
    assert finders.find("web/linli.css")


def test_pages_load_no_third_party_assets(world, client):
    client.force_login(world.users[Role.SECRETARY])
    content = client.get(reverse("web:home")).content.decode()
    assert "http://" not in content
    assert "https://" not in content
    assert "/static/web/htmx.min.js" in content


@pytest.mark.parametrize("role", [Role.VOLUNTEER, Role.PARTNER_LIAISON])
def test_home_of_a_volunteer_or_partner_links_to_what_they_can_do(world, client, role):
    client.force_login(world.users[role])
    content = client.get(reverse("web:home"), **ENGLISH).content.decode()
    assert "switched on" not in content
    for name in ("participation:list", "volunteers:list", "partners:home", "emergency:my_tasks"):
        href = reverse(name)
        assert f'href="{href}"' in content
        # A page or, for a volunteer without a profile yet, the sign-up it leads to.
        assert client.get(href).status_code in (200, 302), href


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.SECRETARY])
def test_every_page_links_to_sign_in_security_which_opens(world, client, role):
    client.force_login(world.users[role])
    content = client.get(reverse("web:home"), **ENGLISH).content.decode()
    href = reverse("two_factor:status")
    assert f'href="{href}" data-testid="two-factor-link">Sign-in security</a>' in content
    assert client.get(href, **ENGLISH).status_code == 200
