"""Capacity indicators on a hand-made community: exact values for every unit of the
street, the drill-downs read within each viewer's scope, and a bound on the queries of
computing them all for a subtree.

The world (linli/conftest.py): street S / block B / community A (micro-grids A1, A2) and
community C. Rows are model rows with exact times relative to the end of the period,
because the services stamp "now" (joined, confirmed, stood down …).
"""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from linli.accounts.roles import Role
from linli.emergency.models import Activation, Plan, Simulation
from linli.grids.models import Resident
from linli.partners.models import (
    Agreement,
    Claim,
    Milestone,
    Need,
    Partner,
    Project,
    Resource,
)
from linli.resilience import capacity
from linli.resilience.engine import REGISTRY, Unit, context_for
from linli.resilience.index import indicator_score, settings_in_force, sub_indices
from linli.supplies.models import StockLocation, StockMovement, SupplyItem
from linli.volunteers.models import Team, TeamMembership, Volunteer, encode_codes

CODES = [
    "C_VOLUNTEERS_PER_100",
    "C_TEAM_STAFFING",
    "C_CRITICAL_SKILLS",
    "C_RESOURCE_REDUNDANCY",
    "C_AGREEMENTS",
    "C_PROJECTS_DELIVERED",
    "C_NEEDS_FULFILLED",
    "C_NEED_DAYS",
    "C_SUPPLIES_AT_MINIMUM",
    "C_DRILL_90",
    "C_DRILL_100",
]


@dataclass
class Capacity:
    world: object
    end: object
    day: object


def volunteer(world, name, unit, skills, status="active"):
    return Volunteer.objects.create(
        origin="outside",
        name=name,
        grid_unit=unit,
        grid_path=unit.path,
        skills=encode_codes(skills),
        status=status,
    )


def team(community, name, target):
    return Team.objects.create(
        community=community, grid_path=community.path, kind="care", name=name, target_size=target
    )


def member(team, volunteer, joined, ended=None):
    membership = TeamMembership.objects.create(
        team=team, volunteer=volunteer, grid_path=team.grid_path, source="manual"
    )
    TeamMembership.objects.filter(pk=membership.pk).update(joined_at=joined, ended_at=ended)
    return membership


def partner(community, name, *, valid=True, active=True, day):
    unit = Partner.objects.create(
        name=name,
        partner_type="enterprise",
        grid_unit=community,
        grid_path=community.path,
        is_active=active,
    )
    if valid:
        Agreement.objects.create(
            partner=unit,
            title=f"{name}共建协议",
            starts_on=day - timedelta(days=100),
            ends_on=day + timedelta(days=100),
        )
    # An agreement that has run out never counts.
    Agreement.objects.create(
        partner=unit,
        title=f"{name}旧协议",
        starts_on=day - timedelta(days=500),
        ends_on=day - timedelta(days=1),
    )
    return unit


def resource(unit, category, *, partner=None, volunteer=None, active=True):
    return Resource.objects.create(
        partner=partner,
        volunteer=volunteer,
        grid_unit=unit,
        grid_path=unit.path,
        kind="professional",
        category=category,
        title=f"{category} offer",
        is_active=active,
    )


def need(
    unit, title, created, *, state="open", recurrence="once", confirmed=None, claimed=None, provider
):
    row = Need.objects.create(
        grid_unit=unit,
        grid_path=unit.path,
        source="staff",
        category="food",
        title=title,
        recurrence=recurrence,
        state=state,
    )
    Need.objects.filter(pk=row.pk).update(created_at=created)
    if confirmed is not None:
        claim = Claim.objects.create(
            need=row,
            direction="provider",
            partner=provider,
            grid_path=row.grid_path,
            quantity=1,
            state="confirmed",
        )
        Claim.objects.filter(pk=claim.pk).update(confirmed_at=confirmed)
    if claimed is not None:
        claim = Claim.objects.create(
            need=row,
            direction="provider",
            partner=provider,
            grid_path=row.grid_path,
            quantity=1,
            state="claimed",
        )
        Claim.objects.filter(pk=claim.pk).update(created_at=claimed)
    return row


