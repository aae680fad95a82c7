"""Volunteer sign-up, review, teams and the recommendation through the real services."""

import pytest
from django.core.exceptions import ValidationError

from linli.accounts.models import AuditEntry
from linli.accounts.roles import Role
from linli.conftest import make_user
from linli.volunteers.models import Team, TeamMembership, TeamRecommendation, Volunteer
from linli.volunteers.services import (
    recommendation_accept,
    recommendation_adjust,
    recommendation_create,
    team_member_add,
    team_update,
    teams_create_defaults,
    volunteer_review,
    volunteer_set_active,
    volunteer_signup,
    volunteer_update,
)
from linli.volunteers.tests.conftest import register

SLOTS = ["mon_am", "wed_eve", "sat_pm"]


def test_resident_signs_up_as_themselves_in_their_building_group(world):
    volunteer = volunteer_signup(
        actor=world.users[Role.RESIDENT],
        skills=["elder_care", "language"],
        willingness=["care"],
        availability=SLOTS,
    )
    assert volunteer.resident == world.resident
    assert volunteer.user == world.users[Role.RESIDENT]
    assert volunteer.origin == "resident"
    assert volunteer.name == "张桂英"
    assert volunteer.phone_masked == "138****1234"
    assert volunteer.grid_unit == world.building_group
    assert volunteer.grid_path == "/S/B/A/A1/A1-1/"
    assert volunteer.home_building == world.building
    assert volunteer.status == "applied"
    assert volunteer.skill_list == ["elder_care", "language"]
    assert volunteer.slot_list == ["mon_am", "sat_pm", "wed_eve"]
    assert AuditEntry.objects.filter(object_type="volunteer", action="create").count() == 1


def test_outside_party_member_reports_to_a_community_with_work_unit(world):
    user = make_user("outsider")
    volunteer = volunteer_signup(
        actor=user,
        grid_unit=world.community,
        name="钱律师",
        phone="13900001111",
        work_unit="静安区法院",
        party_member_type="in_service",
        skills=["legal"],
        willingness=["liaison"],
        availability=["thu_pm"],
    )
    assert (volunteer.origin, volunteer.user, volunteer.resident) == ("outside", user, None)
    assert volunteer.grid_path == "/S/B/A/"
    assert volunteer.work_unit == "静安区法院"


def test_outside_sign_up_without_work_unit_names_the_field(world):
    with pytest.raises(ValidationError) as error:
        volunteer_signup(
            actor=make_user("outsider"),
            grid_unit=world.community,
            name="钱律师",
            skills=[],
            willingness=[],
            availability=[],
        )
    assert error.value.message_dict == {
        "work_unit": ["Enter the work unit of an outside volunteer."]
    }
    assert Volunteer.objects.count() == 0


def test_unknown_skills_are_named_and_nothing_is_written(world):
    with pytest.raises(ValidationError) as error:
        volunteer_signup(
            actor=world.users[Role.RESIDENT],
            skills=["medical", "flying", "juggling"],
            willingness=["care"],
            availability=SLOTS,
        )
    assert error.value.message_dict == {"skills": ["Unknown skill: flying, juggling"]}
    assert Volunteer.objects.count() == 0
    assert AuditEntry.objects.filter(object_type="volunteer").count() == 0


def test_unknown_availability_slot_is_named(world):
    with pytest.raises(ValidationError) as error:
        volunteer_signup(
            actor=world.users[Role.RESIDENT],
            skills=[],
            willingness=[],
            availability=["mon_am", "mon_night"],
        )
    assert error.value.message_dict == {
        "availability": ["Unknown availability slot: mon_night (use e.g. mon_am, thu_pm, sun_eve)"]
    }
    assert Volunteer.objects.count() == 0


def test_unknown_willingness_is_named(world):
    with pytest.raises(ValidationError) as error:
        volunteer_signup(
            actor=world.users[Role.RESIDENT], skills=[], willingness=["dancing"], availability=[]
        )
    assert error.value.message_dict == {"willingness": ["Unknown kind of service: dancing"]}


def test_a_login_signs_up_once(world):
    volunteer_signup(
        actor=world.users[Role.RESIDENT], skills=[], willingness=[], availability=SLOTS
    )
    with pytest.raises(ValidationError) as error:
        volunteer_signup(
            actor=world.users[Role.RESIDENT], skills=[], willingness=[], availability=SLOTS
        )
    assert list(error.value.message_dict) == ["user"]
    assert Volunteer.objects.count() == 1


def test_self_sign_up_cannot_name_another_resident(world):
    with pytest.raises(ValidationError) as error:
        volunteer_signup(
            actor=make_user("stranger"),
            resident=world.neighbour,
            skills=[],
            willingness=[],
            availability=[],
        )
    assert error.value.code == "permission_denied"
    assert Volunteer.objects.count() == 0


