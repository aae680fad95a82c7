"""Live alerts of the resilience dashboard: exact counts and rows, scope, the to-do list, and
agreement with the partners app's redundancy check."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from linli.accounts.roles import Role
from linli.grids.models import Visit
from linli.partners.models import Agreement, Partner, Resource
from linli.partners.selectors import redundancy
from linli.resilience import alerts
from linli.supplies.models import StockLocation, SupplyItem
from linli.volunteers.models import (
    Team,
    TeamMembership,
    Volunteer,
    VolunteerOrigin,
    VolunteerStatus,
    encode_codes,
)


def _visit(household, days_ago: int):
    return Visit.objects.create(
        household=household,
        grid_path=household.grid_path,
        visited_at=timezone.now() - timedelta(days=days_ago),
        method="door",
    )


def _volunteer(unit, name, skills=(), status=VolunteerStatus.APPROVED):
    return Volunteer.objects.create(
        origin=VolunteerOrigin.OUTSIDE,
        name=name,
        grid_unit=unit,
        grid_path=unit.path,
        skills=encode_codes(skills),
        status=status,
    )


def _partner(community, name, valid=True):
    partner = Partner.objects.create(
        grid_unit=community, grid_path=community.path, name=name, partner_type="hospital"
    )
    today = timezone.localdate()
    Agreement.objects.create(
        partner=partner,
        title="协议",
        starts_on=today - timedelta(days=10),
        ends_on=today + timedelta(days=300 if valid else -1),
    )
    return partner


def _resource(partner, category):
    return Resource.objects.create(
        partner=partner,
        grid_unit=partner.grid_unit,
        grid_path=partner.grid_path,
        kind="professional",
        category=category,
        title=f"{partner.name} {category}",
    )


def _team(community, name, target, members):
    team = Team.objects.create(
        community=community,
        grid_path=community.path,
        kind="medical_support",
        name=name,
        target_size=target,
    )
    for number in range(members):
        volunteer = _volunteer(community, f"{name}{number}")
        TeamMembership.objects.create(
            team=team, volunteer=volunteer, grid_path=community.path, source="manual"
        )
    return team


def test_vulnerable_households_not_visited_for_30_days(world):
    # 101 (张桂英, elderly alone) was visited 10 days ago; 201 (王芳, pregnant) 31 days ago;
    # 102 has no vulnerable resident; 901 is in community C.
    _visit(world.household, 10)
    _visit(world.other_micro_grid_household, 31)
    secretary = world.users[Role.SECRETARY]

    households = alerts.vulnerable_unvisited(user=secretary, unit=world.community)
    assert list(households.values_list("room", flat=True)) == ["201"]
    rows, total = alerts.vulnerable_unvisited_rows(user=secretary, unit=world.community)
    assert total == 1
    assert [(row["label"], row["last_visit"].date()) for row in rows] == [
        ("2号楼 201", (timezone.now() - timedelta(days=31)).date())
    ]
    # The micro-grid lead of A1 has none; C's street admin view of C has none.
    assert not alerts.vulnerable_unvisited(
        user=world.users[Role.MICRO_GRID_LEAD], unit=world.micro_grid
    ).exists()
    assert not alerts.vulnerable_unvisited(
        user=world.users[Role.STREET_ADMIN], unit=world.other_community
    ).exists()


def test_never_visited_vulnerable_household_counts(world):
    secretary = world.users[Role.SECRETARY]
    rows, total = alerts.vulnerable_unvisited_rows(user=secretary, unit=world.community)
    assert total == 2
    assert [(row["label"], row["last_visit"]) for row in rows] == [
        ("1号楼 101", None),
        ("2号楼 201", None),
    ]


def test_vulnerable_alert_needs_the_sensitive_permission(world):
    # A volunteer has no registry or sensitive scope: nothing is counted for them.
    assert not alerts.vulnerable_unvisited(
        user=world.users[Role.VOLUNTEER], unit=world.community
    ).exists()


@pytest.fixture
def providers(world):
    community = world.community
    legal = _partner(community, "律所")
    _resource(legal, "legal")
    lapsed = _partner(community, "旧医院", valid=False)
    _resource(lapsed, "medical")
    _volunteer(community, "医生志愿者", skills=("medical",))
    _volunteer(community, "司机甲", skills=("driving",))
    _volunteer(community, "司机乙", skills=("driving",))
    _volunteer(community, "申请中的厨师", skills=("cooking",), status=VolunteerStatus.APPLIED)
    _volunteer(world.other_community, "C社区律师", skills=("legal",))
    return world


def test_single_provider_categories_match_the_partners_redundancy_check(providers):
    world = providers
    found = alerts.single_provider(user=world.users[Role.SECRETARY], unit=world.community)

    assert found == [(world.community, ["medical", "legal"])]
    singles = [
        row["category"] for row in redundancy(community=world.community) if row["flag"] == "single"
    ]
    assert found[0][1] == singles


def test_an_agreement_that_ended_yesterday_no_longer_counts_just_after_midnight(world):
    # 00:30 on 1 October in Shanghai is still 30 September in UTC, the day the hospital's
    # agreement ended: by the site's calendar it has lapsed, so the doctor is the only one.
    moment = datetime(2027, 10, 1, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(moment, tick=False):
        lapsed = _partner(world.community, "旧医院", valid=False)
        _resource(lapsed, "medical")
        _volunteer(world.community, "医生志愿者", skills=("medical",))

        found = alerts.alerts_for(user=world.users[Role.SECRETARY], unit=world.community)

    assert [(alert.kind, alert.count) for alert in found if alert.kind == "single_provider"] == [
        ("single_provider", 1)
    ]


def test_single_provider_of_a_street_covers_each_community(providers):
    world = providers
    found = alerts.single_provider(user=world.users[Role.STREET_ADMIN], unit=world.street)

    assert found == [
        (world.community, ["medical", "legal"]),
        (world.other_community, ["legal"]),
    ]


def test_teams_below_target_and_supplies_below_minimum(world):
    short = _team(world.community, "医疗队", target=3, members=1)
    _team(world.community, "巡逻队", target=1, members=1)
    _team(world.other_community, "C医疗队", target=5, members=0)
    location = StockLocation.objects.create(
        grid_unit=world.community, grid_path=world.community.path, name="应急柜"
    )
    low = SupplyItem.objects.create(
        location=location,
        grid_path=world.community.path,
        name="饮用水",
        category="water",
        unit="箱",
        quantity=2,
        minimum_level=5,
    )
    SupplyItem.objects.create(
        location=location,
        grid_path=world.community.path,
        name="手电",
        category="tools",
        unit="个",
        quantity=5,
        minimum_level=5,
    )
    secretary = world.users[Role.SECRETARY]

    teams = alerts.teams_below_target(user=secretary, unit=world.community)
    assert [(team.pk, team.member_count) for team in teams] == [(short.pk, 1)]
    # A micro-grid's lead sees the community's teams (they serve in them).
    assert [
        team.pk
        for team in alerts.teams_below_target(
            user=world.users[Role.MICRO_GRID_LEAD], unit=world.micro_grid
        )
    ] == [short.pk]
    assert alerts.supplies_below_minimum(user=secretary, unit=world.community) == [low]


def test_alerts_and_todo_list_of_the_community(providers):
    world = providers
    _team(world.community, "医疗队", target=3, members=1)
    secretary = world.users[Role.SECRETARY]

    found = alerts.alerts_for(user=secretary, unit=world.community)

    assert [(alert.kind, alert.count) for alert in found] == [
        ("vulnerable_unvisited", 2),
        ("single_provider", 2),
        ("team_below_target", 1),
    ]
    assert found[0].url == reverse("resilience:alert_unvisited", args=[world.community.pk])
    todos = alerts.todo_list(found)
    assert [todo.url for todo in todos] == [
        reverse("resilience:alert_unvisited", args=[world.community.pk]),
        reverse("partners:community_resources", args=[world.community.pk]),
        reverse("volunteers:team", args=[Team.objects.get(name="医疗队").pk]),
    ]


def test_alerts_cost_a_fixed_number_of_queries(providers):
    world = providers
    admin = world.users[Role.STREET_ADMIN]
    alerts.alerts_for(user=admin, unit=world.street)  # the scope is cached on the user
    with CaptureQueriesContext(connection) as captured:
        alerts.alerts_for(user=admin, unit=world.street)
    assert len(captured) <= 8


def test_alert_page_lists_the_households(client, world):
    _visit(world.other_micro_grid_household, 40)
    client.force_login(world.users[Role.SECRETARY])
    response = client.get(reverse("resilience:alert_unvisited", args=[world.community.pk]))

    assert response.status_code == 200
    assert response.context["total"] == 2
    assert [row["label"] for row in response.context["rows"]] == ["1号楼 101", "2号楼 201"]
    html = response.content.decode()
    assert reverse("grids:household_detail", args=[world.other_micro_grid_household.pk]) in html
    assert (
        client.get(
            reverse("resilience:alert_unvisited", args=[world.other_community.pk])
        ).status_code
        == 404
    )
