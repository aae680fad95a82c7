"""Volunteer pages through the test client: sign-up, review, teams, recommendation, hours."""

import io
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from openpyxl import load_workbook

from linli.accounts.models import AuditEntry
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


@pytest.mark.parametrize("name", ["volunteers:list", "volunteers:signup", "volunteers:hours"])
def test_anonymous_is_sent_to_login(world, name):
    response = client_for(world.users["anonymous"]).get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse(settings.LOGIN_URL))


def test_resident_signs_up_on_the_phone_page(world):
    client = client_for(world.users[Role.RESIDENT])
    page = client.get(reverse("volunteers:signup"))
    assert page.status_code == 200
    assert 'name="availability" value="thu_pm"' in page.content.decode()
    response = client.post(
        reverse("volunteers:signup"),
        {"skills": ["elder_care"], "willingness": ["care"], "availability": ["thu_pm", "sat_am"]},
    )
    volunteer = Volunteer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("volunteers:detail", args=[volunteer.pk])
    assert (volunteer.resident, volunteer.slot_list) == (world.resident, ["sat_am", "thu_pm"])
    # Signing up again leads to the profile.
    assert client.get(reverse("volunteers:signup"))["Location"] == response["Location"]


def test_sign_up_error_names_the_slot_and_writes_nothing(world):
    response = client_for(world.users[Role.RESIDENT]).post(
        reverse("volunteers:signup"), {"availability": ["thu_pm", "thu_night"]}
    )
    assert response.status_code == 400
    assert "Unknown availability slot: thu_night" in response.content.decode()
    assert Volunteer.objects.count() == 0


def test_outside_person_must_pick_a_community(world):
    response = client_for(world.users[Role.PARTNER_LIAISON]).post(
        reverse("volunteers:signup"), {"name": "钱律师", "work_unit": "法院"}
    )
    assert response.status_code == 400
    assert "Choose the community you want to serve." in response.content.decode()
    assert Volunteer.objects.count() == 0


def test_staff_list_shows_masked_phones_and_review_buttons(world):
    register(world, approve=False, phone="13912345678")
    page = client_for(world.users[Role.SECRETARY]).get(reverse("volunteers:list"))
    html = page.content.decode()
    assert "周医生" in html and "139****5678" in html and "13912345678" not in html
    assert 'value="approve"' in html
    viewer = client_for(world.users[Role.BUILDING_GROUP_LEADER]).get(reverse("volunteers:list"))
    # The building-group leader sees only their own group: the community-level applicant is not.
    assert "周医生" not in viewer.content.decode()


def test_review_by_a_leader_without_the_right_changes_nothing(world):
    applicant = register(world, unit=world.building_group, approve=False)
    response = client_for(world.users[Role.BUILDING_GROUP_LEADER]).post(
        reverse("volunteers:review", args=[applicant.pk]), {"decision": "approve"}
    )
    assert response.status_code == 302
    applicant.refresh_from_db()
    assert applicant.status == "applied"
    client_for(world.users[Role.MICRO_GRID_LEAD]).post(
        reverse("volunteers:review", args=[applicant.pk]), {"decision": "approve"}
    )
    applicant.refresh_from_db()
    assert applicant.status == "approved"


def test_profile_out_of_scope_is_404(world):
    volunteer = register(world)
    assert (
        client_for(world.users[Role.BUILDING_GROUP_LEADER])
        .get(reverse("volunteers:detail", args=[volunteer.pk]))
        .status_code
        == 404
    )
    assert (
        client_for(world.users[Role.RESIDENT])
        .get(reverse("volunteers:detail", args=[volunteer.pk]))
        .status_code
        == 404
    )