def test_staff_register_a_resident_without_login(world):
    volunteer = volunteer_signup(
        actor=world.users[Role.MICRO_GRID_LEAD],
        resident=world.neighbour,
        skills=["repair"],
        willingness=["patrol"],
        availability=["sun_am"],
    )
    assert volunteer.user is None
    assert volunteer.party_member_type == "retired"
    assert volunteer.name == "李建国"


def test_micro_grid_lead_approves_within_scope_only(world):
    lead = world.users[Role.MICRO_GRID_LEAD]
    inside = volunteer_signup(
        actor=lead, resident=world.neighbour, skills=[], willingness=[], availability=[]
    )
    community_level = register(world, approve=False)
    assert volunteer_review(actor=lead, volunteer=inside, approve=True).status == "approved"
    with pytest.raises(ValidationError) as error:
        volunteer_review(actor=lead, volunteer=community_level, approve=True)
    assert error.value.code == "permission_denied"
    community_level.refresh_from_db()
    assert (community_level.status, community_level.reviewed_by) == ("applied", None)


def test_rejection_needs_a_reason_and_is_final(world):
    secretary = world.users[Role.SECRETARY]
    volunteer = register(world, approve=False)
    with pytest.raises(ValidationError) as error:
        volunteer_review(actor=secretary, volunteer=volunteer, approve=False)
    assert list(error.value.message_dict) == ["note"]
    volunteer_review(actor=secretary, volunteer=volunteer, approve=False, note="重复报名")
    with pytest.raises(ValidationError):
        volunteer_review(actor=secretary, volunteer=volunteer, approve=True)
    volunteer.refresh_from_db()
    assert (volunteer.status, volunteer.review_note) == ("rejected", "重复报名")


def test_volunteer_edits_own_profile_but_not_anothers(world):
    own = volunteer_signup(
        actor=world.users[Role.RESIDENT], skills=[], willingness=[], availability=SLOTS
    )
    other = register(world)
    volunteer_update(actor=world.users[Role.RESIDENT], volunteer=own, skills=["it"])
    own.refresh_from_db()
    assert own.skill_list == ["it"]
    with pytest.raises(ValidationError) as error:
        volunteer_update(actor=world.users[Role.RESIDENT], volunteer=other, skills=["it"])
    assert error.value.code == "permission_denied"
    other.refresh_from_db()
    assert other.skill_list == ["medical"]


def test_default_teams_are_the_seven_and_idempotent(world):
    created = teams_create_defaults(community=world.community)
    assert [team.name for team in created] == [
        "应急处置",
        "医疗保障",
        "物资保障",
        "信息联络",
        "关爱帮扶",
        "环境巡查",
        "宣传动员",
    ]
    assert created[1].required_skill_list == ["medical", "nursing"]
    assert teams_create_defaults(community=world.community) == []
    assert Team.objects.filter(community=world.community).count() == 7


def test_defaults_only_for_a_community(world):
    with pytest.raises(ValidationError) as error:
        teams_create_defaults(community=world.micro_grid)
    assert list(error.value.message_dict) == ["community"]


def test_team_member_add_refuses_a_full_team_and_moves_between_teams(world):
    secretary = world.users[Role.SECRETARY]
    medical, supplies = teams_create_defaults(community=world.community)[1:3]
    team_update(actor=secretary, team=medical, target_size=1)
    first, second = register(world, name="甲"), register(world, name="乙")
    team_member_add(actor=secretary, team=medical, volunteer=first)
    with pytest.raises(ValidationError) as error:
        team_member_add(actor=secretary, team=medical, volunteer=second)
    assert error.value.message_dict == {"team": ["The team is full (1 members)."]}
    team_member_add(actor=secretary, team=supplies, volunteer=first)
    assert list(TeamMembership.objects.current().values_list("volunteer__name", "team__name")) == [
        ("甲", "物资保障")
    ]
    assert TeamMembership.objects.filter(volunteer=first).count() == 2
    first.refresh_from_db()
    assert first.status == "active"


def test_team_member_add_refuses_an_unapproved_volunteer(world):
    team = teams_create_defaults(community=world.community)[0]
    applicant = register(world, approve=False)
    with pytest.raises(ValidationError) as error:
        team_member_add(actor=world.users[Role.SECRETARY], team=team, volunteer=applicant)
    assert error.value.message_dict == {"volunteer": ["周医生 is not an approved volunteer."]}
    assert TeamMembership.objects.count() == 0


