"""The Idempotency-Key header is documented on every write a client may retry, and only
there (the project's own /api/v1 schema)."""

import pytest
from django.test import Client

RETRIABLE_WRITES = {
    "/api/v1/cases",
    "/api/v1/cases/with-photos",
    "/api/v1/visits",
    "/api/v1/emergency/help-requests",
    "/api/v1/emergency/activations/{activation_id}/supplies",
    "/api/v1/emergency/tasks/{task_id}/report",
    "/api/v1/partners/needs/{need_id}/claims",
    "/api/v1/partners/needs/{need_id}/claim-resource",
    "/api/v1/supplies/items/{item_id}/movements",
    "/api/v1/volunteers/hours",
    "/api/v1/volunteers/hours/corrections",
    "/api/v1/activities/{occurrence_id}/sign-up",
}


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def header_parameter(operation: dict) -> dict | None:
    found = [p for p in operation.get("parameters", []) if p["name"] == "Idempotency-Key"]
    assert len(found) <= 1
    return found[0] if found else None


def test_every_retriable_write_documents_the_header_and_nothing_else_does(schema):
    documented = {
        path
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if header_parameter(operation) is not None and method == "post"
    }
    elsewhere = {
        (method, path)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if header_parameter(operation) is not None and method != "post"
    }
    assert documented == RETRIABLE_WRITES
    assert elsewhere == set()


def test_the_header_parameter_says_what_it_does(schema):
    parameter = header_parameter(schema["paths"]["/api/v1/cases"]["post"])
    assert parameter["in"] == "header"
    assert parameter["required"] is False
    assert parameter["schema"] == {
        "type": "string",
        "minLength": 1,
        "maxLength": 255,
        "pattern": "^[A-Za-z0-9._:~+/=-]+$",
    }
    assert "same key" in parameter["description"]


def test_replays_and_an_unfinished_first_request_are_documented(schema):
    responses = schema["paths"]["/api/v1/activities/{occurrence_id}/sign-up"]["post"]["responses"]
    assert "Idempotent-Replayed" in responses["201"]["headers"]
    assert "headers" not in responses["401"]
    assert responses["409"]["description"].startswith("The first request with this")
    # A 409 the operation already declares keeps its own schema, and may be replayed.
    claims = schema["paths"]["/api/v1/partners/needs/{need_id}/claims"]["post"]["responses"]
    assert claims["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorOut"
    }
    assert "Idempotent-Replayed" in claims["409"]["headers"]
