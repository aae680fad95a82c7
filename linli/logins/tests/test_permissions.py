"""Every login page and `/api/v1/logins` route × every role of the world.

Expected outcomes are written out by hand from the world (linli/conftest.py) plus
`logins_world` (tests/conftest.py): A社区's secretary manages the logins of A社区, the street
administrator those of the whole street; everyone else is told nothing exists (404), an
anonymous visitor is sent to log in (302) or, on the API, answered 401. A refused write
changes nothing: the rows it would touch and the audit log are compared before and after.
"""

from collections.abc import Callable

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from linli.accounts.models import AuditEntry, User
from linli.accounts.roles import Role
from linli.grids.models import GridUnit, RoleAssignment
from linli.logins import services
from linli.testing.clients import client_for, token_headers

ANONYMOUS = "anonymous"
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
ANON, RES, VOL, PART, BGL, MGL, SEC, STREET = range(8)


def login_id(name: str) -> Callable:
    return lambda world: world.users[name].pk


# Expected status per role, in the order of ROLES:
#  anon  resident volunteer partner  bg-leader  mg-lead  secretary  street
PAGES: dict[str, tuple[Callable, tuple[int, ...]]] = {
    "list": (lambda world: reverse("logins:list"), (302, 404, 404, 404, 404, 404, 200, 200)),
    "list filtered": (
        lambda world: reverse("logins:list") + "?q=vol&role=volunteer&active=yes",
        (302, 404, 404, 404, 404, 404, 200, 200),
    ),
    "new login": (lambda world: reverse("logins:create"), (302, 404, 404, 404, 404, 404, 200, 200)),
    "building-group leader's login": (
        lambda world: reverse("logins:detail", args=[world.users[Role.BUILDING_GROUP_LEADER].pk]),
        (302, 404, 404, 404, 404, 404, 200, 200),
    ),
    "shared login": (
        lambda world: reverse("logins:detail", args=[world.users["shared"].pk]),
        (302, 404, 404, 404, 404, 404, 200, 200),
    ),
    "C社区's secretary's login": (
        lambda world: reverse("logins:detail", args=[world.users["c_secretary"].pk]),
        (302, 404, 404, 404, 404, 404, 404, 200),
    ),
    "a login that does not exist": (
        lambda world: reverse("logins:detail", args=[999999]),
        (302, 404, 404, 404, 404, 404, 404, 404),
    ),
    # Nobody here holds a temporary password: the page sends them on, home.
    "own password": (lambda world: reverse("logins:password"), (302,) * 8),
}


@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
@pytest.mark.parametrize("page", PAGES, ids=list(PAGES))
def test_page_answers_each_role(logins_world, page, role_index):
    address, expected = PAGES[page]
    role = ROLES[role_index]
    response = client_for(logins_world.users[role]).get(address(logins_world))
    assert response.status_code == expected[role_index]
    if response.status_code == 302 and role == ANONYMOUS:
        assert response.url.startswith(reverse("web:login"))


def test_the_menu_offers_logins_to_those_who_assign_posts(logins_world):
    for role in ROLES[1:]:
        page = client_for(logins_world.users[role]).get(reverse("web:home"))
        shown = 'data-testid="logins-link"' in page.content.decode()
        assert shown == (role in (Role.SECRETARY, Role.STREET_ADMIN)), role


# Writes ---------------------------------------------------------------------------------------


def _state(world) -> tuple:
    """Everything a refused write might have touched."""
    users = tuple(User.objects.order_by("pk").values_list("pk", "is_active", "password"))
    posts = tuple(RoleAssignment.objects.order_by("pk").values_list("pk", "user_id", "role"))
    return users, posts, AuditEntry.objects.count(), TOTPDevice.objects.count()


def _volunteer_post(world) -> int:
    return RoleAssignment.objects.get(user=world.users[Role.VOLUNTEER]).pk


def _deactivated_volunteer(world) -> None:
    services.login_deactivate(
        actor=world.users[Role.STREET_ADMIN], login=world.users[Role.VOLUNTEER]
    )


def _micro_grid_lead_enrolled(world) -> None:
    TOTPDevice.objects.create(user=world.users[Role.MICRO_GRID_LEAD], name="app", confirmed=True)


