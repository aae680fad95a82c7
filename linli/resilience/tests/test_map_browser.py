"""The 民情 map in real Debian Chromium: with no tile server the community's own shapes are
drawn, the legend follows the chosen colouring, and a building's popup shows its counts.

Driven by data-testid hooks and the class names map.js gives its shapes, so the test holds
while the language changes (the server answers in Chinese, the browser's locale)."""

import pytest

from linli.accounts.roles import Role
from linli.resilience.tests.test_map import mapped  # noqa: F401 - the fixture
from linli.testing.browser import log_in, needs_chromium, new_page

pytestmark = needs_chromium


@pytest.fixture
def phone(browser):
    page = new_page(browser, "phone")
    # No tile server: nothing may be fetched from another host.
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url)
            if not request.url.startswith(("http://localhost", "data:"))
            else None
        ),
    )
    page.outside_requests = outside
    yield page
    page.context.close()


def test_secretary_colours_the_map_and_opens_a_building(
    transactional_db,
    live_server,
    mapped,  # noqa: F811
    phone,
    settings,
):
    from playwright.sync_api import expect

    settings.LINLI_MAP_TILE_URL = ""
    world = mapped
    base = live_server.url
    log_in(phone, base, Role.SECRETARY)
    phone.goto(f"{base}/resilience/map/")

    expect(phone.locator("#resilience-map")).to_be_visible()
    # A1 (no drawn unit inside it) is filled; A is an outline; 1号楼 is a point.
    expect(phone.locator(f"path.map-unit-{world.micro_grid.pk}")).to_have_count(1)
    expect(phone.locator(f"path.map-unit-{world.community.pk}")).to_have_count(1)
    expect(phone.locator(f"path.map-building-{world.building.pk}")).to_have_count(1)
    assert phone.locator(".leaflet-tile").count() == 0

    legend = phone.locator("[data-testid=map-legend]")
    open_cases_heading = legend.locator("strong").inner_text()
    phone.check("input[name=map-layer][value=visit_coverage]")
    expect(legend).to_contain_text("90%")
    assert legend.locator("strong").inner_text() != open_cases_heading
    # 1号楼: half its households visited, in the 50–70% class (orange).
    fill = phone.locator(f"path.map-building-{world.building.pk}").get_attribute("fill")
    assert fill == "#e8833a"

    phone.locator(f"path.map-building-{world.building.pk}").click(force=True)
    popup = phone.locator(".leaflet-popup-content")
    expect(popup).to_contain_text("1号楼")
    expect(popup).to_contain_text("1 / 2 (50%)")
    expect(popup).not_to_contain_text("张桂英")
    assert phone.outside_requests == []
