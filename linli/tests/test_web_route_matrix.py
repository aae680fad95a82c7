"""The web half of the permission matrix for the pages added by issue 13 (API tokens,
two-factor sign-in, background import runs, exports by POST, a resident's departure, the
privacy notice, the download of one's data, correction requests, the audit log's export),
and the completeness check over every web route of the site.

Expected outcomes are written out by hand, from the `world` fixture's tree (linli/conftest.py)
plus a secretary of the other community (C社区), not computed from the code under test.
Denied POSTs must change nothing: the rows they would touch and the AuditEntry count are
compared before and after. The API half is linli/grids/tests/test_api_permissions.py.
"""

import io
from collections.abc import Callable
from datetime import date

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from linli.accounts import two_factor
from linli.accounts.models import ApiToken, AuditEntry
from linli.accounts.roles import Role
from linli.conftest import PASSWORD, World, make_user
from linli.grids.importing import runs as import_runs
from linli.grids.models import ImportRun, Resident
from linli.grids.services import resident_account_link, role_assign
from linli.privacy.corrections import correction_request_create
from linli.privacy.models import CorrectionRequest, PrivacyNoticeAcceptance
from linli.testing.clients import client_for

OTHER = "other_community_secretary"
ROLES = [
    "anonymous",
    Role.RESIDENT,
    Role.VOLUNTEER,
    Role.PARTNER_LIAISON,
    Role.BUILDING_GROUP_LEADER,
    Role.MICRO_GRID_LEAD,
    Role.SECRETARY,
    Role.STREET_ADMIN,
    # A secretary of C社区: the same role as `secretary`, in the other community.
    OTHER,
]
LOGGED_IN = ROLES[1:]


@pytest.fixture
def matrix_world(world, settings, tmp_path) -> World:
    settings.MEDIA_ROOT = tmp_path / "media"
    other = make_user(OTHER)
    role_assign(
        user=other, role=Role.SECRETARY, grid_unit=world.other_community, post="party_secretary"
    )
    world.users[OTHER] = other
    return world


def assert_sent_to_login(response) -> None:
    assert response.status_code == 302
    assert response["Location"].startswith(reverse(settings.LOGIN_URL))


def secretary_import_run(world: World) -> ImportRun:
    """A background import run started by the secretary (queued: the worker is not run)."""
    return import_runs.import_run_start(
        actor=world.users[Role.SECRETARY],
        upload=io.BytesIO(b"building,room\n"),
        filename="big.csv",
        dry_run=True,
        rows_expected=5000,
    )


def own_area_correction(world: World) -> CorrectionRequest:
    """An open correction request about 张桂英 (1号楼 101, A1-1), asked by her own login."""
    return correction_request_create(
        user=world.users[Role.RESIDENT],
        resident=world.resident,
        field="phone",
        requested_value="13812349999",
    )


def other_community_correction(world: World) -> CorrectionRequest:
    """An open correction request about 赵强 (9号楼 901, C社区), asked by his own login."""
    user = make_user("c_resident")
    building_group = world.other_community_household.building.grid_unit
    role_assign(user=user, role=Role.RESIDENT, grid_unit=building_group, post="resident")
    resident_account_link(resident=world.other_community_resident, user=user)
    return correction_request_create(
        user=user,
        resident=world.other_community_resident,
        field="phone",
        requested_value="13600009999",
    )


def url(name: str, *args: Callable[[World], object], query: str = "") -> Callable[[World], str]:
    def build(world: World) -> str:
        address = reverse(name, args=[arg(world) for arg in args])
        return f"{address}?{query.format(world=world)}" if query else address

    return build


