"""A resident on a phone, in real Debian Chromium: finds the Thursday action day, signs up
in two taps, opens the check-in code's link and checks in."""

from datetime import timedelta

from linli.accounts.roles import Role
from linli.participation.models import SignUp
from linli.participation.tests.conftest import make_activity
from linli.testing.browser import log_in, needs_chromium

pytestmark = needs_chromium


def test_resident_signs_up_and_checks_in_on_a_phone(transactional_db, live_server, world, phone):
    base = live_server.url
    occurrence = make_activity(world, starts_in=timedelta(minutes=-5)).occurrences.get()
    log_in(phone, base, Role.RESIDENT)

    phone.goto(f"{base}/activities/")
    phone.click(f"[data-testid=sign-up-{occurrence.pk}]")
    phone.wait_for_selector("[data-testid=my-status]")
    assert SignUp.objects.get().status == "confirmed"

    phone.goto(f"{base}/activities/check-in/{occurrence.check_in_token}/")
    phone.click("[data-testid=check-in]")
    phone.wait_for_url(f"{base}/activities/{occurrence.pk}/")
    # The page is finished before the test ends, so no request still holds a connection.
    phone.wait_for_selector("[data-testid=my-sign-up]")
    phone.wait_for_load_state("networkidle")
    sign_up = SignUp.objects.get()
    assert (sign_up.status, sign_up.check_in_method) == ("confirmed", "scan")