# Each write: its address, its form, a preparation of the world, and the status per role.
# A secretary may not reset two-factor sign-in (a street administrator's task): 403.
WRITES: dict[str, tuple[Callable, Callable, Callable | None, tuple[int, ...]]] = {
    "deactivate the volunteer": (
        lambda world: reverse("logins:deactivate", args=[world.users[Role.VOLUNTEER].pk]),
        lambda world: {"reason": "left"},
        None,
        (302, 404, 404, 404, 404, 404, 302, 302),
    ),
    "reactivate the volunteer": (
        lambda world: reverse("logins:reactivate", args=[world.users[Role.VOLUNTEER].pk]),
        lambda world: {},
        _deactivated_volunteer,
        # The deactivated volunteer is nobody now: sent to log in.
        (302, 404, 302, 404, 404, 404, 302, 302),
    ),
    "deactivate C社区's secretary": (
        lambda world: reverse("logins:deactivate", args=[world.users["c_secretary"].pk]),
        lambda world: {},
        None,
        (302, 404, 404, 404, 404, 404, 404, 302),
    ),
    "deactivate the shared login": (
        lambda world: reverse("logins:deactivate", args=[world.users["shared"].pk]),
        lambda world: {},
        None,
        (302, 404, 404, 404, 404, 404, 403, 302),
    ),
    "temporary password for the volunteer": (
        lambda world: reverse("logins:temporary_password", args=[world.users[Role.VOLUNTEER].pk]),
        lambda world: {},
        None,
        (302, 404, 404, 404, 404, 404, 302, 302),
    ),
    "give the volunteer a post": (
        lambda world: reverse("logins:post_add", args=[world.users[Role.VOLUNTEER].pk]),
        lambda world: {"post": "building_group_head", "grid_unit": world.other_building_group.pk},
        None,
        (302, 404, 404, 404, 404, 404, 302, 302),
    ),
    "remove the volunteer's post": (
        lambda world: reverse(
            "logins:post_remove", args=[world.users[Role.VOLUNTEER].pk, _volunteer_post(world)]
        ),
        lambda world: {},
        None,
        (302, 404, 404, 404, 404, 404, 302, 302),
    ),
    "remove the shared login's post in C社区": (
        lambda world: reverse(
            "logins:post_remove",
            args=[
                world.users["shared"].pk,
                RoleAssignment.objects.get(
                    user=world.users["shared"], grid_path__contains="/C/"
                ).pk,
            ],
        ),
        lambda world: {},
        None,
        (302, 404, 404, 404, 404, 404, 404, 302),
    ),
    "reset the micro-grid lead's two-factor sign-in": (
        lambda world: reverse(
            "logins:two_factor_reset", args=[world.users[Role.MICRO_GRID_LEAD].pk]
        ),
        lambda world: {"reason": "lost phone"},
        _micro_grid_lead_enrolled,
        (302, 404, 404, 404, 404, 404, 403, 302),
    ),
    "make a login": (
        lambda world: reverse("logins:create"),
        lambda world: {
            "username": "newcomer",
            "display_name": "新同事",
            "phone": "13900001111",
            "post": "building_group_head",
            "grid_unit": world.other_building_group.pk,
            "sign_in": "temporary_password",
        },
        None,
        (302, 404, 404, 404, 404, 404, 302, 302),
    ),
}


@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
@pytest.mark.parametrize("write", WRITES, ids=list(WRITES))
def test_write_answers_each_role_and_a_refusal_changes_nothing(logins_world, write, role_index):
    address, form, prepare, expected = WRITES[write]
    if prepare is not None:
        prepare(logins_world)
    role = ROLES[role_index]
    before = _state(logins_world)
    response = client_for(logins_world.users[role]).post(address(logins_world), form(logins_world))
    assert response.status_code == expected[role_index]
    sent_to_log_in = response.status_code == 302 and response.url.startswith(reverse("web:login"))
    if role == ANONYMOUS:
        assert sent_to_log_in
    if response.status_code != 302 or sent_to_log_in:
        assert _state(logins_world) == before
    else:
        assert _state(logins_world) != before


def test_a_refusal_names_its_reason_on_the_403_page(logins_world):
    shared = logins_world.users["shared"]
    response = client_for(logins_world.users[Role.SECRETARY]).post(
        reverse("logins:deactivate", args=[shared.pk])
    )
    assert response.status_code == 403
    assert (
        "This login also holds a post or resident login outside your area: staff above both "
        "(the street administrator) deactivate it."
    ) in response.content.decode()


# The API ----------------------------------------------------------------------------------------

API = "/api/v1/logins"
# The logins each role lists (usernames), from the world and logins_world.
A_LOGINS = {
    "secretary",
    "micro_grid_lead",
    "building_group_leader",
    "volunteer",
    "partner_liaison",
    "resident",
    "shared",
}
LISTED = {
    Role.SECRETARY: A_LOGINS,
    Role.STREET_ADMIN: A_LOGINS | {"street_admin", "c_secretary"},
}


