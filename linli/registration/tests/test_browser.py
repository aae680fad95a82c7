"""A resident with nothing but a phone and the building's poster, in real Chromium on a
390×844 phone: matched at once and home; or, when the register does not match, a request
that ends at the building-group leader's approval and the resident's phone sign-in. The
matched resident goes on to sign up for an activity and gets its reminder."""

from datetime import timedelta

from playwright.sync_api import expect

from linli import clock
from linli.accounts.roles import Role
from linli.grids.models import ResidentAccount
from linli.notify.models import Notification
from linli.participation.activities.services import activity_create, reminders_send
from linli.registration.models import RegistrationRequest, RequestStatus
from linli.registration.selectors import join_path
from linli.registration.tests.support import last_code
from linli.testing.browser import log_in, needs_chromium, new_page

pytestmark = needs_chromium


def action_day_tomorrow(world):
    starts_at = clock.now().replace(microsecond=0) + timedelta(hours=20)
    return activity_create(
        actor=world.users[Role.SECRETARY],
        organiser=world.community,
        kind="action_day",
        title="周四行动日",
        capacity=10,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
    )


def fill_registration(page, base: str, world, *, phone: str, name: str, room: str, digits: str):
    page.goto(f"{base}{join_path(world.building)}")
    expect(page.locator("[data-testid=join-place]")).to_contain_text("1号楼")
    page.fill("#id_phone", phone)
    page.click("[data-testid=send-code]")
    expect(page.locator("[data-testid=code-sent]")).to_be_visible()
    # Nothing on the form is wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.fill("#id_code", last_code(phone))
    page.fill("#id_name", name)
    page.fill("#id_room", room)
    page.fill("#id_id_last4", digits)
    page.click("[data-testid=register]")


def test_a_resident_scans_the_poster_registers_and_is_home(
    transactional_db, live_server, world, phone
):
    base = live_server.url
    fill_registration(
        phone, base, world, phone="13500001234", name="李建国", room="102室", digits="0054"
    )
    phone.wait_for_url(f"{base}/")
    expect(phone.locator(".whoami")).to_contain_text("李建国")
    # Their household is theirs to see, and the activities and deliberation menus are there.
    expect(phone.locator("main")).to_contain_text("102")
    assert ResidentAccount.objects.get(resident=world.neighbour).user.username == "13500001234"
    phone.click("[data-testid=deliberation-link]")
    expect(phone.locator("main h1")).to_be_visible()
    assert phone.url == f"{base}/activities/deliberation/"

    # They sign up for the Thursday action day starting tomorrow, and the reminder reaches
    # them: in the inbox, and by SMS at the phone they registered with.
    occurrence = action_day_tomorrow(world).occurrences.get()
    phone.goto(f"{base}/activities/{occurrence.pk}/")
    phone.click("[data-testid=sign-up]")
    expect(phone.locator("[data-testid=my-sign-up]")).to_be_visible()
    assert reminders_send() == 1
    phone.goto(f"{base}/inbox/")
    expect(phone.locator("main")).to_contain_text("周四行动日")
    reminder = Notification.objects.get(kind="activity.reminder")
    assert sorted(reminder.outbox_messages.values_list("channel", flat=True)) == [
        "inapp",
        "sms",
    ]


def test_an_unmatched_registration_ends_at_the_leaders_approval(
    transactional_db, live_server, world, phone, browser
):
    base = live_server.url
    # Wrong digits: it becomes a request, and the page says only that.
    fill_registration(
        phone, base, world, phone="13500001234", name="李建国", room="102", digits="9999"
    )
    phone.wait_for_url(f"{base}/join/sent/")
    expect(phone.locator("[data-testid=join-sent]")).to_be_visible()
    request = RegistrationRequest.objects.get()

    leader = new_page(browser, "phone")
    try:
        log_in(leader, base, Role.BUILDING_GROUP_LEADER)
        leader.goto(f"{base}/join/requests/")
        card = leader.locator(f"[data-testid=request-{request.pk}]")
        expect(card).to_contain_text("李建国")
        expect(card).to_contain_text("135****1234")
        assert leader.evaluate("document.documentElement.scrollWidth") <= 390
        leader.click(f"[data-testid=approve-{request.pk}-{world.neighbour.pk}]")
        leader.wait_for_url(f"{base}/join/requests/")
        expect(leader.locator("[data-testid=no-requests]")).to_be_visible()
    finally:
        leader.context.close()

    request.refresh_from_db()
    assert (request.status, request.resident) == (RequestStatus.APPROVED, world.neighbour)
    assert Notification.objects.filter(address="13500001234", kind="registration_decided").exists()

    # The resident signs in with their phone, as the SMS says.
    phone.goto(f"{base}/signin/phone/")
    phone.fill("#id_phone", "13500001234")
    phone.click("button[type=submit].primary")
    phone.wait_for_url(f"{base}/signin/phone/code/")
    phone.fill("#id_code", last_code("13500001234"))
    phone.click("button[type=submit].primary")
    phone.wait_for_url(f"{base}/")
    expect(phone.locator(".whoami")).to_contain_text("李建国")
