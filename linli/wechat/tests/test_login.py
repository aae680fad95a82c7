"""Login with WeChat against the local fake: the state check, a bound WeChat logging its
login in (two-factor sign-in still asked of staff), binding an unbound WeChat after a phone
code, binding and unbinding from the account page, and the audit of both."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine

from linli.accounts.models import AuditAction, AuditEntry
from linli.accounts.roles import Role
from linli.conftest import make_user
from linli.testing.clients import client_for
from linli.wechat.client import WeChatIdentity
from linli.wechat.fake_server import FakeWeChat
from linli.wechat.models import WeChatAccount
from linli.wechat.services import wechat_bind
from linli.wechat.tests.conftest import sms_code
from linli.wechat.tests.flow import through_wechat, wechat_redirect_back

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
# The WeChat user who authorises at the fake unless a test says otherwise.
OPENID = FakeWeChat().user.openid
PHONE = "13812341234"


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(T0, tick=True):
        yield


@pytest.fixture
def resident(world):
    user = world.users[Role.RESIDENT]
    user.phone = PHONE
    user.save(update_fields=["phone"])
    return user


def bound(user, openid=OPENID, **identity):
    return wechat_bind(user=user, identity=WeChatIdentity(openid=openid, **identity), actor=user)


def session_user_id(client):
    return client.session.get("_auth_user_id")


# Going to WeChat -------------------------------------------------------------------------


def test_login_sends_the_person_to_wechat_with_a_state_kept_in_their_session(fake_wechat, db):
    client = client_for(None)
    response = client.get("/wechat/login/?next=/cases/")
    state = client.session["linli_wechat_oauth"]["state"]
    assert response.status_code == 302
    assert response["Location"] == (
        f"{fake_wechat.url}/connect/oauth2/authorize?appid=wx-fake-app-id"
        "&redirect_uri=https%3A%2F%2Flinli.example.org%2Fwechat%2Fcallback%2F"
        f"&response_type=code&scope=snsapi_base&state={state}#wechat_redirect"
    )
    assert len(state) >= 20
    assert client.session["linli_wechat_oauth"]["next"] == "/cases/"


def test_a_callback_with_another_state_is_refused_with_400_and_asks_wechat_nothing(
    fake_wechat, resident
):
    bound(resident)
    client = client_for(None)
    start = client.get("/wechat/login/")
    back = urlsplit(wechat_redirect_back(start["Location"]))
    code = parse_qs(back.query)["code"][0]
    response = client.get(f"/wechat/callback/?code={code}&state=forged-state")
    assert response.status_code == 400
    assert "was not started here or has expired" in response.content.decode()
    assert session_user_id(client) is None
    assert fake_wechat.paths() == ["/connect/oauth2/authorize"]
    # The state is single-use: even the right one is refused after a failed try.
    right = client.get(f"{back.path}?{back.query}")
    assert right.status_code == 400
    assert session_user_id(client) is None


def test_a_callback_that_was_never_started_in_this_browser_is_refused(fake_wechat, resident):
    bound(resident)
    starter = client_for(None)
    start = starter.get("/wechat/login/")
    stolen = wechat_redirect_back(start["Location"])
    other_browser = client_for(None)
    response = other_browser.get(stolen)
    assert response.status_code == 400
    assert session_user_id(other_browser) is None


def test_a_callback_without_a_code_says_the_sign_in_was_cancelled(fake_wechat, db):
    client = client_for(None)
    client.get("/wechat/login/")
    state = client.session["linli_wechat_oauth"]["state"]
    response = client.get(f"/wechat/callback/?state={state}")
    assert response.status_code == 400
    assert "WeChat sign-in was cancelled" in response.content.decode()


def test_a_code_used_once_already_is_refused(fake_wechat, resident):
    bound(resident)
    client = client_for(None)
    start = client.get("/wechat/login/")
    back = wechat_redirect_back(start["Location"])
    assert client.get(back).status_code == 302
    client.logout()
    # Replayed with a fresh state of this browser: WeChat answers 40029 for the used code.
    client.get("/wechat/login/")
    state = client.session["linli_wechat_oauth"]["state"]
    code = parse_qs(urlsplit(back).query)["code"][0]
    response = client.get(f"/wechat/callback/?code={code}&state={state}")
    assert response.status_code == 400
    assert "its code was used or expired" in response.content.decode()
    assert session_user_id(client) is None


def test_an_outside_next_address_is_not_followed(fake_wechat, resident):
    bound(resident)
    client = client_for(None)
    response = through_wechat(client, "/wechat/login/?next=https://evil.example/", fake_wechat)
    assert response.status_code == 302
    assert response["Location"] == "/"


# A bound WeChat --------------------------------------------------------------------------


def test_a_bound_wechat_logs_its_login_in_and_goes_on_to_next(fake_wechat, resident):
    bound(resident)
    fake_wechat.authorize_as(OPENID)
    client = client_for(None)
    response = through_wechat(client, "/wechat/login/?next=/cases/", fake_wechat)
    assert response.status_code == 302
    assert response["Location"] == "/cases/"
    assert session_user_id(client) == str(resident.pk)
    assert fake_wechat.paths() == ["/connect/oauth2/authorize", "/sns/oauth2/access_token"]


def test_staff_logging_in_with_wechat_still_enter_their_two_factor_code(
    fake_wechat, world, settings
):
    settings.LINLI_STAFF_TWO_FACTOR = True
    secretary = world.users[Role.SECRETARY]
    bound(secretary)
    client = client_for(None)
    response = through_wechat(client, "/wechat/login/?next=/registry/", fake_wechat)
    assert response.status_code == 302
    assert response["Location"] == "/account/two-factor/enrol/?next=%2Fregistry%2F"
    assert session_user_id(client) == str(secretary.pk)
    # Any other page sends them there too until they have entered a code.
    home = client.get("/")
    assert home.status_code == 302
    assert home["Location"].startswith("/account/two-factor/enrol/")


def test_a_wechat_bound_to_a_login_no_longer_in_use_logs_nobody_in(fake_wechat, resident):
    bound(resident)
    resident.is_active = False
    resident.save(update_fields=["is_active"])
    client = client_for(None)
    response = through_wechat(client, "/wechat/login/", fake_wechat)
    assert response.status_code == 403
    assert session_user_id(client) is None


def test_someone_already_logged_in_is_not_sent_to_wechat(fake_wechat, resident):
    client = client_for(resident)
    response = client.get("/wechat/login/?next=/cases/")
    assert response.status_code == 302
    assert response["Location"] == "/cases/"
    assert fake_wechat.requests == []


# An unbound WeChat: the phone code ---------------------------------------------------------


def test_an_unbound_wechat_is_bound_after_the_phone_code_and_logs_in(fake_wechat, resident):
    client = client_for(None)
    response = through_wechat(client, "/wechat/login/?next=/cases/", fake_wechat)
    assert response.status_code == 302
    assert response["Location"] == "/wechat/bind/"
    assert session_user_id(client) is None
    page = client.get("/wechat/bind/")
    assert page.status_code == 200
    assert "This WeChat is not bound to a Linli account yet." in page.content.decode()

    sent = client.post("/wechat/bind/", {"action": "send", "phone": "138 1234 1234"})
    assert sent.status_code == 302
    assert sent["Location"] == "/wechat/bind/"
    assert "Code sent to 138****1234" in client.get("/wechat/bind/").content.decode()

    done = client.post("/wechat/bind/", {"action": "verify", "code": sms_code(PHONE)})
    assert done.status_code == 302
    assert done["Location"] == "/cases/"
    assert session_user_id(client) == str(resident.pk)
    account = WeChatAccount.objects.get()
    assert (account.user, account.openid, account.unionid, account.nickname, account.bound_at) == (
        resident,
        fake_wechat.user.openid,
        "",
        "",
        account.bound_at,
    )
    entry = AuditEntry.objects.get(object_type="user", field="wechat")
    assert (entry.actor, entry.action, entry.object_id, entry.grid_path, entry.reason) == (
        resident,
        AuditAction.LINK,
        str(resident.pk),
        world_path_of(resident),
        "Bound WeChat for login and messages",
    )
    # From now on WeChat alone logs them in.
    again = client_for(None)
    assert through_wechat(again, "/wechat/login/", fake_wechat)["Location"] == "/"
    assert session_user_id(again) == str(resident.pk)


def world_path_of(user) -> str:
    return user.resident_account.resident.grid_path


def test_a_wrong_code_binds_nothing_and_names_the_code(fake_wechat, resident):
    client = client_for(None)
    through_wechat(client, "/wechat/login/", fake_wechat)
    client.post("/wechat/bind/", {"action": "send", "phone": PHONE})
    right = sms_code(PHONE)
    wrong = "000000" if right != "000000" else "111111"
    response = client.post("/wechat/bind/", {"action": "verify", "code": wrong})
    assert response.status_code == 400
    assert "That code is wrong or no longer valid." in response.content.decode()
    assert WeChatAccount.objects.count() == 0
    assert AuditEntry.objects.filter(field="wechat").count() == 0
    assert session_user_id(client) is None


def test_a_number_that_is_no_mobile_number_is_refused_at_the_phone_field(fake_wechat, resident):
    client = client_for(None)
    through_wechat(client, "/wechat/login/", fake_wechat)
    response = client.post("/wechat/bind/", {"action": "send", "phone": "12345"})
    assert response.status_code == 400
    assert "Enter an 11-digit mainland mobile number" in response.content.decode()
    assert "linli_wechat_pending" in client.session
    assert client.session["linli_wechat_pending"]["phone"] == ""


def test_a_phone_without_an_account_is_told_to_register_first_and_nothing_is_bound(
    fake_wechat, resident
):
    client = client_for(None)
    through_wechat(client, "/wechat/login/", fake_wechat)
    # Sent whatever the number: the form tells nobody whether it has an account.
    sent = client.post("/wechat/bind/", {"action": "send", "phone": "13900001111"})
    assert sent.status_code == 302
    response = client.post("/wechat/bind/", {"action": "verify", "code": sms_code("13900001111")})
    assert response.status_code == 200
    text = response.content.decode()
    assert "No Linli account uses 139****1111 yet. Register first" in text
    assert "scan the QR code on your building" in text
    assert WeChatAccount.objects.count() == 0
    assert session_user_id(client) is None


def test_a_phone_shared_by_two_logins_binds_neither(fake_wechat, resident):
    other = make_user("spouse")
    other.phone = PHONE
    other.save(update_fields=["phone"])
    client = client_for(None)
    through_wechat(client, "/wechat/login/", fake_wechat)
    client.post("/wechat/bind/", {"action": "send", "phone": PHONE})
    response = client.post("/wechat/bind/", {"action": "verify", "code": sms_code(PHONE)})
    assert response.status_code == 200
    assert "More than one account uses 138****1234" in response.content.decode()
    assert WeChatAccount.objects.count() == 0


def test_the_bind_page_without_a_wechat_waiting_answers_400(fake_wechat, db):
    response = client_for(None).get("/wechat/bind/")
    assert response.status_code == 400
    assert "This WeChat sign-in has expired" in response.content.decode()


def test_a_wechat_waits_for_its_phone_code_fifteen_minutes(fake_wechat, resident):
    client = client_for(None)
    through_wechat(client, "/wechat/login/", fake_wechat)
    with time_machine.travel(T0 + timedelta(minutes=16), tick=False):
        response = client.post("/wechat/bind/", {"action": "send", "phone": PHONE})
    assert response.status_code == 400
    assert "This WeChat sign-in has expired" in response.content.decode()


# The account page ------------------------------------------------------------------------


def test_a_signed_in_person_binds_the_wechat_they_use_with_its_nickname(fake_wechat, resident):
    fake_wechat.authorize_as(OPENID, unionid="union-1", nickname="桂英")
    client = client_for(resident)
    start = client.post("/wechat/account/bind/")
    assert parse_qs(urlsplit(start["Location"]).query)["scope"] == ["snsapi_userinfo"]
    response = client.get(wechat_redirect_back(start["Location"]))
    assert response.status_code == 302
    assert response["Location"] == "/wechat/account/"
    account = WeChatAccount.objects.get(user=resident)
    assert (account.openid, account.unionid, account.nickname) == (OPENID, "union-1", "桂英")
    assert fake_wechat.paths() == [
        "/connect/oauth2/authorize",
        "/sns/oauth2/access_token",
        "/sns/userinfo",
    ]
    page = client.get("/wechat/account/").content.decode()
    assert "Bound to the WeChat “桂英” since 2026-11-27." in page
    assert AuditEntry.objects.filter(action=AuditAction.LINK, field="wechat").count() == 1


def test_a_wechat_bound_to_another_login_is_not_taken_over(fake_wechat, resident, world):
    neighbour = world.users[Role.BUILDING_GROUP_LEADER]
    bound(neighbour)
    client = client_for(resident)
    response = through_wechat(client, "/wechat/account/bind/", fake_wechat, method="post")
    assert response.status_code == 409
    assert "This WeChat is bound to another account." in response.content.decode()
    assert list(WeChatAccount.objects.values_list("user", "openid")) == [(neighbour.pk, OPENID)]
    assert AuditEntry.objects.filter(field="wechat").count() == 1  # the neighbour's own bind


def test_binding_another_wechat_replaces_the_first_and_says_so(fake_wechat, resident):
    bound(resident, "o-old-wechat")
    client = client_for(resident)
    through_wechat(client, "/wechat/account/bind/", fake_wechat, method="post")
    assert WeChatAccount.objects.get(user=resident).openid == fake_wechat.user.openid
    assert list(
        AuditEntry.objects.filter(field="wechat").order_by("id").values_list("reason", flat=True)
    ) == [
        "Bound WeChat for login and messages",
        "Bound another WeChat for login (the one before is unbound)",
    ]


def test_unbinding_removes_the_wechat_and_is_audited(fake_wechat, resident):
    bound(resident)
    client = client_for(resident)
    response = client.post("/wechat/account/unbind/")
    assert response.status_code == 302
    assert response["Location"] == "/wechat/account/"
    assert WeChatAccount.objects.count() == 0
    entry = AuditEntry.objects.get(action=AuditAction.UNLINK)
    assert (entry.actor, entry.object_id, entry.field, entry.reason) == (
        resident,
        str(resident.pk),
        "wechat",
        "Unbound WeChat",
    )
    # Nothing left to unbind: nothing written.
    client.post("/wechat/account/unbind/")
    assert AuditEntry.objects.filter(action=AuditAction.UNLINK).count() == 1
    # And the WeChat no longer logs them in: it is asked to bind again.
    stranger = client_for(None)
    assert through_wechat(stranger, "/wechat/login/", fake_wechat)["Location"] == "/wechat/bind/"


# WeChat off ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/wechat/login/"),
        ("get", "/wechat/callback/?code=c&state=s"),
        ("get", "/wechat/bind/"),
        ("post", "/wechat/bind/"),
        ("get", "/wechat/account/"),
        ("post", "/wechat/account/bind/"),
        ("post", "/wechat/account/unbind/"),
    ],
)
@pytest.mark.parametrize("who", ["anonymous", Role.RESIDENT])
def test_with_wechat_off_every_page_answers_404(wechat_off, world, method, path, who):
    response = getattr(client_for(world.users[who]), method)(path)
    assert response.status_code == 404


def test_the_login_page_shows_the_wechat_button_only_while_wechat_is_on(settings, db):
    settings.LINLI_WECHAT_APP_ID = ""
    assert 'data-testid="wechat-login"' not in client_for(None).get("/login/").content.decode()
    settings.LINLI_WECHAT_APP_ID = "wx-app"
    settings.LINLI_WECHAT_APP_SECRET = "secret"
    page = client_for(None).get("/login/?next=/cases/").content.decode()
    assert (
        '<a class="button big" href="/wechat/login/?next=/cases/" data-testid="wechat-login">'
        in page
    )
