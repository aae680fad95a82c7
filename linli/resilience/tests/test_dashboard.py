"""The resilience dashboard reads stored snapshots: exact numbers, scope, the children's
table with their weakest indicators, the drill-down (scoped), and a bounded query count."""

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from linli.accounts.roles import Role
from linli.conftest import World, make_user
from linli.grids.models import GridUnit, Visit
from linli.grids.services import grid_unit_create, role_assign
from linli.resilience.engine import HIGHER, LOWER, REGISTRY, Indicator, Measure, register
from linli.resilience.models import Dimension, IndexSnapshot, IndicatorValue
from linli.resilience.services import snapshot_take
from linli.testing.clients import client_for

WEEK = date(2026, 3, 1)  # a Sunday: the stored week ends 2026-03-02 00:00
EARLIER = date(2026, 2, 22)

TEST_CODES = ("T_LOW", "T_MID", "T_HIGH", "T_MINUTES")


def _nothing(context):
    return {path: Measure(None) for path in context.paths}


@contextmanager
def registered_test_indicators():
    """Four made-up indicators beside the catalogue's own, so the weakest-two highlight has
    something to choose from whatever the catalogue holds; removed afterwards."""
    for code, dimension, direction, unit in (
        ("T_LOW", Dimension.CAPACITY, HIGHER, "per_100"),
        ("T_MID", Dimension.CULTURAL, HIGHER, "share"),
        ("T_HIGH", Dimension.CAPACITY, HIGHER, "count"),
        ("T_MINUTES", Dimension.CAPACITY, LOWER, "minutes"),
    ):
        register(
            Indicator(
                code=code,
                dimension=dimension,
                name=f"Test {code}",
                formula="a ÷ b",
                source="tests",
                direction=direction,
                target=10.0,
                unit=unit,
                compute=_nothing,
            )
        )
    try:
        yield
    finally:
        for code in TEST_CODES:
            REGISTRY.pop(code, None)


def snapshot(unit: GridUnit, period_end: date, structural, capacity, cultural, overall):
    return IndexSnapshot.objects.create(
        grid_unit=unit,
        grid_path=unit.path,
        level=unit.level,
        period_end=period_end,
        structural=structural,
        capacity=capacity,
        cultural=cultural,
        overall=overall,
    )


def value(unit: GridUnit, code: str, value, score, numerator=None, denominator=None, week=WEEK):
    return IndicatorValue.objects.create(
        grid_unit=unit,
        grid_path=unit.path,
        period_end=week,
        code=code,
        value=value,
        numerator=numerator,
        denominator=denominator,
        score=score,
    )


@dataclass
class Stored:
    world: World


def store_weeks(world: World) -> Stored:
    """Two weeks of community A, and this week of its micro-grids A1 and A2 and of C."""
    snapshot(world.community, EARLIER, 0.6, 0.5, None, 0.55)
    snapshot(world.community, WEEK, 0.8, 0.5, 0.25, 0.5167)
    snapshot(world.micro_grid, WEEK, 0.9, 0.3, 0.6, 0.6)
    snapshot(world.other_micro_grid, WEEK, 0.4, None, 0.7, 0.55)
    snapshot(world.other_community, WEEK, 0.1, 0.1, 0.1, 0.1)
    value(world.community, "S_VISIT_30D", 0.75, 0.8333, numerator=3, denominator=4)
    value(world.community, "T_LOW", 2.5, 0.25, numerator=5, denominator=200)
    value(world.community, "T_MINUTES", 40.0, 0.25, denominator=7)
    value(world.micro_grid, "S_VISIT_30D", 1.0, 1.0, numerator=2, denominator=2)
    value(world.micro_grid, "T_LOW", 2.0, 0.2)
    value(world.micro_grid, "T_MID", 0.4, 0.4)
    value(world.micro_grid, "T_HIGH", 9.0, 0.9)
    value(world.other_micro_grid, "T_MID", 0.5, 0.5)
    value(world.other_micro_grid, "T_HIGH", 12.0, 1.0)
    return Stored(world)


@pytest.fixture
def stored(world):
    with registered_test_indicators():
        yield store_weeks(world)


def test_secretary_sees_the_stored_index_of_their_community(stored):
    world = stored.world
    response = client_for(world.users[Role.SECRETARY]).get(reverse("resilience:dashboard"))

    assert response.status_code == 200
    assert response.context["unit"] == world.community
    assert response.context["period_end"] == WEEK
    assert [(cell["key"], cell["value"]) for cell in response.context["index"]] == [
        ("structural", "80.0"),
        ("capacity", "50.0"),
        ("cultural", "25.0"),
        ("overall", "51.7"),
    ]
    assert response.context["radar"]["values"] == [80.0, 50.0, 25.0]
    assert response.context["trend_chart"]["labels"] == ["2026-02-22", "2026-03-01"]
    assert response.context["trend_chart"]["series"][2]["data"] == [None, 25.0]
    assert response.context["trend_chart"]["series"][3]["data"] == [55.0, 51.7]
    html = response.content.decode()
    assert 'data-index="overall">51.7</b>' in html


