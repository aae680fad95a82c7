"""A whole drill in real Debian Chromium: the secretary activates it on a desktop, a
volunteer on a phone completes two welfare checks (one "needs help", which files a help
request), the secretary's live board shows coverage rising without a reload, and the
stand-down report renders with its PDF.

Driven by field names and the pages' data-testid hooks, so the test holds while the layout
and the language change (the server answers in Chinese, the browser's locale)."""

import re

from linli.accounts.roles import Role
from linli.emergency.models import Activation, ActivationState, HelpRequest, Task, TaskState
from linli.testing.browser import log_in, needs_chromium

pytestmark = needs_chromium

# The board's figures are polled every 5 s; two polls and some slack.
BOARD_WAIT_MS = 15_000


def share(percent: int) -> re.Pattern:
    # The board prints the share with one decimal ("50.0%"); the report without ("50%").
    return re.compile(rf"^\s*{percent}(\.0)?%\s*$")


def test_drill_from_activation_to_stand_down_report(
    transactional_db, live_server, emergency_world, plan, desktop, phone
):
    from playwright.sync_api import expect

    world = emergency_world
    base = live_server.url

    # The secretary activates a grade IV drill for A社区, previewing first.
    log_in(desktop, base, Role.SECRETARY)
    desktop.goto(f"{base}/emergency/activate/")
    desktop.select_option("select[name=plan]", str(plan.pk))
    desktop.select_option("select[name=scope]", str(world.community.pk))
    desktop.select_option("select[name=grade]", "4")
    desktop.check("input[name=mode][value=drill]")
    with desktop.expect_navigation():
        desktop.click("[data-testid=preview-button]")
    expect(desktop.locator("[data-testid=preview-tasks]")).to_have_text("2")
    expect(desktop.locator("[data-testid=preview-assigned]")).to_have_text("2")
    with desktop.expect_navigation():
        desktop.click("[data-testid=confirm]")

    activation = Activation.objects.get()
    assert (activation.plan, activation.scope, activation.grade, activation.is_drill) == (
        plan,
        world.community,
        4,
        True,
    )
    assert desktop.url == f"{base}/emergency/{activation.pk}/board/"
    coverage = desktop.locator("[data-testid=coverage-share]")
    expect(coverage).to_have_text(share(0))
    expect(desktop.locator("[data-testid=coverage-targeted]")).to_have_text("2")

    first = Task.objects.get(household=world.household)
    second = Task.objects.get(household=world.other_micro_grid_household)
    assert (first.assignee, second.assignee) == (world.volunteer, world.volunteer)

    # The volunteer, on a phone, sees both checks in walking order from 1号楼.
    log_in(phone, base, Role.VOLUNTEER)
    phone.goto(f"{base}/emergency/my-tasks/")
    cards = phone.locator("[data-testid=task-card]")
    expect(cards).to_have_count(2)
    assert [cards.nth(index).get_attribute("data-task-id") for index in range(2)] == [
        str(first.pk),
        str(second.pk),
    ]
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    with phone.expect_navigation():
        cards.nth(0).locator("[data-testid=acknowledge]").click()
    expect(cards.nth(0).locator("[data-testid=acknowledge]")).to_have_count(0)
    first.refresh_from_db()
    assert first.state == TaskState.ACKNOWLEDGED

    with phone.expect_navigation():
        cards.nth(0).locator("[data-testid=outcome-safe]").click()
    expect(cards).to_have_count(1)

    # Half the targeted households are contacted: the board shows it without a reload.
    expect(coverage).to_have_text(share(50), timeout=BOARD_WAIT_MS)
    expect(desktop.locator("[data-testid=coverage-contacted]")).to_have_text("1")

    card = cards.nth(0)
    assert card.get_attribute("data-task-id") == str(second.pk)
    card.locator("[data-testid=outcome-needs-help]").click()
    card.locator("label:has([data-testid=help-kind-food])").click()
    card.locator("label:has([data-testid=help-urgency-2])").click()
    card.locator("textarea[name=help_description]").fill("家里缺米缺水")
    with phone.expect_navigation():
        card.locator("[data-testid=submit-needs-help]").click()
    expect(phone.locator("[data-testid=no-tasks]")).to_be_visible()
    phone.wait_for_load_state("networkidle")

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, first.outcome) == (TaskState.DONE, "safe")
    assert (second.state, second.outcome) == (TaskState.DONE, "needs_help")
    help_request = HelpRequest.objects.get()
    assert (
        help_request.source_task,
        help_request.household,
        help_request.kind,
        help_request.urgency,
    ) == (second, world.other_micro_grid_household, "food", 2)

    # Every targeted household is contacted, and the help request is on the board.
    expect(coverage).to_have_text(share(100), timeout=BOARD_WAIT_MS)
    expect(desktop.locator("[data-testid=coverage-contacted]")).to_have_text("2")
    expect(desktop.locator(f"[data-testid=help-{help_request.pk}]")).to_be_visible()
    expect(desktop.locator("[data-testid=help-open]")).to_have_text("1")

    # The secretary stands the drill down and reads the report.
    desktop.goto(f"{base}/emergency/{activation.pk}/")
    desktop.fill("[data-testid=stand-down-form] [name=stand-reason]", "台风已过境，演练结束")
    desktop.fill("[data-testid=stand-down-form] [name=stand-lessons]", "2号楼门禁需提前联系物业")
    with desktop.expect_navigation():
        desktop.click("[data-testid=stand-down]")
    assert desktop.url == f"{base}/emergency/{activation.pk}/report/"

    activation.refresh_from_db()
    assert activation.state == ActivationState.STOOD_DOWN
    assert (
        activation.summary["targeted_households"],
        activation.summary["contacted_households"],
    ) == (2, 2)
    figures = desktop.locator("[data-testid=report-figures]")
    expect(figures).to_contain_text("2 (100%)")
    expect(desktop.locator("[data-testid=coverage-description]")).to_contain_text("100%")
    expect(desktop.locator("[data-testid=lessons]")).to_contain_text("2号楼门禁需提前联系物业")

    pdf_link = desktop.locator("[data-testid=report-pdf]")
    expect(pdf_link).to_have_attribute("href", f"/emergency/{activation.pk}/report.pdf")
    pdf = desktop.request.get(f"{base}{pdf_link.get_attribute('href')}")
    assert (pdf.status, pdf.headers["content-type"]) == (200, "application/pdf")
    assert pdf.body().startswith(b"%PDF")
    # The page is finished before the test ends, so no request still holds a connection.
    desktop.wait_for_load_state("networkidle")
