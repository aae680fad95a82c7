"""Correction requests (PIPL Art. 46): a resident asks, staff covering the household apply
(through the register's audited edit) or decline with a reason; the resident is told."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from linli.accounts.models import AuditAction, AuditEntry
from linli.accounts.roles import Role
from linli.notify.models import Notification
from linli.privacy.corrections import MAX_OPEN_PER_HOUSEHOLD, correction_request_create
from linli.privacy.models import CorrectionRequest
from linli.testing.clients import client_for

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def pinned():
    with time_machine.travel(NOW, tick=False):
        yield


def ask(world, field="phone", value="13812349999", note=""):
    return correction_request_create(
        user=world.users[Role.RESIDENT],
        resident=world.resident,
        field=field,
        requested_value=value,
        note=note,
    )


def test_resident_asks_from_their_page_and_the_request_is_recorded_and_audited(world):
    client = client_for(world.users[Role.RESIDENT])
    assert client.get("/privacy/my-corrections/").status_code == 200
    response = client.post(
        "/privacy/my-corrections/",
        {"resident": world.resident.pk, "field": "name", "requested_value": "张桂瑛", "note": ""},
    )
    assert (response.status_code, response["Location"]) == (302, "/privacy/my-corrections/")
    correction = CorrectionRequest.objects.get()
    assert (
        correction.resident,
        correction.household,
        correction.grid_path,
        correction.requested_by,
        correction.field,
        correction.requested_value,
        correction.state,
        correction.created_at,
    ) == (
        world.resident,
        world.household,
        world.resident.grid_path,
        world.users[Role.RESIDENT],
        "name",
        "张桂瑛",
        "open",
        NOW,
    )
    entry = AuditEntry.objects.get(object_type="correction_request")
    assert (entry.action, entry.field, entry.grid_path) == (
        AuditAction.CREATE,
        "name",
        world.resident.grid_path,
    )


def test_a_value_too_long_is_refused_naming_the_field_and_nothing_is_written(world):
    response = client_for(world.users[Role.RESIDENT]).post(
        "/privacy/my-corrections/",
        {"resident": world.resident.pk, "field": "name", "requested_value": "张" * 101},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["requested_value"] == [
        "Ensure this value has at most 100 characters (it has 101)."
    ]
    assert not CorrectionRequest.objects.exists()


def test_a_resident_cannot_ask_about_another_household(world):
    response = client_for(world.users[Role.RESIDENT]).post(
        "/privacy/my-corrections/",
        {"resident": world.neighbour.pk, "field": "name", "requested_value": "李建民"},
    )
    assert response.status_code == 400
    assert not CorrectionRequest.objects.exists()


def test_a_household_has_at_most_five_requests_open(world):
    for _ in range(MAX_OPEN_PER_HOUSEHOLD):
        ask(world)
    response = client_for(world.users[Role.RESIDENT]).post(
        "/api/v1/privacy/corrections",
        {"resident_id": world.resident.pk, "field": "phone", "requested_value": "13812340000"},
        content_type="application/json",
    )
    assert (response.status_code, response.json()["field"]) == (400, "field")
    assert CorrectionRequest.objects.count() == MAX_OPEN_PER_HOUSEHOLD


def test_staff_covering_the_household_see_the_open_request_and_its_count(world):
    correction = ask(world)
    page = client_for(world.users[Role.MICRO_GRID_LEAD]).get("/privacy/corrections/")
    assert page.status_code == 200
    assert [item.pk for item in page.context["requests"]] == [correction.pk]
    assert page.context["open_count"] == 1
    # Building-group leaders do not edit the register; another community's staff see nothing.
    assert (
        client_for(world.users[Role.BUILDING_GROUP_LEADER]).get("/privacy/corrections/").status_code
        == 404
    )
    assert (
        client_for(world.users[Role.RESIDENT])
        .get(f"/privacy/corrections/{correction.pk}/")
        .status_code
        == 404
    )


def test_staff_apply_a_phone_correction_through_the_register_edit(world):
    correction = ask(world)
    response = client_for(world.users[Role.SECRETARY]).post(
        f"/privacy/corrections/{correction.pk}/",
        {"action": "apply", "value": "13812349999", "decision_note": "已核对"},
    )
    assert (response.status_code, response["Location"]) == (302, "/privacy/corrections/")
    world.resident.refresh_from_db()
    assert world.resident.phone == "13812349999"
    correction.refresh_from_db()
    assert (correction.state, correction.handled_by, correction.handled_at) == (
        "applied",
        world.users[Role.SECRETARY],
        NOW,
    )
    # The register's own audit entry (masked old and new), then the correction's.
    assert list(
        AuditEntry.objects.filter(action__in=[AuditAction.UPDATE, AuditAction.CORRECT])
        .order_by("id")
        .values_list("action", "object_type", "changes", "reason")
    ) == [
        ("update", "resident", {"phone": ["138****1234", "138****9999"]}, ""),
        ("correct", "correction_request", {}, "已核对"),
    ]
    notice = Notification.objects.get(recipient=world.users[Role.RESIDENT])
    assert (notice.kind, notice.link, notice.body) == (
        "privacy_correction",
        "/privacy/my-corrections/",
        "已核对",
    )
    assert notice.title_template == "Your correction request #%(number)s was applied"


def test_staff_decline_with_a_reason_the_resident_reads(world):
    correction = ask(world, field="other", value="", note="身份证号最后一位应为X")
    response = client_for(world.users[Role.MICRO_GRID_LEAD]).post(
        f"/privacy/corrections/{correction.pk}/",
        {"action": "decline", "reason": "请携带身份证到居委会核对"},
    )
    assert response.status_code == 302
    correction.refresh_from_db()
    assert (correction.state, correction.decision_note, correction.handled_at) == (
        "declined",
        "请携带身份证到居委会核对",
        NOW,
    )
    entry = AuditEntry.objects.filter(object_type="correction_request").latest("id")
    assert (entry.action, entry.changes, entry.reason) == (
        "update",
        {"state": ["open", "declined"]},
        "请携带身份证到居委会核对",
    )
    notice = Notification.objects.get(recipient=world.users[Role.RESIDENT])
    assert notice.title_template == "Your correction request #%(number)s was declined"


def test_a_decline_without_a_reason_writes_nothing(world):
    correction = ask(world)
    response = client_for(world.users[Role.SECRETARY]).post(
        f"/privacy/corrections/{correction.pk}/", {"action": "decline", "reason": "no"}
    )
    assert response.status_code == 400
    correction.refresh_from_db()
    assert correction.state == "open"
    # The staff heard of the request when it was made; the resident hears nothing yet.
    assert not Notification.objects.filter(kind="privacy_correction").exists()


def test_staff_of_another_community_cannot_handle_it(world):
    from linli.conftest import make_user
    from linli.grids.services import role_assign

    outsider = make_user("c_secretary")
    role_assign(user=outsider, role=Role.SECRETARY, grid_unit=world.other_community)
    correction = ask(world)
    client = Client()
    client.force_login(outsider)
    assert client.get(f"/privacy/corrections/{correction.pk}/").status_code == 404
    api = client.post(
        f"/api/v1/privacy/corrections/{correction.pk}/decline",
        {"reason": "不是本社区"},
        content_type="application/json",
    )
    assert (api.status_code, api.json()["field"]) == (404, "correction_id")


# The API -------------------------------------------------------------------------------------


def test_api_resident_asks_lists_own_and_cannot_decide(world):
    client = client_for(world.users[Role.RESIDENT])
    created = client.post(
        "/api/v1/privacy/corrections",
        {"resident_id": world.resident.pk, "field": "residency_type", "requested_value": "migrant"},
        content_type="application/json",
    )
    assert created.status_code == 201
    body = created.json()
    assert {key: body[key] for key in ("resident_name", "household", "field", "state")} == {
        "resident_name": "张桂英",
        "household": "1号楼 101",
        "field": "residency_type",
        "state": "open",
    }
    assert body["may_handle"] is False
    listed = client.get("/api/v1/privacy/corrections?mine=true").json()
    assert (listed["count"], [item["id"] for item in listed["items"]]) == (1, [body["id"]])
    refused = client.post(
        f"/api/v1/privacy/corrections/{body['id']}/decline",
        {"reason": "自己拒绝自己"},
        content_type="application/json",
    )
    assert refused.status_code == 403


def test_api_staff_apply_a_coded_value_and_a_second_apply_conflicts(world):
    correction = ask(world, field="residency_type", value="migrant")
    client = client_for(world.users[Role.SECRETARY])
    applied = client.post(
        f"/api/v1/privacy/corrections/{correction.pk}/apply", {}, content_type="application/json"
    )
    assert (applied.status_code, applied.json()["state"]) == (200, "applied")
    world.resident.refresh_from_db()
    assert world.resident.residency_type == "migrant"
    again = client.post(
        f"/api/v1/privacy/corrections/{correction.pk}/apply", {}, content_type="application/json"
    )
    assert (again.status_code, again.json()["field"]) == (409, "state")


def test_api_apply_with_an_invalid_value_names_value_and_writes_nothing(world):
    correction = ask(world, field="residency_type", value="martian")
    response = client_for(world.users[Role.SECRETARY]).post(
        f"/api/v1/privacy/corrections/{correction.pk}/apply", {}, content_type="application/json"
    )
    assert (response.status_code, response.json()["field"]) == (400, "value")
    correction.refresh_from_db()
    world.resident.refresh_from_db()
    assert (correction.state, world.resident.residency_type) == ("open", "registered")
    assert not AuditEntry.objects.filter(action=AuditAction.CORRECT).exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"field": "phone", "requested_value": "1" * 101}, "requested_value"),
        ({"field": "phone", "note": "x" * 501}, "note"),
        ({"field": "id_number", "requested_value": "x"}, "field"),
        ({"field": "phone", "requested_value": "12345"}, "requested_value"),
        ({"field": "other"}, "note"),
    ],
)
def test_api_bounds_name_the_field(world, payload, field):
    response = client_for(world.users[Role.RESIDENT]).post(
        "/api/v1/privacy/corrections",
        {"resident_id": world.resident.pk, **payload},
        content_type="application/json",
    )
    assert response.status_code in (400, 422)
    assert response.json()["field"] == field
    assert not CorrectionRequest.objects.exists()