def item(location, name, minimum, *, moves=(), created=None):
    """`moves`: (signed quantity, when) in time order; `quantity` ends at the last balance."""
    supply = SupplyItem.objects.create(
        location=location,
        grid_path=location.grid_path,
        name=name,
        category="food",
        unit="箱",
        minimum_level=minimum,
    )
    balance = 0
    for amount, when in moves:
        balance += amount
        movement = StockMovement.objects.create(
            item=supply,
            grid_path=supply.grid_path,
            direction="in" if amount > 0 else "out",
            quantity=abs(amount),
            balance_after=balance,
            reason="test",
        )
        StockMovement.objects.filter(pk=movement.pk).update(created_at=when)
    SupplyItem.objects.filter(pk=supply.pk).update(quantity=balance)
    if created is not None:
        SupplyItem.objects.filter(pk=supply.pk).update(created_at=created)
    return supply


def drill(world, plan, scope, ended, minutes_to, *, is_drill=True, targeted=3):
    return Activation.objects.create(
        plan=plan,
        hazard=plan.hazard,
        grade=4,
        scope=scope,
        grid_path=scope.path,
        is_drill=is_drill,
        state="stood_down",
        movement_rule=plan.movement_rule,
        volunteer_capacity=8,
        acknowledge_minutes=15,
        retry_minutes=30,
        max_attempts=2,
        activated_at=ended - timedelta(hours=3),
        stood_down_at=ended,
        summary={
            "is_drill": is_drill,
            "minutes_to": minutes_to,
            "targeted_households": targeted,
        },
    )


def simulation(plan, scope, created, to90, to100, targeted=40):
    return Simulation.objects.create(
        plan=plan,
        scope=scope,
        grid_path=scope.path,
        grade=4,
        seed=1,
        minutes_to_90=to90,
        minutes_to_100=to100,
        targeted_households=targeted,
        created_at=created,
    )


