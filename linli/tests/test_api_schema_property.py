"""The whole `/api/v1` surface, generated from its own OpenAPI document (schemathesis).

For every operation, requests built from the documented parameters and bodies are sent as a
street administrator and as a resident (bearer tokens), on the shared street of
linli/conftest.py. Every answer must be a documented status, never a 5xx, and its body must
match the response schema the document gives for that status. Writes go to the test
database only (each operation's examples run inside its test's transaction).

Generated ids are mostly unknown rows (404); half of them are swapped for a row of the
shared street, so that the handlers behind the 404 answer too.

A second pass generates inputs outside the document (schemathesis's negative mode): each is
refused with a 4xx, and a 422 names the field in the API's error body.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test import Client
from hypothesis import HealthCheck, settings
from ninja import Schema
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from linli.accounts.roles import Role
from linli.api import api
from linli.conftest import PASSWORD

# Once per `make test`, on the production database: the property is the API's, not the
# database's, and a second run on SQLite would only double a minute and a half of CPU.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="run once, in the PostgreSQL run of make test"
    ),
]

EXAMPLES_PER_OPERATION = 8

config = schemathesis.Config.from_dict(
    {
        "generation": {
            "mode": "positive",
            "max-examples": EXAMPLES_PER_OPERATION,
            "deterministic": True,
            "database": "none",
        }
    }
)
schema = schemathesis.openapi.from_dict(api.get_openapi_schema(), config=config)

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
ROLES = (Role.STREET_ADMIN, Role.RESIDENT)


def _application():
    from linli.wsgi import application

    return application


@pytest.fixture
def street(world):
    """Bearer tokens for the two roles, and the rows a generated id may be swapped for."""
    tokens = {}
    for role in ROLES:
        answer = Client().post(
            "/api/v1/auth/token",
            {"username": role, "password": PASSWORD},
            content_type="application/json",
        )
        tokens[role] = answer.json()["token"]
    rows = {
        "grid_unit_id": world.community.pk,
        "unit_id": world.street.pk,
        "community_id": world.community.pk,
        "scope_id": world.community.pk,
        "parent_id": world.street.pk,
        "building_id": world.building.pk,
        "home_building_id": world.building.pk,
        "household_id": world.household.pk,
        "resident_id": world.resident.pk,
        "beneficiary_id": world.resident.pk,
    }
    # The WSGI handler closes the connection when a request ends, which would end the test's
    # transaction; Django's test client leaves it open the same way.
    # (At a request's start too: inside the test's transaction the connection's autocommit
    # differs from its settings, and Django would drop it. SQLite's in-memory database is
    # never closed, which is why only PostgreSQL showed it.)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield tokens, rows
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _swap_ids(container, rows: dict[str, int]) -> None:
    if not isinstance(container, dict):
        return
    for name, value in container.items():
        if name in rows and isinstance(value, int) and value % 2 == 0:
            container[name] = rows[name]


@schema.parametrize()
@settings(suppress_health_check=list(HealthCheck))
def test_every_operation_answers_within_its_schema(case, street):
    tokens, rows = street
    for container in (case.path_parameters, case.query, case.body):
        _swap_ids(container, rows)
    for role in ROLES:
        response = case.call(
            app=_application(), headers={"Authorization": f"Bearer {tokens[role]}"}
        )
        case.validate_response(response, checks=CHECKS)


# Inputs outside the document: every one is refused with a 4xx (never a 2xx, never a 5xx),
# and a refusal of the input's shape (422) is the API's error body naming the field. Any 4xx
# is acceptable: a path id outside its documented range may never reach a handler (404), a
# method the route does not have answers 405. A few examples per operation keep the pass
# cheap; the seed is fixed, so a failure reproduces.
NEGATIVE_EXAMPLES_PER_OPERATION = 3

negative_config = schemathesis.Config.from_dict(
    {
        "generation": {
            "mode": "negative",
            "max-examples": NEGATIVE_EXAMPLES_PER_OPERATION,
            "deterministic": True,
            "database": "none",
        },
        "checks": {"negative_data_rejection": {"expected-statuses": ["4XX"]}},
    }
)
negative_schema = schemathesis.openapi.from_dict(api.get_openapi_schema(), config=negative_config)

LOCATIONS = {
    ParameterLocation.PATH: "path_parameters",
    ParameterLocation.QUERY: "query",
    ParameterLocation.BODY: "body",
}


def _error_names_the_field(ctx, response, case):
    if response.status_code not in (400, 422):
        return None
    body = response.json()
    assert isinstance(body, dict) and set(body) >= {"message", "field"}, (
        f"{response.status_code} without the API's error body: {body!r}"
    )
    assert body["message"], f"{response.status_code} with an empty message: {body!r}"
    if response.status_code == 422:
        assert isinstance(body["field"], str) and body["field"], (
            f"422 that names no field: {body!r}"
        )
    return None


NEGATIVE_CHECKS = [not_a_server_error, negative_data_rejection, _error_names_the_field]

# Operations that take an input the document refuses, each with its reason. They are still
# checked for 5xx and for the error body; only "refused, not accepted" is waived.
ACCEPTS_WHAT_THE_SCHEMA_REFUSES = {
    # Pydantic's lax mode reads 0 and 1 as a JSON boolean (`for_me: 0` signs up as false).
    # Every boolean in the API's bodies does so; strict booleans are a change across all apps'
    # input schemas, not this test's to make.
    "POST /api/v1/volunteers": "a JSON boolean given as 0 or 1 is accepted",
}


@negative_schema.parametrize()
@settings(suppress_health_check=list(HealthCheck))
def test_every_input_outside_the_schema_is_refused_naming_the_field(case, street):
    tokens, rows = street
    # Ids are swapped for the street's rows only where the input was generated valid, so a
    # refusal comes from the invalid part, not from an unknown row.
    for location, attribute in LOCATIONS.items():
        if not case.meta.is_negative_at(location):
            _swap_ids(getattr(case, attribute), rows)
    # A check may send a control request of its own: in-process too, with the same token.
    case.operation.schema.app = app = _application()
    transport = {"app": app, "headers": {"Authorization": f"Bearer {tokens[Role.STREET_ADMIN]}"}}
    response = case.call(**transport)
    checks = NEGATIVE_CHECKS
    if case.operation.label in ACCEPTS_WHAT_THE_SCHEMA_REFUSES:
        checks = [check for check in checks if check is not negative_data_rejection]
    case.validate_response(response, checks=checks, transport_kwargs=transport)


def _schema_classes(cls=Schema):
    for sub in cls.__subclasses__():
        yield sub
        yield from _schema_classes(sub)


def test_no_two_api_schemas_share_a_name():
    # The OpenAPI document names its components by class name: two schemas of one name
    # leave one of them documented with the other's fields.
    seen: dict[str, str] = {}
    shared = []
    for cls in _schema_classes():
        if not cls.__module__.startswith("linli.") or ".tests" in cls.__module__:
            continue
        where = f"{cls.__module__}.{cls.__qualname__}"
        if seen.setdefault(cls.__name__, where) != where:
            shared.append((seen[cls.__name__], where))
    assert shared == []
