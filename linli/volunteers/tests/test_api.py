"""Behaviour of `/api/v1/volunteers`: sign-up, the scope and permission matrix, teams, the
recommendation and the ledger over HTTP. Denied calls change nothing."""

from decimal import Decimal

import pytest
from django.test import Client

from linli.accounts.models import AuditAction, AuditEntry
from linli.accounts.roles import Role
from linli.testing.clients import client_for
from linli.volunteers.models import (
    ServiceHoursEntry,
    Team,
    TeamMembership,
    TeamRecommendation,
    Volunteer,
)
from linli.volunteers.services import service_hours_record, team_update, teams_create_defaults
from linli.volunteers.tests.conftest import register

URL = "/api/v1/volunteers"
ANONYMOUS = "anonymous"


@pytest.fixture
def client():
    return Client(headers={"Accept-Language": "en"})


def post_json(client, url: str, data: dict):
    return client.post(url, data, content_type="application/json")


def state(volunteer: Volunteer) -> tuple:
    volunteer.refresh_from_db()
    return volunteer.status, volunteer.reviewed_by_id, volunteer.skills


# Sign-up ------------------------------------------------------------------------------


def test_resident_signs_up_through_the_api(world):
    response = post_json(
        client_for(world.users[Role.RESIDENT]),
        URL,
        {"skills": ["elder_care"], "willingness": ["care"], "availability": ["thu_pm"]},
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["status"], body["phone"], body["skills"]) == (
        "张桂英",
        "applied",
        "138****1234",
        ["elder_care"],
    )
    assert client_for(world.users[Role.RESIDENT]).get(f"{URL}/me").json()["id"] == body["id"]


def test_unknown_skill_answers_400_naming_the_field(world):
    response = post_json(
        client_for(world.users[Role.RESIDENT]),
        URL,
        {"skills": ["medical", "flying"], "availability": ["mon_am"]},
    )
    assert response.status_code == 400
    assert response.json() == {"message": "Unknown skill: flying", "field": "skills"}
    assert Volunteer.objects.count() == 0


def test_invalid_slot_answers_400_naming_the_slot(world):
    response = post_json(
        client_for(world.users[Role.RESIDENT]), URL, {"availability": ["fri_midnight"]}
    )
    assert response.status_code == 400
    assert response.json()["field"] == "availability"
    assert "fri_midnight" in response.json()["message"]
    assert Volunteer.objects.count() == 0


def test_anonymous_is_refused(world, client):
    assert client.get(URL).status_code == 401
    assert post_json(client, URL, {"skills": []}).status_code == 401
    assert Volunteer.objects.count() == 0


# Scope and permission matrix -------------------------------------------------------------

# Who sees a community-level volunteer and a building-group one (in A1-1).
LIST_VISIBLE = {
    Role.STREET_ADMIN: 2,
    Role.SECRETARY: 2,
    Role.MICRO_GRID_LEAD: 1,
    Role.BUILDING_GROUP_LEADER: 1,
    Role.VOLUNTEER: 0,
    Role.PARTNER_LIAISON: 0,
    Role.RESIDENT: 0,
}


@pytest.mark.parametrize(("role", "count"), LIST_VISIBLE.items())
def test_list_is_scoped(world, role, count):
    register(world)
    register(world, name="楼组志愿者", unit=world.building_group)
    response = client_for(world.users[role]).get(URL)
    assert response.status_code == 200
    assert response.json()["count"] == count


# Approving an application in building group A1-1: expected status per role.
REVIEW_STATUS = {
    Role.STREET_ADMIN: 200,
    Role.SECRETARY: 200,
    Role.MICRO_GRID_LEAD: 200,
    Role.BUILDING_GROUP_LEADER: 403,  # sees it, may not decide
    Role.VOLUNTEER: 404,
    Role.PARTNER_LIAISON: 404,
    Role.RESIDENT: 404,
    ANONYMOUS: 401,
}


@pytest.mark.parametrize(("role", "status"), REVIEW_STATUS.items())
def test_review_matrix_and_denied_calls_change_nothing(world, role, status):
    applicant = register(world, name="申请人", unit=world.building_group, approve=False)
    before = state(applicant)
    response = post_json(
        client_for(world.users[role]), f"{URL}/{applicant.pk}/review", {"approve": True}
    )
    assert response.status_code == status
    if status == 200:
        assert state(applicant)[0] == "approved"
    else:
        assert state(applicant) == before


