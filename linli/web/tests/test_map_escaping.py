"""Names reach the maps as text, never as HTML (issue 13, hole 1).

A secretary may name a building or a grid unit anything; a name with markup in it must show
as those very characters in the Leaflet tooltips of the 民情 map (street administrator) and of
the filing page's map (resident), and its markup must not run."""

from decimal import Decimal
from pathlib import Path

import pytest

import linli
from linli.accounts.roles import Role
from linli.grids.models import Building, GridUnit
from linli.resilience.tests.test_map import mapped  # noqa: F401 - the fixture
from linli.testing.browser import log_in, needs_chromium, new_page

pytestmark = needs_chromium

HOSTILE_BUILDING = '1号楼<img src=x onerror="window.__xss=1">'
HOSTILE_UNIT = 'A1网格<img src=x onerror="window.__xss=1">'


@pytest.fixture
def page(browser):
    page = new_page(browser, "desktop", viewport={"width": 1000, "height": 800})
    yield page
    page.context.close()


def _rename(world) -> None:
    Building.objects.filter(pk=world.building.pk).update(name=HOSTILE_BUILDING)
    GridUnit.objects.filter(pk=world.micro_grid.pk).update(name=HOSTILE_UNIT)


def _tooltip_after_hover(page, selector: str, name: str):
    """The tooltip that hovering the shape opens (found by the name's first characters)."""
    from playwright.sync_api import expect

    # Near the shape's top left corner: 1号楼 sits in the middle of A1.
    page.locator(selector).first.hover(position={"x": 8, "y": 8}, force=True)
    tooltip = page.locator(".leaflet-tooltip").filter(has_text=name[:3])
    expect(tooltip).to_be_visible()
    return tooltip


def test_street_administrator_sees_hostile_names_as_text_on_the_map(
    transactional_db,
    live_server,
    mapped,  # noqa: F811
    page,
    settings,
):
    settings.LINLI_MAP_TILE_URL = ""
    world = mapped
    _rename(world)
    log_in(page, live_server.url, Role.STREET_ADMIN)
    page.goto(f"{live_server.url}/resilience/map/?unit={world.community.pk}")

    building = _tooltip_after_hover(
        page, f"path.map-building-{world.building.pk}", HOSTILE_BUILDING
    )
    assert building.inner_text() == HOSTILE_BUILDING
    assert building.locator("img").count() == 0

    unit = _tooltip_after_hover(page, f"path.map-unit-{world.micro_grid.pk}", HOSTILE_UNIT)
    assert unit.inner_text() == HOSTILE_UNIT
    assert unit.locator("img").count() == 0
    assert page.evaluate("typeof window.__xss") == "undefined"


def test_resident_sees_a_hostile_building_name_as_text_on_the_filing_map(
    transactional_db, live_server, world, page, settings
):
    settings.LINLI_MAP_TILE_URL = ""
    Building.objects.filter(pk=world.building.pk).update(
        latitude=Decimal("31.005000"), longitude=Decimal("121.002500")
    )
    _rename(world)
    log_in(page, live_server.url, Role.RESIDENT)
    page.goto(f"{live_server.url}/cases/new/")

    tooltip = _tooltip_after_hover(
        page, f"path.case-map-building-{world.building.pk}", HOSTILE_BUILDING
    )
    assert tooltip.inner_text() == HOSTILE_BUILDING
    assert tooltip.locator("img").count() == 0
    assert page.evaluate("typeof window.__xss") == "undefined"


def test_survey_chart_tooltip_shows_a_hostile_unit_name_as_text(page):
    """ECharts draws tooltips as HTML: survey_charts.js hands it unit names, which the
    vendored ECharts must escape (checked here on a page without the site's CSP, so that
    markup that got through would run)."""
    static = Path(linli.__file__).parent
    page.set_content(
        '<div data-chart="survey-bars" data-source="survey-data" '
        'style="width: 600px; height: 300px"></div>'
        '<script type="application/json" id="survey-data"></script>'
    )
    page.evaluate(
        "data => { document.getElementById('survey-data').textContent = JSON.stringify(data); }",
        {"factors": ["邻里信任"], "units": [{"name": HOSTILE_UNIT, "scores": [4.2]}]},
    )
    page.add_script_tag(path=static / "web/static/web/vendor/echarts/echarts.min.js")
    page.add_script_tag(path=static / "participation/static/participation/survey_charts.js")
    page.evaluate(
        "() => echarts.getInstanceByDom(document.querySelector('[data-chart]'))"
        ".dispatchAction({type: 'showTip', seriesIndex: 0, dataIndex: 0})"
    )
    tooltip = page.locator("[data-chart] > div").filter(has_text="A1网格")
    tooltip.wait_for(state="visible")
    assert HOSTILE_UNIT in tooltip.inner_text()
    assert page.locator("[data-chart] img").count() == 0
    assert page.evaluate("typeof window.__xss") == "undefined"
