"""The whole 民情 loop in real Debian Chromium: a resident reports on a phone, the micro-grid
lead handles it at a desk, the resident rates it on the phone.

Forms are driven by their field names (category, building, description, owner_user,
handler_text, note, satisfaction, comment) and the data-testid hooks of the pages, so the
test holds while the pages' layout changes.
"""

import re

import pytest
from django.utils import translation

from linli.accounts.roles import Role
from linli.cases.models import Case, CaseCategory, CaseState
from linli.cases.services import ACTION_LABELS
from linli.testing.browser import log_in, needs_chromium, new_page

pytestmark = needs_chromium


@pytest.fixture
def open_page(browser):
    """A fresh browser per login (a phone or a desk), set to Chinese as most users' are."""
    pages = []

    def open_page(device: str):
        if device == "phone":
            page = new_page(browser, "phone")
        else:
            page = new_page(browser, "desktop", viewport={"width": 1280, "height": 800})
        pages.append(page)
        return page

    yield open_page
    for page in pages:
        page.context.close()


def a_category() -> CaseCategory:
    # A transactional test empties every table, the seeded categories included.
    major, _ = CaseCategory.objects.get_or_create(
        code="SAF", defaults=dict(name_zh="安全隐患", name_en="Safety hazards")
    )
    minor, _ = CaseCategory.objects.get_or_create(
        code="SAF-01",
        defaults=dict(
            parent=major,
            name_zh="楼道堆物",
            name_en="Stairwell clutter",
            sla_hours=72,
            usual_handler="物业",
        ),
    )
    return minor


def zh(label) -> str:
    with translation.override("zh-hans"):
        return str(label)


def state_label(state: str) -> str:
    return zh(CaseState(state).label)


def submit(page, form: str) -> None:
    """Press the form's submit button and wait for the page it leads to. A named button
    (the filing form's "check for similar reports") is not the one that files."""
    with page.expect_navigation():
        page.click(f"{form} button[type=submit]:not([name])")


def test_resident_reports_lead_handles_resident_rates(
    transactional_db, live_server, world, open_page
):
    from playwright.sync_api import expect

    base = live_server.url
    category = a_category()
    building_group_leader = world.users[Role.BUILDING_GROUP_LEADER]

    # A resident reports from a phone.
    phone = open_page("phone")
    log_in(phone, base, Role.RESIDENT)
    phone.goto(f"{base}/cases/new/")
    phone.select_option("select[name=category]", str(category.pk))
    phone.select_option("select[name=building]", str(world.building.pk))
    phone.fill("textarea[name=description]", "3楼楼道堆满纸箱，影响通行")
    # Nothing on the form is wider than the phone.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    submit(phone, "form:has(textarea[name=description])")
    phone.wait_for_url(re.compile(r".*/cases/\d+/$"))

    case = Case.objects.get()
    assert phone.url == f"{base}/cases/{case.pk}/"
    assert (case.reporter, case.building, case.category) == (
        world.users[Role.RESIDENT],
        world.building,
        category,
    )
    expect(phone.locator("[data-testid=state]")).to_contain_text(state_label("reported"))

    # The micro-grid lead finds it on the workbench and carries it through, at a desk.
    desk = open_page("desk")
    log_in(desk, base, Role.MICRO_GRID_LEAD)
    desk.goto(f"{base}/cases/")
    case_list = desk.locator("[data-testid=case-list]")
    expect(case_list).to_contain_text(case.reference)
    with desk.expect_navigation():
        case_list.get_by_role("link", name=case.reference).click()
    assert desk.url == f"{base}/cases/{case.pk}/"

    state = desk.locator("[data-testid=state]")
    submit(desk, "form[data-testid=action-accept]")
    expect(state).to_contain_text(state_label("accepted"))

    dispatch = "form[data-testid=action-dispatch]"
    desk.select_option(f"{dispatch} select[name=owner_user]", str(building_group_leader.pk))
    desk.fill(f"{dispatch} [name=handler_text]", "物业")
    submit(desk, dispatch)
    expect(state).to_contain_text(state_label("dispatched"))

    submit(desk, "form[data-testid=action-start]")
    expect(state).to_contain_text(state_label("in_progress"))

    desk.fill("form[data-testid=action-resolve] [name=note]", "纸箱已清理，通道畅通")
    submit(desk, "form[data-testid=action-resolve]")
    expect(state).to_contain_text(state_label("resolved"))

    # The resident comes back on the phone and rates the work.
    phone = open_page("phone")
    log_in(phone, base, Role.RESIDENT)
    phone.goto(f"{base}/cases/{case.pk}/")
    phone.check("form[data-testid=rate] input[name=satisfaction][value='5']")
    phone.fill("form[data-testid=rate] [name=comment]", "处理得很快，谢谢")
    submit(phone, "form[data-testid=rate]")
    expect(phone.locator("[data-testid=state]")).to_contain_text(state_label("resolved"))

    case.refresh_from_db()
    assert (case.state, case.satisfaction, case.satisfaction_comment) == (
        CaseState.RESOLVED,
        5,
        "处理得很快，谢谢",
    )
    assert (case.owner_user, case.handler_text) == (building_group_leader, "物业")
    assert list(case.events.values_list("action", "to_state")) == [
        ("create", "reported"),
        ("accept", "accepted"),
        ("dispatch", "dispatched"),
        ("start", "in_progress"),
        ("resolve", "resolved"),
        ("rate", "resolved"),
    ]

    # The timeline on the resident's page tells the same story, in order.
    timeline = phone.locator("[data-testid=timeline] > li")
    expect(timeline).to_have_count(6)
    lines = timeline.all_text_contents()
    steps = [
        (None, "reported"),
        ("accept", "accepted"),
        ("dispatch", "dispatched"),
        ("start", "in_progress"),
        ("resolve", "resolved"),
        ("rate", "resolved"),
    ]
    for line, (action, to_state) in zip(lines, steps, strict=True):
        if action is not None:
            assert zh(ACTION_LABELS[action]) in line
        assert f"→ {state_label(to_state)}" in line
    assert "纸箱已清理，通道畅通" in lines[4]
