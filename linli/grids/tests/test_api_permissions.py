"""The API half of the permission matrix: every `/api/v1` route × every role.

The expected outcomes are written out by hand below, from the `world` fixture's tree
(see linli/conftest.py), rather than computed from the code under test. Callers
authenticate as apps do, with a bearer token from POST /api/v1/auth/token. Denied writes
must change nothing: the Visit (or correction request) and AuditEntry row counts are compared
before and after.
"""

import pytest
from django.conf import settings
from django.test import Client

from linli.accounts.models import ApiToken, AuditEntry
from linli.accounts.roles import Role
from linli.conftest import PASSWORD, make_user
from linli.grids.models import Building, GridUnit, Household, Resident, Visit
from linli.grids.services import resident_account_link, role_assign, visit_record
from linli.privacy.corrections import correction_request_create
from linli.privacy.models import CorrectionRequest, PrivacyNoticeAcceptance
from linli.testing.clients import token_headers

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

ALL_GRIDS = {"S", "B", "A", "A1", "A2", "A1-1", "A2-1", "C", "C1", "C1-1"}
ALL_BUILDINGS = {"1号楼", "2号楼", "9号楼"}
ALL_ROOMS = {"101", "102", "201", "901"}
ALL_RESIDENTS = {"张桂英", "李建国", "王芳", "赵强"}

# What each role sees, per resource, by natural key: grid code, building name, household
# room, resident name, and (one visit per household) the visited household's room.
VISIBLE: dict[str, dict[str, set[str]]] = {
    Role.STREET_ADMIN: {
        "grids": ALL_GRIDS,
        "buildings": ALL_BUILDINGS,
        "households": ALL_ROOMS,
        "residents": ALL_RESIDENTS,
        "visits": ALL_ROOMS,
    },
    Role.SECRETARY: {
        "grids": {"A", "A1", "A2", "A1-1", "A2-1"},
        "buildings": {"1号楼", "2号楼"},
        "households": {"101", "102", "201"},
        "residents": {"张桂英", "李建国", "王芳"},
        "visits": {"101", "102", "201"},
    },
    Role.MICRO_GRID_LEAD: {
        "grids": {"A1", "A1-1"},
        "buildings": {"1号楼"},
        "households": {"101", "102"},
        "residents": {"张桂英", "李建国"},
        "visits": {"101", "102"},
    },
    Role.BUILDING_GROUP_LEADER: {
        "grids": {"A1-1"},
        "buildings": {"1号楼"},
        "households": {"101", "102"},
        "residents": {"张桂英", "李建国"},
        "visits": {"101", "102"},
    },
    # A resident sees their own household and nothing of the grid around it.
    Role.RESIDENT: {
        "grids": set(),
        "buildings": {"1号楼"},
        "households": {"101"},
        "residents": {"张桂英"},
        "visits": {"101"},
    },
    # Volunteers and partner liaisons see no part of the registry through their role.
    Role.VOLUNTEER: {
        "grids": set(),
        "buildings": set(),
        "households": set(),
        "residents": set(),
        "visits": set(),
    },
    Role.PARTNER_LIAISON: {
        "grids": set(),
        "buildings": set(),
        "households": set(),
        "residents": set(),
        "visits": set(),
    },
}

# Households each role may record a visit to (RECORD_VISIT within the subtree), and
# residents whose full numbers each role may reveal (REVEAL within the subtree).
MAY_VISIT = {
    Role.STREET_ADMIN: ALL_ROOMS,
    Role.SECRETARY: {"101", "102", "201"},
    Role.MICRO_GRID_LEAD: {"101", "102"},
    Role.BUILDING_GROUP_LEADER: {"101", "102"},
}
MAY_REVEAL = {
    Role.STREET_ADMIN: ALL_RESIDENTS,
    Role.SECRETARY: {"张桂英", "李建国", "王芳"},
    Role.MICRO_GRID_LEAD: {"张桂英", "李建国"},
}