@pytest.fixture
def built(world) -> Capacity:
    end = timezone.now().replace(microsecond=0) + timedelta(hours=1)
    day = timezone.localdate(end - timedelta(microseconds=1))
    community, other = world.community, world.other_community

    # Vulnerable residents: 张桂英 (A1), 王芳 (A2) from the world, 赵强 (C) tagged here.
    Resident.objects.filter(pk=world.other_community_resident.pk).update(
        vulnerability_tags=",disabled,"
    )

    # Volunteers: serving are approved or active.
    v1 = volunteer(world, "甲", community, ["medical", "first_aid"], status="approved")
    v2 = volunteer(world, "乙", community, ["medical", "driving"])
    volunteer(world, "丙", community, ["medical"], status="applied")
    v4 = volunteer(world, "丁", world.building_group, ["first_aid", "elder_care", "logistics"])
    v5 = volunteer(world, "戊", world.other_building_group, ["psychological"], status="approved")
    v6 = volunteer(world, "己", world.other_building_group, ["driving"], status="inactive")
    v7 = volunteer(world, "庚", other, ["medical"])

    # Teams: A's T1 (target 3) has 甲 and 乙 (丁 left before the end); T2 (target 1) has
    # 丁 and 戊, over target; C's T3 (target 2) has 庚 and 己 who joins after the end.
    t1, t2, t3 = team(community, "应急队", 3), team(community, "关爱队", 1), team(other, "C队", 2)
    member(t1, v1, end - timedelta(days=30))
    member(t1, v2, end - timedelta(days=30))
    member(t1, v4, end - timedelta(days=30), ended=end - timedelta(days=10))
    member(t2, v4, end - timedelta(days=9))
    member(t2, v5, end - timedelta(days=9))
    member(t3, v7, end - timedelta(days=9))
    member(t3, v6, end + timedelta(minutes=5))

    # Partners and resources.
    p1 = partner(community, "一号单位", day=day)
    p2 = partner(community, "二号单位", valid=False, day=day)
    p3 = partner(community, "三号单位", day=day)
    p4 = partner(other, "四号单位", day=day)
    p5 = partner(other, "五号单位", active=False, day=day)
    resource(community, "medical", partner=p1)
    resource(community, "food", partner=p1)
    resource(community, "food", partner=p2)  # agreement expired
    resource(community, "food", partner=p3)
    resource(community, "repair", partner=p3)
    resource(community, "transport", volunteer=v2)  # already a provider by driving
    resource(world.other_building_group, "repair", volunteer=v5)
    resource(other, "medical", partner=p4)
    resource(other, "legal", partner=p4, active=False)
    resource(other, "legal", partner=p5)  # inactive partner, but its agreement is valid

    # Projects: one completed 10 days before the end, one 400 days before, one active.
    owner = world.users[Role.SECRETARY]
    project_need = need(world.building_group, "项目需求", end - timedelta(days=500), provider=p1)
    Need.objects.filter(pk=project_need.pk).update(state="cancelled")
    food = Resource.objects.filter(partner=p1, category="food").get()
    for title, state, done in [
        ("助餐", "completed", day - timedelta(days=10)),
        ("旧项目", "completed", day - timedelta(days=400)),
        ("进行中", "active", None),
    ]:
        project = Project.objects.create(
            need=project_need,
            resource=food,
            grid_path=project_need.grid_path,
            title=title,
            owner=owner,
            starts_on=day - timedelta(days=450),
            state=state,
        )
        Milestone.objects.create(
            project=project, title="交付", due_on=day - timedelta(days=5), done_on=done
        )

    # Needs of the 90 days.
    need(
        world.building_group,
        "N1",
        end - timedelta(days=10),
        state="fulfilled",
        confirmed=end - timedelta(days=7),
        provider=p1,
    )
    need(world.building_group, "N2", end - timedelta(days=20), provider=p1)
    need(
        world.other_building_group,
        "N3",
        end - timedelta(days=30),
        state="fulfilled",
        confirmed=end - timedelta(days=25),
        provider=p1,
    )
    need(  # created before the 90 days, fulfilled within them
        world.other_building_group,
        "N4",
        end - timedelta(days=100),
        state="fulfilled",
        confirmed=end - timedelta(days=80),
        provider=p1,
    )
    need(world.building_group, "N5", end - timedelta(days=5), state="cancelled", provider=p1)
    need(  # recurring: met once fully claimed, a day after it was raised
        world.building_group,
        "N6",
        end - timedelta(days=5),
        state="claimed",
        recurrence="weekly",
        claimed=end - timedelta(days=4),
        provider=p1,
    )
    need(  # confirmed only after the end
        other,
        "N7",
        end - timedelta(days=3),
        state="fulfilled",
        confirmed=end + timedelta(minutes=30),
        provider=p4,
    )

    # Supplies.
    store = StockLocation.objects.create(grid_unit=community, grid_path=community.path, name="库")
    box = StockLocation.objects.create(
        grid_unit=world.micro_grid, grid_path=world.micro_grid.path, name="医药箱"
    )
    far = StockLocation.objects.create(grid_unit=other, grid_path=other.path, name="C库")
    item(  # 20 at the end; drawn down to 5 only after it
        store,
        "矿泉水",
        10,
        moves=[(20, end - timedelta(days=10)), (-15, end + timedelta(minutes=10))],
    )
    item(store, "方便面", 5, moves=[(3, end - timedelta(days=2))])
    item(store, "雨衣", 0, moves=[(1, end - timedelta(days=2))])  # no minimum: not counted
    item(box, "绷带", 2, moves=[(2, end - timedelta(days=2))])
    item(box, "新到", 1, created=end + timedelta(minutes=1))  # after the end
    item(far, "手电", 1)  # never stocked

    # Drills.
    plan = Plan.objects.create(
        grid_unit=world.street, grid_path=world.street.path, hazard="typhoon", name="防台预案"
    )
    counted = drill(world, plan, community, end - timedelta(days=30), {"90": 45.5, "100": None})
    drill(world, plan, community, end - timedelta(days=60), {"90": 20, "100": 30})
    drill(world, plan, community, end + timedelta(minutes=1), {"90": 5, "100": 6})
    drill(world, plan, community, end - timedelta(days=1), {"90": 1, "100": 2}, is_drill=False)
    simulation(plan, community, end - timedelta(days=1), 30, 50)
    simulation(plan, world.street, end - timedelta(days=10), 70, 130)
    simulation(plan, world.street, end - timedelta(days=20), 10, 15)
    simulation(plan, world.street, end + timedelta(minutes=1), 1, 2)
    built = Capacity(world=world, end=end, day=day)
    built.counted_drill = counted
    return built