def test_indicator_lines_show_value_ratio_target_score_and_link(stored):
    world = stored.world
    response = client_for(world.users[Role.SECRETARY]).get(reverse("resilience:dashboard"))

    lines = {line["code"]: line for group in response.context["groups"] for line in group["lines"]}
    visit = lines["S_VISIT_30D"]
    assert (visit["value"], visit["numerator"], visit["denominator"]) == ("75.0%", "3", "4")
    assert (visit["target"], visit["score"], visit["weak"]) == ("90.0%", "83.3", False)
    assert visit["url"] == (
        reverse("resilience:drilldown", args=[world.community.pk, "S_VISIT_30D"])
        + "?period=2026-03-01"
    )
    assert (lines["T_LOW"]["value"], lines["T_LOW"]["score"], lines["T_LOW"]["weak"]) == (
        "2.5 per 100",
        "25.0",
        True,
    )
    assert (lines["T_MINUTES"]["value"], lines["T_MINUTES"]["target"]) == ("40 min", "10 min")
    # Nothing stored this week: shown as a dash, not as zero.
    assert (lines["T_MID"]["value"], lines["T_MID"]["score"]) == ("—", "—")
    assert f'href="{visit["url"]}"' in response.content.decode().replace("&amp;", "&")


def test_children_table_highlights_the_two_weakest_indicators(stored):
    world = stored.world
    response = client_for(world.users[Role.SECRETARY]).get(reverse("resilience:dashboard"))

    rows = response.context["children"]
    assert [row["unit"] for row in rows] == [world.micro_grid, world.other_micro_grid]
    assert [cell["value"] for cell in rows[0]["values"]] == ["90.0", "30.0", "60.0", "60.0"]
    assert [cell["value"] for cell in rows[1]["values"]] == ["40.0", "—", "70.0", "55.0"]
    assert [(weak["code"], weak["value"], weak["score"]) for weak in rows[0]["weakest"]] == [
        ("T_LOW", "2 per 100", "20.0"),
        ("T_MID", "40.0%", "40.0"),
    ]
    # A full score is never "weak": A2 has one indicator below target.
    assert [weak["code"] for weak in rows[1]["weakest"]] == ["T_MID"]
    assert rows[0]["weakest"][0]["url"] == (
        reverse("resilience:drilldown", args=[world.micro_grid.pk, "T_LOW"]) + "?period=2026-03-01"
    )


def test_street_admin_starts_at_the_street_and_lists_communities(stored):
    world = stored.world
    snapshot(world.street, WEEK, 0.5, 0.5, 0.5, 0.5)
    response = client_for(world.users[Role.STREET_ADMIN]).get(reverse("resilience:dashboard"))

    assert response.context["unit"] == world.street
    assert [row["unit"] for row in response.context["children"]] == [
        world.community,
        world.other_community,
    ]


def test_micro_grid_lead_starts_at_the_micro_grid(stored):
    world = stored.world
    response = client_for(world.users[Role.MICRO_GRID_LEAD]).get(reverse("resilience:dashboard"))

    assert response.context["unit"] == world.micro_grid
    assert response.context["up"] is None
    assert [cell["value"] for cell in response.context["index"]] == ["90.0", "30.0", "60.0", "60.0"]


def test_street_admin_moves_down_and_back_up(stored):
    world = stored.world
    client = client_for(world.users[Role.STREET_ADMIN])
    response = client.get(reverse("resilience:dashboard"), {"unit": world.community.pk})

    assert response.context["unit"] == world.community
    assert response.context["up"] == f"{reverse('resilience:dashboard')}?unit={world.street.pk}"


def test_secretary_of_c_cannot_open_a(stored):
    world = stored.world
    secretary_c = make_user("secretary_c")
    role_assign(
        user=secretary_c,
        role=Role.SECRETARY,
        grid_unit=world.other_community,
        post="party_secretary",
    )
    client = client_for(secretary_c)

    assert client.get(reverse("resilience:dashboard")).context["unit"] == world.other_community
    assert (
        client.get(reverse("resilience:dashboard"), {"unit": world.community.pk}).status_code == 404
    )
    assert (
        client.get(
            reverse("resilience:drilldown", args=[world.community.pk, "S_VISIT_30D"])
        ).status_code
        == 404
    )


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.VOLUNTEER, Role.PARTNER_LIAISON])
def test_people_without_registry_scope_get_404(stored, role):
    response = client_for(stored.world.users[role]).get(reverse("resilience:dashboard"))
    assert response.status_code == 404


def test_anonymous_is_sent_to_log_in(client, stored):
    response = client.get(reverse("resilience:dashboard"))
    assert response.status_code == 302