LIST_ROUTES = ["grids", "buildings", "households", "residents", "visits"]


@pytest.fixture
def client():
    # English, so that the assertions on messages hold whatever the default language.
    return Client(headers={"Accept-Language": "en"})


def item_key(resource: str, item: dict) -> str:
    return {
        "grids": lambda: item["code"],
        "buildings": lambda: item["name"],
        "households": lambda: item["room"],
        "residents": lambda: item["name"],
        "visits": lambda: item["room"],
    }[resource]()


def ids_by_key(resource: str) -> dict[str, int]:
    if resource == "grids":
        return dict(GridUnit.objects.values_list("code", "id"))
    if resource == "buildings":
        return dict(Building.objects.values_list("name", "id"))
    if resource == "households":
        return dict(Household.objects.values_list("room", "id"))
    if resource == "residents":
        return dict(Resident.objects.values_list("name", "id"))
    return dict(Visit.objects.values_list("household__room", "id"))


@pytest.fixture
def visited_world(world):
    """The world, plus one visit to each household, recorded by the street administrator."""
    admin = world.users[Role.STREET_ADMIN]
    for household in Household.objects.all():
        visit_record(
            visitor=admin,
            household=household,
            method="door",
            finding=f"Visited {household.room}",
            needs_follow_up=household.room == "101",
        )
    return world


def row_counts() -> tuple[int, int]:
    return Visit.objects.count(), AuditEntry.objects.count()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("resource", LIST_ROUTES)
def test_list_route_shows_exactly_the_role_scope(client, visited_world, resource, role):
    headers = token_headers(visited_world.users[role])
    response = client.get(f"/api/v1/{resource}?limit=200", headers=headers)
    if role == ANONYMOUS:
        assert response.status_code == 401
        assert response.json() == {"message": "Authentication required.", "field": None}
        return
    assert response.status_code == 200
    body = response.json()
    expected = VISIBLE[role][resource]
    assert {item_key(resource, item) for item in body["items"]} == expected
    assert body["count"] == len(expected)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("resource", LIST_ROUTES)
def test_detail_route_answers_404_outside_the_role_scope(client, visited_world, resource, role):
    headers = token_headers(visited_world.users[role])
    field = {
        "grids": "grid_unit_id",
        "buildings": "building_id",
        "households": "household_id",
        "residents": "resident_id",
        "visits": "visit_id",
    }[resource]
    outcomes = {}
    for key, pk in ids_by_key(resource).items():
        response = client.get(f"/api/v1/{resource}/{pk}", headers=headers)
        outcomes[key] = response.status_code
        if response.status_code == 404:
            assert response.json() == {"message": "Not found.", "field": field}
        elif response.status_code == 200:
            assert item_key(resource, response.json()) == key
    if role == ANONYMOUS:
        assert set(outcomes.values()) == {401}
        return
    visible = VISIBLE[role][resource]
    assert outcomes == {key: 200 if key in visible else 404 for key in outcomes}


@pytest.mark.parametrize("role", ROLES)
def test_visit_create_is_allowed_only_within_record_visit_scope(client, visited_world, role):
    headers = token_headers(visited_world.users[role])
    for room, household_id in ids_by_key("households").items():
        before = row_counts()
        response = client.post(
            "/api/v1/visits",
            {"household_id": household_id, "method": "phone", "finding": "All well"},
            content_type="application/json",
            headers=headers,
        )
        if role == ANONYMOUS:
            expected = 401
        elif room in MAY_VISIT.get(role, set()):
            expected = 201
        elif room in VISIBLE[role]["households"]:
            expected = 403  # visible (a resident's own household), but not theirs to visit
        else:
            expected = 404
        assert (room, response.status_code) == (room, expected)
        if expected == 201:
            assert row_counts() == (before[0] + 1, before[1])
            assert response.json()["household_id"] == household_id
        else:
            assert row_counts() == before
            assert set(response.json()) == {"message", "field"}


