"""Layout checks in real Debian Chromium, on a desk (1366 px) and a phone (390 px): the audit
log's filter labels sit on their fields with the buttons in a row of their own, and the
one-line reveal reason is as tall as any other input."""

import pytest

from linli.accounts.roles import Role
from linli.testing.browser import log_in, needs_chromium, new_page

pytestmark = needs_chromium

SCREENS = {"desk": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
FIELDS = ["id_actor", "id_action", "id_object_type", "id_date_from", "id_date_to", "id_text"]


@pytest.fixture(params=list(SCREENS))
def page(request, browser):
    page = new_page(browser, request.param, viewport=SCREENS[request.param])
    yield page
    page.context.close()


def test_each_audit_filter_label_sits_on_its_field_and_the_buttons_have_their_own_row(
    transactional_db, live_server, world, page
):
    log_in(page, live_server.url, Role.STREET_ADMIN)
    page.goto(f"{live_server.url}/registry/audit/")
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    lowest_field = 0.0
    for field_id in FIELDS:
        label = page.locator(f"label[for={field_id}]").bounding_box()
        field = page.locator(f"#{field_id}").bounding_box()
        # Directly above its own field, left edges aligned, in the same cell.
        assert abs(label["x"] - field["x"]) <= 1, field_id
        assert 0 <= field["y"] - (label["y"] + label["height"]) <= 8, field_id
        assert field["width"] >= label["width"] - 1, field_id
        lowest_field = max(lowest_field, field["y"] + field["height"])
    if width == 1366:
        # Three fields a row: who, what, kind of record; then from, to, words.
        tops = [round(page.locator(f"#{f}").bounding_box()["y"]) for f in FIELDS]
        assert tops[0] == tops[1] == tops[2] < tops[3] == tops[4] == tops[5]
    buttons = page.locator("[data-testid=audit-filter-buttons]")
    row = buttons.bounding_box()
    assert row["y"] >= lowest_field
    show = buttons.get_by_role("button", name="查看").bounding_box()
    clear = buttons.get_by_role("link", name="清除").bounding_box()
    assert round(show["y"] + show["height"] / 2) == round(clear["y"] + clear["height"] / 2)
    assert show["x"] < clear["x"]
    export = page.locator("[data-testid=export-audit]").bounding_box()
    assert export["y"] >= row["y"] + row["height"]
    assert export["x"] + export["width"] <= width


def test_the_reveal_reason_is_one_line_tall(transactional_db, live_server, world, page):
    log_in(page, live_server.url, Role.MICRO_GRID_LEAD)
    page.goto(f"{live_server.url}/registry/residents/{world.resident.id}/")
    page.click("#reveal-phone summary")
    reason = page.locator("#reveal-phone input[name=reason]").bounding_box()
    purpose = page.locator("#reveal-phone select[name=purpose]").bounding_box()
    assert reason["height"] < 60
    assert abs(reason["height"] - purpose["height"]) <= 2
