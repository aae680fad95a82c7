"""The Playwright harness: real Debian Chromium (/usr/bin/chromium, `make chromium`), driven
with Playwright's sync API. Playwright never downloads a browser of its own here.

A browser test module sets `pytestmark = needs_chromium` and asks for the fixtures it
drives: `browser` (one Chromium per module), `phone` or `desktop` (a fresh page set to
Chinese, as most users' are), or opens its own pages with `new_page(browser, ...)`.
"""

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from linli.testing.builders import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

needs_chromium = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="needs Debian Chromium"),
]


@contextmanager
def _async_unsafe_allowed() -> Iterator[None]:
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made by
    # the test itself (fixtures, assertions) are still synchronous and safe.
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@contextmanager
def launched_chromium(*extra_args: str):
    """Debian's Chromium, launched with the harness's arguments and `extra_args`."""
    from playwright.sync_api import sync_playwright

    with _async_unsafe_allowed(), sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args]
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def browser():
    with launched_chromium() as chromium:
        yield chromium


def new_page(browser, device: str = "phone", *, locale: str = "zh-CN", **options):
    """A page in a context of its own: a touch phone (390 px) or a desktop (1280 px).

    Set to Chinese by default, as most users' browsers are (Chromium would otherwise ask
    for English); `options` go to Playwright's new_context (accept_downloads, a viewport).
    Close it with `page.context.close()`."""
    if device == "phone":
        options = {"viewport": PHONE, "is_mobile": True, "has_touch": True, **options}
    else:
        options = {"viewport": DESKTOP, **options}
    return browser.new_context(locale=locale, **options).new_page()


@pytest.fixture
def phone(browser):
    page = new_page(browser, "phone")
    yield page
    page.context.close()


@pytest.fixture
def desktop(browser):
    page = new_page(browser, "desktop")
    yield page
    page.context.close()


def log_in(page, base_url: str, username: str) -> None:
    """Sign in on the login page, as a person does, and wait for the home page."""
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{base_url}/")


@pytest.fixture(autouse=True)
def _browser_fails_on_csp_violations(request, monkeypatch):
    """A browser test fails when a page breaks the Content-Security-Policy (inline script,
    eval, an injected style element): Chromium reports each refusal on the console."""
    if request.node.get_closest_marker("browser") is None:
        yield
        return
    from playwright.sync_api import Browser

    refused: list[str] = []
    new_context = Browser.new_context

    def watched_context(self, *args, **kwargs):
        context = new_context(self, *args, **kwargs)
        context.on(
            "console",
            lambda message: (
                refused.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        return context

    monkeypatch.setattr(Browser, "new_context", watched_context)
    yield
    assert refused == []