def test_pausing_ends_the_membership(world, volunteer):
    team = teams_create_defaults(community=world.community)[1]
    team_member_add(actor=world.users[Role.SECRETARY], team=team, volunteer=volunteer)
    volunteer_set_active(actor=world.users[Role.SECRETARY], volunteer=volunteer, active=False)
    volunteer.refresh_from_db()
    assert volunteer.status == "inactive"
    assert TeamMembership.objects.current().count() == 0


def _two_team_community(world):
    secretary = world.users[Role.SECRETARY]
    teams = teams_create_defaults(community=world.community)
    for team in teams:
        team_update(actor=secretary, team=team, target_size=0)
    medical, supplies = teams[1], teams[2]
    team_update(actor=secretary, team=medical, target_size=1)
    team_update(actor=secretary, team=supplies, target_size=1)
    doctor = register(world, name="医生", availability=["mon_am", "tue_am"])
    driver = register(
        world,
        name="司机",
        skills=["driving"],
        willingness=["supplies", "medical_support"],
        availability=["sat_am"],
    )
    newcomer = register(world, name="新人", skills=[], willingness=[], availability=[])
    return medical, supplies, doctor, driver, newcomer


def test_recommendation_places_by_fit_and_accept_writes_memberships(world):
    secretary = world.users[Role.SECRETARY]
    medical, supplies, doctor, driver, newcomer = _two_team_community(world)
    recommendation = recommendation_create(actor=secretary, community=world.community)
    # 医生 → 医疗保障: willing 10 + medical 4 + 2 slots; 司机 → 物资保障: 10 + 4 + 1.
    assert recommendation.objective == 31
    assert recommendation.bound == 31
    placed = {row["volunteer_id"]: row["team_id"] for row in recommendation.assignments}
    assert placed == {doctor.pk: medical.pk, driver.pk: supplies.pk, newcomer.pk: None}
    assert recommendation_accept(actor=secretary, recommendation=recommendation) == 2
    assert sorted(
        TeamMembership.objects.current().values_list("volunteer__name", "team__name", "source")
    ) == [("医生", "医疗保障", "recommendation"), ("司机", "物资保障", "recommendation")]
    recommendation.refresh_from_db()
    assert recommendation.status == "accepted"


def test_adjust_one_then_accept_over_target_writes_nothing(world):
    secretary = world.users[Role.SECRETARY]
    medical, supplies, doctor, driver, newcomer = _two_team_community(world)
    recommendation = recommendation_create(actor=secretary, community=world.community)
    recommendation = recommendation_adjust(
        actor=secretary, recommendation=recommendation, volunteer=driver, team=medical
    )
    # 司机 in 医疗保障: willing 10 + no required skill + 1 slot.
    assert recommendation.objective == 16 + 11
    with pytest.raises(ValidationError) as error:
        recommendation_accept(actor=secretary, recommendation=recommendation)
    assert error.value.message_dict == {
        "recommendation": ["医疗保障 would have 2 members, above its target of 1."]
    }
    assert TeamMembership.objects.count() == 0
    assert TeamRecommendation.objects.get().status == "proposed"


def test_micro_grid_lead_cannot_staff_community_teams(world):
    _two_team_community(world)
    with pytest.raises(ValidationError) as error:
        recommendation_create(actor=world.users[Role.MICRO_GRID_LEAD], community=world.community)
    assert error.value.code == "permission_denied"
    assert TeamRecommendation.objects.count() == 0


def test_recommendation_skips_current_members_by_default(world):
    secretary = world.users[Role.SECRETARY]
    medical, supplies, doctor, driver, newcomer = _two_team_community(world)
    team_member_add(actor=secretary, team=medical, volunteer=doctor)
    recommendation = recommendation_create(actor=secretary, community=world.community)
    assert {row["volunteer_id"]: row["team_id"] for row in recommendation.assignments} == {
        driver.pk: supplies.pk,
        newcomer.pk: None,
    }


def test_replanning_everyone_swaps_misplaced_members(world):
    secretary = world.users[Role.SECRETARY]
    medical, supplies, doctor, driver, newcomer = _two_team_community(world)
    team_member_add(actor=secretary, team=supplies, volunteer=doctor)
    team_member_add(actor=secretary, team=medical, volunteer=newcomer)
    recommendation = recommendation_create(
        actor=secretary, community=world.community, include_members=True
    )
    assert {row["volunteer_id"]: row["team_id"] for row in recommendation.assignments} == {
        doctor.pk: medical.pk,
        driver.pk: supplies.pk,
        newcomer.pk: None,
    }
    recommendation_accept(actor=secretary, recommendation=recommendation)
    assert sorted(
        TeamMembership.objects.current().values_list("volunteer__name", "team__name")
    ) == [("医生", "医疗保障"), ("司机", "物资保障")]