def test_no_snapshot_yet_says_how_to_make_one(world):
    response = client_for(world.users[Role.SECRETARY]).get(reverse("resilience:dashboard"))

    assert response.status_code == 200
    assert response.context["period_end"] is None
    html = response.content.decode()
    assert 'data-testid="no-snapshot"' in html
    assert "linli resilience snapshot" in html


def _visit(household, when: datetime):
    return Visit.objects.create(
        household=household, grid_path=household.grid_path, visited_at=when, method="door"
    )


def test_drilldown_shows_stored_numbers_and_rows_in_scope(stored):
    world = stored.world
    # Visited within the 30 days up to the week's end (2026-03-02 00:00): not listed.
    _visit(world.household, timezone.make_aware(datetime(2026, 2, 20, 10)))
    # Visited before the window: listed, longest unvisited first.
    _visit(world.neighbour_household, timezone.make_aware(datetime(2026, 1, 5, 10)))
    _visit(world.other_micro_grid_household, timezone.make_aware(datetime(2025, 12, 1, 10)))
    response = client_for(world.users[Role.STREET_ADMIN]).get(
        reverse("resilience:drilldown", args=[world.community.pk, "S_VISIT_30D"]),
        {"period": "2026-03-01"},
    )

    assert response.status_code == 200
    assert (response.context["value"], response.context["numerator"]) == ("75.0%", "3")
    assert (response.context["denominator"], response.context["score"]) == ("4", "83.3")
    assert response.context["rows"].total == 2
    assert [[cell for _column, cell in row["cells"]] for row in response.context["table"]] == [
        ["2号楼 201", "2025-12-01"],
        ["1号楼 102", "2026-01-05"],
    ]
    html = response.content.decode()
    assert reverse("grids:household_detail", args=[world.neighbour_household.pk]) in html
    assert str(REGISTRY["S_VISIT_30D"].formula) in html


def test_drilldown_of_micro_grid_lead_lists_only_their_micro_grid(stored):
    world = stored.world
    for household in (world.household, world.neighbour_household, world.other_micro_grid_household):
        _visit(household, timezone.make_aware(datetime(2026, 1, 5, 10)))
    client = client_for(world.users[Role.MICRO_GRID_LEAD])
    response = client.get(
        reverse("resilience:drilldown", args=[world.micro_grid.pk, "S_VISIT_30D"]),
        {"period": "2026-03-01"},
    )

    assert response.status_code == 200
    assert [row["cells"][0][1] for row in response.context["table"]] == ["1号楼 101", "1号楼 102"]
    assert response.context["numerator"] == "2"
    # The community above the lead's micro-grid is out of scope.
    assert (
        client.get(
            reverse("resilience:drilldown", args=[world.community.pk, "S_VISIT_30D"])
        ).status_code
        == 404
    )


def test_drilldown_of_unknown_indicator_is_404(stored):
    world = stored.world
    response = client_for(world.users[Role.SECRETARY]).get(
        reverse("resilience:drilldown", args=[world.community.pk, "NOPE"])
    )
    assert response.status_code == 404


def test_drilldown_without_rows_says_so(stored):
    world = stored.world
    response = client_for(world.users[Role.SECRETARY]).get(
        reverse("resilience:drilldown", args=[world.community.pk, "T_LOW"])
    )

    assert response.status_code == 200
    assert response.context["rows"] is None
    assert response.context["period_end"] == WEEK
    assert response.context["value"] == "2.5 per 100"


def _dashboard_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("resilience:dashboard"))
    assert response.status_code == 200
    return len(captured)


def test_dashboard_queries_do_not_grow_with_children(stored):
    world = stored.world
    client = client_for(world.users[Role.SECRETARY])
    before = _dashboard_queries(client)
    for number in range(3, 7):
        unit = grid_unit_create(
            level="micro_grid", code=f"A{number}", name=f"第{number}微网格", parent=world.community
        )
        snapshot(unit, WEEK, 0.5, 0.5, 0.5, 0.5)
        value(unit, "T_LOW", 1.0, 0.1)
        value(unit, "T_MID", 0.1, 0.1)
    after = _dashboard_queries(client)

    assert after == before
    assert before <= 30


def test_dashboard_reads_the_week_the_snapshot_service_stored(world):
    # 101 visited two days ago; 102 and 201 never: 1 of community A's 3 households.
    _visit(world.household, timezone.now() - timedelta(days=2))
    snapshot_take(root=world.street)
    client = client_for(world.users[Role.SECRETARY])

    response = client.get(reverse("resilience:dashboard"))
    stored_week = IndexSnapshot.objects.get(grid_unit=world.community).period_end
    assert response.context["period_end"] == stored_week
    visit = next(
        line
        for group in response.context["groups"]
        for line in group["lines"]
        if line["code"] == "S_VISIT_30D"
    )
    assert (visit["value"], visit["numerator"], visit["denominator"]) == ("33.3%", "1", "3")

    drill = client.get(visit["url"])
    assert drill.status_code == 200
    assert drill.context["numerator"] == "1"
