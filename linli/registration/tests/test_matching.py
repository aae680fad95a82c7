"""Matching a registration against the register: how names, rooms, ID digits and phones are
compared, and what each kind of mismatch becomes."""

import pytest

from linli.accounts.models import AuditAction, AuditEntry, User
from linli.accounts.roles import Role
from linli.conftest import make_user
from linli.grids.models import ResidentAccount
from linli.grids.services import household_create, resident_create
from linli.notify.models import Notification
from linli.registration.matching import (
    id_last_four_matches,
    name_key,
    room_key,
    rooms_match,
)
from linli.registration.models import RegistrationRequest, RequestCause
from linli.registration.tests.support import submit
from linli.testing.builders import id_number

# 李建国 of room 102 (the world's neighbour): ID number ends 0054, registered phone 139….
OTHER_PHONE = "13500001234"
REGISTERED_PHONE = "13912345678"
ID_ENDING_X = next(number for number in map(id_number, range(1000)) if number.endswith("X"))


@pytest.mark.parametrize(
    ("given", "key"),
    [
        ("201", "201"),
        ("201室", "201"),
        ("２０１", "201"),
        (" 201 ", "201"),
        ("3-201", "3-201"),
        ("3－201", "3-201"),
        ("3号楼201室", "3-201"),
        ("3栋2单元201", "3-2-201"),
        ("B201", "b201"),
    ],
)
def test_room_key_reads_rooms_as_people_write_them(given, key):
    assert room_key(given) == key


@pytest.mark.parametrize(
    ("given", "registered", "same"),
    [
        ("201", "201", True),
        ("201室", "201", True),
        ("3-201", "201", True),  # the building's number written in front
        ("201", "2-201", True),  # the unit left out
        ("1-201", "2-201", False),  # two different units
        ("202", "201", False),
        ("", "201", False),
    ],
)
def test_rooms_match(given, registered, same):
    assert rooms_match(given, registered) is same


def test_name_key_ignores_width_spaces_dots_and_case():
    assert name_key(" 李 建国 ") == name_key("李建国")
    assert name_key("阿卜杜•热合曼") == name_key("阿卜杜·热合曼") == name_key("阿卜杜．热合曼")
    assert name_key("Ｍａｒｙ Ｗａｎｇ") == name_key("mary wang")
    assert name_key("李建") != name_key("李建国")


def test_id_last_four_compares_with_the_masked_number():
    assert id_last_four_matches("0054", "110101********0054")
    assert id_last_four_matches("123x", "110101********123X")
    assert id_last_four_matches("１２３Ｘ", "110101********123X")
    assert not id_last_four_matches("0055", "110101********0054")
    assert not id_last_four_matches("54", "110101********0054")


def matched_user(outcome) -> User:
    assert outcome.request is None and outcome.user is not None
    return outcome.user


@pytest.mark.parametrize(
    ("name", "room", "id_last4", "phone"),
    [
        ("李建国", "102", "0054", OTHER_PHONE),
        ("李建国", "102室", "0054", OTHER_PHONE),
        ("李建国", "1-102", "0054", OTHER_PHONE),
        ("李建国", "１０２", "００５４", OTHER_PHONE),
        (" 李 建国 ", " 102 ", " 0054 ", OTHER_PHONE),
        # No ID digits: the phone they proved is the one the committee registered.
        ("李建国", "102", "", REGISTERED_PHONE),
        # Wrong ID digits, but the registered phone: either confirmation is enough.
        ("李建国", "102", "9999", REGISTERED_PHONE),
    ],
)
def test_a_registration_that_matches_makes_a_linked_login(world, name, room, id_last4, phone):
    user = matched_user(
        submit(world.building, phone=phone, name=name, room=room, id_last4=id_last4)
    )
    assert (user.username, user.phone, user.display_name) == (phone, phone, name.strip())
    assert user.has_usable_password() is False
    assert ResidentAccount.objects.get(user=user).resident == world.neighbour
    link = AuditEntry.objects.get(action=AuditAction.LINK, object_id=str(world.neighbour.pk))
    assert (link.actor, link.grid_path) == (user, world.neighbour.grid_path)
    assert RegistrationRequest.objects.count() == 0


def test_an_id_number_ending_in_x_matches_a_lower_case_x(world):
    household = household_create(building=world.building, room="3-201")
    resident = resident_create(
        household=household, name="王秀兰", sex="female", birth_year=1950, id_number=ID_ENDING_X
    )
    user = matched_user(
        submit(
            world.building,
            phone=OTHER_PHONE,
            name="王秀兰",
            room="201",
            id_last4=ID_ENDING_X[-4:].lower(),
        )
    )
    assert ResidentAccount.objects.get(user=user).resident == resident


def requested(outcome) -> RegistrationRequest:
    assert outcome.user is None and outcome.request is not None
    return outcome.request