def values(built, code):
    context = context_for(built.world.street, end=built.end)
    measures = REGISTRY[code].compute(context)
    world = built.world
    units = {
        "S": world.street,
        "B": world.block,
        "A": world.community,
        "A1": world.micro_grid,
        "A2": world.other_micro_grid,
        "C": world.other_community,
    }
    return {name: measures[unit.path] for name, unit in units.items()}


def value_of(measures):
    return {
        name: None if measure.value is None else round(measure.value, 4)
        for name, measure in measures.items()
    }


def test_every_capacity_indicator_is_registered_in_the_capacity_dimension():
    assert [code for code in CODES if code in REGISTRY] == CODES
    assert {REGISTRY[code].dimension for code in CODES} == {"capacity"}
    assert {code for code in REGISTRY if code.startswith("C_")} == set(CODES)
    assert REGISTRY["C_NEED_DAYS"].direction == "lower"
    assert REGISTRY["C_DRILL_90"].direction == REGISTRY["C_DRILL_100"].direction == "lower"
    assert REGISTRY["C_DRILL_90"].applies_to("community")
    assert not REGISTRY["C_DRILL_90"].applies_to("micro_grid")
    assert not REGISTRY["C_AGREEMENTS"].applies_to("micro_grid")


def test_volunteers_per_100_vulnerable_residents(built):
    measures = values(built, "C_VOLUNTEERS_PER_100")
    # Serving: A 甲 乙 丁 戊 (丙 applied, 己 inactive), C 庚; vulnerable: A 2, C 1.
    assert value_of(measures) == {
        "S": round(5 / 3 * 100, 4),
        "B": round(5 / 3 * 100, 4),
        "A": 200.0,
        "A1": 100.0,
        "A2": 100.0,
        "C": 100.0,
    }
    assert (measures["A"].numerator, measures["A"].denominator) == (4.0, 2.0)


def test_team_staffing_caps_each_team_at_its_target(built):
    measures = values(built, "C_TEAM_STAFFING")
    # A: T1 min(2, 3) + T2 min(2, 1) over 3 + 1; C: T3 min(1, 2) over 2.
    assert value_of(measures) == {
        "S": round(4 / 6, 4),
        "B": round(4 / 6, 4),
        "A": 0.75,
        "A1": None,
        "A2": None,
        "C": 0.5,
    }
    assert (measures["A"].numerator, measures["A"].denominator) == (3.0, 4.0)


def test_critical_skills_need_two_serving_holders(built):
    measures = values(built, "C_CRITICAL_SKILLS")
    # A: medical (甲 乙) and first aid (甲 丁); driving has only 乙 (己 is inactive, 丙
    # applied). B adds 庚's medical: still medical and first aid.
    assert value_of(measures) == {
        "S": round(2 / 6, 4),
        "B": round(2 / 6, 4),
        "A": round(2 / 6, 4),
        "A1": 0.0,
        "A2": 0.0,
        "C": 0.0,
    }


def test_resource_redundancy_counts_independent_providers_per_community(built):
    measures = values(built, "C_RESOURCE_REDUNDANCY")
    # A: medical (一号, 甲, 乙, 丁), food (一号, 三号, 丁 by logistics), repair (三号, 戊's
    # offer); transport has only 乙 (skill and offer are one provider). C: medical (四号, 庚).
    assert value_of(measures) == {
        "S": round(4 / 18, 4),
        "B": round(4 / 18, 4),
        "A": round(3 / 9, 4),
        "A1": None,
        "A2": None,
        "C": round(1 / 9, 4),
    }
    assert (measures["B"].numerator, measures["B"].denominator) == (4.0, 18.0)