@pytest.mark.parametrize("role", ROLES)
def test_reveal_is_allowed_only_within_reveal_scope(client, visited_world, role):
    headers = token_headers(visited_world.users[role])
    phones = dict(Resident.objects.values_list("name", "phone"))
    for name, resident_id in ids_by_key("residents").items():
        before = row_counts()
        response = client.post(
            f"/api/v1/residents/{resident_id}/reveal",
            {"field": "phone", "purpose": "visit_contact", "reason": "Arranging a home visit"},
            content_type="application/json",
            headers=headers,
        )
        if role == ANONYMOUS:
            expected = 401
        elif name in MAY_REVEAL.get(role, set()):
            expected = 200
        elif name in VISIBLE[role]["residents"]:
            expected = 403
        else:
            expected = 404
        assert (name, response.status_code) == (name, expected)
        if expected == 200:
            assert response.json() == {"field": "phone", "value": phones[name]}
            assert row_counts() == (before[0], before[1] + 1)
        else:
            assert row_counts() == before
            assert "value" not in response.json()


@pytest.mark.parametrize("role", ROLES)
def test_token_route_and_docs_need_no_authentication(client, world, role):
    # The token route and the docs are the only routes open to anonymous callers.
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/api/v1/docs").status_code == 200
    if role == ANONYMOUS:
        response = client.post(
            "/api/v1/auth/token",
            {"username": "nobody", "password": PASSWORD},
            content_type="application/json",
        )
        assert response.status_code == 401
        return
    headers = token_headers(world.users[role])
    assert client.get("/api/v1/residents", headers=headers).status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_own_tokens_only(client, world, role):
    # Every role lists and revokes its own tokens and nobody else's; anonymous callers
    # neither list nor revoke. Another person's token is not found, and stays live.
    others = {
        other: token_headers(world.users[other])
        for other in ROLES
        if other not in (ANONYMOUS, role)
    }
    other_ids = list(ApiToken.objects.values_list("id", flat=True))
    headers = token_headers(world.users[role])
    listing = client.get("/api/v1/auth/tokens", headers=headers)
    if role == ANONYMOUS:
        assert listing.status_code == 401
    else:
        assert listing.status_code == 200
        own = ApiToken.objects.get(user=world.users[role])
        assert [item["id"] for item in listing.json()["items"]] == [own.pk]
    before = AuditEntry.objects.count()
    for token_id in other_ids:
        response = client.delete(f"/api/v1/auth/tokens/{token_id}", headers=headers)
        assert response.status_code == (401 if role == ANONYMOUS else 404)
    assert AuditEntry.objects.count() == before
    assert ApiToken.objects.filter(revoked_at__isnull=False).count() == 0
    for other_headers in others.values():
        assert client.get("/api/v1/auth/tokens", headers=other_headers).status_code == 200
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == (
        401 if role == ANONYMOUS else 204
    )
    # Signing out revoked the caller's own token, and no one else's.
    revoked = ApiToken.objects.filter(revoked_at__isnull=False)
    assert list(revoked.values_list("user__username", flat=True)) == (
        [] if role == ANONYMOUS else [world.users[role].username]
    )
    if role != ANONYMOUS:
        assert client.get("/api/v1/auth/tokens", headers=headers).status_code == 401


# The privacy routes (notice, consent, correction requests) ---------------------------------

# A secretary of C社区: the same role as `secretary`, in the other community.
OTHER = "other_community_secretary"
PRIVACY_ROLES = [*ROLES, OTHER]


