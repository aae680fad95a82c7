"""Setting up two-factor sign-in in real Debian Chromium, on a phone: the
secretary logs in, is taken to the enrolment page, types the code of the key shown, keeps
the recovery codes and reaches the home page."""

from base64 import b32decode

from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from linli.accounts.roles import Role
from linli.conftest import PASSWORD
from linli.testing.browser import PHONE, launched_chromium, needs_chromium

pytestmark = needs_chromium


def test_a_secretary_sets_up_an_authenticator_on_a_phone(
    transactional_db, live_server, world, settings, tmp_path
):
    settings.LINLI_STAFF_TWO_FACTOR = True
    base = live_server.url
    with launched_chromium() as chromium:
        context = chromium.new_context(viewport=PHONE, locale="en-US", is_mobile=True)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        try:
            page.goto(f"{base}/login/")
            page.fill("#id_username", Role.SECRETARY)
            page.fill("#id_password", PASSWORD)
            page.click("button[type=submit].primary")
            page.wait_for_url(f"{base}/account/two-factor/enrol/?next=%2F")
            assert "scan this QR code with your phone" in page.inner_text("main")
            assert page.locator("[data-testid=two-factor-qr] svg").is_visible()
            page.screenshot(path=str(tmp_path / "enrol.png"), full_page=True)

            secret = page.inner_text("[data-testid=two-factor-secret]").replace(" ", "")
            code = f"{totp(b32decode(secret)):06d}"
            page.fill("#id_code", code)
            page.click("button[type=submit].primary")
            page.wait_for_url(f"{base}/account/two-factor/recovery-codes/?next=%2F")
            codes = page.locator("[data-testid=recovery-code-list] code").all_inner_texts()
            assert len(codes) == 10
            assert "These codes are shown only now." in page.inner_text("main")

            page.click("button[type=submit].primary")
            page.wait_for_url(f"{base}/")
            assert page.locator(".mainnav").is_visible()
        finally:
            context.close()
    assert errors == []
    assert TOTPDevice.objects.get(user=world.users[Role.SECRETARY]).confirmed is True
