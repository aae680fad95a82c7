"""The public form behind a building's poster: a match signs in and goes home; anything else
ends on one page, the same whatever kept it from matching; the throttles; invitations."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from linli.accounts.models import User
from linli.grids.models import ResidentAccount
from linli.registration import services
from linli.registration.models import RegistrationAttempt, RegistrationRequest, RequestCause
from linli.registration.selectors import join_path
from linli.registration.tests.conftest import NOW
from linli.registration.tests.support import ADDRESS, code_for, last_code, submit, web_register
from linli.testing.clients import client_for

OTHER_PHONE = "13500001234"


def test_the_poster_address_opens_the_form_of_its_building(world):
    page = client_for(None).get(join_path(world.building))
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-testid="join"' in text
    assert "A社区 · 1号楼" in text


@pytest.mark.parametrize("token", ["MQ:forged", "not-a-token", "MTIzNDU2:x"])
def test_a_forged_poster_address_is_not_found(world, token):
    assert client_for(None).get(f"/join/b/{token}/").status_code == 404


def test_a_matched_registration_signs_in_and_goes_home(world):
    client = client_for(None)
    answer = web_register(
        client, world.building, phone=OTHER_PHONE, name="李建国", room="102", id_last4="0054"
    )
    assert (answer.status_code, answer["Location"]) == (302, reverse("web:home"))
    user = User.objects.get(username=OTHER_PHONE)
    assert int(client.session["_auth_user_id"]) == user.pk
    home = client.get(reverse("web:home"))
    assert home.status_code == 200
    assert "李建国" in home.content.decode()


def test_sending_a_code_checks_the_phone_alone(world):
    client = client_for(None)
    answer = client.post(join_path(world.building), {"action": "code", "phone": "12345"})
    assert answer.status_code == 400
    assert 'data-testid="phone-error"' in answer.content.decode()
    answer = client.post(join_path(world.building), {"action": "code", "phone": OTHER_PHONE})
    assert answer.status_code == 200
    assert 'data-testid="code-sent"' in answer.content.decode()
    assert "135****1234" in answer.content.decode()


def test_a_wrong_code_is_refused_at_its_field_and_nothing_is_written(world):
    client = client_for(None)
    client.post(join_path(world.building), {"action": "code", "phone": OTHER_PHONE})
    wrong = "000000" if last_code(OTHER_PHONE) != "000000" else "111111"
    answer = client.post(
        join_path(world.building),
        {
            "action": "register",
            "phone": OTHER_PHONE,
            "code": wrong,
            "name": "李建国",
            "room": "102",
            "id_last4": "0054",
        },
    )
    assert answer.status_code == 400
    assert 'data-testid="code-error"' in answer.content.decode()
    assert not User.objects.filter(username=OTHER_PHONE).exists()
    assert RegistrationRequest.objects.count() == 0


def test_missing_fields_are_named(world):
    answer = client_for(None).post(
        join_path(world.building), {"action": "register", "phone": OTHER_PHONE, "id_last4": "12"}
    )
    assert answer.status_code == 400
    text = answer.content.decode()
    for field in ("code", "name", "room", "id_last4"):
        assert f'data-testid="{field}-error"' in text
    assert RegistrationAttempt.objects.count() == 0


def _without_tokens(content: bytes) -> str:
    # Each client has its own CSRF token; everything else must be byte for byte the same.
    text = content.decode()
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", text)


def test_no_oracle_an_already_registered_resident_and_a_stranger_read_the_same(world):
    """张桂英 (room 101) has a login; 陈无名 lives nowhere. Someone trying either learns
    nothing from the answers: same status, same address, same page."""
    answers = []
    for phone, name, room, digits in [
        ("13500001111", "张桂英", "101", "0038"),
        ("13500002222", "陈无名", "101", "0038"),
        ("13500003333", "李建国", "102", "9999"),
    ]:
        client = client_for(None)
        answer = web_register(
            client, world.building, phone=phone, name=name, room=room, id_last4=digits
        )
        page = client.get(answer["Location"])
        answers.append((answer.status_code, answer["Location"], page.status_code, page.content))
        assert "_auth_user_id" not in client.session
    assert {answer[:3] for answer in answers} == {(302, reverse("registration:sent"), 200)}
    assert len({_without_tokens(answer[3]) for answer in answers}) == 1
    causes = sorted(RegistrationRequest.objects.values_list("cause", flat=True))
    assert causes == sorted(
        [RequestCause.ALREADY_LINKED, RequestCause.NO_RESIDENT, RequestCause.NOT_CONFIRMED]
    )


def test_no_oracle_in_the_api_either(world):
    from linli.registration.tokens import building_token

    bodies = []
    for phone, name in [("13500001111", "张桂英"), ("13500002222", "陈无名")]:
        answer = client_for(None).post(
            "/api/v1/registration",
            {
                "building_token": building_token(world.building),
                "phone": phone,
                "code": code_for(phone),
                "name": name,
                "room": "101",
                "id_last4": "0038",
            },
            content_type="application/json",
        )
        bodies.append((answer.status_code, answer.json()))
    assert bodies[0] == bodies[1]
    assert bodies[0][1]["outcome"] == "requested"


def test_failed_confirmations_of_a_room_are_limited_a_day(world):
    """Five wrong tries of room 102 in a day; the sixth, with the right digits, silently
    becomes a request too. A day later the right digits match again."""
    for digits in ["1111", "2222", "3333", "4444", "5555"]:
        outcome = submit(
            world.building, phone=OTHER_PHONE, name="李建国", room="102", id_last4=digits
        )
        assert outcome.request.cause == RequestCause.NOT_CONFIRMED
    blocked = submit(world.building, phone=OTHER_PHONE, name="李建国", room="102", id_last4="0054")
    assert blocked.user is None
    assert blocked.request.cause == RequestCause.TOO_MANY_TRIES
    assert not ResidentAccount.objects.filter(resident=world.neighbour).exists()
    # The same count reaches another spelling of the room.
    assert (
        submit(
            world.building, phone=OTHER_PHONE, name="李建国", room="102室", id_last4="0054"
        ).request.cause
        == RequestCause.TOO_MANY_TRIES
    )

    with time_machine.travel(NOW + timedelta(days=1, minutes=1), tick=False):
        later = submit(
            world.building, phone="13600009999", name="李建国", room="102", id_last4="0054"
        )
    assert later.user is not None


def test_the_room_limit_answers_on_the_page_as_any_request(world):
    for digits in ["1111", "2222", "3333", "4444", "5555"]:
        submit(world.building, phone=OTHER_PHONE, name="李建国", room="102", id_last4=digits)
    answer = web_register(
        client_for(None),
        world.building,
        phone="13600009999",
        name="李建国",
        room="102",
        id_last4="0054",
    )
    assert (answer.status_code, answer["Location"]) == (302, reverse("registration:sent"))


def test_registrations_from_one_address_are_throttled(world, monkeypatch):
    monkeypatch.setattr(services, "ADDRESS_LIMIT", 3)
    for number in range(3):
        submit(world.building, phone=f"1350000000{number}", name="陈无名", room="102")
    attempts = RegistrationAttempt.objects.count()
    client = client_for(None)
    answer = web_register(
        client, world.building, phone=OTHER_PHONE, name="李建国", room="102", id_last4="0054"
    )
    assert answer.status_code == 429
    assert 'data-testid="phone-error"' in answer.content.decode()
    assert RegistrationAttempt.objects.count() == attempts
    assert not User.objects.filter(username=OTHER_PHONE).exists()
    # Another address is not held back.
    other = submit(
        world.building,
        phone=OTHER_PHONE,
        name="李建国",
        room="102",
        id_last4="0054",
        address="198.51.100.7",
    )
    assert other.user is not None
    assert ADDRESS != "198.51.100.7"


# Invitations ----------------------------------------------------------------------------


@pytest.fixture
def invitation(world, monkeypatch):
    """An invitation letter to room 102, as linli.invitations answers for its token."""
    used: list[tuple[str, User]] = []
    letters = {"letter-102": {"building_id": world.building.pk, "room": "102", "name": "李建国"}}
    from linli.invitations import selectors as invitation_selectors
    from linli.invitations import services as invitation_services

    monkeypatch.setattr(invitation_selectors, "invitation_prefill", letters.get)
    monkeypatch.setattr(
        invitation_services,
        "invitation_mark_used",
        lambda *, token, user: used.append((token, user)),
    )
    return used


def test_an_invitation_prefills_and_locks_the_room(world, invitation):
    page = client_for(None).get("/join/?invitation=letter-102")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-testid="room-locked"' in text and 'value="102"' in text
    assert 'value="李建国"' in text
    assert 'name="invitation" value="letter-102"' in text


def test_an_invitation_keeps_its_room_whatever_is_posted_and_is_marked_used(world, invitation):
    client = client_for(None)
    client.post("/join/?invitation=letter-102", {"action": "code", "phone": OTHER_PHONE})
    answer = client.post(
        "/join/",
        {
            "action": "register",
            "invitation": "letter-102",
            "phone": OTHER_PHONE,
            "code": last_code(OTHER_PHONE),
            "name": "李建国",
            "room": "101",  # ignored: the letter is for 102
            "id_last4": "0054",
        },
    )
    assert (answer.status_code, answer["Location"]) == (302, reverse("web:home"))
    user = User.objects.get(username=OTHER_PHONE)
    assert ResidentAccount.objects.get(user=user).resident == world.neighbour
    assert invitation == [("letter-102", user)]


def test_an_unknown_invitation_says_so_kindly(world, invitation):
    answer = client_for(None).get("/join/?invitation=expired")
    assert answer.status_code == 404
    assert 'data-testid="invitation-invalid"' in answer.content.decode()
    answer = client_for(None).get(f"{join_path(world.building)}?invitation=expired")
    assert answer.status_code == 404
