"""Inputs outside what `/api/v1` documents: a 422 naming the field, nothing written.

Each case was a 500 or a silently stored value before the bounds of linli/api_shared.py
(issue 13, item 19).
"""

import pytest
import time_machine

from linli.accounts.roles import Role
from linli.api_shared import MAX_OFFSET, TEXT_MAX_LENGTH
from linli.cases.models import Case, CaseEvent
from linli.grids.models import Visit
from linli.participation.models import Activity
from linli.supplies.models import SupplyItem
from linli.testing.clients import client_for
from linli.volunteers.models import ServiceHoursEntry

DATE_MESSAGE = "Enter a date between 2000-01-01 and 2100-12-31."


@pytest.fixture(autouse=True)
def _pinned_clock():
    with time_machine.travel("2026-06-10T10:00:00+08:00", tick=False):
        yield


def assert_refused(response, field: str, message: str | None = None):
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["field"] == field
    if message is not None:
        assert body["message"] == message


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/cases",
        "/api/v1/residents",
        "/api/v1/visits",
        "/api/v1/partners/units",
        "/api/v1/supplies/locations",
        "/api/v1/activities/sign-ups",
    ],
)
def test_an_offset_past_the_bound_is_refused_naming_offset(world, path):
    client = client_for(world.users[Role.STREET_ADMIN])
    assert_refused(client.get(path, {"offset": 24769622136271549759488}), "offset")
    assert_refused(client.get(path, {"offset": MAX_OFFSET + 1}), "offset")
    assert client.get(path, {"offset": MAX_OFFSET}).json()["items"] == []


@pytest.mark.parametrize("field", ["date", "start", "end"])
def test_case_metrics_refuse_a_year_9999_date(world, field):
    client = client_for(world.users[Role.STREET_ADMIN])
    query = {"start": "2026-01-01", "end": "2026-02-01", field: "9999-12-31"}
    if field == "date":
        query = {"date": "9999-12-31"}
    assert_refused(client.get("/api/v1/cases/metrics", query), field, DATE_MESSAGE)


@pytest.mark.parametrize("hours", ["6e240", 1e308, "1e308", "24.01", "0.001"])
def test_service_hours_out_of_range_are_refused_naming_hours(world, hours):
    client = client_for(world.users[Role.STREET_ADMIN])
    for path in ("/api/v1/volunteers/hours", "/api/v1/volunteers/hours/corrections"):
        response = client.post(
            path,
            {"volunteer_id": 1, "hours": hours, "note": "x", "reason": "x"},
            content_type="application/json",
        )
        if path.endswith("corrections") and hours in ("24.01",):
            continue  # a correction may move up to 9999.99 hours
        assert_refused(response, "hours")
    assert ServiceHoursEntry.objects.count() == 0


def test_hours_dated_in_the_year_0810_are_refused(world):
    client = client_for(world.users[Role.STREET_ADMIN])
    response = client.post(
        "/api/v1/volunteers/hours",
        {"volunteer_id": 1, "hours": "2", "occurred_on": "0810-05-01"},
        content_type="application/json",
    )
    assert_refused(response, "occurred_on", DATE_MESSAGE)
    assert ServiceHoursEntry.objects.count() == 0


def test_a_hotline_reference_over_50_characters_is_refused(world):
    client = client_for(world.users[Role.STREET_ADMIN])
    response = client.post(
        "/api/v1/cases",
        {
            "category": "env_garbage",
            "description": "垃圾堆放",
            "building_id": world.building.pk,
            "source": "hotline_12345",
            "hotline_reference": "R" * 51,
        },
        content_type="application/json",
    )
    assert_refused(response, "hotline_reference")
    assert Case.objects.count() == 0


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "0810-03-01T09:00:00+08:00"])
def test_a_visit_outside_the_date_bounds_is_refused_and_not_written(world, moment):
    client = client_for(world.users[Role.STREET_ADMIN])
    response = client.post(
        "/api/v1/visits",
        {"household_id": world.household.pk, "method": "door", "visited_at": moment},
        content_type="application/json",
    )
    assert_refused(response, "visited_at", DATE_MESSAGE)
    assert Visit.objects.count() == 0


def test_a_moment_that_crosses_2100_once_in_utc_is_refused(world):
    client = client_for(world.users[Role.STREET_ADMIN])
    response = client.post(
        "/api/v1/visits",
        {
            "household_id": world.household.pk,
            "method": "door",
            "visited_at": "2100-12-31T23:00:00-14:00",
        },
        content_type="application/json",
    )
    assert_refused(response, "visited_at", DATE_MESSAGE)
    assert Visit.objects.count() == 0


def test_an_activity_in_the_year_0810_is_refused(world):
    client = client_for(world.users[Role.STREET_ADMIN])
    response = client.post(
        "/api/v1/activities",
        {
            "organiser_id": world.community.pk,
            "kind": "meeting",
            "title": "议事会",
            "capacity": 10,
            "starts_at": "0810-06-01T09:00:00+08:00",
            "ends_at": "2026-06-01T10:00:00+08:00",
        },
        content_type="application/json",
    )
    assert_refused(response, "starts_at", DATE_MESSAGE)
    assert Activity.objects.count() == 0


def test_a_supply_expiring_in_the_year_0810_is_refused(world):
    client = client_for(world.users[Role.STREET_ADMIN])
    response = client.post(
        "/api/v1/supplies/items",
        {
            "location_id": 1,
            "name": "手电筒",
            "category": "lighting",
            "unit": "个",
            "expires_on": "0810-01-01",
        },
        content_type="application/json",
    )
    assert_refused(response, "expires_on", DATE_MESSAGE)
    assert SupplyItem.objects.count() == 0