def test_out_of_scope_volunteer_is_404(world):
    far = register(world, name="远方", unit=world.other_community, staff=Role.STREET_ADMIN)
    lead = client_for(world.users[Role.MICRO_GRID_LEAD])
    assert lead.get(f"{URL}/{far.pk}").status_code == 404
    response = lead.patch(f"{URL}/{far.pk}", {"skills": ["it"]}, content_type="application/json")
    assert response.status_code == 404
    assert state(far)[2] == ",medical,"


def test_second_review_is_a_conflict(world):
    applicant = register(world, approve=False)
    secretary = client_for(world.users[Role.SECRETARY])
    assert (
        post_json(secretary, f"{URL}/{applicant.pk}/review", {"approve": True}).status_code == 200
    )
    response = post_json(secretary, f"{URL}/{applicant.pk}/review", {"approve": False, "note": "x"})
    assert response.status_code == 409
    assert state(applicant)[0] == "approved"


def test_volunteer_edits_own_profile_only(world):
    volunteer_user = world.users[Role.VOLUNTEER]
    own = register(world, name="志愿者本人")
    Volunteer.objects.filter(pk=own.pk).update(user=volunteer_user)
    other = register(world, name="别人")
    client = client_for(world.users[Role.VOLUNTEER])
    response = client.patch(f"{URL}/{own.pk}", {"skills": ["it"]}, content_type="application/json")
    assert (response.status_code, response.json()["skills"]) == (200, ["it"])
    denied = client.patch(f"{URL}/{other.pk}", {"skills": ["it"]}, content_type="application/json")
    assert denied.status_code == 404
    assert state(other)[2] == ",medical,"
    assert client.get(URL).json()["count"] == 1


# Teams and the recommendation -----------------------------------------------------------


def test_recommend_adjust_accept_over_http(world):
    secretary_user = world.users[Role.SECRETARY]
    teams = teams_create_defaults(community=world.community)
    for team in teams:
        team_update(actor=secretary_user, team=team, target_size=1)
    doctor = register(world, name="医生")
    driver = register(world, name="司机", skills=["driving"], willingness=["supplies"])
    secretary = client_for(world.users[Role.SECRETARY])
    response = post_json(secretary, f"{URL}/recommendations", {"community_id": world.community.pk})
    assert response.status_code == 201
    body = response.json()
    placements = {row["volunteer_name"]: row["team_name"] for row in body["placements"]}
    assert placements == {"医生": "医疗保障", "司机": "物资保障"}
    assert body["objective"] == body["bound"] == 16 + 16
    doctor_row = next(row for row in body["placements"] if row["volunteer_id"] == doctor.pk)
    assert doctor_row["reason"] == (
        "Skills matched: Medical; Willing: 医疗保障; Available slots: 2"
    )
    care = Team.objects.get(name="关爱帮扶")
    adjusted = post_json(
        secretary,
        f"{URL}/recommendations/{body['id']}/adjust",
        {"volunteer_id": driver.pk, "team_id": care.pk},
    )
    assert adjusted.status_code == 200
    accepted = post_json(secretary, f"{URL}/recommendations/{body['id']}/accept", {})
    assert accepted.json() == {"placed": 2}
    assert sorted(
        TeamMembership.objects.current().values_list("volunteer__name", "team__name")
    ) == [("医生", "医疗保障"), ("司机", "关爱帮扶")]


def test_micro_grid_lead_sees_teams_but_cannot_recommend(world):
    teams_create_defaults(community=world.community)
    register(world)
    lead = client_for(world.users[Role.MICRO_GRID_LEAD])
    assert len(lead.get(f"{URL}/teams").json()) == 7
    response = post_json(lead, f"{URL}/recommendations", {"community_id": world.community.pk})
    assert response.status_code == 403
    assert TeamRecommendation.objects.count() == 0


def test_adding_to_a_full_team_is_a_conflict(world):
    team = teams_create_defaults(community=world.community)[1]
    team_update(actor=world.users[Role.SECRETARY], team=team, target_size=1)
    first, second = register(world, name="甲"), register(world, name="乙")
    secretary = client_for(world.users[Role.SECRETARY])
    url = f"{URL}/teams/{team.pk}/members"
    assert post_json(secretary, url, {"volunteer_id": first.pk}).status_code == 200
    response = post_json(secretary, url, {"volunteer_id": second.pk})
    assert response.status_code == 409
    assert response.json()["field"] == "team"
    assert TeamMembership.objects.count() == 1