@pytest.mark.parametrize(
    ("name", "room", "id_last4", "phone", "cause", "hinted"),
    [
        ("李建国", "102", "0055", OTHER_PHONE, RequestCause.NOT_CONFIRMED, True),
        ("李建国", "102", "", OTHER_PHONE, RequestCause.NOT_CONFIRMED, True),
        ("李建", "102", "0054", OTHER_PHONE, RequestCause.NO_RESIDENT, False),
        ("李建国", "101", "0054", OTHER_PHONE, RequestCause.NO_RESIDENT, False),
        ("李建国", "999", "0054", OTHER_PHONE, RequestCause.NO_RESIDENT, False),
    ],
)
def test_a_registration_that_does_not_match_becomes_a_request(
    world, name, room, id_last4, phone, cause, hinted
):
    users_before = User.objects.count()
    request = requested(
        submit(world.building, phone=phone, name=name, room=room, id_last4=id_last4)
    )
    assert (request.cause, request.candidate) == (cause, world.neighbour if hinted else None)
    assert (request.building, request.grid_path) == (world.building, world.building.grid_path)
    assert (request.name, request.room, request.phone, request.status) == (
        name,
        room,
        phone,
        "pending",
    )
    assert User.objects.count() == users_before
    assert ResidentAccount.objects.filter(resident=world.neighbour).exists() is False


def test_a_resident_who_moved_out_is_not_matched(world):
    world.neighbour.moved_out_on = world.neighbour.created_at.date()
    world.neighbour.save()
    request = requested(
        submit(world.building, phone=OTHER_PHONE, name="李建国", room="102", id_last4="0054")
    )
    assert request.cause == RequestCause.NO_RESIDENT


def test_an_anonymised_resident_is_not_matched(world):
    world.neighbour.anonymised_at = world.neighbour.created_at
    world.neighbour.save()
    request = requested(
        submit(world.building, phone=OTHER_PHONE, name="李建国", room="102", id_last4="0054")
    )
    assert request.cause == RequestCause.NO_RESIDENT


def test_a_resident_who_already_has_a_login_is_not_matched_again(world):
    # 张桂英 of room 101 is the world's resident, linked to the `resident` login.
    request = requested(
        submit(world.building, phone=OTHER_PHONE, name="张桂英", room="101", id_last4="0038")
    )
    assert (request.cause, request.candidate) == (RequestCause.ALREADY_LINKED, world.resident)
    assert ResidentAccount.objects.get(resident=world.resident).user == world.users[Role.RESIDENT]


def test_two_residents_of_the_room_with_the_name_make_a_request(world):
    twin = resident_create(
        household=world.neighbour_household,
        name="李建国",
        sex="male",
        birth_year=1985,
        id_number=id_number(7),
    )
    request = requested(
        submit(world.building, phone=OTHER_PHONE, name="李建国", room="102", id_last4="0054")
    )
    assert (request.cause, request.candidate) == (RequestCause.SEVERAL, world.neighbour)
    assert not ResidentAccount.objects.filter(resident__in=[twin, world.neighbour]).exists()


def test_a_phone_that_already_has_a_login_makes_a_request(world):
    # A staff login holding the number: signing in with a phone code must not skip its
    # password and second factor by registering.
    staff = make_user("楼长老周")
    staff.phone = OTHER_PHONE
    staff.save()
    request = requested(
        submit(world.building, phone=OTHER_PHONE, name="李建国", room="102", id_last4="0054")
    )
    assert request.cause == RequestCause.PHONE_HAS_LOGIN
    assert not ResidentAccount.objects.filter(user=staff).exists()


def test_a_second_try_of_the_same_phone_updates_its_waiting_request(world):
    first = requested(
        submit(world.building, phone=OTHER_PHONE, name="李建", room="102", id_last4="0054")
    )
    second = requested(
        submit(world.building, phone=OTHER_PHONE, name="李建国", room="102", id_last4="0055")
    )
    assert second.pk == first.pk
    first.refresh_from_db()
    assert (first.name, first.cause) == ("李建国", RequestCause.NOT_CONFIRMED)
    # The leader heard of it once.
    assert Notification.objects.filter(kind="registration_requested").count() == 1


def test_a_request_is_announced_to_the_building_group_leader(world):
    request = requested(
        submit(world.building, phone=OTHER_PHONE, name="陈无名", room="102", id_last4="0054")
    )
    notice = Notification.objects.get(kind="registration_requested")
    assert notice.recipient == world.users[Role.BUILDING_GROUP_LEADER]
    assert notice.title_template == "A resident of %(building)s asks to join Linli"
    assert notice.title_params == {"building": "1号楼"}
    assert notice.link == f"/join/requests/#request-{request.pk}"
    # Nothing about the person, nor the room, leaves in the message.
    assert "陈无名" not in notice.title and "102" not in notice.title


def test_a_building_group_without_leader_announces_to_the_micro_grid_lead(world):
    household = household_create(building=world.building, room="301")
    world.users[Role.BUILDING_GROUP_LEADER].role_assignments.all().delete()
    requested(submit(world.building, phone=OTHER_PHONE, name="陈无名", room=household.room))
    notice = Notification.objects.get(kind="registration_requested")
    assert notice.recipient == world.users[Role.MICRO_GRID_LEAD]
