"""The whole `/api/v1` surface, generated from its own OpenAPI document (schemathesis).

For every operation, requests built from the documented parameters and bodies are sent as a
street administrator and as a resident (bearer tokens), on the shared street of
linli/conftest.py. Every answer must be a documented status, never a 5xx, and its body must
match the response schema the document gives for that status. Writes go to the test
database only (each operation's examples run inside its test's transaction).

Generated ids are mostly unknown rows (404); half of them are swapped for a row of the
shared street, so that the handlers behind the 404 answer too.
"""

import pytest
import schemathesis
from django.core.signals import request_finished
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from ninja import Schema
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from linli.accounts.roles import Role
from linli.api import api
from linli.conftest import PASSWORD

pytestmark = pytest.mark.slow

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
    request_finished.disconnect(close_old_connections)
    yield tokens, rows
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