# GET of every new page. Expected status per role, in the order of ROLES:
#  anon  resident volunteer partner  bg-leader  mg-lead  secretary  street  other-secretary
PAGES: dict[str, tuple[Callable[[World], str], tuple[int, ...]]] = {
    # Everyone signed in manages their own tokens and second factor (with the setting off,
    # as in this suite, nobody is made to enrol: linli/accounts/tests/test_two_factor.py).
    "tokens": (url("tokens:list"), (302, 200, 200, 200, 200, 200, 200, 200, 200)),
    "two-factor status": (url("two_factor:status"), (302, 200, 200, 200, 200, 200, 200, 200, 200)),
    "two-factor enrol": (url("two_factor:enrol"), (302, 200, 200, 200, 200, 200, 200, 200, 200)),
    # Nobody is enrolled yet: the code page sends them to set up an authenticator.
    "two-factor verify": (url("two_factor:verify"), (302, 302, 302, 302, 302, 302, 302, 302, 302)),
    "recovery codes": (
        url("two_factor:recovery_codes"),
        (302, 200, 200, 200, 200, 200, 200, 200, 200),
    ),
    # Only right after an enrolment or regeneration, in that session.
    "recovery codes download": (
        url("two_factor:recovery_codes_download"),
        (302, 404, 404, 404, 404, 404, 404, 404, 404),
    ),
    # The street administrator's list of staff whose two-factor sign-in they may reset.
    "two-factor staff": (url("two_factor:staff"), (302, 404, 404, 404, 404, 404, 404, 200, 404)),
    # A background import run is shown to the person who started it only.
    "secretary's import run": (
        url("grids:import_run", lambda w: secretary_import_run(w).pk),
        (302, 404, 404, 404, 404, 404, 200, 404, 404),
    ),
    # Exports: a GET shows the confirmation page with the POST button.
    "resident export": (
        url("grids:residents_export"),
        (302, 404, 404, 404, 404, 404, 200, 200, 200),
    ),
    "resident export of C社区": (
        url("grids:residents_export", query="grid={world.other_community.id}"),
        (302, 404, 404, 404, 404, 404, 404, 200, 200),
    ),
    # Everything held about one's own household: only a resident has one.
    "own data download": (url("privacy:my_data"), (302, 200, 404, 404, 404, 404, 404, 404, 404)),
    # The audit log's export is a POST only (below); its GET is refused outright.
    "audit log export": (
        url("grids:audit_export"),
        (302, 405, 405, 405, 405, 405, 405, 405, 405),
    ),
    "service hours export": (
        url("volunteers:hours_export"),
        (302, 404, 404, 404, 200, 200, 200, 200, 200),
    ),
    # Departure and anonymisation need EDIT_REGISTRY on the resident's grid.
    "departure of own-area resident": (
        url("privacy:resident_departure", lambda w: w.resident.id),
        (302, 404, 404, 404, 404, 200, 200, 200, 404),
    ),
    "departure of C社区 resident": (
        url("privacy:resident_departure", lambda w: w.other_community_resident.id),
        (302, 404, 404, 404, 404, 404, 404, 200, 200),
    ),
    # The privacy notice is public: it is what a person reads before they sign in.
    "privacy notice": (url("privacy:notice"), (200, 200, 200, 200, 200, 200, 200, 200, 200)),
    # A resident asks for corrections of their own household.
    "my correction requests": (
        url("privacy:my_corrections"),
        (302, 200, 404, 404, 404, 404, 404, 404, 404),
    ),
    # Staff with EDIT_REGISTRY somewhere have a task list (empty outside their area).
    "correction requests to handle": (
        url("privacy:corrections"),
        (302, 404, 404, 404, 404, 200, 200, 200, 200),
    ),
    # One request: staff whose EDIT_REGISTRY covers the household; not the resident who
    # asked (they follow it on their own page).
    "correction request of own-area resident": (
        url("privacy:correction_detail", lambda w: own_area_correction(w).pk),
        (302, 404, 404, 404, 404, 200, 200, 200, 404),
    ),
    "correction request of C社区 resident": (
        url("privacy:correction_detail", lambda w: other_community_correction(w).pk),
        (302, 404, 404, 404, 404, 404, 404, 200, 200),
    ),
}


@pytest.mark.parametrize("page", list(PAGES))
def test_new_page_answers_each_role_as_the_matrix_says(matrix_world, page):
    # One world per page, every role asking in turn: the pages only read, and the answers
    # are compared all at once, so a failure shows the whole row of the matrix.
    build, statuses = PAGES[page]
    address = build(matrix_world)
    responses = {role: client_for(matrix_world.users[role]).get(address) for role in ROLES}
    assert {role: response.status_code for role, response in responses.items()} == dict(
        zip(ROLES, statuses, strict=True)
    )
    if statuses[0] == 302:
        assert_sent_to_login(responses["anonymous"])
    if page == "two-factor verify":
        for role in LOGGED_IN:
            assert responses[role]["Location"].startswith(reverse("two_factor:enrol")), role


