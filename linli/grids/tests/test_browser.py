"""Each role's main flow in real Debian Chromium, driven by Playwright (sync API)."""

from linli.accounts.roles import Role
from linli.grids.models import Visit
from linli.testing.browser import log_in, needs_chromium

pytestmark = needs_chromium


def test_building_group_leader_records_a_visit_on_a_phone(
    transactional_db, live_server, world, phone
):
    base = live_server.url
    log_in(phone, base, Role.BUILDING_GROUP_LEADER)
    # Served over plain http with LINLI_HTTPS off: the session cookie is not Secure (see
    # linli/web/tests/test_cookies.py), and HttpOnly always.
    cookies = {cookie["name"]: cookie for cookie in phone.context.cookies()}
    assert (cookies["sessionid"]["secure"], cookies["sessionid"]["httpOnly"]) == (False, True)

    phone.click("[data-testid=record-visit]")
    phone.wait_for_url(f"{base}/registry/visits/new")
    phone.click("text=1号楼 101")
    phone.wait_for_url(f"**/registry/visits/new?household={world.household.id}")
    # Nothing on the form is wider than the phone.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    phone.click("#field-method label.choice:nth-child(2)")  # the first choice after the legend
    phone.click("#field-mood label.choice:nth-child(5)")  # the fourth mood
    phone.fill("#id_finding", "独居老人，膝盖疼，想要助餐服务")
    phone.check("input[name=needs_follow_up]")
    phone.click("button[type=submit].primary")
    phone.wait_for_url(f"{base}/registry/households/{world.household.id}/")

    visit = Visit.objects.get()
    assert (visit.household_id, visit.visitor.username, visit.method, visit.mood) == (
        world.household.id,
        Role.BUILDING_GROUP_LEADER,
        "door",
        "distressed",
    )
    assert (visit.finding, visit.needs_follow_up) == ("独居老人，膝盖疼，想要助餐服务", True)
    assert "独居老人，膝盖疼，想要助餐服务" in phone.text_content("main")


def test_secretary_switches_to_english_and_back(transactional_db, live_server, world, phone):
    # expect(), not wait_for_function(): the site's CSP refuses the eval the latter needs.
    from playwright.sync_api import expect

    base = live_server.url
    log_in(phone, base, Role.SECRETARY)
    assert phone.get_attribute("html", "lang") == "zh-hans"

    phone.click("[data-testid=switch-language]")
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    assert phone.url == f"{base}/"
    assert "Log out" in phone.text_content("header")
    assert "Visits, last 30 days" in phone.text_content("main")
    cookies = {cookie["name"]: cookie for cookie in phone.context.cookies()}
    assert cookies["django_language"]["value"] == "en"

    phone.click("[data-testid=switch-language]")
    expect(phone.locator("html")).to_have_attribute("lang", "zh-hans")
    assert phone.text_content("[data-testid=switch-language]").strip() == "English"


def test_resident_list_filters_in_place_with_htmx(transactional_db, live_server, world, phone):
    from playwright.sync_api import expect

    base = live_server.url
    log_in(phone, base, Role.SECRETARY)
    phone.goto(f"{base}/registry/residents/")
    assert phone.locator("#resident-rows tbody tr").count() == 3
    phone.fill("input[name=q]", "王")
    expect(phone.locator("#resident-rows tbody tr")).to_have_count(1)
    assert "王芳" in phone.text_content("#resident-rows")
    assert "q=" in phone.url  # the filter is in the address, so it can be shared or reloaded


def test_micro_grid_lead_reveals_a_phone_number_in_place(
    transactional_db, live_server, world, phone
):
    base = live_server.url
    log_in(phone, base, Role.MICRO_GRID_LEAD)
    phone.goto(f"{base}/registry/residents/{world.resident.id}/")
    assert "138****1234" in phone.text_content("#reveal-phone")
    phone.click("#reveal-phone summary")
    phone.select_option("#reveal-phone select[name=purpose]", "visit_contact")
    phone.fill("#reveal-phone input[name=reason]", "联系家属")
    phone.click("#reveal-phone button[type=submit]")
    phone.wait_for_selector("[data-testid=revealed-phone]")
    assert phone.text_content("[data-testid=revealed-phone]") == "13812341234"
    assert phone.url == f"{base}/registry/residents/{world.resident.id}/"
