"""The secretary's flow in real Debian Chromium on a phone: a new login with a temporary
password, the new person's first sign-in, and deactivation."""

import os

from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.testing.browser import log_in, needs_chromium, new_page

pytestmark = needs_chromium
SHOTS = os.environ.get("LINLI_LOGINS_SCREENSHOTS", "")


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def test_secretary_makes_a_login_and_the_person_sets_their_password(
    transactional_db, live_server, world, phone, browser
):
    base = live_server.url
    log_in(phone, base, Role.SECRETARY)
    phone.click("[data-testid=logins-link]")
    phone.wait_for_url(f"{base}/logins/")
    shot(phone, "list")
    phone.click("[data-testid=login-create-link]")
    phone.fill("#id_username", "wang")
    phone.fill("#id_display_name", "王小明")
    phone.fill("#id_phone", "139 0000 1111")
    phone.select_option("#id_post", "building_group_head")
    phone.select_option("#id_grid_unit", str(world.other_building_group.pk))
    phone.check("input[name=sign_in][value=temporary_password]")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "create")
    phone.click("button[type=submit].primary")
    login = User.objects.get(username="wang")
    phone.wait_for_url(f"{base}/logins/{login.pk}/")
    password = phone.text_content("[data-testid=temporary-password] code").strip()
    assert len(password) == 12
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "detail")

    person = new_page(browser, "phone")
    person.goto(f"{base}/login/")
    person.fill("#id_username", "wang")
    person.fill("#id_password", password)
    person.click("button[type=submit].primary")
    person.wait_for_url(f"{base}/logins/password/**")
    shot(person, "password")
    person.fill("#id_new_password1", "a-long-enough-passphrase-42")
    person.fill("#id_new_password2", "a-long-enough-passphrase-42")
    person.click("button[type=submit].primary")
    person.wait_for_url(f"{base}/")

    phone.fill("#id_deactivate_reason", "调离本社区")
    phone.click("[data-testid=deactivate-form] button[type=submit]")
    phone.wait_for_url(f"{base}/logins/{login.pk}/")
    assert not User.objects.get(pk=login.pk).is_active
    person.goto(f"{base}/")
    assert person.url.startswith(f"{base}/login/")
    person.context.close()