def token_of(world: World, role: str) -> ApiToken:
    response = Client().post(
        "/api/v1/auth/token",
        {"username": world.users[role].username, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return ApiToken.objects.get(user=world.users[role])


@pytest.mark.parametrize("role", ROLES)
def test_only_the_owner_revokes_a_token_on_the_tokens_page(matrix_world, role):
    token = token_of(matrix_world, Role.SECRETARY)
    before = AuditEntry.objects.count()
    response = client_for(matrix_world.users[role]).post(reverse("tokens:revoke", args=[token.pk]))
    token.refresh_from_db()
    if role == "anonymous":
        assert_sent_to_login(response)
    elif role == Role.SECRETARY:
        assert response.status_code == 302
        assert response["Location"] == reverse("tokens:list")
        assert token.revoked_reason == "by_owner"
        assert AuditEntry.objects.count() == before + 1
        return
    else:
        assert response.status_code == 404
    assert token.revoked_at is None
    assert AuditEntry.objects.count() == before


def device_rows(user) -> tuple[int, int]:
    return (
        TOTPDevice.objects.filter(user=user).count(),
        StaticDevice.objects.filter(user=user).count(),
    )


@pytest.mark.parametrize("role", ROLES)
def test_only_the_street_administrator_resets_a_secretarys_two_factor(matrix_world, role):
    secretary = matrix_world.users[Role.SECRETARY]
    device = two_factor.two_factor_enrolment_start(user=secretary)
    from linli.accounts.tests.test_two_factor import code_of

    two_factor.two_factor_enrolment_confirm(user=secretary, device=device, code=code_of(device))
    before = AuditEntry.objects.count()
    response = client_for(matrix_world.users[role]).post(
        reverse("two_factor:staff_reset", args=[secretary.pk]), {"reason": "Lost phone"}
    )
    if role == "anonymous":
        assert_sent_to_login(response)
    elif role == Role.STREET_ADMIN:
        assert response.status_code == 302
        assert response["Location"] == reverse("two_factor:staff")
        assert device_rows(secretary) == (0, 0)
        assert AuditEntry.objects.count() == before + 1
        return
    else:
        # The secretary cannot reset their own either: they ask an administrator.
        assert response.status_code == 404
    assert device_rows(secretary) == (1, 1)
    assert AuditEntry.objects.count() == before


@pytest.mark.parametrize("role", ROLES)
def test_recovery_codes_are_made_only_for_an_enrolled_person(matrix_world, role):
    # Nobody in the world is enrolled: making new recovery codes is refused to all, and the
    # "I have kept them" button only clears the session.
    before = (StaticDevice.objects.count(), AuditEntry.objects.count())
    client = client_for(matrix_world.users[role])
    made = client.post(reverse("two_factor:recovery_codes"))
    kept = client.post(reverse("two_factor:recovery_codes_done"))
    if role == "anonymous":
        assert_sent_to_login(made)
        assert_sent_to_login(kept)
    else:
        assert made.status_code == 404
        assert (kept.status_code, kept["Location"]) == (302, reverse("web:home"))
    assert (StaticDevice.objects.count(), AuditEntry.objects.count()) == before


# POST of an export: who downloads (200, one audit entry), who is told nothing exists (404).
#  anon  resident volunteer partner  bg-leader  mg-lead  secretary  street  other-secretary
EXPORT_POSTS: dict[str, tuple[Callable[[World], str], dict, tuple[int, ...]]] = {
    "resident export": (
        url("grids:residents_export"),
        {},
        (302, 404, 404, 404, 404, 404, 200, 200, 200),
    ),
    "resident export of A社区": (
        url("grids:residents_export"),
        {"grid": "community"},
        (302, 404, 404, 404, 404, 404, 200, 200, 404),
    ),
    "own data download": (
        url("privacy:my_data"),
        {},
        (302, 200, 404, 404, 404, 404, 404, 404, 404),
    ),
    # The whole street's log: the street administrator only.
    "audit log export": (
        url("grids:audit_export"),
        {},
        (302, 404, 404, 404, 404, 404, 404, 200, 404),
    ),
    "service hours export": (
        url("volunteers:hours_export"),
        {},
        (302, 404, 404, 404, 200, 200, 200, 200, 200),
    ),
}


@pytest.mark.parametrize(
    ("export", "role", "expected"),
    [
        pytest.param(export, role, statuses[index], id=f"{export}-{role}")
        for export, (_, _, statuses) in EXPORT_POSTS.items()
        for index, role in enumerate(ROLES)
    ],
)
def test_an_export_post_downloads_only_for_the_permitted_and_is_audited(
    matrix_world, export, role, expected
):
    build, data, _ = EXPORT_POSTS[export]
    data = {key: getattr(matrix_world, value).id for key, value in data.items()}
    before = AuditEntry.objects.count()
    response = client_for(matrix_world.users[role]).post(build(matrix_world), data)
    assert response.status_code == expected
    if role == "anonymous":
        assert_sent_to_login(response)
    if expected == 200:
        assert response["Content-Disposition"].startswith("attachment;")
        assert "no-store" in response["Cache-Control"].split(", ")
        assert AuditEntry.objects.count() == before + 1
    else:
        assert AuditEntry.objects.count() == before


# POST on the departure page: 302 = recorded and sent back to the resident, for signed-in.
#  anon  resident volunteer partner  bg-leader  mg-lead  secretary  street  other-secretary
DEPARTURE_POSTS = {
    "resident": (302, 404, 404, 404, 404, 302, 302, 302, 404),
    "other_community_resident": (302, 404, 404, 404, 404, 404, 404, 302, 302),
}
DEPARTURE_ACTIONS = {
    "move_out": {"action": "move_out", "moved_out_on": "2020-05-01"},
    "anonymise": {"action": "anonymise", "reason": "Written request", "confirm": "on"},
}


@pytest.mark.parametrize("action", DEPARTURE_ACTIONS)
@pytest.mark.parametrize(
    ("target", "role", "expected"),
    [
        pytest.param(target, role, statuses[index], id=f"{target}-{role}")
        for target, statuses in DEPARTURE_POSTS.items()
        for index, role in enumerate(ROLES)
    ],
)
def test_a_departure_is_recorded_only_with_the_edit_permission(
    matrix_world, target, role, expected, action
):
    resident = getattr(matrix_world, target)
    row_before = Resident.objects.values().get(pk=resident.pk)
    audit_before = AuditEntry.objects.count()
    response = client_for(matrix_world.users[role]).post(
        reverse("privacy:resident_departure", args=[resident.id]), DEPARTURE_ACTIONS[action]
    )
    assert response.status_code == expected
    if role == "anonymous":
        assert_sent_to_login(response)
    elif expected == 302:
        assert response["Location"] == reverse("grids:resident_detail", args=[resident.id])
        stored = Resident.objects.get(pk=resident.pk)
        if action == "move_out":
            assert stored.moved_out_on == date(2020, 5, 1)
        else:
            assert stored.anonymised_at is not None
            assert stored.name != row_before["name"]
        assert AuditEntry.objects.count() > audit_before
        return
    assert Resident.objects.values().get(pk=resident.pk) == row_before
    assert AuditEntry.objects.count() == audit_before


@pytest.mark.parametrize("role", ROLES)
def test_everyone_signed_in_accepts_the_privacy_notice_for_themselves_only(matrix_world, role):
    before = (PrivacyNoticeAcceptance.objects.count(), AuditEntry.objects.count())
    response = client_for(matrix_world.users[role]).post(reverse("privacy:notice"))
    assert response.status_code == 302
    if role == "anonymous":
        notice = reverse("privacy:notice")
        assert response["Location"] == f"{reverse(settings.LOGIN_URL)}?next={notice}"
        assert (PrivacyNoticeAcceptance.objects.count(), AuditEntry.objects.count()) == before
        return
    assert response["Location"] == reverse("web:home")
    accepted = PrivacyNoticeAcceptance.objects.values_list("user__username", "version")
    assert list(accepted) == [
        (matrix_world.users[role].username, settings.LINLI_PRIVACY_NOTICE_VERSION)
    ]
    assert AuditEntry.objects.count() == before[1] + 1


@pytest.mark.parametrize("role", ROLES)
def test_only_a_resident_asks_for_a_correction_of_their_own_household(matrix_world, role):
    before = (CorrectionRequest.objects.count(), AuditEntry.objects.count())
    response = client_for(matrix_world.users[role]).post(
        reverse("privacy:my_corrections"),
        {"resident": matrix_world.resident.id, "field": "phone", "requested_value": "13812349999"},
    )
    if role == "anonymous":
        assert_sent_to_login(response)
    elif role == Role.RESIDENT:
        assert (response.status_code, response["Location"]) == (
            302,
            reverse("privacy:my_corrections"),
        )
        stored = CorrectionRequest.objects.get()
        assert (stored.resident_id, stored.requested_by, stored.requested_value) == (
            matrix_world.resident.id,
            matrix_world.users[Role.RESIDENT],
            "13812349999",
        )
        assert AuditEntry.objects.count() == before[1] + 1
        return
    else:
        assert response.status_code == 404
    assert (CorrectionRequest.objects.count(), AuditEntry.objects.count()) == before


# POST on a correction request: 302 = handled and sent back to the task list.
#  anon  resident volunteer partner  bg-leader  mg-lead  secretary  street  other-secretary
CORRECTION_POSTS = {
    "own-area": (own_area_correction, (302, 404, 404, 404, 404, 302, 302, 302, 404)),
    "C社区": (other_community_correction, (302, 404, 404, 404, 404, 404, 404, 302, 302)),
}
CORRECTION_ACTIONS: dict[str, tuple[Callable[[CorrectionRequest], dict], str]] = {
    "apply": (
        lambda c: {"action": "apply", "value": c.requested_value, "decision_note": "已核实"},
        "applied",
    ),
    "decline": (lambda c: {"action": "decline", "reason": "号码未变，无需更正"}, "declined"),
}


@pytest.mark.parametrize("action", CORRECTION_ACTIONS)
@pytest.mark.parametrize(
    ("target", "role", "expected"),
    [
        pytest.param(target, role, statuses[index], id=f"{target}-{role}")
        for target, (_, statuses) in CORRECTION_POSTS.items()
        for index, role in enumerate(ROLES)
    ],
)
def test_a_correction_request_is_handled_only_by_staff_covering_the_household(
    matrix_world, target, role, expected, action
):
    build, _ = CORRECTION_POSTS[target]
    correction = build(matrix_world)
    data, state = CORRECTION_ACTIONS[action]
    request_before = CorrectionRequest.objects.values().get(pk=correction.pk)
    resident_before = Resident.objects.values().get(pk=correction.resident_id)
    audit_before = AuditEntry.objects.count()
    response = client_for(matrix_world.users[role]).post(
        reverse("privacy:correction_detail", args=[correction.pk]), data(correction)
    )
    assert response.status_code == expected
    if role == "anonymous":
        assert_sent_to_login(response)
    elif expected == 302:
        assert response["Location"] == reverse("privacy:corrections")
        stored = CorrectionRequest.objects.get(pk=correction.pk)
        assert (stored.state, stored.handled_by) == (state, matrix_world.users[role])
        assert AuditEntry.objects.count() > audit_before
        return
    assert CorrectionRequest.objects.values().get(pk=correction.pk) == request_before
    assert Resident.objects.values().get(pk=correction.resident_id) == resident_before
    assert AuditEntry.objects.count() == audit_before


# Completeness -------------------------------------------------------------------------------

# Every web route of the site, and where its role-by-role expectations are tested. When a
# route is added, this list (and a matrix) must grow with it.
WEB_ROUTES = {
    # Issue 13's pages: the matrices above.
    "/account/tokens/",
    "/account/tokens/<int:token_id>/revoke/",
    "/account/two-factor/",
    "/account/two-factor/enrol/",
    "/account/two-factor/verify/",
    "/account/two-factor/recovery-codes/",
    "/account/two-factor/recovery-codes/download/",
    "/account/two-factor/recovery-codes/done/",
    "/account/two-factor/staff/",
    "/account/two-factor/staff/<int:user_id>/reset/",
    "/registry/import/runs/<int:run_id>/",
    "/privacy/residents/<int:resident_id>/departure/",
    "/privacy/notice/",
    "/privacy/my-data/",
    "/privacy/my-corrections/",
    "/privacy/corrections/",
    "/privacy/corrections/<int:correction_id>/",
    "/registry/audit/export/",
    # Shell and registry: linli/grids/tests/test_pages.py (exports and the import also
    # above; the import pages in linli/grids/tests/test_import_views.py).
    "/",
    "/login/",
    "/logout/",
    "/registry/grids/",
    "/registry/grids/<int:grid_unit_id>/",
    "/registry/buildings/<int:building_id>/",
    "/registry/households/<int:household_id>/",
    "/registry/residents/",
    "/registry/residents/<int:resident_id>/",
    "/registry/residents/<int:resident_id>/reveal/",
    "/registry/residents/<int:resident_id>/edit/",
    "/registry/visits/",
    "/registry/visits/new",
    "/registry/me/",
    "/registry/audit/",
    "/registry/import/",
    "/registry/import/template.xlsx",
    "/registry/import/template.csv",
    "/registry/residents/export.xlsx",
    # Inbox: linli/notify/tests/.
    "/inbox/",
    "/inbox/<int:notification_id>/read/",
    "/inbox/read-all/",
    # Cases: linli/cases/tests/ (test_handling_pages.py, test_categories.py, test_metrics.py,
    # test_pages.py, test_scope_holes.py).
    "/cases/",
    "/cases/new/",
    "/cases/from-visit/<int:visit_id>/",
    "/cases/<int:case_id>/",
    "/cases/<int:case_id>/act/",
    "/cases/<int:case_id>/photos/<int:photo_id>/",
    "/cases/<int:case_id>/escalate/",
    "/cases/<int:case_id>/coordination/",
    "/cases/board/<int:community_id>/",
    "/cases/categories/",
    "/cases/categories/new/",
    "/cases/categories/<int:category_id>/edit/",
    "/cases/categories/<int:category_id>/deactivate/",
    "/cases/metrics/",
    "/cases/metrics/summary/",
    "/cases/metrics/<slug:metric>/",
    # Volunteers: linli/volunteers/tests/ (the hours export also above).
    "/volunteers/",
    "/volunteers/signup/",
    "/volunteers/<int:volunteer_id>/",
    "/volunteers/<int:volunteer_id>/review/",
    "/volunteers/<int:volunteer_id>/active/",
    "/volunteers/teams/",
    "/volunteers/teams/defaults/",
    "/volunteers/teams/<int:team_id>/",
    "/volunteers/teams/recommend/",
    "/volunteers/recommendations/<int:recommendation_id>/",
    "/volunteers/hours/",
    "/volunteers/hours/add/",
    "/volunteers/hours/export/",
    # Open311 GeoReport v2 (API keys, not roles) and its key pages: linli/open311/tests/.
    "/open311/^v2/services\\.(?P<fmt>json|xml)$",
    "/open311/^v2/services/(?P<service_code>[^/]+)\\.(?P<fmt>json|xml)$",
    "/open311/^v2/requests\\.(?P<fmt>json|xml)$",
    "/open311/^v2/requests/(?P<request_id>[^/]+)\\.(?P<fmt>json|xml)$",
    "/open311/^v2/(?P<rest>.*)$",
    "/open311/keys/",
    "/open311/keys/new/",
    "/open311/keys/<int:key_id>/revoke/",
    "/open311/cases/<int:case_id>/submitter/",
    # Partners and the three lists: linli/partners/tests/test_pages.py.
    "/partners/",
    "/partners/needs/",
    "/partners/needs/new/",
    "/partners/needs/<int:need_id>/",
    "/partners/needs/<int:need_id>/claim/",
    "/partners/needs/<int:need_id>/claim-resource/",
    "/partners/needs/<int:need_id>/cancel/",
    "/partners/resources/<int:resource_id>/withdraw/",
    "/partners/claims/<int:claim_id>/",
    "/partners/claims/<int:claim_id>/act/",
    "/partners/resources/",
    "/partners/projects/",
    "/partners/projects/new/",
    "/partners/projects/<int:project_id>/",
    "/partners/units/",
    "/partners/units/<int:partner_id>/",
    "/partners/communities/<int:community_id>/resources/",
    # Supplies: linli/supplies/tests/.
    "/supplies/",
    "/supplies/items/<int:item_id>/",
    "/supplies/items/<int:item_id>/move/",
    "/supplies/alerts/",
    # Surveys: linli/participation/tests/test_survey_pages.py.
    "/activities/surveys/",
    "/activities/surveys/new/",
    "/activities/surveys/templates/<int:template_id>/copy/",
    "/activities/surveys/<int:survey_id>/",
    "/activities/surveys/<int:survey_id>/edit/",
    "/activities/surveys/<int:survey_id>/factors/",
    "/activities/surveys/<int:survey_id>/factors/<int:factor_id>/delete/",
    "/activities/surveys/<int:survey_id>/items/",
    "/activities/surveys/<int:survey_id>/items/<int:item_id>/delete/",
    "/activities/surveys/<int:survey_id>/open/",
    "/activities/surveys/<int:survey_id>/close/",
    "/activities/surveys/<int:survey_id>/share/",
    "/activities/surveys/<int:survey_id>/results/",
    # Activities: linli/participation/tests/test_pages.py (ties: test_ties.py).
    "/activities/",
    "/activities/mine/",
    "/activities/ties/",
    "/activities/<int:occurrence_id>/",
    "/activities/<int:occurrence_id>/sign-up/",
    "/activities/<int:occurrence_id>/feedback/",
    "/activities/sign-ups/<int:sign_up_id>/cancel/",
    "/activities/sign-ups/<int:sign_up_id>/check-out/",
    "/activities/check-in/<str:token>/",
    "/activities/manage/",
    "/activities/manage/new/",
    "/activities/manage/venues/",
    "/activities/manage/<int:activity_id>/edit/",
    "/activities/manage/occurrences/<int:occurrence_id>/",
    "/activities/manage/occurrences/<int:occurrence_id>/photos/",
    "/activities/<int:occurrence_id>/photos/<int:photo_id>/",
    "/activities/manage/occurrences/<int:occurrence_id>/close/",
    "/activities/manage/occurrences/<int:occurrence_id>/minutes/",
    "/activities/manage/occurrences/<int:occurrence_id>/stalls/",
    "/activities/manage/occurrences/<int:occurrence_id>/cancel/",
    "/activities/manage/stalls/<int:stall_id>/served/",
    "/activities/manage/sign-ups/<int:sign_up_id>/check-in/",
    # Deliberation: linli/participation/tests/test_deliberation_pages.py.
    "/activities/deliberation/",
    "/activities/deliberation/new/",
    "/activities/deliberation/groups/",
    "/activities/deliberation/groups/<int:membership_id>/remove/",
    "/activities/deliberation/from-case/",
    "/activities/deliberation/from-case/<int:case_id>/",
    "/activities/deliberation/<int:topic_id>/",
    "/activities/deliberation/<int:topic_id>/support/",
    "/activities/deliberation/<int:topic_id>/opinions/",
    "/activities/deliberation/<int:topic_id>/invite/",
    "/activities/deliberation/<int:topic_id>/state/",
    "/activities/deliberation/<int:topic_id>/rounds/open/",
    "/activities/deliberation/<int:topic_id>/rounds/close/",
    "/activities/deliberation/<int:topic_id>/resolution/",
    "/activities/deliberation/<int:topic_id>/milestones/",
    "/activities/deliberation/<int:topic_id>/milestones/<int:milestone_id>/progress/",
    "/activities/deliberation/<int:topic_id>/updates/",
    "/activities/deliberation/<int:topic_id>/done/",
    "/activities/deliberation/opinions/<int:opinion_id>/report/",
    "/activities/deliberation/opinions/<int:opinion_id>/hide/",
    # Emergency plans: linli/emergency/tests/test_plans_pages.py.
    "/emergency/plans/",
    "/emergency/plans/new/",
    "/emergency/plans/defaults/",
    "/emergency/plans/<int:plan_id>/",
    "/emergency/plans/<int:plan_id>/copy/",
    "/emergency/plans/<int:plan_id>/templates/new/",
    "/emergency/plans/<int:plan_id>/templates/<int:template_id>/",
    "/emergency/plans/<int:plan_id>/templates/<int:template_id>/delete/",
    "/emergency/plans/<int:plan_id>/supplies/",
    "/emergency/plans/<int:plan_id>/supplies/<int:minimum_id>/delete/",
    "/emergency/plans/<int:plan_id>/contacts/",
    "/emergency/plans/<int:plan_id>/contacts/<int:contact_id>/delete/",
    # Emergency field, board and reports: linli/emergency/tests/ (test_board.py,
    # test_report.py, test_report_scope.py, test_task_reveal_limits.py and the field tests).
    "/emergency/my-tasks/",
    "/emergency/my-tasks/<int:task_id>/acknowledge/",
    "/emergency/my-tasks/<int:task_id>/decline/",
    "/emergency/my-tasks/<int:task_id>/report/",
    "/emergency/my-tasks/<int:task_id>/reveal/",
    "/emergency/help/",
    "/emergency/help/new/",
    "/emergency/help/<int:request_id>/",
    "/emergency/help/<int:request_id>/dispatch/",
    "/emergency/help/<int:request_id>/close/",
    "/emergency/reports/",
    "/emergency/<int:activation_id>/report/",
    "/emergency/<int:activation_id>/report.pdf",
    "/emergency/<int:activation_id>/report/lessons/",
    "/emergency/",
    "/emergency/activate/",
    "/emergency/<int:activation_id>/",
    "/emergency/<int:activation_id>/board/",
    "/emergency/<int:activation_id>/board/live/",
    "/emergency/tasks/<int:task_id>/",
    # Resilience map, reports and dashboard: linli/resilience/tests/ (test_map.py,
    # test_reports.py, test_dashboard.py).
    "/resilience/map/",
    "/resilience/map/building/<int:building_id>.json",
    "/resilience/reports/",
    "/resilience/reports/<int:unit_id>/<str:kind>/<str:period>.pdf",
    "/resilience/reports/<int:unit_id>/<str:kind>/<str:period>.xlsx",
    "/resilience/",
    "/resilience/unit/<int:unit_id>/indicator/<str:code>/",
    "/resilience/unit/<int:unit_id>/alerts/unvisited-vulnerable/",
    "/resilience/indicators/",
    # The jobs page: linli/ops/tests/.
    "/ops/jobs/",
    # Issue 15, getting in. Each app's role × route matrix: linli/signin/tests/,
    # linli/wechat/tests/test_route_matrix.py, linli/registration/tests/,
    # linli/invitations/tests/, linli/logins/tests/, linli/volunteers/tests/test_join.py,
    # linli/partners/tests/test_liaison_join.py.
    "/signin/phone/",
    "/signin/phone/code/",
    "/signin/reset/",
    "/signin/reset/code/",
    "/signin/reset/done/",
    "/signin/reset/email/",
    "/signin/reset/email/<uidb64>/<token>/",
    "/signin/reset/email/sent/",
    "/signin/reset/password/",
    "/signin/trial-messages/",
    "/wechat/account/",
    "/wechat/account/bind/",
    "/wechat/account/unbind/",
    "/wechat/bind/",
    "/wechat/callback/",
    "/wechat/login/",
    "/join/",
    "/join/b/<str:token>/",
    "/join/poster/building/<int:building_id>/",
    "/join/poster/unit/<int:grid_unit_id>/",
    "/join/requests/",
    "/join/requests/<int:request_id>/approve/",
    "/join/requests/<int:request_id>/reject/",
    "/join/sent/",
    "/invitations/",
    "/invitations/batches/<int:batch_id>/",
    "/invitations/batches/<int:batch_id>/no-phone-letters/",
    "/invitations/batches/<int:batch_id>/reissue/",
    "/invitations/i/<str:token>/",
    "/logins/",
    "/logins/<int:login_id>/",
    "/logins/<int:login_id>/deactivate/",
    "/logins/<int:login_id>/notifications/",
    "/logins/<int:login_id>/posts/",
    "/logins/<int:login_id>/posts/<int:assignment_id>/remove/",
    "/logins/<int:login_id>/reactivate/",
    "/logins/<int:login_id>/reset-code/",
    "/logins/<int:login_id>/temporary-password/",
    "/logins/<int:login_id>/two-factor-reset/",
    "/logins/new/",
    "/logins/password/",
    "/logins/undeliverable/",
    "/volunteers/join/",
    "/partners/join/<str:token>/",
    "/partners/units/<int:partner_id>/liaison-invitations/",
    "/partners/units/<int:partner_id>/liaison-invitations/<int:invitation_id>/revoke/",
    # Issue 15, being reached: the caller's own settings and follows
    # (linli/notify/tests/test_preferences_and_follows.py); follow buttons
    # (linli/cases/tests/test_notices.py, linli/participation/tests/test_notices.py); messages
    # from residents (linli/inbound/tests/); public pages (linli/public/tests/).
    "/inbox/settings/",
    "/inbox/settings/unfollow/",
    "/inbox/settings/unmute/",
    "/inbox/unsubscribe/<str:token>/",
    "/activities/<int:occurrence_id>/follow/",
    "/activities/<int:occurrence_id>/unfollow/",
    "/activities/deliberation/<int:topic_id>/follow/",
    "/activities/deliberation/<int:topic_id>/unfollow/",
    "/cases/<int:case_id>/follow/",
    "/cases/areas/<int:grid_unit_id>/follow/",
    "/inbound/",
    "/inbound/<int:message_id>/",
    "/inbound/sms/",
    "/inbound/wechat/",
    "/public/<int:community_id>/activities/",
    "/public/<int:community_id>/activities/feed.atom",
    "/public/<int:community_id>/activities/feed.rss",
    "/public/<int:community_id>/cases/",
    "/public/<int:community_id>/cases/feed.atom",
    "/public/<int:community_id>/cases/feed.rss",
    "/public/settings/",
    "/public/settings/<int:community_id>/",
}

# Routes outside the role matrix, and why.
EXCLUDED_PREFIXES = (
    # The API: every operation is listed in linli/grids/tests/test_api_permissions.py.
    "/api/v1/",
    # Django's admin: its own permission checks, scoped pickers tested in
    # linli/grids/tests/test_admin_scope.py.
    "/admin/",
)
EXCLUDED_ROUTES = {
    # Liveness, readiness and metrics answer everyone the same (linli/ops/tests/).
    "/healthz",
    "/readyz",
    "/metrics",
    # Django's language switch: sets a cookie, reads and writes nothing else.
    "/i18n/setlang/",
}


def web_routes(patterns, prefix: str = "/") -> set[str]:
    routes: set[str] = set()
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            routes |= web_routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            routes.add(route)
    return routes


def test_matrix_covers_every_web_route():
    routes = {
        route
        for route in web_routes(get_resolver().url_patterns)
        if not route.startswith(EXCLUDED_PREFIXES) and route not in EXCLUDED_ROUTES
    }
    assert sorted(routes - WEB_ROUTES) == [], "new routes: add them to a role matrix and here"
    assert sorted(WEB_ROUTES - routes) == [], "routes that no longer exist: remove them here"


# The namespaces issue 13 added, and the names the tests above exercise: a page added to one
# of them later must join a matrix here.
ISSUE_13_NAMESPACES = ("two_factor", "tokens", "privacy")
TESTED_HERE = {
    "two_factor:status",
    "two_factor:enrol",
    "two_factor:verify",
    "two_factor:recovery_codes",
    "two_factor:recovery_codes_download",
    "two_factor:recovery_codes_done",
    "two_factor:staff",
    "two_factor:staff_reset",
    "tokens:list",
    "tokens:revoke",
    "privacy:resident_departure",
    "privacy:notice",
    "privacy:my_data",
    "privacy:my_corrections",
    "privacy:corrections",
    "privacy:correction_detail",
}


def route_names(patterns, namespace: str = "") -> set[str]:
    names: set[str] = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            names |= route_names(pattern.url_patterns, inner)
        elif pattern.name:
            names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
    return names


def test_every_page_in_issue_13_namespaces_is_in_the_matrix_above():
    names = {
        name
        for name in route_names(get_resolver().url_patterns)
        if name.split(":")[0] in ISSUE_13_NAMESPACES
    }
    assert sorted(names - TESTED_HERE) == []
    assert sorted(TESTED_HERE - names) == []