def test_agreements_count_active_partners_under_a_valid_agreement(built):
    assert value_of(values(built, "C_AGREEMENTS")) == {
        "S": 3.0,
        "B": 3.0,
        "A": 2.0,
        "A1": 0.0,
        "A2": 0.0,
        "C": 1.0,
    }


def test_projects_delivered_in_the_last_365_days(built):
    assert value_of(values(built, "C_PROJECTS_DELIVERED")) == {
        "S": 1.0,
        "B": 1.0,
        "A": 1.0,
        "A1": 1.0,
        "A2": 0.0,
        "C": 0.0,
    }


def test_needs_fulfilled_of_those_created_in_90_days(built):
    measures = values(built, "C_NEEDS_FULFILLED")
    # A1: N1 and N6 (recurring, fully claimed) of N1 N2 N6 (N5 cancelled); A2: N3 (N4 is
    # older); C: N7 was confirmed only after the end.
    assert value_of(measures) == {
        "S": 0.6,
        "B": 0.6,
        "A": 0.75,
        "A1": round(2 / 3, 4),
        "A2": 1.0,
        "C": 0.0,
    }
    assert (measures["B"].numerator, measures["B"].denominator) == (3.0, 5.0)


def test_median_days_to_fulfil_needs_fulfilled_in_90_days(built):
    measures = values(built, "C_NEED_DAYS")
    # N6 1 day, N1 3 days, N3 5 days, N4 20 days.
    assert value_of(measures) == {
        "S": 4.0,
        "B": 4.0,
        "A": 4.0,
        "A1": 2.0,
        "A2": 12.5,
        "C": None,
    }
    assert measures["A"].denominator == 4.0


def test_supplies_at_minimum_by_the_balance_at_the_end(built):
    measures = values(built, "C_SUPPLIES_AT_MINIMUM")
    # A: 矿泉水 (20 ≥ 10 at the end), 绷带 (2 ≥ 2); 方便面 3 < 5. C: 手电 0 < 1.
    assert value_of(measures) == {
        "S": 0.5,
        "B": 0.5,
        "A": round(2 / 3, 4),
        "A1": 1.0,
        "A2": None,
        "C": 0.0,
    }


def test_drills_use_the_latest_real_drill_else_the_latest_simulation(built):
    to90, to100 = values(built, "C_DRILL_90"), values(built, "C_DRILL_100")
    # A: the drill 30 days back (the later simulation and real emergency do not count);
    # 100% never reached counts as a day. C, B and S: the street's simulation 10 days back.
    assert value_of(to90) == {"S": 70.0, "B": 70.0, "A": 45.5, "A1": 45.5, "A2": 45.5, "C": 70.0}
    assert value_of(to100) == {
        "S": 130.0,
        "B": 130.0,
        "A": float(capacity.NOT_REACHED_MINUTES),
        "A1": 1440.0,
        "A2": 1440.0,
        "C": 130.0,
    }
    assert to90["A"].denominator == 3.0
    assert to90["C"].denominator == 40.0


def test_computing_every_capacity_indicator_takes_a_fixed_number_of_queries(
    built, django_assert_max_num_queries
):
    context = context_for(built.world.street, end=built.end)
    with django_assert_max_num_queries(12):
        for code in CODES:
            REGISTRY[code].compute(context)


# Drill-downs --------------------------------------------------------------------------------


def unit_of(grid_unit) -> Unit:
    return Unit(grid_unit.id, grid_unit.path, grid_unit.level, grid_unit.name)


def drill_down(built, code, grid_unit, role):
    context = context_for(built.world.street, end=built.end)
    return REGISTRY[code].drilldown(context, unit_of(grid_unit), built.world.users[role])


def test_volunteer_drilldown_lists_only_volunteers_in_the_viewers_scope(built):
    world = built.world
    street = drill_down(built, "C_VOLUNTEERS_PER_100", world.street, Role.STREET_ADMIN)
    assert [row[0] for row in street.rows] == ["甲", "乙", "丁", "戊", "庚"]
    assert street.total == 5
    lead = drill_down(built, "C_VOLUNTEERS_PER_100", world.street, Role.MICRO_GRID_LEAD)
    assert [row[0] for row in lead.rows] == ["丁"]
    assert lead.links == [reverse("volunteers:detail", args=[Volunteer.objects.get(name="丁").pk])]
    assert drill_down(built, "C_VOLUNTEERS_PER_100", world.street, Role.RESIDENT).rows == []


