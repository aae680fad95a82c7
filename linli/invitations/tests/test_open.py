"""The address in the QR code and the SMS: a live invitation goes on to its building's
registration form; anything else gets one friendly page, the same whatever the reason."""

import re
import sys

import pytest

from linli.accounts.roles import Role
from linli.conftest import make_user
from linli.invitations.services import invitation_batch_reissue, invitation_mark_used
from linli.invitations.tests.conftest import invite
from linli.testing.clients import client_for

pytestmark = pytest.mark.django_db

UNUSABLE = "This invitation cannot be used"


def test_a_live_invitation_goes_on_to_the_building_registration_form(world, more, building_tokens):
    result = invite(world.users[Role.SECRETARY], building=world.building)
    token = result.issued[0].token

    response = client_for(None).get(f"/invitations/i/{token}/")

    assert response.status_code == 302
    assert response["Location"] == f"/join/b/b{world.building.pk}:signed/?invitation={token}"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def unusable_page(token: str) -> str:
    """The page's words (the rest of the page carries a per-request nonce)."""
    response = client_for(None).get(f"/invitations/i/{token}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert UNUSABLE in html
    return re.search(r'<section[^>]*data-testid="invitation-unusable".*?</section>', html, re.S)[0]


def test_unknown_used_replaced_and_expired_tokens_get_the_same_page(
    world, more, building_tokens, pinned
):
    from datetime import timedelta

    secretary = world.users[Role.SECRETARY]
    used = invite(secretary, building=world.building).issued[0].token
    invitation_mark_used(token=used, user=make_user("registered"))
    replaced_batch = invite(secretary, building=world.building)
    replaced = replaced_batch.issued[0].token
    invitation_batch_reissue(actor=secretary, batch=replaced_batch.batch)
    expiring = invite(secretary, building=world.building, days=1).issued[0].token
    pinned.shift(timedelta(days=3))

    pages = {unusable_page(token) for token in (used, replaced, expiring, "A" * 32, "not-a-token")}
    assert len(pages) == 1


def test_without_the_registration_app_a_live_invitation_gets_the_friendly_page(
    world, more, monkeypatch
):
    monkeypatch.setitem(sys.modules, "linli.registration.tokens", None)  # import fails
    token = invite(world.users[Role.SECRETARY], building=world.building).issued[0].token

    unusable_page(token)


def test_the_real_building_token_names_the_invitation_building(world, more):
    """With linli.registration's own tokens (when that app is there)."""
    tokens = pytest.importorskip("linli.registration.tokens")
    token = invite(world.users[Role.SECRETARY], building=world.building).issued[0].token

    response = client_for(None).get(f"/invitations/i/{token}/")

    assert response.status_code == 302
    path, query = response["Location"].split("?")
    assert query == f"invitation={token}"
    assert path.startswith("/join/b/") and path.endswith("/")
    assert tokens.building_for_token(path[len("/join/b/") : -1]) == world.building
