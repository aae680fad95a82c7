"""The main menu in real Debian Chromium: on a laptop every item is on screen (the menu
wraps), on a phone it scrolls sideways with the current page's item in view (nav.js)."""

import pytest

from linli.accounts.roles import Role
from linli.testing.browser import PHONE, log_in, needs_chromium, new_page

LAPTOP = {"width": 1366, "height": 900}

pytestmark = needs_chromium

# Each menu item's box, relative to the viewport, and the menu's own scroll state.
MENU_GEOMETRY = """() => {
  const menu = document.querySelector('.mainnav');
  return {
    items: [...menu.querySelectorAll('a')].map(a => {
      const box = a.getBoundingClientRect();
      return {text: a.textContent.trim(), left: box.left, right: box.right,
              current: a.getAttribute('aria-current') === 'page'};
    }),
    scrollWidth: menu.scrollWidth, clientWidth: menu.clientWidth,
  };
}"""


@pytest.mark.parametrize("role", [Role.STREET_ADMIN, Role.SECRETARY])
@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_on_a_laptop_every_menu_item_is_on_screen(
    transactional_db, live_server, world, browser, tmp_path, role, locale
):
    page = new_page(browser, "desktop", viewport=LAPTOP, locale=locale)
    try:
        log_in(page, live_server.url, role)
        geometry = page.evaluate(MENU_GEOMETRY)
        page.screenshot(path=str(tmp_path / f"laptop-{role}-{locale}.png"))
    finally:
        page.context.close()
    texts = [item["text"] for item in geometry["items"]]
    assert len(texts) >= 8, texts  # the menu of a staff member, not an empty one
    outside = [item for item in geometry["items"] if item["left"] < 0 or item["right"] > 1366]
    assert outside == [], f"off screen at 1366 px: {outside}"
    assert geometry["scrollWidth"] <= geometry["clientWidth"]  # nothing hidden behind a scroll


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_on_a_phone_the_menu_shows_the_current_page(
    transactional_db, live_server, world, browser, tmp_path, locale
):
    page = new_page(browser, "phone", locale=locale)
    try:
        log_in(page, live_server.url, Role.STREET_ADMIN)
        # The inbox is the menu's last item: far off to the right before nav.js.
        page.goto(f"{live_server.url}/inbox/")
        page.wait_for_load_state("load")
        geometry = page.evaluate(MENU_GEOMETRY)
        page_width = page.evaluate("document.documentElement.scrollWidth")
        page.screenshot(path=str(tmp_path / f"phone-inbox-{locale}.png"))
    finally:
        page.context.close()
    assert geometry["scrollWidth"] > geometry["clientWidth"]  # still scrolls sideways
    (current,) = [item for item in geometry["items"] if item["current"]]
    assert current["left"] >= 0 and current["right"] <= PHONE["width"], current
    assert page_width <= PHONE["width"]  # the menu scrolls, not the page