@pytest.fixture
def privacy_world(world):
    """The world, a secretary of C社区, and one open correction request in each community,
    each asked by the resident's own login: 张桂英 (1号楼 101) and 赵强 (9号楼 901)."""
    other = make_user(OTHER)
    role_assign(
        user=other, role=Role.SECRETARY, grid_unit=world.other_community, post="party_secretary"
    )
    world.users[OTHER] = other
    c_resident = make_user("c_resident")
    role_assign(
        user=c_resident,
        role=Role.RESIDENT,
        grid_unit=world.other_community_household.building.grid_unit,
        post="resident",
    )
    resident_account_link(resident=world.other_community_resident, user=c_resident)
    world.corrections = {
        "A": correction_request_create(
            user=world.users[Role.RESIDENT],
            resident=world.resident,
            field="phone",
            requested_value="13812349999",
        ),
        "C": correction_request_create(
            user=c_resident,
            resident=world.other_community_resident,
            field="phone",
            requested_value="13600009999",
        ),
    }
    return world


@pytest.mark.parametrize("role", PRIVACY_ROLES)
def test_everyone_reads_the_notice_and_accepts_it_for_themselves_only(client, privacy_world, role):
    world = privacy_world
    headers = token_headers(world.users[role])
    before = AuditEntry.objects.count()
    read = client.get("/api/v1/privacy/notice", headers=headers)
    accept = client.post(
        "/api/v1/privacy/notice/accept",
        {"version": settings.LINLI_PRIVACY_NOTICE_VERSION},
        content_type="application/json",
        headers=headers,
    )
    if role == ANONYMOUS:
        assert (read.status_code, accept.status_code) == (401, 401)
        assert not PrivacyNoticeAcceptance.objects.exists()
        assert AuditEntry.objects.count() == before
        return
    assert read.status_code == 200
    assert (read.json()["version"], read.json()["accepted"]) == (
        settings.LINLI_PRIVACY_NOTICE_VERSION,
        False,
    )
    assert accept.status_code == 200
    assert list(PrivacyNoticeAcceptance.objects.values_list("user__username", flat=True)) == [
        world.users[role].username
    ]
    assert AuditEntry.objects.count() == before + 1


# Which requests each role lists (by community), and may handle.
CORRECTIONS_LISTED = {
    Role.RESIDENT: {"A"},  # their own household's
    Role.VOLUNTEER: set(),
    Role.PARTNER_LIAISON: set(),
    Role.BUILDING_GROUP_LEADER: set(),
    Role.MICRO_GRID_LEAD: {"A"},
    Role.SECRETARY: {"A"},
    Role.STREET_ADMIN: {"A", "C"},
    OTHER: {"C"},
}
MAY_HANDLE = {
    Role.MICRO_GRID_LEAD: {"A"},
    Role.SECRETARY: {"A"},
    Role.STREET_ADMIN: {"A", "C"},
    OTHER: {"C"},
}


def correction_rows() -> list[dict]:
    return list(CorrectionRequest.objects.order_by("pk").values())


def privacy_counts() -> tuple[int, int, int]:
    return CorrectionRequest.objects.count(), Resident.objects.count(), AuditEntry.objects.count()


@pytest.mark.parametrize("role", PRIVACY_ROLES)
def test_correction_list_shows_own_and_handleable_requests_only(client, privacy_world, role):
    headers = token_headers(privacy_world.users[role])
    response = client.get("/api/v1/privacy/corrections", headers=headers)
    if role == ANONYMOUS:
        assert response.status_code == 401
        return
    assert response.status_code == 200
    community = {c.pk: key for key, c in privacy_world.corrections.items()}
    listed = {community[item["id"]]: item["may_handle"] for item in response.json()["items"]}
    assert listed == {key: key in MAY_HANDLE.get(role, set()) for key in CORRECTIONS_LISTED[role]}
    assert response.json()["count"] == len(CORRECTIONS_LISTED[role])