def test_team_drilldown_puts_teams_below_target_first(built):
    world = built.world
    result = drill_down(built, "C_TEAM_STAFFING", world.street, Role.SECRETARY)
    assert list(result.rows) == [
        ["应急队", "A社区", "2", "3", "1"],
        ["关爱队", "A社区", "2", "1", "0"],
    ]
    assert result.links[0] == reverse("volunteers:team", args=[Team.objects.get(name="应急队").pk])
    street = drill_down(built, "C_TEAM_STAFFING", world.street, Role.STREET_ADMIN)
    assert [row[0] for row in street.rows] == ["应急队", "C队", "关爱队"]


def test_skills_drilldown_names_the_holders_of_uncovered_skills(built):
    result = drill_down(built, "C_CRITICAL_SKILLS", built.world.community, Role.SECRETARY)
    # Fewer than two holders first; 丙 (applied) and 己 (inactive) hold nothing.
    assert [row[:3] for row in result.rows] == [
        ["Elder care", "1", "丁"],
        ["Psychological counselling", "1", "戊"],
        ["Driving", "1", "乙"],
        ["Logistics", "1", "丁"],
        ["Medical", "2", "甲、乙"],
        ["First aid", "2", "甲、丁"],
    ]
    assert result.links[0] == reverse("volunteers:list") + "?status=&skill=elder_care"
    lead = drill_down(built, "C_CRITICAL_SKILLS", built.world.community, Role.MICRO_GRID_LEAD)
    # The counts are the unit's; the names only those the lead may see.
    assert [row[:3] for row in lead.rows][-1] == ["First aid", "2", "丁"]


def test_redundancy_drilldown_flags_single_provider_categories_within_scope(built):
    world = built.world
    result = drill_down(built, "C_RESOURCE_REDUNDANCY", world.street, Role.SECRETARY)
    # Only community A (the secretary's): 9 categories, those below two providers first.
    assert result.total == 9
    assert {row[0] for row in result.rows} == {"A社区"}
    counts = {row[1]: row[2] for row in result.rows}
    assert counts == {
        "Medical": "4",
        "Legal": "0",
        "Food": "3",
        "Water": "1",
        "Venue / shelter": "1",
        "Transport": "1",
        "Repair": "2",
        "Psychological support": "1",
        "Information": "0",
    }
    assert [row[2] for row in result.rows] == ["0", "0", "1", "1", "1", "1", "4", "3", "2"]
    repair = next(row for row in result.rows if row[1] == "Repair")
    assert repair[3] == "三号单位、戊"
    assert result.links[0] == reverse("partners:community_resources", args=[world.community.pk])
    assert drill_down(built, "C_RESOURCE_REDUNDANCY", world.street, Role.STREET_ADMIN).total == 18


def test_agreement_and_project_drilldowns(built):
    world = built.world
    agreements = drill_down(built, "C_AGREEMENTS", world.street, Role.SECRETARY)
    assert sorted(row[0] for row in agreements.rows) == ["一号单位", "三号单位"]
    assert agreements.total == 2
    everyone = drill_down(built, "C_AGREEMENTS", world.street, Role.STREET_ADMIN)
    assert sorted(row[0] for row in everyone.rows) == ["一号单位", "三号单位", "四号单位"]
    projects = drill_down(built, "C_PROJECTS_DELIVERED", world.community, Role.SECRETARY)
    assert [row[0] for row in projects.rows] == ["助餐"]
    assert projects.rows[0][2] == (built.day - timedelta(days=10)).isoformat()
    assert projects.links == [
        reverse("partners:project_detail", args=[Project.objects.get(title="助餐").pk])
    ]


