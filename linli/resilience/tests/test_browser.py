"""Issue 7's walk in real Debian Chromium: the secretary opens the resilience dashboard
(snapshots taken by the real service from the world's own records), drills from a weak
indicator to the households behind it, opens the 民情 map, and downloads the monthly PDF,
which has pages and Chinese text."""

import re
from pathlib import Path

import pytest
from django.utils import timezone

from linli.accounts.roles import Role
from linli.grids.models import Building
from linli.resilience.services import snapshot_take
from linli.resilience.tests.test_reports import _cid_text, _pdf_text_streams
from linli.testing.browser import log_in, needs_chromium, new_page

pytestmark = needs_chromium


@pytest.fixture
def desktop(browser):
    page = new_page(browser, "desktop", accept_downloads=True)
    yield page
    page.context.close()


def test_secretary_drills_from_a_weak_indicator_opens_the_map_and_downloads_the_pdf(
    transactional_db, live_server, world, desktop
):
    # The buildings' places, as the demo gives them, so the map has something to draw.
    Building.objects.filter(name="1号楼").update(latitude="31.270000", longitude="121.450000")
    Building.objects.filter(name="2号楼").update(latitude="31.271000", longitude="121.450000")
    # Nobody in A社区 was visited: the 30-day visit coverage is 0 and lists every household.
    snapshot_take(root=world.street)
    base = live_server.url
    page = desktop
    log_in(page, base, Role.SECRETARY)

    page.click("[data-testid=resilience-link]")
    page.wait_for_selector("[data-testid=resilience-index]")
    page.wait_for_selector("[data-chart=resilience-radar] canvas")
    # The weak indicator, and from it the households behind the number.
    page.click("[data-value=S_VISIT_30D]")
    page.wait_for_selector("[data-testid=drill-rows]")
    assert page.inner_text("[data-testid=drill-value]") == "0.0%"
    rows = page.inner_text("[data-testid=drill-rows]")
    assert "1号楼 101" in rows and "1号楼 102" in rows and "2号楼 201" in rows
    # C社区's household is outside the secretary's scope.
    assert "9号楼" not in rows

    page.go_back()
    page.click("[data-testid=resilience-map-link]")
    page.wait_for_selector("[data-testid=resilience-map]")
    page.wait_for_selector(".leaflet-container")
    assert "1号楼" in page.inner_text("[data-testid=map-buildings]")

    page.goto(f"{base}/resilience/reports/?unit={world.community.pk}")
    month = timezone.localdate().strftime("%Y-%m")
    with page.expect_download() as download_info:
        page.click(f"[data-testid=report-pdf-{month}]")
    content = Path(download_info.value.path()).read_bytes()
    assert content.startswith(b"%PDF")
    assert len(re.findall(rb"/Type /Page\b(?!s)", content)) >= 1
    assert b"/BaseFont /STSong-Light" in content
    assert _cid_text("A社区") in _pdf_text_streams(content)
    page.wait_for_load_state("networkidle")
