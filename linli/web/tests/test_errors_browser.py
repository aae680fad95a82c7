"""The 404 and 500 pages in real Debian Chromium, on a desk and on a phone, in Chinese and
English: nothing wider than the screen, the way home a thumb can hit, and it leads home.

Screenshots go to LINLI_SCREENSHOT_DIR when it is set (e.g. /tmp/shots), for a person to
look at; otherwise to the test's temporary directory.
"""

import os
from pathlib import Path

import pytest

from linli.accounts.roles import Role
from linli.testing.browser import log_in, needs_chromium

pytestmark = needs_chromium

SCREENS = {"desk": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
LANGUAGES = {
    "zh": ("zh-CN", "页面不存在", "出错了"),
    "en": ("en-US", "Page not found", "Something went wrong"),
}


@pytest.fixture
def shots(tmp_path) -> Path:
    directory = Path(os.environ.get("LINLI_SCREENSHOT_DIR") or tmp_path)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_not_found_and_server_error_pages_fit_the_screen_and_lead_home(
    transactional_db, live_server, settings, world, browser, shots, screen, language
):
    settings.ROOT_URLCONF = "linli.web.tests.error_urls"
    locale, not_found_title, server_error_title = LANGUAGES[language]
    options = {"viewport": SCREENS[screen], "locale": locale}
    if screen == "phone":
        options.update(is_mobile=True, has_touch=True)
    context = browser.new_context(**options)
    page = context.new_page()
    try:
        # A secretary follows a link to a case that is not there (or not theirs).
        log_in(page, live_server.url, Role.SECRETARY)
        for path, status, title, name in [
            ("/cases/999999/", 404, not_found_title, "404"),
            ("/test-errors/broken/", 500, server_error_title, "500"),
        ]:
            response = page.goto(f"{live_server.url}{path}")
            assert response.status == status
            assert page.locator("h1").inner_text() == title
            request_id = response.headers["x-request-id"]
            assert page.locator("[data-testid=request-id] code").inner_text() == request_id
            # Nothing wider than the screen; the way home is a full-size button.
            assert page.evaluate("document.documentElement.scrollWidth") <= SCREENS[screen]["width"]
            home = page.locator("[data-testid=error-home]")
            box = home.bounding_box()
            assert box["height"] >= 44 and box["y"] + box["height"] <= SCREENS[screen]["height"]
            font_size = page.evaluate("getComputedStyle(document.querySelector('main p')).fontSize")
            assert float(font_size.removesuffix("px")) >= 16
            page.screenshot(path=str(shots / f"{name}-{language}-{screen}.png"), full_page=True)
            home.click()
            page.wait_for_url(f"{live_server.url}/")
            assert page.locator("[data-testid=error-page]").count() == 0
    finally:
        context.close()
