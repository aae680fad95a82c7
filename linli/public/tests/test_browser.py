"""The public pages in real Debian Chromium on a phone: the secretary turns them on, and a
reader without a login reads the board and the calendar under the site's CSP."""

import re

from linli.accounts.roles import Role
from linli.demo.cases import demo_cases
from linli.demo.participation import demo_participation
from linli.public.models import PublicPages
from linli.testing.browser import log_in, needs_chromium, new_page

pytestmark = needs_chromium


def test_a_secretary_turns_the_pages_on_and_anyone_reads_them_on_a_phone(
    transactional_db, live_server, world, phone, browser
):
    demo_cases(community=world.community, seed=7)
    demo_participation(community=world.community)
    base = live_server.url
    log_in(phone, base, Role.SECRETARY)
    status = phone.locator("[data-testid=public-pages-status]")
    assert "A社区" in status.text_content()
    phone.click(
        f"[data-testid=public-pages-status] >> a[href='/public/settings/{world.community.pk}/']"
    )
    phone.wait_for_url(f"{base}/public/settings/{world.community.pk}/")
    phone.check("#id_cases_board")
    phone.check("#id_calendar")
    phone.click("[data-testid=save-public-pages]")
    phone.wait_for_url(f"{base}/public/settings/{world.community.pk}/")
    pages = PublicPages.objects.get()
    assert (pages.cases_board, pages.calendar) == (True, True)

    reader = new_page(browser, "phone")
    try:
        reader.goto(f"{base}/public/{world.community.pk}/cases/")
        assert reader.get_attribute("html", "lang") == "zh-hans"
        assert reader.locator("[data-testid=public-board] li").count() == 20
        assert reader.evaluate("document.documentElement.scrollWidth") <= 390
        reader.select_option("select[name=state]", "closed")
        reader.click("form.filters button[type=submit]")
        reader.wait_for_url(re.compile(r"/cases/\?state=closed&category=$"))
        assert reader.locator("[data-testid=public-board] li").count() >= 1
        reader.click("nav.mainnav >> a[href$='/activities/']")
        reader.wait_for_url(f"{base}/public/{world.community.pk}/activities/")
        assert reader.locator("[data-testid=public-occurrence]").count() >= 1
        assert reader.evaluate("document.documentElement.scrollWidth") <= 390
        reader.click("[data-testid=login-to-sign-up] >> nth=0")
        reader.wait_for_url(re.compile(r"/login/\?next=/activities/\d+/$"))
    finally:
        reader.context.close()
