"""Bounded reveals of residents' full numbers: a purpose from a short list and a reason in
words, a daily quota per person (restarting at midnight in Asia/Shanghai, held under
concurrency), and one alert to the community's secretary when a person's count for the day
becomes unusual (linli.accounts.reveals, linli.grids.services.resident_reveal)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import translation

from linli.accounts.models import AuditAction, AuditEntry
from linli.accounts.reveals import RevealPurpose, RevealQuotaExceeded, reveals_today
from linli.accounts.roles import Role
from linli.conftest import ID_NUMBERS, build_world, make_user, run_together
from linli.grids.services import resident_reveal, role_assign
from linli.notify.models import Notification
from linli.testing.clients import client_for

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Saturday morning in Shanghai; every test pins the clock.
MORNING = datetime(2026, 12, 5, 10, 0, tzinfo=SHANGHAI)
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.LINLI_REVEAL_DAILY_QUOTA = 30
    settings.LINLI_REVEAL_ALERT_AT = 20


def reveal(user, resident, *, field="phone", purpose="visit_contact", reason="上门走访前联系"):
    return resident_reveal(
        user=user, resident=resident, field=field, purpose=purpose, reason=reason
    )


def reveal_times(user, resident, count: int) -> None:
    for _ in range(count):
        reveal(user, resident)


def api_reveal(client: Client, resident, payload: dict):
    return client.post(
        f"/api/v1/residents/{resident.pk}/reveal", payload, content_type="application/json"
    )


def reveal_rows() -> int:
    return AuditEntry.objects.filter(action=AuditAction.REVEAL).count()


# Purpose and reason ---------------------------------------------------------------------------


def test_reveal_with_the_reason_x_is_refused_naming_the_reason(world):
    client = client_for(world.users[Role.MICRO_GRID_LEAD])
    with time_machine.travel(MORNING, tick=False):
        response = api_reveal(
            client,
            world.resident,
            {"field": "id_number", "purpose": "verify_identity", "reason": "x"},
        )
    assert response.status_code == 422
    assert response.json()["field"] == "reason"
    assert "value" not in response.json()
    assert reveal_rows() == 0


def test_reveal_of_a_padded_short_reason_is_refused_by_the_service(world):
    client = client_for(world.users[Role.MICRO_GRID_LEAD])
    with time_machine.travel(MORNING, tick=False):
        response = api_reveal(
            client,
            world.resident,
            {"field": "id_number", "purpose": "verify_identity", "reason": "  x  "},
        )
    assert (response.status_code, response.json()) == (
        400,
        {
            "message": "Say in at least 4 characters why you need the full number.",
            "field": "reason",
        },
    )
    assert reveal_rows() == 0


@pytest.mark.parametrize("purpose", [None, "", "curiosity"])
def test_reveal_without_a_purpose_from_the_list_is_refused_naming_the_purpose(world, purpose):
    payload = {"field": "phone", "reason": "Arranging a home visit"}
    if purpose is not None:
        payload["purpose"] = purpose
    with time_machine.travel(MORNING, tick=False):
        response = api_reveal(client_for(world.users[Role.SECRETARY]), world.resident, payload)
    assert response.status_code == 422
    assert response.json()["field"] == "purpose"
    assert reveal_rows() == 0


def test_reason_over_300_characters_is_refused(world):
    with time_machine.travel(MORNING, tick=False):
        response = api_reveal(
            client_for(world.users[Role.SECRETARY]),
            world.resident,
            {"field": "phone", "purpose": "visit_contact", "reason": "很" * 301},
        )
    assert (response.status_code, response.json()["field"]) == (422, "reason")
    assert reveal_rows() == 0


def test_other_needs_a_reason_of_ten_characters(world):
    lead = world.users[Role.MICRO_GRID_LEAD]
    with translation.override("en"), time_machine.travel(MORNING, tick=False):
        with pytest.raises(ValidationError) as error:
            reveal(lead, world.resident, purpose="other", reason="家里有事情")
        assert error.value.message_dict == {
            "reason": ["Say in at least 10 characters why you need the full number."]
        }
        assert reveal_rows() == 0
        reveal(lead, world.resident, purpose="other", reason="社区医生上门前需要确认联系方式")
    assert reveal_rows() == 1


def test_reveal_stores_the_purpose_code_and_the_reason_in_the_audit_row(world):
    secretary = world.users[Role.SECRETARY]
    with time_machine.travel(MORNING, tick=False):
        value = reveal(
            secretary,
            world.resident,
            field="id_number",
            purpose=RevealPurpose.CORRECT_RECORD,
            reason="  户籍信息登记有误  ",
        )
    assert value == ID_NUMBERS[0]
    entry = AuditEntry.objects.get(action=AuditAction.REVEAL)
    assert (entry.actor, entry.field, entry.reason_code, entry.reason) == (
        secretary,
        "id_number",
        "correct_record",
        "户籍信息登记有误",
    )


def test_the_purposes_are_the_five_of_the_list():
    assert RevealPurpose.values == [
        "visit_contact",
        "emergency_contact",
        "verify_identity",
        "correct_record",
        "other",
    ]


# Daily quota ----------------------------------------------------------------------------------


def test_the_31st_reveal_of_the_day_is_refused_with_429_and_not_audited(world):
    lead = world.users[Role.MICRO_GRID_LEAD]
    client = client_for(world.users[Role.MICRO_GRID_LEAD])
    payload = {"field": "id_number", "purpose": "verify_identity", "reason": "办理高龄津贴"}
    with time_machine.travel(MORNING, tick=False):
        reveal_times(lead, world.resident, 29)
        assert api_reveal(client, world.neighbour, payload).status_code == 200
        response = api_reveal(client, world.neighbour, payload)
    assert response.status_code == 429
    assert response.json() == {
        "message": "You have seen 30 full numbers today, the daily limit; nothing was shown. "
        "The limit resets at 2026-12-06 00:00.",
        "field": None,
    }
    # 14 hours to Shanghai midnight.
    assert response["Retry-After"] == str(14 * 3600)
    assert ID_NUMBERS[1] not in response.content.decode()
    assert reveal_rows() == 30


def test_the_quota_is_per_person(world):
    lead = world.users[Role.MICRO_GRID_LEAD]
    with time_machine.travel(MORNING, tick=False):
        reveal_times(lead, world.resident, 30)
        with pytest.raises(RevealQuotaExceeded):
            reveal(lead, world.resident)
        assert reveal(world.users[Role.SECRETARY], world.resident) == "13812341234"
    assert reveal_rows() == 31


def test_the_quota_restarts_at_midnight_in_shanghai_not_in_utc(world):
    lead = world.users[Role.MICRO_GRID_LEAD]
    with time_machine.travel(datetime(2026, 12, 5, 0, 10, tzinfo=SHANGHAI), tick=False):
        reveal_times(lead, world.resident, 30)
    # 08:30 in Shanghai is 00:30 UTC: a new day in UTC, the same day here.
    with (
        time_machine.travel(datetime(2026, 12, 5, 8, 30, tzinfo=SHANGHAI), tick=False),
        pytest.raises(RevealQuotaExceeded),
    ):
        reveal(lead, world.resident)
    with (
        time_machine.travel(datetime(2026, 12, 5, 23, 59, 59, tzinfo=SHANGHAI), tick=False),
        pytest.raises(RevealQuotaExceeded),
    ):
        reveal(lead, world.resident)
    with time_machine.travel(datetime(2026, 12, 6, 0, 0, 1, tzinfo=SHANGHAI), tick=False):
        assert reveals_today(actor=lead) == 0
        assert reveal(lead, world.resident) == "13812341234"
    assert reveal_rows() == 31


def test_over_the_quota_the_web_form_says_so_and_shows_nothing(world, client):
    lead = world.users[Role.MICRO_GRID_LEAD]
    client.force_login(lead)
    with time_machine.travel(MORNING, tick=False):
        reveal_times(lead, world.resident, 30)
        response = client.post(
            reverse("grids:resident_reveal", args=[world.resident.id]),
            {"field": "id_number", "purpose": "verify_identity", "reason": "办理高龄津贴"},
            HTTP_HX_REQUEST="true",
            **ENGLISH,
        )
    content = response.content.decode()
    assert response.status_code == 200
    assert "the daily limit; nothing was shown. The limit resets at 2026-12-06 00:00." in content
    assert ID_NUMBERS[0] not in content
    # The form comes back with what was typed.
    assert '<option value="verify_identity" selected>' in content
    assert 'value="办理高龄津贴"' in content
    assert reveal_rows() == 30


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are a PostgreSQL matter")
@pytest.mark.django_db(transaction=True)
def test_reveals_at_once_never_pass_the_quota(settings):
    settings.LINLI_REVEAL_DAILY_QUOTA = 3
    world = build_world()
    lead = world.users[Role.MICRO_GRID_LEAD]
    with time_machine.travel(MORNING, tick=True):
        reveal(lead, world.resident)
        errors = run_together(*[lambda: reveal(lead, world.neighbour) for _ in range(6)])
    assert [type(error) for error in errors] == [RevealQuotaExceeded] * 4
    assert AuditEntry.objects.filter(action=AuditAction.REVEAL, actor=lead).count() == 3


# Alert to the secretary -----------------------------------------------------------------------


@pytest.fixture
def c_secretary(world):
    user = make_user("c_secretary")
    role_assign(
        user=user, role=Role.SECRETARY, grid_unit=world.other_community, post="party_secretary"
    )
    return user


def alerts():
    return list(Notification.objects.filter(kind="reveal_volume").order_by("id"))


def test_the_secretary_is_alerted_once_when_a_lead_reaches_the_alert_count(world, c_secretary):
    lead = world.users[Role.MICRO_GRID_LEAD]
    with time_machine.travel(MORNING, tick=False):
        reveal_times(lead, world.resident, 19)
        assert alerts() == []
        reveal(lead, world.neighbour)
        reveal_times(lead, world.resident, 10)
        with pytest.raises(RevealQuotaExceeded):
            reveal(lead, world.resident)
    [alert] = alerts()
    assert alert.recipient == world.users[Role.SECRETARY]
    assert alert.title_params == {"person": "micro_grid_lead", "count": 20}
    assert alert.link == f"/registry/audit/?actor={lead.pk}&action=reveal&date=2026-12-05"
    with translation.override("en"):
        assert alert.display_title == "micro_grid_lead has seen 20 full phone or ID numbers today"
    assert not Notification.objects.filter(recipient=c_secretary).exists()


def test_the_alert_comes_again_the_next_day(world):
    lead = world.users[Role.MICRO_GRID_LEAD]
    with time_machine.travel(MORNING, tick=False):
        reveal_times(lead, world.resident, 25)
    with time_machine.travel(datetime(2026, 12, 6, 9, 0, tzinfo=SHANGHAI), tick=False):
        reveal_times(lead, world.resident, 20)
    assert [(alert.recipient, alert.link[-10:]) for alert in alerts()] == [
        (world.users[Role.SECRETARY], "2026-12-05"),
        (world.users[Role.SECRETARY], "2026-12-06"),
    ]


def test_a_street_administrators_reveals_alert_each_communitys_secretary_once(world, c_secretary):
    admin = world.users[Role.STREET_ADMIN]
    with time_machine.travel(MORNING, tick=False):
        reveal_times(admin, world.resident, 20)
        assert [alert.recipient for alert in alerts()] == [world.users[Role.SECRETARY]]
        reveal_times(admin, world.other_community_resident, 3)
    assert [(alert.recipient, alert.title_params["count"]) for alert in alerts()] == [
        (world.users[Role.SECRETARY], 20),
        (c_secretary, 21),
    ]


def test_a_secretarys_own_reveals_alert_the_street_administrator(world):
    secretary = world.users[Role.SECRETARY]
    with time_machine.travel(MORNING, tick=False):
        reveal_times(secretary, world.resident, 20)
    [alert] = alerts()
    assert alert.recipient == world.users[Role.STREET_ADMIN]
    assert alert.title_params == {"person": "secretary", "count": 20}


def test_the_alerts_link_shows_that_persons_reveals_of_the_day_with_their_purpose(world, client):
    lead = world.users[Role.MICRO_GRID_LEAD]
    with time_machine.travel(MORNING, tick=False):
        reveal(world.users[Role.STREET_ADMIN], world.resident, reason="街道抽查核对")
        reveal_times(lead, world.resident, 19)
        reveal(lead, world.neighbour, purpose="correct_record", reason="电话号码登记有误")
    [alert] = alerts()
    client.force_login(world.users[Role.SECRETARY])
    content = client.get(alert.link, **ENGLISH).content.decode()
    assert content.count("<tr>") == 1 + 20  # the header row and the lead's 20 reveals
    assert "Correct the record: 电话号码登记有误" in content
    assert "街道抽查核对" not in content
    everything = client.get(reverse("grids:audit"), **ENGLISH).content.decode()
    assert "街道抽查核对" in everything


# The web form and the API document ------------------------------------------------------------


def test_the_web_reveal_form_offers_the_purposes_and_the_reason(world, client):
    client.force_login(world.users[Role.MICRO_GRID_LEAD])
    content = client.get(
        reverse("grids:resident_detail", args=[world.resident.id]), **ENGLISH
    ).content.decode()
    assert content.count('<select name="purpose"') == 2  # phone and ID number
    for value in RevealPurpose.values:
        assert f'<option value="{value}">' in content
    assert 'name="reason" minlength="4" maxlength="300" required' in content


def _request_schema(schema: dict, path: str) -> dict:
    body = schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]


def _response_schema(schema: dict, path: str, status: str) -> dict:
    body = schema["paths"][path]["post"]["responses"][status]["content"]["application/json"]
    return schema["components"]["schemas"][body["schema"]["$ref"].rsplit("/", 1)[-1]]


def test_openapi_documents_each_reveal_route_with_its_own_schema(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    resident = _request_schema(schema, "/api/v1/residents/{resident_id}/reveal")
    task = _request_schema(schema, "/api/v1/emergency/tasks/{task_id}/reveal")
    assert (resident["title"], sorted(resident["properties"]), sorted(resident["required"])) == (
        "ResidentRevealIn",
        ["field", "purpose", "reason"],
        ["field", "purpose", "reason"],
    )
    assert (task["title"], sorted(task["properties"]), sorted(task["required"])) == (
        "TaskPhoneRevealIn",
        ["purpose", "reason", "resident_id"],
        ["purpose", "reason", "resident_id"],
    )
    for body in (resident, task):
        assert body["properties"]["purpose"]["enum"] == RevealPurpose.values
        reason = body["properties"]["reason"]
        assert (reason["minLength"], reason["maxLength"]) == (4, 300)
    assert sorted(
        _response_schema(schema, "/api/v1/residents/{resident_id}/reveal", "200")["properties"]
    ) == ["field", "value"]
    assert sorted(
        _response_schema(schema, "/api/v1/emergency/tasks/{task_id}/reveal", "200")["properties"]
    ) == ["phone", "resident_id"]
    for path in (
        "/api/v1/residents/{resident_id}/reveal",
        "/api/v1/emergency/tasks/{task_id}/reveal",
    ):
        assert "429" in schema["paths"][path]["post"]["responses"]
