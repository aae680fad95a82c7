"""Every invitation route × every role, written out by hand from the `world` fixture:
staff who may change the registry (micro-grid lead, secretary, street administrator) use
the pages inside their scope; everyone else gets 404 (anonymous: the login page); the
public address answers everyone alike. A denied call changes nothing."""

import pytest

from linli.accounts.models import AuditEntry
from linli.accounts.roles import Role
from linli.grids.models import Building
from linli.invitations.models import Invitation, InvitationBatch
from linli.invitations.tests.conftest import invite
from linli.notify.models import Notification
from linli.testing.clients import client_for

pytestmark = pytest.mark.django_db

ANONYMOUS = "anonymous"
STAFF = {Role.MICRO_GRID_LEAD, Role.SECRETARY, Role.STREET_ADMIN}
ROLES = [
    ANONYMOUS,
    Role.RESIDENT,
    Role.VOLUNTEER,
    Role.PARTNER_LIAISON,
    Role.BUILDING_GROUP_LEADER,
    Role.MICRO_GRID_LEAD,
    Role.SECRETARY,
    Role.STREET_ADMIN,
]


@pytest.fixture
def batches(world, more):
    # A batch in 1号楼 (building group A1-1) and one in 9号楼 (community C).
    near = invite(world.users[Role.SECRETARY], building=world.building, channel="sms")
    far = invite(
        world.users[Role.STREET_ADMIN], building=Building.objects.get(name="9号楼"), channel="sms"
    )
    return {"near": near, "far": far}


def counts() -> tuple[int, ...]:
    return (
        InvitationBatch.objects.count(),
        Invitation.objects.count(),
        Invitation.objects.filter(revoked_at__isnull=False).count(),
        Notification.objects.count(),
        AuditEntry.objects.count(),
    )


def create_form(world) -> dict:
    return {
        "selection": "building",
        "building": world.building.pk,
        "days": "30",
        "channel": "sms",
        "skip_registered": "on",
        "action": "create",
    }


# (method, route, expected for staff in scope)
ROUTES = {
    "index": ("get", "/invitations/", 200),
    "create": ("post", "/invitations/", 302),
    "batch": ("get", "/invitations/batches/{near}/", 200),
    "reissue": ("post", "/invitations/batches/{near}/reissue/", 302),
    "no_phone_letters": ("post", "/invitations/batches/{near}/no-phone-letters/", 200),
    "far_batch": ("get", "/invitations/batches/{far}/", None),
    "far_reissue": ("post", "/invitations/batches/{far}/reissue/", None),
}
# Only the street administrator sees community C's batch.
FAR = {Role.STREET_ADMIN: {"far_batch": 200, "far_reissue": 302}}


def expected(role: str, route: str) -> int:
    if role == ANONYMOUS:
        return 302
    if role not in STAFF:
        return 404
    staff_answer = ROUTES[route][2]
    if staff_answer is None:
        return FAR.get(role, {}).get(route, 404)
    return staff_answer


@pytest.mark.parametrize("route", list(ROUTES))
@pytest.mark.parametrize("role", ROLES)
def test_route_by_role(world, batches, role, route):
    method, template, _staff = ROUTES[route]
    url = template.format(near=batches["near"].batch.pk, far=batches["far"].batch.pk)
    client = client_for(world.users[role])
    before = counts()

    data = create_form(world) if route == "create" else {}
    response = getattr(client, method)(url, data)

    assert response.status_code == expected(role, route)
    if role == ANONYMOUS:
        assert response["Location"].startswith("/login/") or "login" in response["Location"]
    if response.status_code in (302, 404) and (role not in STAFF or expected(role, route) == 404):
        assert counts() == before


@pytest.mark.parametrize("role", ROLES)
def test_the_public_address_answers_everyone_the_same(world, batches, building_tokens, role):
    token = batches["near"].issued[0].token
    client = client_for(world.users[role])

    live = client.get(f"/invitations/i/{token}/")
    unknown = client.get("/invitations/i/" + "Z" * 32 + "/")

    assert (live.status_code, unknown.status_code) == (302, 200)
    assert live["Location"] == f"/join/b/b{world.building.pk}:signed/?invitation={token}"


def test_the_batch_list_shows_only_batches_in_scope(world, batches):
    secretary_page = client_for(world.users[Role.SECRETARY]).get("/invitations/")
    street_page = client_for(world.users[Role.STREET_ADMIN]).get("/invitations/")

    assert [b.description for b in secretary_page.context["page"]] == ["1号楼"]
    assert [b.description for b in street_page.context["page"]] == ["9号楼", "1号楼"]
    lead_page = client_for(world.users[Role.MICRO_GRID_LEAD]).get("/invitations/")
    assert [b.description for b in lead_page.context["page"]] == ["1号楼"]
    assert [b.name for b in lead_page.context["buildings"]] == ["1号楼"]


@pytest.mark.parametrize(
    "role",
    [Role.BUILDING_GROUP_LEADER, Role.MICRO_GRID_LEAD, Role.SECRETARY, Role.STREET_ADMIN],
)
def test_the_registry_home_links_the_invitations_for_those_who_may_invite(world, role):
    response = client_for(world.users[role]).get("/registry/grids/")

    assert response.status_code == 200
    assert ('data-testid="invitations-link"' in response.content.decode()) == (role in STAFF)
