"""In Chromium on a 390 px phone, in Chinese: a resident logs in with the code sent to their
phone, from the password page's link; the pages fit the screen and break no CSP rule."""

from linli.accounts.roles import Role
from linli.signin.tests.support import KNOWN, last_code
from linli.testing.browser import needs_chromium

pytestmark = needs_chromium


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_resident_logs_in_with_a_phone_code_on_a_phone(live_server, world, phone):
    resident = world.users[Role.RESIDENT]
    resident.phone = KNOWN
    resident.save(update_fields=["phone"])

    phone.goto(f"{live_server.url}/login/")
    phone.click("[data-testid=phone-login-link]")
    phone.wait_for_url(f"{live_server.url}/signin/phone/")
    assert phone.get_attribute("#id_phone", "inputmode") == "tel"
    assert fits_the_screen(phone)
    phone.fill("#id_phone", "138 1234 1234")
    phone.click("button[type=submit].primary")
    phone.wait_for_url(f"{live_server.url}/signin/phone/code/")
    assert "138****1234" in phone.inner_text("[data-testid=phone-code]")
    assert phone.get_attribute("#id_code", "autocomplete") == "one-time-code"
    assert phone.get_attribute("#id_code", "inputmode") == "numeric"
    # The code input is big enough for an elderly thumb.
    assert phone.locator("#id_code").bounding_box()["height"] >= 56
    assert fits_the_screen(phone)
    phone.fill("#id_code", last_code(KNOWN))
    phone.click("button[type=submit].primary")
    phone.wait_for_url(f"{live_server.url}/")
    assert "resident" in phone.inner_text(".whoami")