@pytest.mark.parametrize("role", ROLES)
def test_api_list_shows_exactly_the_area(logins_world, role):
    response = client_for(None).get(
        f"{API}?limit=200", headers=token_headers(logins_world.users[role])
    )
    if role == ANONYMOUS:
        assert response.status_code == 401
        return
    if role not in LISTED:
        assert response.status_code == 404
        assert response.json() == {"message": "Not found.", "field": None}
        return
    assert response.status_code == 200
    body = response.json()
    assert {item["username"] for item in body["items"]} == LISTED[role]
    assert body["count"] == len(LISTED[role])


# Status per role for each single-login route, by whose login it is.
#                      anon resident volunteer partner bg-leader mg-lead secretary street
DETAIL = {
    "volunteer": (401, 404, 404, 404, 404, 404, 200, 200),
    "c_secretary": (401, 404, 404, 404, 404, 404, 404, 200),
    "shared": (401, 404, 404, 404, 404, 404, 200, 200),
}
DEACTIVATE = {
    "volunteer": (401, 404, 404, 404, 404, 404, 200, 200),
    "c_secretary": (401, 404, 404, 404, 404, 404, 404, 200),
    "shared": (401, 404, 404, 404, 404, 404, 403, 200),
}


@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
@pytest.mark.parametrize("target", DETAIL)
def test_api_detail_answers_each_role(logins_world, target, role_index):
    role = ROLES[role_index]
    login = logins_world.users[target]
    response = client_for(None).get(
        f"{API}/{login.pk}", headers=token_headers(logins_world.users[role])
    )
    assert response.status_code == DETAIL[target][role_index]
    if response.status_code == 404:
        assert response.json() == {"message": "Not found.", "field": "login_id"}
    if response.status_code == 200:
        assert response.json()["username"] == target


@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
@pytest.mark.parametrize("target", DEACTIVATE)
def test_api_deactivate_and_reactivate_answer_each_role(logins_world, target, role_index):
    role = ROLES[role_index]
    login = logins_world.users[target]
    headers = token_headers(logins_world.users[role])
    before = _state(logins_world)
    response = client_for(None).post(
        f"{API}/{login.pk}/deactivate",
        {"reason": "left"},
        content_type="application/json",
        headers=headers,
    )
    expected = DEACTIVATE[target][role_index]
    assert response.status_code == expected
    if expected != 200:
        assert _state(logins_world) == before
        return
    assert response.json()["is_active"] is False
    response = client_for(None).post(
        f"{API}/{login.pk}/reactivate", content_type="application/json", headers=headers
    )
    assert response.status_code == 200
    assert response.json()["is_active"] is True


@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
def test_api_reactivate_answers_each_role(logins_world, role_index):
    role = ROLES[role_index]
    headers = token_headers(logins_world.users[role])
    _deactivated_volunteer(logins_world)
    volunteer = logins_world.users[Role.VOLUNTEER]
    before = _state(logins_world)
    response = client_for(None).post(
        f"{API}/{volunteer.pk}/reactivate", content_type="application/json", headers=headers
    )
    # The volunteer's own token was revoked with the deactivation: 401.
    assert response.status_code == (401, 404, 401, 404, 404, 404, 200, 200)[role_index]
    if response.status_code != 200:
        assert _state(logins_world) == before


@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
def test_api_create_answers_each_role(logins_world, role_index):
    role = ROLES[role_index]
    headers = token_headers(logins_world.users[role])
    before = _state(logins_world)
    response = client_for(None).post(
        API,
        {
            "username": "newcomer",
            "display_name": "新同事",
            "phone": "13900001111",
            "post": "building_group_head",
            "grid_unit_id": logins_world.other_building_group.pk,
        },
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == (401, 404, 404, 404, 404, 404, 201, 201)[role_index]
    if response.status_code != 201:
        assert _state(logins_world) == before
        return
    body = response.json()
    assert body["login"]["username"] == "newcomer"
    assert body["login"]["phone"] == "139****1111"
    assert len(body["temporary_password"]) == 12


def test_api_create_outside_the_area_is_not_found(logins_world):
    headers = token_headers(logins_world.users[Role.SECRETARY])
    before = _state(logins_world)
    response = client_for(None).post(
        API,
        {
            "username": "newcomer",
            "display_name": "新同事",
            "phone": "13900001111",
            "post": "building_group_head",
            "grid_unit_id": GridUnit.objects.get(code="C1-1").pk,
        },
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 404
    assert response.json() == {"message": "Not found.", "field": "grid_unit_id"}
    assert _state(logins_world) == before