@pytest.mark.parametrize("role", PRIVACY_ROLES)
def test_only_a_resident_asks_for_a_correction_and_of_their_own_household(
    client, privacy_world, role
):
    headers = token_headers(privacy_world.users[role])
    outcomes = {}
    for resident in (privacy_world.resident, privacy_world.neighbour):
        before = privacy_counts()
        response = client.post(
            "/api/v1/privacy/corrections",
            {"resident_id": resident.pk, "field": "name", "requested_value": "张桂瑛"},
            content_type="application/json",
            headers=headers,
        )
        outcomes[resident.name] = response.status_code
        if response.status_code == 201:
            assert privacy_counts() == (before[0] + 1, before[1], before[2] + 1)
            assert response.json()["resident_id"] == resident.pk
        else:
            assert privacy_counts() == before
            assert set(response.json()) == {"message", "field"}
    if role == ANONYMOUS:
        assert outcomes == {"张桂英": 401, "李建国": 401}
    elif role == Role.RESIDENT:
        assert outcomes == {"张桂英": 201, "李建国": 404}
    else:
        # Staff correct the register directly; they ask nothing through this route.
        assert outcomes == {"张桂英": 404, "李建国": 404}


@pytest.mark.parametrize("action", ["apply", "decline"])
@pytest.mark.parametrize("role", PRIVACY_ROLES)
def test_a_correction_is_handled_only_by_staff_covering_the_household(
    client, privacy_world, role, action
):
    headers = token_headers(privacy_world.users[role])
    payload = {"apply": {"decision_note": "已核实"}, "decline": {"reason": "号码未变，无需更正"}}
    outcomes = {}
    for key, correction in privacy_world.corrections.items():
        rows_before, counts_before = correction_rows(), privacy_counts()
        resident_before = Resident.objects.values().get(pk=correction.resident_id)
        response = client.post(
            f"/api/v1/privacy/corrections/{correction.pk}/{action}",
            payload[action],
            content_type="application/json",
            headers=headers,
        )
        outcomes[key] = response.status_code
        if response.status_code == 200:
            assert response.json()["state"] == {"apply": "applied", "decline": "declined"}[action]
            assert AuditEntry.objects.count() > counts_before[2]
            continue
        assert set(response.json()) == {"message", "field"}
        assert correction_rows() == rows_before
        assert Resident.objects.values().get(pk=correction.resident_id) == resident_before
        assert privacy_counts() == counts_before
    if role == ANONYMOUS:
        expected = {"A": 401, "C": 401}
    else:
        expected = {
            key: 200
            if key in MAY_HANDLE.get(role, set())
            # The resident sees their own request but may not decide it.
            else 403
            if key in CORRECTIONS_LISTED[role]
            else 404
            for key in privacy_world.corrections
        }
    assert outcomes == expected


