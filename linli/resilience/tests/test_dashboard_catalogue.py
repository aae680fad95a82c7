"""The indicator catalogue page: every indicator with both names, the settings in force, and
the audited edits of targets and weights by street administrators only."""

import pytest
from django.urls import reverse

from linli.accounts.models import AuditEntry
from linli.accounts.roles import Role
from linli.resilience.models import DimensionSetting, IndicatorSetting
from linli.testing.clients import client_for


def test_catalogue_lists_codes_both_names_and_settings(world):
    response = client_for(world.users[Role.SECRETARY]).get(reverse("resilience:catalogue"))

    assert response.status_code == 200
    assert response.context["may_edit"] is False
    structural = next(
        group for group in response.context["dimensions"] if group["dimension"] == "structural"
    )
    row = next(row for row in structural["rows"] if row["code"] == "S_VISIT_30D")
    assert row["name_en"] == "Households visited in the last 30 days"
    assert row["name_zh"]  # the zh-hans catalogue's text (the English until translated)
    assert (row["target"], row["target_text"], row["weight"], row["direction"]) == (
        0.9,
        "90.0%",
        1.0,
        "higher",
    )
    html = response.content.decode()
    assert 'data-testid="indicator-form-S_VISIT_30D"' not in html
    assert 'lang="en" class="muted">Households visited in the last 30 days</span>' in html


def test_street_admin_changes_a_target_and_it_is_audited(world):
    client = client_for(world.users[Role.STREET_ADMIN])
    page = client.get(reverse("resilience:catalogue"))
    assert 'data-testid="indicator-form-S_VISIT_30D"' in page.content.decode()

    response = client.post(
        reverse("resilience:catalogue"),
        {"code": "S_VISIT_30D", "target": "0.8", "weight": "2", "reason": "先达到八成"},
    )

    assert response.status_code == 302
    setting = IndicatorSetting.objects.get(code="S_VISIT_30D")
    assert (setting.target, setting.weight, setting.updated_by) == (
        0.8,
        2.0,
        world.users[Role.STREET_ADMIN],
    )
    entry = AuditEntry.objects.get(object_type="resilience_indicator")
    assert (entry.object_id, entry.changes, entry.reason) == (
        "S_VISIT_30D",
        {"target": [0.9, 0.8], "weight": [1.0, 2.0]},
        "先达到八成",
    )
    row = next(
        row
        for group in client.get(reverse("resilience:catalogue")).context["dimensions"]
        for row in group["rows"]
        if row["code"] == "S_VISIT_30D"
    )
    assert (row["target_text"], row["weight"], row["changed"]) == ("80.0%", 2.0, True)


def test_street_admin_changes_a_dimension_weight(world):
    response = client_for(world.users[Role.STREET_ADMIN]).post(
        reverse("resilience:catalogue"), {"dimension": "cultural", "weight": "0.5"}
    )

    assert response.status_code == 302
    assert DimensionSetting.objects.get(dimension="cultural").weight == 0.5
    entry = AuditEntry.objects.get(object_type="resilience_dimension")
    assert (entry.object_id, entry.changes) == ("cultural", {"weight": [1.0, 0.5]})


@pytest.mark.parametrize(
    ("posted", "field"),
    [
        ({"code": "S_VISIT_30D", "target": "0"}, "target"),
        ({"code": "S_VISIT_30D", "target": "many"}, "target"),
        ({"code": "S_VISIT_30D", "weight": "-1"}, "weight"),
        ({"dimension": "capacity", "weight": "x"}, "weight"),
    ],
)
def test_bad_values_are_refused_with_the_field_named(world, posted, field):
    response = client_for(world.users[Role.STREET_ADMIN]).post(
        reverse("resilience:catalogue"), posted
    )

    assert response.status_code == 400
    assert f'data-field="{field}"' in response.content.decode()
    assert not IndicatorSetting.objects.exists()
    assert not DimensionSetting.objects.exists()
    assert not AuditEntry.objects.filter(object_type__startswith="resilience_").exists()


@pytest.mark.parametrize("role", [Role.SECRETARY, Role.MICRO_GRID_LEAD])
def test_only_street_admins_may_change_settings(world, role):
    response = client_for(world.users[role]).post(
        reverse("resilience:catalogue"), {"code": "S_VISIT_30D", "target": "0.5"}
    )

    assert response.status_code == 404
    assert not IndicatorSetting.objects.exists()
    assert not AuditEntry.objects.filter(object_type__startswith="resilience_").exists()


def test_catalogue_is_closed_to_people_without_registry_scope(world):
    response = client_for(world.users[Role.RESIDENT]).get(reverse("resilience:catalogue"))
    assert response.status_code == 404


def test_nav_links_to_the_dashboard_for_registry_staff(world):
    client = client_for(world.users[Role.SECRETARY])
    html = client.get(reverse("web:home")).content.decode()
    assert f'href="{reverse("resilience:dashboard")}"' in html
    client.logout()
    client = client_for(world.users[Role.RESIDENT])
    html = client.get(reverse("web:home")).content.decode()
    assert 'data-testid="resilience-link"' not in html
