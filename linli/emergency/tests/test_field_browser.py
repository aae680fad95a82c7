"""The field pages on a phone in real Debian Chromium: a volunteer walks two welfare
checks (one safe, one "needs help"), and a resident choosing "life-threatening" sees the
120/110 steps before sending anything.

Driven by field names and the pages' data-testid hooks, so the test holds while the layout
changes."""

import re

from linli.accounts.roles import Role
from linli.emergency import services
from linli.emergency.models import HelpRequest, Task, TaskState
from linli.testing.browser import log_in, needs_chromium

pytestmark = needs_chromium

PHONE_WIDTH = 390


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH


def test_volunteer_completes_two_welfare_checks_on_a_phone(
    transactional_db, live_server, emergency_world, plan, phone
):
    from playwright.sync_api import expect

    world = emergency_world
    base = live_server.url
    services.activation_start(
        actor=world.users[Role.SECRETARY], plan=plan, scope=world.community, grade=4, is_drill=True
    )
    first = Task.objects.get(household=world.household)
    second = Task.objects.get(household=world.other_micro_grid_household)

    log_in(phone, base, Role.VOLUNTEER)
    phone.goto(f"{base}/emergency/my-tasks/")
    cards = phone.locator("[data-testid=task-card]")
    expect(cards).to_have_count(2)
    # Walking order from 1号楼: its own household first.
    assert cards.nth(0).get_attribute("data-task-id") == str(first.pk)
    assert fits_the_phone(phone)

    # One tap shows the number to call, as a tel: link.
    cards.nth(0).locator("[data-testid=reveal-phone]").click()
    expect(cards.nth(0).locator("[data-testid=revealed-phone]")).to_have_attribute(
        "href", "tel:13812341234"
    )

    with phone.expect_navigation():
        cards.nth(0).locator("[data-testid=outcome-safe]").click()
    expect(cards).to_have_count(1)

    card = cards.nth(0)
    card.locator("[data-testid=outcome-needs-help]").click()
    card.locator("label:has([data-testid=help-kind-food])").click()
    instructions = card.locator("[data-testid=life-threatening-instructions]")
    expect(instructions).to_be_hidden()
    card.locator("label:has([data-testid=help-urgency-2])").click()
    card.locator("textarea[name=help_description]").fill("家里缺米缺水")
    assert fits_the_phone(phone)
    with phone.expect_navigation():
        card.locator("[data-testid=submit-needs-help]").click()
    expect(phone.locator("[data-testid=no-tasks]")).to_be_visible()

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, first.outcome) == (TaskState.DONE, "safe")
    assert (second.state, second.outcome) == (TaskState.DONE, "needs_help")
    help_request = HelpRequest.objects.get()
    assert (help_request.source_task, help_request.kind, help_request.urgency) == (
        second,
        "food",
        2,
    )


def test_life_threatening_shows_120_110_before_sending(
    transactional_db, live_server, emergency_world, plan, phone
):
    from playwright.sync_api import expect

    world = emergency_world
    base = live_server.url
    services.activation_start(
        actor=world.users[Role.SECRETARY], plan=plan, scope=world.community, grade=4, is_drill=True
    )

    log_in(phone, base, Role.RESIDENT)
    phone.goto(f"{base}/emergency/help/new/")
    expect(phone.locator("[data-testid=emergency-numbers]")).to_be_visible()
    steps = phone.locator("form [data-testid=life-threatening-instructions]")
    expect(steps).to_be_hidden()

    phone.locator("label:has([data-testid=help-urgency-1])").click()

    expect(steps).to_be_visible()
    expect(steps.locator("a[href='tel:120']")).to_be_visible()
    assert fits_the_phone(phone)
    phone.locator("label:has([data-testid=help-kind-medical])").click()
    phone.fill("textarea[name=description]", "老伴摔倒了，起不来")
    with phone.expect_navigation():
        phone.locator("[data-testid=help-submit]").click()

    help_request = HelpRequest.objects.get()
    assert re.search(rf"/emergency/help/{help_request.pk}/$", phone.url)
    expect(phone.locator("[data-testid=life-threatening-instructions]")).to_be_visible()
    assert (help_request.urgency, help_request.household) == (1, world.household)