def test_matrix_covers_every_api_operation(client, db):
    # If an operation is added (a new path, or a new method on a known path), this list (and
    # the matrix above) must grow with it.
    schema_paths = client.get("/api/v1/openapi.json").json()["paths"]
    operations = {
        path: " ".join(sorted(method.upper() for method in methods))
        for path, methods in schema_paths.items()
    }
    assert operations == {
        "/api/v1/auth/token": "DELETE POST",
        # The caller's own tokens: test_own_tokens_only above and
        # linli/accounts/tests/test_api_tokens_lifecycle.py.
        "/api/v1/auth/tokens": "GET",
        "/api/v1/auth/tokens/{token_id}": "DELETE",
        "/api/v1/grids": "GET",
        "/api/v1/grids/{grid_unit_id}": "GET",
        "/api/v1/buildings": "GET",
        "/api/v1/buildings/{building_id}": "GET",
        "/api/v1/households": "GET",
        "/api/v1/households/{household_id}": "GET",
        "/api/v1/residents": "GET",
        "/api/v1/residents/{resident_id}": "GET",
        "/api/v1/residents/{resident_id}/reveal": "POST",
        "/api/v1/visits": "GET POST",
        "/api/v1/visits/{visit_id}": "GET",
        "/api/v1/notifications": "GET",
        "/api/v1/notifications/{notification_id}/read": "POST",
        "/api/v1/notifications/read-all": "POST",
        # The caller's own settings and follows: linli/notify/tests/test_preferences_and_follows.py.
        "/api/v1/notifications/preferences": "GET PATCH",
        "/api/v1/notifications/follows": "GET",
        "/api/v1/notifications/follows/{target}": "DELETE",
        # Self-registration and leaders' decisions: linli/registration/tests/.
        "/api/v1/registration": "POST",
        "/api/v1/registration/requests": "GET",
        "/api/v1/registration/requests/{request_id}/approve": "POST",
        "/api/v1/registration/requests/{request_id}/reject": "POST",
        # Logins managed by secretaries and the street administrator: linli/logins/tests/.
        "/api/v1/logins": "GET POST",
        "/api/v1/logins/{login_id}": "GET",
        "/api/v1/logins/{login_id}/deactivate": "POST",
        "/api/v1/logins/{login_id}/reactivate": "POST",
        # Phone-code sign-in for apps: linli/signin/tests/.
        "/api/v1/signin/phone-codes": "POST",
        "/api/v1/signin/phone-sessions": "POST",
        # The privacy notice and correction requests: the privacy tests above.
        "/api/v1/privacy/notice": "GET",
        "/api/v1/privacy/notice/accept": "POST",
        "/api/v1/privacy/corrections": "GET POST",
        "/api/v1/privacy/corrections/{correction_id}/apply": "POST",
        "/api/v1/privacy/corrections/{correction_id}/decline": "POST",
        # Cases: role-by-role expectations live in linli/cases/tests/ (test_api.py,
        # test_handling_api.py, test_categories.py, test_photos.py, test_metrics.py).
        "/api/v1/cases": "GET POST",
        "/api/v1/cases/categories": "GET POST",
        "/api/v1/cases/categories/{category_id}": "PATCH",
        "/api/v1/cases/categories/{category_id}/deactivate": "POST",
        "/api/v1/cases/duplicates": "GET",
        "/api/v1/cases/metrics": "GET",
        "/api/v1/cases/with-photos": "POST",
        "/api/v1/cases/{case_id}": "GET",
        "/api/v1/cases/{case_id}/actions": "POST",
        "/api/v1/cases/{case_id}/assignees": "GET",
        "/api/v1/cases/{case_id}/coordinations": "POST",
        "/api/v1/cases/{case_id}/escalate": "POST",
        "/api/v1/cases/{case_id}/photos": "POST",
        # Partners and the three lists: linli/partners/tests/test_api.py.
        "/api/v1/partners/claims": "GET",
        "/api/v1/partners/claims/{claim_id}": "GET",
        "/api/v1/partners/claims/{claim_id}/actions": "POST",
        "/api/v1/partners/needs": "GET POST",
        "/api/v1/partners/needs/{need_id}": "GET",
        "/api/v1/partners/needs/{need_id}/cancel": "POST",
        "/api/v1/partners/needs/{need_id}/claim-resource": "POST",
        "/api/v1/partners/needs/{need_id}/claims": "POST",
        "/api/v1/partners/needs/{need_id}/matches": "GET",
        "/api/v1/partners/projects": "GET POST",
        "/api/v1/partners/projects/{project_id}/milestones/{milestone_id}/done": "POST",
        "/api/v1/partners/redundancy/{community_id}": "GET",
        "/api/v1/partners/resources": "GET POST",
        "/api/v1/partners/resources/{resource_id}/withdraw": "POST",
        "/api/v1/partners/units": "GET POST",
        "/api/v1/partners/units/{partner_id}": "GET",
        "/api/v1/partners/units/{partner_id}/agreements": "POST",
        # Supplies: linli/supplies/tests/.
        "/api/v1/supplies/alerts": "GET",
        "/api/v1/supplies/items": "GET POST",
        "/api/v1/supplies/items/{item_id}": "GET",
        "/api/v1/supplies/items/{item_id}/movements": "GET POST",
        "/api/v1/supplies/locations": "GET POST",
        # Volunteers: linli/volunteers/tests/ (test_api*.py).
        "/api/v1/volunteers": "GET POST",
        "/api/v1/volunteers/hours": "GET POST",
        "/api/v1/volunteers/hours/corrections": "POST",
        "/api/v1/volunteers/hours/export": "POST",
        "/api/v1/volunteers/hours/totals": "GET",
        "/api/v1/volunteers/me": "GET",
        "/api/v1/volunteers/recommendations": "POST",
        "/api/v1/volunteers/recommendations/{recommendation_id}": "GET",
        "/api/v1/volunteers/recommendations/{recommendation_id}/accept": "POST",
        "/api/v1/volunteers/recommendations/{recommendation_id}/adjust": "POST",
        "/api/v1/volunteers/teams": "GET POST",
        "/api/v1/volunteers/teams/defaults": "POST",
        "/api/v1/volunteers/teams/{team_id}": "GET PATCH",
        "/api/v1/volunteers/teams/{team_id}/members": "POST",
        "/api/v1/volunteers/teams/{team_id}/members/{volunteer_id}": "DELETE",
        "/api/v1/volunteers/{volunteer_id}": "GET PATCH",
        "/api/v1/volunteers/{volunteer_id}/active": "POST",
        "/api/v1/volunteers/{volunteer_id}/hours": "GET",
        "/api/v1/volunteers/{volunteer_id}/review": "POST",
        # Activities: linli/participation/tests/.
        "/api/v1/activities": "GET POST",
        "/api/v1/activities/check-in": "POST",
        "/api/v1/activities/sign-ups": "GET",
        "/api/v1/activities/sign-ups/{sign_up_id}/cancel": "POST",
        "/api/v1/activities/sign-ups/{sign_up_id}/check-in": "POST",
        "/api/v1/activities/{occurrence_id}": "GET",
        "/api/v1/activities/{occurrence_id}/attendance": "GET",
        "/api/v1/activities/{occurrence_id}/cancel": "POST",
        "/api/v1/activities/{occurrence_id}/close": "POST",
        "/api/v1/activities/{occurrence_id}/feedback": "POST",
        "/api/v1/activities/{occurrence_id}/sign-up": "POST",
        # Deliberation: linli/participation/tests/test_deliberation_api.py.
        "/api/v1/deliberation/opinions/{opinion_id}/hide": "POST",
        "/api/v1/deliberation/opinions/{opinion_id}/report": "POST",
        "/api/v1/deliberation/topics": "GET POST",
        "/api/v1/deliberation/topics/from-case": "POST",
        "/api/v1/deliberation/topics/{topic_id}": "GET",
        "/api/v1/deliberation/topics/{topic_id}/done": "POST",
        "/api/v1/deliberation/topics/{topic_id}/invite": "POST",
        "/api/v1/deliberation/topics/{topic_id}/milestones": "POST",
        "/api/v1/deliberation/topics/{topic_id}/milestones/{milestone_id}/progress": "POST",
        "/api/v1/deliberation/topics/{topic_id}/opinions": "POST",
        "/api/v1/deliberation/topics/{topic_id}/resolution": "POST",
        "/api/v1/deliberation/topics/{topic_id}/rounds/close": "POST",
        "/api/v1/deliberation/topics/{topic_id}/rounds/open": "POST",
        "/api/v1/deliberation/topics/{topic_id}/support": "POST",
        "/api/v1/deliberation/topics/{topic_id}/transition": "POST",
        "/api/v1/deliberation/topics/{topic_id}/updates": "POST",
        # Surveys: linli/participation/tests/test_survey_api.py.
        "/api/v1/surveys": "GET",
        "/api/v1/surveys/{survey_id}": "GET",
        "/api/v1/surveys/{survey_id}/responses": "POST",
        "/api/v1/surveys/{survey_id}/results": "GET",
        # Ties: linli/participation/tests/test_ties.py.
        "/api/v1/ties": "GET",
        "/api/v1/ties/isolated": "GET",
        # Emergency (activations, tasks, help requests): linli/emergency/tests/test_api*.py.
        "/api/v1/emergency/activations": "GET POST",
        "/api/v1/emergency/activations/preview": "POST",
        "/api/v1/emergency/activations/{activation_id}": "GET",
        "/api/v1/emergency/activations/{activation_id}/board": "GET",
        "/api/v1/emergency/activations/{activation_id}/grade": "POST",
        "/api/v1/emergency/activations/{activation_id}/stand-down": "POST",
        "/api/v1/emergency/activations/{activation_id}/supplies": "POST",
        "/api/v1/emergency/activations/{activation_id}/tasks": "POST",
        "/api/v1/emergency/activations/{activation_id}/unavailable": "POST",
        "/api/v1/emergency/tasks": "GET",
        "/api/v1/emergency/tasks/{task_id}": "GET",
        "/api/v1/emergency/tasks/{task_id}/acknowledge": "POST",
        "/api/v1/emergency/tasks/{task_id}/decline": "POST",
        "/api/v1/emergency/tasks/{task_id}/reassign": "POST",
        "/api/v1/emergency/tasks/{task_id}/report": "POST",
        "/api/v1/emergency/tasks/{task_id}/reveal": "POST",
        "/api/v1/emergency/help-requests": "GET POST",
        "/api/v1/emergency/help-requests/{help_request_id}": "GET",
        "/api/v1/emergency/help-requests/{help_request_id}/close": "POST",
        "/api/v1/emergency/help-requests/{help_request_id}/dispatch": "POST",
        # Emergency plans: linli/emergency/tests/test_plans_api.py.
        "/api/v1/emergency/plans": "GET POST",
        "/api/v1/emergency/plans/defaults": "POST",
        "/api/v1/emergency/plans/{plan_id}": "GET PATCH",
        "/api/v1/emergency/plans/{plan_id}/contacts/{post}": "DELETE PUT",
        "/api/v1/emergency/plans/{plan_id}/copy": "POST",
        "/api/v1/emergency/plans/{plan_id}/supplies/{category}": "DELETE PUT",
        "/api/v1/emergency/plans/{plan_id}/templates": "POST",
        "/api/v1/emergency/plans/{plan_id}/templates/{template_id}": "DELETE PATCH",
        # Resilience map: linli/resilience/tests/test_map.py.
        "/api/v1/resilience/map/{unit_id}.geojson": "GET",
        "/api/v1/resilience/map/buildings/{building_id}": "GET",
        # Resilience dashboard: linli/resilience/tests/test_api_dashboard.py.
        "/api/v1/resilience/indicators": "GET",
        "/api/v1/resilience/indicators/{code}": "PATCH",
        "/api/v1/resilience/dimensions/{dimension}": "PATCH",
        "/api/v1/resilience/units/{unit_id}": "GET",
        "/api/v1/resilience/units/{unit_id}/trend": "GET",
        "/api/v1/resilience/units/{unit_id}/indicators/{code}/rows": "GET",
    }


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_and_marks_only_its_own_notifications(client, world, role):
    from linli.notify.models import Notification
    from linli.notify.services import notification_send

    people = [user for user in world.users.values() if user is not None]
    for person in people:
        notification_send(recipients=[person], kind="test", title=f"for {person.username}")
    secretary_note = Notification.objects.get(recipient=world.users[Role.SECRETARY])
    headers = token_headers(world.users[role])
    listing = client.get("/api/v1/notifications", headers=headers)
    read_other = client.post(f"/api/v1/notifications/{secretary_note.pk}/read", headers=headers)
    if role == ANONYMOUS:
        assert (listing.status_code, read_other.status_code) == (401, 401)
    else:
        assert listing.status_code == 200
        assert [item["title"] for item in listing.json()["items"]] == [f"for {role}"]
        expected = 200 if role == Role.SECRETARY else 404
        assert read_other.status_code == expected
    read = Notification.objects.filter(read_at__isnull=False)
    assert list(read.values_list("recipient__username", flat=True)) == (
        ["secretary"] if role == Role.SECRETARY else []
    )
