"""The resilience dashboard in real Debian Chromium on a phone: the charts draw from the
vendored ECharts, the page fits the screen, and a value opens the rows behind it."""

import os
from datetime import datetime

from django.utils import timezone

from linli.accounts.roles import Role
from linli.grids.models import Visit
from linli.resilience.tests.test_dashboard import registered_test_indicators, store_weeks
from linli.testing.browser import log_in, needs_chromium

pytestmark = needs_chromium


def test_secretary_reads_the_dashboard_on_a_phone_and_drills_down(
    transactional_db, live_server, world, phone
):
    Visit.objects.create(
        household=world.neighbour_household,
        grid_path=world.neighbour_household.grid_path,
        visited_at=timezone.make_aware(datetime(2026, 1, 5, 10)),
        method="door",
    )
    with registered_test_indicators():
        store_weeks(world)
        base = live_server.url
        log_in(phone, base, Role.SECRETARY)
        phone.click("[data-testid=resilience-link]")
        phone.wait_for_selector("[data-chart=resilience-radar] canvas")
        phone.wait_for_selector("[data-chart=resilience-trend] canvas")
        assert phone.inner_text("[data-index=overall]") == "51.7"
        # Nothing wider than the phone (tables turn into cards).
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        # The table view of the radar is there for screen readers and on request.
        assert phone.locator("[data-testid=radar-table] td").count() == 8
        if os.environ.get("LINLI_SCREENSHOTS"):
            phone.screenshot(path="/tmp/resilience-dashboard.png", full_page=True)

        phone.click("[data-value=S_VISIT_30D]")
        phone.wait_for_selector("[data-testid=drill-rows]")
        assert phone.inner_text("[data-testid=drill-value]") == "75.0%"
        assert "1号楼 102" in phone.inner_text("[data-testid=drill-rows]")
        if os.environ.get("LINLI_SCREENSHOTS"):
            phone.screenshot(path="/tmp/resilience-drilldown.png", full_page=True)