def test_needs_drilldowns_within_scope(built):
    world = built.world
    open_needs = drill_down(built, "C_NEEDS_FULFILLED", world.street, Role.STREET_ADMIN)
    assert [row[0] for row in open_needs.rows] == ["N2", "N7"]
    assert open_needs.rows[0][4] == "20"
    secretary = drill_down(built, "C_NEEDS_FULFILLED", world.street, Role.SECRETARY)
    assert [row[0] for row in secretary.rows] == ["N2"]
    slow = drill_down(built, "C_NEED_DAYS", world.community, Role.SECRETARY)
    assert [(row[0], row[4]) for row in slow.rows] == [
        ("N4", "20.0"),
        ("N3", "5.0"),
        ("N1", "3.0"),
        ("N6", "1.0"),
    ]
    lead = drill_down(built, "C_NEED_DAYS", world.community, Role.MICRO_GRID_LEAD)
    assert [row[0] for row in lead.rows] == ["N1", "N6"]
    assert lead.links[0] == reverse("partners:need_detail", args=[Need.objects.get(title="N1").pk])


def test_supplies_drilldown_lists_items_below_minimum_within_scope(built):
    world = built.world
    secretary = drill_down(built, "C_SUPPLIES_AT_MINIMUM", world.street, Role.SECRETARY)
    assert secretary.rows == [["方便面", "库", "3 箱", "5 箱"]]
    assert secretary.links == [
        reverse("supplies:item_detail", args=[SupplyItem.objects.get(name="方便面").pk])
    ]
    street = drill_down(built, "C_SUPPLIES_AT_MINIMUM", world.street, Role.STREET_ADMIN)
    assert [row[0] for row in street.rows] == ["方便面", "手电"]
    assert drill_down(built, "C_SUPPLIES_AT_MINIMUM", world.street, Role.RESIDENT).rows == []


def test_drill_drilldown_links_the_counted_drills_report(built):
    world = built.world
    result = drill_down(built, "C_DRILL_90", world.community, Role.SECRETARY)
    # Real drills first (newest first), then simulations of A and of the street.
    assert [row[0] for row in result.rows] == [
        "Drill",
        "Drill",
        "Simulated drill",
        "Simulated drill",
        "Simulated drill",
    ]
    assert result.rows[0][3:] == ["45.5", "not reached", "3"]
    assert result.links[0] == reverse("emergency:report", args=[built.counted_drill.pk])
    assert result.links[2:] == [None, None, None]
    other = drill_down(built, "C_DRILL_90", world.other_community, Role.SECRETARY)
    # The secretary of A sees the street's simulations (above A) but nothing of C's own.
    assert [row[0] for row in other.rows] == ["Simulated drill", "Simulated drill"]
    assert drill_down(built, "C_DRILL_90", world.community, Role.RESIDENT).rows == []


def test_capacity_sub_index_of_a_community_from_its_scores(built):
    context = context_for(built.world.street, end=built.end)
    settings = settings_in_force()
    path = built.world.community.path
    scores = {
        code: indicator_score(REGISTRY[code], REGISTRY[code].compute(context)[path].value, settings)
        for code in CODES
    }
    assert {code: round(score, 4) for code, score in scores.items()} == {
        "C_VOLUNTEERS_PER_100": 1.0,  # 200 per 100 against 10
        "C_TEAM_STAFFING": 0.75,
        "C_CRITICAL_SKILLS": round(1 / 3, 4),
        "C_RESOURCE_REDUNDANCY": round(1 / 3, 4),
        "C_AGREEMENTS": 0.4,  # 2 of 5
        "C_PROJECTS_DELIVERED": 0.2,  # 1 of 5
        "C_NEEDS_FULFILLED": 0.9375,  # 0.75 against 0.8
        "C_NEED_DAYS": 1.0,  # 4 days within 7
        "C_SUPPLIES_AT_MINIMUM": round(2 / 3, 4),
        "C_DRILL_90": 1.0,  # 45.5 minutes within 60
        "C_DRILL_100": round(120 / 1440, 4),  # never reached
    }
    expected = (1 + 0.75 + 1 / 3 + 1 / 3 + 0.4 + 0.2 + 0.9375 + 1 + 2 / 3 + 1 + 120 / 1440) / 11
    assert sub_indices(scores, settings)["capacity"] == pytest.approx(expected)
