"""`/api/v1/resilience`: bodies from the stored snapshots, scope, and the audited settings."""

from datetime import datetime

import pytest
from django.utils import timezone, translation

from linli.accounts.models import AuditEntry
from linli.accounts.roles import Role
from linli.grids.models import Visit
from linli.resilience.engine import REGISTRY
from linli.resilience.models import IndicatorSetting
from linli.resilience.tests.test_dashboard import (
    EARLIER,
    WEEK,
    registered_test_indicators,
    store_weeks,
)
from linli.testing.clients import client_for


@pytest.fixture
def stored(world):
    with registered_test_indicators():
        yield store_weeks(world)


def english(text) -> str:
    with translation.override("en"):
        return str(text)


def test_catalogue_with_settings_in_force(world):
    response = client_for(world.users[Role.SECRETARY]).get("/api/v1/resilience/indicators")

    assert response.status_code == 200
    body = response.json()
    visit = next(row for row in body["indicators"] if row["code"] == "S_VISIT_30D")
    assert visit == {
        "code": "S_VISIT_30D",
        "dimension": "structural",
        "name": "Households visited in the last 30 days",
        "name_zh": visit["name_zh"],
        "name_en": "Households visited in the last 30 days",
        "formula": english(REGISTRY["S_VISIT_30D"].formula),
        "source": english(REGISTRY["S_VISIT_30D"].source),
        "direction": "higher",
        "unit": "share",
        "finest_level": "building_group",
        "target": 0.9,
        "default_target": 0.9,
        "weight": 1.0,
    }
    assert body["dimensions"] == [
        {"dimension": "structural", "label": "Structural resilience", "weight": 1.0},
        {"dimension": "capacity", "label": "Capacity resilience", "weight": 1.0},
        {"dimension": "cultural", "label": "Cultural resilience", "weight": 1.0},
    ]


def test_unit_body_is_the_stored_week(stored):
    world = stored.world
    response = client_for(stored.world.users[Role.SECRETARY]).get(
        f"/api/v1/resilience/units/{world.community.pk}"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["unit"] == {
        "id": world.community.pk,
        "name": "A社区",
        "level": "community",
        "path": world.community.path,
    }
    assert body["period_end"] == "2026-03-01"
    assert body["index"] == {
        "structural": 0.8,
        "capacity": 0.5,
        "cultural": 0.25,
        "overall": 0.5167,
    }
    by_code = {row["code"]: row for row in body["indicators"]}
    assert by_code["S_VISIT_30D"] == {
        "code": "S_VISIT_30D",
        "dimension": "structural",
        "value": 0.75,
        "numerator": 3.0,
        "denominator": 4.0,
        "score": 0.8333,
        "target": 0.9,
        "weight": 1.0,
    }
    assert (by_code["T_MID"]["value"], by_code["T_MID"]["score"]) == (None, None)


def test_unit_without_snapshot_has_no_index(world):
    response = client_for(world.users[Role.SECRETARY]).get(
        f"/api/v1/resilience/units/{world.community.pk}"
    )

    assert response.status_code == 200
    assert (response.json()["period_end"], response.json()["index"]) == (None, None)
    assert response.json()["indicators"] == []


def test_trend_oldest_first(stored):
    world = stored.world
    response = client_for(stored.world.users[Role.SECRETARY]).get(
        f"/api/v1/resilience/units/{world.community.pk}/trend"
    )

    assert response.json() == [
        {
            "period_end": EARLIER.isoformat(),
            "structural": 0.6,
            "capacity": 0.5,
            "cultural": None,
            "overall": 0.55,
        },
        {
            "period_end": WEEK.isoformat(),
            "structural": 0.8,
            "capacity": 0.5,
            "cultural": 0.25,
            "overall": 0.5167,
        },
    ]


def test_drilldown_rows_within_scope(stored):
    world = stored.world
    for household in (world.household, world.neighbour_household):
        Visit.objects.create(
            household=household,
            grid_path=household.grid_path,
            visited_at=timezone.make_aware(datetime(2026, 1, 5, 10)),
            method="door",
        )
    response = client_for(stored.world.users[Role.MICRO_GRID_LEAD]).get(
        f"/api/v1/resilience/units/{world.micro_grid.pk}/indicators/S_VISIT_30D/rows",
        {"period": "2026-03-01"},
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["value"], body["numerator"], body["denominator"]) == (1.0, 2.0, 2.0)
    assert body["columns"] == ["Household", "Last visit"]
    assert body["rows"] == [["1号楼 101", "2026-01-05"], ["1号楼 102", "2026-01-05"]]
    assert body["total"] == 2
    assert body["links"] == [
        f"/registry/households/{world.household.pk}/",
        f"/registry/households/{world.neighbour_household.pk}/",
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/resilience/units/{unit}",
        "/api/v1/resilience/units/{unit}/trend",
        "/api/v1/resilience/units/{unit}/indicators/S_VISIT_30D/rows",
    ],
)
def test_unit_outside_scope_is_404_naming_the_field(stored, path):
    world = stored.world
    response = client_for(stored.world.users[Role.MICRO_GRID_LEAD]).get(
        path.format(unit=world.community.pk)
    )

    assert response.status_code == 404
    assert response.json()["field"] == "unit_id"


def test_unknown_indicator_rows_is_404(stored):
    world = stored.world
    response = client_for(stored.world.users[Role.SECRETARY]).get(
        f"/api/v1/resilience/units/{world.community.pk}/indicators/NOPE/rows"
    )
    assert (response.status_code, response.json()["field"]) == (404, "code")


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.VOLUNTEER, None])
def test_catalogue_refused_without_registry_scope(world, role):
    response = client_for(world.users.get(role)).get("/api/v1/resilience/indicators")
    assert response.status_code == (401 if role is None else 404)


def test_street_admin_patches_target_and_weight(world):
    response = client_for(world.users[Role.STREET_ADMIN]).patch(
        "/api/v1/resilience/indicators/S_VISIT_30D",
        {"target": 0.85, "weight": 1.5, "reason": "季度调整"},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert (response.json()["target"], response.json()["weight"]) == (0.85, 1.5)
    assert response.json()["default_target"] == 0.9
    entry = AuditEntry.objects.get(object_type="resilience_indicator")
    assert entry.changes == {"target": [0.9, 0.85], "weight": [1.0, 1.5]}


def test_secretary_may_not_patch_settings(world):
    response = client_for(world.users[Role.SECRETARY]).patch(
        "/api/v1/resilience/indicators/S_VISIT_30D",
        {"target": 0.5},
        content_type="application/json",
    )

    assert response.status_code == 403
    assert not IndicatorSetting.objects.exists()


def test_bad_target_names_the_field(world):
    response = client_for(world.users[Role.STREET_ADMIN]).patch(
        "/api/v1/resilience/indicators/S_VISIT_30D",
        {"target": 0},
        content_type="application/json",
    )

    assert (response.status_code, response.json()["field"]) == (400, "target")


def test_street_admin_patches_a_dimension_weight(world):
    client = client_for(world.users[Role.STREET_ADMIN])
    response = client.patch(
        "/api/v1/resilience/dimensions/capacity",
        {"weight": 2},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json() == {
        "dimension": "capacity",
        "label": "Capacity resilience",
        "weight": 2.0,
    }
    unknown = client.patch(
        "/api/v1/resilience/dimensions/spiritual", {"weight": 2}, content_type="application/json"
    )
    assert (unknown.status_code, unknown.json()["field"]) == (404, "dimension")