def test_a_case_action_note_over_the_text_limit_is_refused_not_stored(world):
    client = client_for(world.users[Role.STREET_ADMIN])
    events = CaseEvent.objects.count()
    response = client.post(
        "/api/v1/cases/1/actions",
        {"action": "accept", "note": "长" * (1024 * 1024), "expected_version": 1},
        content_type="application/json",
    )
    assert_refused(response, "note")
    assert CaseEvent.objects.count() == events
    assert TEXT_MAX_LENGTH == 5000


def test_the_openapi_document_states_the_bounds(world):
    document = client_for(None).get("/api/v1/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert schemas["CaseIn"]["properties"]["hotline_reference"]["maxLength"] == 50
    assert schemas["ActionIn"]["properties"]["note"]["maxLength"] == TEXT_MAX_LENGTH
    hours = schemas["HoursIn"]["properties"]["hours"]["anyOf"][0]
    assert (hours["exclusiveMinimum"], hours["maximum"]) == (0, 24)
    offset = next(
        parameter
        for parameter in document["paths"]["/api/v1/cases"]["get"]["parameters"]
        if parameter["name"] == "offset"
    )
    assert offset["schema"]["maximum"] == MAX_OFFSET
    visited_at = schemas["VisitIn"]["properties"]["visited_at"]["anyOf"][0]
    assert visited_at["x-bounds"] == "between 2000-01-01 and 2100-12-31"


def _unbounded_inputs(document: dict) -> list[str]:
    """Every request-body, query or path value of the document that states no bound: a string
    without maxLength (or an enum, or a date/moment/file format), a number without maximum.
    The string branch of a decimal (`anyOf: [number, string]`) is bounded by its number
    branch: the string is parsed and checked against the same maximum."""
    components = document.get("components", {}).get("schemas", {})
    offenders: list[str] = []

    def walk(schema: dict, where: str) -> None:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            walk(components[name], name)
            return
        branches = schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", [])
        numbers_bounded = any(
            b.get("type") in ("number", "integer") and "maximum" in b for b in branches
        )
        for branch in branches:
            if numbers_bounded and branch.get("type") == "string":
                continue
            walk(branch, where)
        for name, sub in schema.get("properties", {}).items():
            walk(sub, f"{where}.{name}")
        if schema.get("type") == "array":
            walk(schema.get("items", {}), f"{where}[]")
        kind = schema.get("type")
        if kind == "string" and not (
            "maxLength" in schema
            or "enum" in schema
            or schema.get("format") in ("date", "date-time", "time", "binary")
        ):
            offenders.append(f"{where}: string without maxLength")
        if kind in ("integer", "number") and "maximum" not in schema and "enum" not in schema:
            offenders.append(f"{where}: {kind} without maximum")

    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            name = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                walk(parameter.get("schema", {}), f"{name} {parameter['in']} {parameter['name']}")
            for content in operation.get("requestBody", {}).get("content", {}).values():
                walk(content.get("schema", {}), f"{name} body")
    return sorted(set(offenders))


def test_every_api_input_states_its_bound_in_the_schema():
    from linli.api import api

    assert _unbounded_inputs(api.get_openapi_schema()) == []


def test_the_bound_walker_finds_an_unbounded_string_and_integer():
    document = {
        "paths": {
            "/x": {
                "post": {
                    "parameters": [{"in": "query", "name": "n", "schema": {"type": "integer"}}],
                    "requestBody": {
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/XIn"}}
                        }
                    },
                }
            }
        },
        "components": {
            "schemas": {
                "XIn": {
                    "properties": {
                        "name": {"type": "string"},
                        "code": {"type": "string", "maxLength": 5},
                        "on": {"type": "string", "format": "date"},
                        "hours": {
                            "anyOf": [
                                {"type": "number", "maximum": 24},
                                {"type": "string", "pattern": "^[0-9.]+$"},
                            ]
                        },
                        "tags": {"type": "array", "items": {"type": "string"}},
                    }
                }
            }
        },
    }
    assert _unbounded_inputs(document) == [
        "POST /x query n: integer without maximum",
        "XIn.name: string without maxLength",
        "XIn.tags[]: string without maxLength",
    ]


# Below the API (web forms, imports, other services): text longer than its column is refused
# naming the field, never cut silently.


@pytest.mark.parametrize(
    ("field", "length"), [("contact_name", 51), ("offers", 2001), ("address", 201)]
)
def test_a_partner_text_longer_than_its_column_is_refused_not_cut(world, field, length):
    from django.core.exceptions import ValidationError

    from linli.partners.models import Partner
    from linli.partners.services import partner_create

    with pytest.raises(ValidationError) as refused:
        partner_create(
            actor=world.users[Role.SECRETARY],
            community=world.community,
            name="静安区人民法院",
            partner_type="court",
            **{field: "字" * length},
        )
    assert refused.value.message_dict == {
        field: [f"Ensure this value has at most {length - 1} characters (it has {length})."]
    }
    assert Partner.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "length"), [("title", 101), ("description", 2001), ("rrule", 301)]
)
def test_an_activity_text_longer_than_its_column_is_refused_not_cut(world, field, length):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from django.core.exceptions import ValidationError

    from linli.participation.activities.services import activity_create

    starts = datetime(2026, 6, 20, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    values = {"title": "读书会", "description": "", "rrule": ""}
    values[field] = "字" * length if field != "rrule" else "FREQ=WEEKLY;" + "X" * (length - 12)
    with pytest.raises(ValidationError) as refused:
        activity_create(
            actor=world.users[Role.SECRETARY],
            organiser=world.community,
            kind="culture",
            capacity=10,
            starts_at=starts,
            ends_at=starts.replace(hour=10),
            **values,
        )
    assert list(refused.value.message_dict) == [field]
    assert Activity.objects.count() == 0
