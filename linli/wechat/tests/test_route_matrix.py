"""Every WeChat page × every role (the `world` fixture's logins plus anonymous), written out
by hand. Each page concerns only the person asking: nobody reaches another's binding, and a
refused or anonymous POST changes nothing."""

import pytest

from linli.accounts.models import AuditEntry
from linli.accounts.roles import Role
from linli.testing.clients import client_for
from linli.wechat.client import WeChatIdentity
from linli.wechat.models import WeChatAccount
from linli.wechat.services import wechat_bind

ROLES = [
    "anonymous",
    Role.RESIDENT,
    Role.VOLUNTEER,
    Role.PARTNER_LIAISON,
    Role.BUILDING_GROUP_LEADER,
    Role.MICRO_GRID_LEAD,
    Role.SECRETARY,
    Role.STREET_ADMIN,
]
LOGIN = "/login/?next="
FAKE = "fake"

# (method, path) → (status, where a redirect goes) for anonymous, then for everyone signed in.
PAGES = {
    ("get", "/wechat/login/"): ((302, FAKE), (302, "/")),
    # Not started in this browser: refused alike.
    ("get", "/wechat/callback/?code=c&state=s"): ((400, None), (400, None)),
    # No WeChat waiting for a phone code in this session.
    ("get", "/wechat/bind/"): ((400, None), (400, None)),
    ("post", "/wechat/bind/"): ((400, None), (400, None)),
    ("get", "/wechat/account/"): ((302, LOGIN), (200, None)),
    ("post", "/wechat/account/bind/"): ((302, LOGIN), (302, FAKE)),
    ("post", "/wechat/account/unbind/"): ((302, LOGIN), (302, "/wechat/account/")),
}


@pytest.fixture
def bound_world(world):
    for role in ROLES[1:]:
        user = world.users[role]
        wechat_bind(user=user, identity=WeChatIdentity(openid=f"wx-openid-{role}"), actor=user)
    return world


def bindings() -> set[str]:
    return set(WeChatAccount.objects.values_list("openid", flat=True))


@pytest.mark.parametrize("method,path", list(PAGES))
def test_each_wechat_page_answers_each_role_as_the_matrix_says(
    fake_wechat, bound_world, method, path
):
    before = bindings()
    audit_before = AuditEntry.objects.count()
    for role in ROLES:
        expected_status, goes_to = PAGES[(method, path)][0 if role == "anonymous" else 1]
        response = getattr(client_for(bound_world.users[role]), method)(path)
        assert response.status_code == expected_status, role
        if goes_to == FAKE:
            assert response["Location"].startswith(f"{fake_wechat.url}/connect/oauth2/"), role
        elif goes_to is not None:
            assert response["Location"].startswith(goes_to), role
    if path == "/wechat/account/unbind/":
        # Each signed-in person unbound their own WeChat, and only that.
        assert bindings() == set()
        assert AuditEntry.objects.count() == audit_before + len(ROLES) - 1
    else:
        assert bindings() == before
        assert AuditEntry.objects.count() == audit_before


@pytest.mark.parametrize("role", ROLES[1:])
def test_unbinding_touches_only_the_askers_own_wechat(fake_wechat, bound_world, role):
    client_for(bound_world.users[role]).post("/wechat/account/unbind/")
    assert bindings() == {f"wx-openid-{other}" for other in ROLES[1:] if other != role}


@pytest.mark.parametrize("role", ROLES[1:])
def test_the_account_page_shows_the_askers_binding_only(fake_wechat, bound_world, role):
    page = client_for(bound_world.users[role]).get("/wechat/account/").content.decode()
    assert 'data-testid="wechat-bound"' in page
    assert "wx-openid-" not in page  # an openid is never shown, not even one's own
