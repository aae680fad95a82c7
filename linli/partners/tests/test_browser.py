"""Two-way claiming in real Debian Chromium (Playwright, sync API): a partner liaison claims
a need on a phone and delivers it, the beneficiary confirms; a volunteer's confirmed claim
credits service hours that show on their own page."""

from linli.accounts.roles import Role
from linli.partners.models import Claim
from linli.partners.services import need_create
from linli.partners.tests.conftest import build_lists
from linli.testing.browser import log_in, needs_chromium

pytestmark = needs_chromium


def claim_and_deliver(page, base: str, need_title: str, hours: str | None = None) -> None:
    page.goto(f"{base}/partners/")
    page.click(f"[data-testid=open-needs] >> text={need_title}")
    page.click("[data-testid=claim-form] button[type=submit]")
    page.wait_for_selector("[data-testid=action-start]")
    page.click("[data-testid=action-start] button")
    page.wait_for_selector("[data-testid=action-deliver]")
    if hours is not None:
        page.fill("[data-testid=action-deliver] input[name=hours]", hours)
    page.click("[data-testid=action-deliver] button")
    page.wait_for_selector("[data-testid=claim-state]")


def confirm_as_resident(page, base: str) -> None:
    page.goto(f"{base}/partners/")
    page.click("[data-testid=own-needs] a.button")
    page.click("[data-testid=action-confirm] button")
    page.wait_for_selector("[data-testid=claim-state]")


def test_liaison_claims_and_delivers_the_beneficiary_confirms_and_hours_are_credited(
    transactional_db, live_server, world, browser
):
    lists = build_lists(world)
    base = live_server.url

    liaison = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN"
    )
    page = liaison.new_page()
    log_in(page, base, Role.PARTNER_LIAISON)
    page.goto(f"{base}/partners/")
    # Outsiders read the building and a masked name, never the room.
    assert "1号楼 · 张**" in page.text_content("[data-testid=open-needs]")
    assert "101" not in page.text_content("[data-testid=open-needs]")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    claim_and_deliver(page, base, "每周助餐送餐")
    claim = Claim.objects.get()
    assert (claim.partner_id, claim.quantity, claim.state) == (lists.partner.pk, 2, "delivered")
    liaison.close()

    home = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN"
    )
    page = home.new_page()
    log_in(page, base, Role.RESIDENT)
    confirm_as_resident(page, base)
    claim.refresh_from_db()
    assert claim.state == "confirmed"
    home.close()

    # A volunteer's claim: hours are credited once the beneficiary confirms.
    need_create(
        actor=world.users[Role.SECRETARY],
        category="elder_care",
        title="陪同就医",
        household=world.household,
        beneficiary=world.resident,
    )
    helper = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN"
    )
    page = helper.new_page()
    log_in(page, base, Role.VOLUNTEER)
    claim_and_deliver(page, base, "陪同就医", hours="2.5")
    page.goto(f"{base}/volunteers/{lists.volunteer.pk}/")
    before = page.text_content("[data-testid=total-hours]").strip()

    home = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN"
    )
    resident_page = home.new_page()
    log_in(resident_page, base, Role.RESIDENT)
    confirm_as_resident(resident_page, base)
    home.close()

    page.goto(f"{base}/volunteers/{lists.volunteer.pk}/")
    after = page.text_content("[data-testid=total-hours]").strip()
    assert (float(before), float(after)) == (0.0, 2.5)
    assert "陪同就医" in page.text_content("[data-testid=hours-list]")
    helper.close()
