"""`/api/v1/registration`: registering as an app does (the code from the sign-in API's
phone-codes route), and the answers to bad input."""

import pytest

from linli.accounts.models import User
from linli.grids.models import ResidentAccount
from linli.registration import services
from linli.registration.models import RegistrationAttempt, RegistrationRequest
from linli.registration.tests.support import last_code
from linli.registration.tokens import building_token
from linli.testing.clients import client_for

PHONE = "13500001234"


def post(path: str, body: dict):
    return client_for(None).post(path, body, content_type="application/json")


def register(world, **fields):
    code = post("/api/v1/signin/phone-codes", {"phone": PHONE, "purpose": "register"})
    assert code.status_code == 202, code.content
    body = {
        "building_token": building_token(world.building),
        "phone": PHONE,
        "code": last_code(PHONE),
        "name": "李建国",
        "room": "102",
        "id_last4": "0054",
        **fields,
    }
    return post("/api/v1/registration", body)


def test_an_app_registers_and_is_linked(world):
    answer = register(world)
    assert answer.status_code == 200
    assert answer.json() == {
        "outcome": "linked",
        "message": "You are registered. Sign in with your phone number.",
    }
    user = User.objects.get(username=PHONE)
    assert ResidentAccount.objects.get(user=user).resident == world.neighbour


def test_an_app_registration_that_does_not_match_is_requested(world):
    answer = register(world, id_last4="9999")
    assert answer.status_code == 200
    assert answer.json()["outcome"] == "requested"
    assert RegistrationRequest.objects.get().cause == "not_confirmed"


@pytest.mark.parametrize(
    ("fields", "status", "field"),
    [
        ({"building_token": "1:forged"}, 404, "building_token"),
        ({"building_token": "", "invitation": ""}, 400, "building_token"),
        ({"name": " "}, 400, "name"),
        ({"room": ""}, 400, "room"),
        ({"id_last4": "12"}, 400, "id_last4"),
        ({"phone": "123"}, 400, "phone"),
        ({"code": "12"}, 400, "code"),
        ({"name": "名" * 200}, 422, "name"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_writes_nothing(world, fields, status, field):
    answer = register(world, **fields)
    assert (answer.status_code, answer.json()["field"]) == (status, field)
    assert not User.objects.filter(username=PHONE).exists()
    assert RegistrationRequest.objects.count() == 0


def test_the_api_is_throttled_per_address_too(world, monkeypatch):
    monkeypatch.setattr(services, "ADDRESS_LIMIT", 1)
    RegistrationAttempt.objects.create(building=world.building, ip_address="127.0.0.1")
    answer = register(world)
    assert answer.status_code == 429
    assert answer.json()["field"] == "phone"
    assert not User.objects.filter(username=PHONE).exists()