def test_volunteer_edits_own_profile_on_the_page(world):
    own = register(world, name="志愿者本人")
    Volunteer.objects.filter(pk=own.pk).update(user=world.users[Role.VOLUNTEER])
    client = client_for(world.users[Role.VOLUNTEER])
    assert client.get(reverse("volunteers:list"))["Location"] == reverse(
        "volunteers:detail", args=[own.pk]
    )
    response = client.post(
        reverse("volunteers:detail", args=[own.pk]),
        {
            "skills": ["it"],
            "willingness": ["liaison"],
            "availability": ["sun_eve"],
            "work_unit": "区图书馆",
        },
    )
    assert response.status_code == 302
    own.refresh_from_db()
    assert (own.skill_list, own.work_unit, own.phone) == (["it"], "区图书馆", "")


def test_secretary_sets_up_teams_recommends_and_accepts(world):
    client = client_for(world.users[Role.SECRETARY])
    client.post(reverse("volunteers:team_defaults"), {"community": world.community.pk})
    assert Team.objects.filter(community=world.community).count() == 7
    for team in Team.objects.all():
        team_update(actor=world.users[Role.SECRETARY], team=team, target_size=1)
    register(world, name="医生")
    response = client.post(reverse("volunteers:recommend"), {"community": world.community.pk})
    recommendation = TeamRecommendation.objects.get()
    assert response["Location"] == reverse("volunteers:recommendation", args=[recommendation.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Skills matched: Medical; Willing: 医疗保障; Available slots: 2" in page
    client.post(response["Location"], {"action": "accept"})
    assert list(TeamMembership.objects.current().values_list("volunteer__name", "team__name")) == [
        ("医生", "医疗保障")
    ]
    teams_page = client.get(reverse("volunteers:teams")).content.decode()
    assert "1 / 1" in teams_page


def test_micro_grid_lead_sees_teams_without_staffing_buttons(world):
    teams_create_defaults(community=world.community)
    page = client_for(world.users[Role.MICRO_GRID_LEAD]).get(reverse("volunteers:teams"))
    html = page.content.decode()
    assert page.status_code == 200 and "医疗保障" in html
    assert reverse("volunteers:recommend") not in html
    response = client_for(world.users[Role.MICRO_GRID_LEAD]).post(
        reverse("volunteers:recommend"), {"community": world.community.pk}
    )
    assert response.status_code == 302
    assert TeamRecommendation.objects.count() == 0


def test_hours_page_records_and_exports(world):
    volunteer = register(world)
    client = client_for(world.users[Role.SECRETARY])
    client.post(
        reverse("volunteers:hours_add"),
        {
            "volunteer": volunteer.pk,
            "hours": "2.5",
            "note": "周四行动日",
            "occurred_on": "2026-03-05",
        },
    )
    assert list(ServiceHoursEntry.objects.values_list("hours", "source_kind", "note")) == [
        (Decimal("2.50"), "manual", "周四行动日")
    ]
    page = client.get(reverse("volunteers:hours")).content.decode()
    assert "2.50" in page
    exported = client.post(reverse("volunteers:hours_export"))
    sheet = load_workbook(io.BytesIO(exported.content)).worksheets[1]
    assert [list(row) for row in sheet.iter_rows(values_only=True)][1] == ["周医生", 2.5]
    assert AuditEntry.objects.filter(object_type="service_hours", action="export").count() == 1


def test_hours_page_refuses_non_staff_without_profile(world):
    assert (
        client_for(world.users[Role.PARTNER_LIAISON]).get(reverse("volunteers:hours")).status_code
        == 404
    )
    assert (
        client_for(world.users[Role.PARTNER_LIAISON])
        .get(reverse("volunteers:hours_export"))
        .status_code
        == 404
    )


def test_volunteer_sees_own_hours_on_profile(world):
    own = register(world, name="志愿者本人")
    Volunteer.objects.filter(pk=own.pk).update(user=world.users[Role.VOLUNTEER])
    service_hours_record(
        volunteer=own, hours=Decimal("3"), source_kind="claim", source_id=5, note="", actor=None
    )
    page = client_for(world.users[Role.VOLUNTEER]).get(reverse("volunteers:detail", args=[own.pk]))
    assert 'data-testid="total-hours">3.00<' in page.content.decode()