# Hours --------------------------------------------------------------------------------


def test_hours_add_correct_and_totals(world):
    volunteer = register(world)
    secretary = client_for(world.users[Role.SECRETARY])
    added = post_json(
        secretary,
        f"{URL}/hours",
        {"volunteer_id": volunteer.pk, "hours": "3", "note": "巡楼", "occurred_on": "2026-03-05"},
    )
    assert added.status_code == 201
    missing_reason = post_json(
        secretary, f"{URL}/hours/corrections", {"volunteer_id": volunteer.pk, "hours": "-1"}
    )
    assert missing_reason.status_code == 400
    assert missing_reason.json()["field"] == "note"
    corrected = post_json(
        secretary,
        f"{URL}/hours/corrections",
        {
            "volunteer_id": volunteer.pk,
            "hours": "-1",
            "reason": "多记",
            "corrects_id": added.json()["id"],
            "occurred_on": "2026-03-06",
        },
    )
    assert corrected.status_code == 201
    totals = secretary.get(f"{URL}/hours/totals", {"by": "month"}).json()
    assert totals == {
        "by": "month",
        "items": [{"key": "2026-03", "name": "2026-03", "total": "2.00"}],
    }
    assert secretary.get(f"{URL}/{volunteer.pk}").json()["total_hours"] == "2.00"


def test_volunteers_cannot_credit_themselves(world):
    own = register(world, name="志愿者本人")
    Volunteer.objects.filter(pk=own.pk).update(user=world.users[Role.VOLUNTEER])
    client = client_for(world.users[Role.VOLUNTEER])
    response = post_json(client, f"{URL}/hours", {"volunteer_id": own.pk, "hours": "5"})
    assert response.status_code == 403
    assert ServiceHoursEntry.objects.count() == 0
    service_hours_record(
        volunteer=own,
        hours=Decimal("1.5"),
        source_kind="claim",
        source_id=9,
        note="",
        actor=None,
    )
    entries = client.get(f"{URL}/hours").json()
    assert [(row["hours"], row["source_kind"]) for row in entries["items"]] == [("1.50", "claim")]


def test_export_is_xlsx(world):
    volunteer = register(world)
    service_hours_record(
        volunteer=volunteer,
        hours=Decimal("2"),
        source_kind="activity",
        source_id=None,
        note="",
        actor=None,
    )
    response = client_for(world.users[Role.SECRETARY]).post(f"{URL}/hours/export")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    assert (
        client_for(world.users[Role.PARTNER_LIAISON]).post(f"{URL}/hours/export").status_code == 403
    )


def test_export_is_not_a_link_a_cross_site_page_can_follow(world):
    # A GET (a link or an <img> on another site, sent with the session cookie) exports nothing;
    # a session POST needs the CSRF token; a bearer token needs none.
    secretary = world.users[Role.SECRETARY]
    browser = Client(enforce_csrf_checks=True, headers={"Accept-Language": "en"})
    browser.force_login(secretary)
    assert browser.get(f"{URL}/hours/export").status_code == 405
    refused = browser.post(f"{URL}/hours/export")
    assert refused.status_code == 403
    assert refused.json()["message"] == (
        "CSRF check failed: send the X-CSRFToken header with session requests."
    )
    bearer = client_for(secretary, language=None, token=True, enforce_csrf_checks=True)
    assert bearer.post(f"{URL}/hours/export").status_code == 200
    assert AuditEntry.objects.filter(action=AuditAction.EXPORT).count() == 1


def test_lists_take_a_fixed_number_of_queries(world, django_assert_num_queries):
    for index in range(5):
        volunteer = register(world, name=f"志愿者{index}")
        service_hours_record(
            volunteer=volunteer,
            hours=Decimal("1"),
            source_kind="activity",
            source_id=None,
            note="",
            actor=None,
        )
    teams_create_defaults(community=world.community)
    client = client_for(world.users[Role.SECRETARY])
    client.get(URL)  # warm the session and the scope
    # session, user, scope roles, own household, then count and page (one list for teams)
    with django_assert_num_queries(6):
        assert client.get(URL).json()["count"] == 5
    with django_assert_num_queries(6):
        assert client.get(f"{URL}/hours").json()["count"] == 5
    with django_assert_num_queries(5):
        assert len(client.get(f"{URL}/teams").json()) == 7
