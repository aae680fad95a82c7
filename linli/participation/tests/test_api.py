"""Behaviour of `/api/v1/activities`: lists, sign-up and cancel, check-in, attendance,
feedback, staff create, and the permission matrix (denied answers 401/403/404 and changes
nothing)."""

from datetime import timedelta

import pytest

from linli.accounts.roles import Role
from linli.participation.activities.services import signup_create
from linli.participation.models import Activity, Feedback, Occurrence, SignUp
from linli.participation.tests.conftest import make_activity
from linli.participation.tests.helpers import member, user_for
from linli.testing.clients import client_for

URL = "/api/v1/activities"
COMMUNITY_ORGANISERS = {Role.STREET_ADMIN, Role.SECRETARY}
STAFF = {Role.STREET_ADMIN, Role.SECRETARY, Role.MICRO_GRID_LEAD}
ALL_ROLES = [*Role.values, "anonymous", "outsider"]


def post_json(client, url: str, data: dict | None = None):
    return client.post(url, data or {}, content_type="application/json")


def new_activity_payload(world, **changes) -> dict:
    return {
        "organiser_id": world.community.pk,
        "kind": "action_day",
        "title": "周四行动日",
        "capacity": 20,
        "starts_at": "2030-01-03T09:00:00+08:00",
        "ends_at": "2030-01-03T11:00:00+08:00",
        "rrule": "FREQ=WEEKLY;BYDAY=TH;COUNT=3",
        **changes,
    }


# Reads ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_read_permission_matrix(world, occurrence, role):
    client = client_for(user_for(world, role))
    mine = client.get(URL)
    staff = client.get(URL, {"scope": "staff"})
    detail = client.get(f"{URL}/{occurrence.pk}")
    attendance = client.get(f"{URL}/{occurrence.pk}/attendance")
    if role == "anonymous":
        assert {mine.status_code, staff.status_code, detail.status_code} == {401}
        return
    member_of_a = role != "outsider"
    assert mine.status_code == 200
    assert mine.json()["count"] == (1 if member_of_a else 0)
    assert staff.status_code == (200 if role in STAFF else 403)
    if role in STAFF:
        assert staff.json()["count"] == (1 if role in COMMUNITY_ORGANISERS else 0)
    assert detail.status_code == (200 if member_of_a else 404)
    assert attendance.status_code == (200 if role in COMMUNITY_ORGANISERS else 404)


def test_the_list_shows_places_and_my_status(world, occurrence):
    signup_create(occurrence=occurrence, user=world.users[Role.RESIDENT])
    body = client_for(world.users[Role.RESIDENT]).get(URL).json()
    item = body["items"][0]
    assert (body["count"], item["title"], item["kind"]) == (1, "周四行动日", "action_day")
    assert (item["capacity"], item["confirmed"], item["waitlisted"], item["my_status"]) == (
        2,
        1,
        0,
        "confirmed",
    )
    assert item["organiser"] == "A社区"


# Sign-up, cancel -----------------------------------------------------------------------


def test_sign_up_and_cancel_over_the_api(world, occurrence):
    client = client_for(world.users[Role.RESIDENT])
    created = post_json(client, f"{URL}/{occurrence.pk}/sign-up")
    assert created.status_code == 201
    assert created.json()["status"] == "confirmed"
    again = post_json(client, f"{URL}/{occurrence.pk}/sign-up")
    assert again.status_code == 400
    assert again.json() == {
        "message": "You have already signed up for this activity.",
        "field": "occurrence",
    }
    assert [item["status"] for item in client.get(f"{URL}/sign-ups").json()["items"]] == [
        "confirmed"
    ]
    cancelled = post_json(client, f"{URL}/sign-ups/{created.json()['id']}/cancel")
    assert cancelled.json()["status"] == "cancelled"


@pytest.mark.parametrize("role", [r for r in ALL_ROLES if r not in COMMUNITY_ORGANISERS])
def test_writes_by_others_are_refused_and_change_nothing(world, role):
    occurrence = make_activity(world, starts_in=timedelta(minutes=-10)).occurrences.get()
    someone = member(world, "someone")
    sign_up = signup_create(occurrence=occurrence, user=someone)
    client = client_for(user_for(world, role))
    responses = [
        post_json(client, f"{URL}/sign-ups/{sign_up.pk}/cancel"),
        post_json(client, f"{URL}/sign-ups/{sign_up.pk}/check-in"),
        post_json(client, f"{URL}/{occurrence.pk}/close"),
        post_json(client, f"{URL}/{occurrence.pk}/cancel", {"reason": "下雨"}),
        post_json(client, URL, new_activity_payload(world)),
    ]
    codes = [response.status_code for response in responses]
    if role == "anonymous":
        assert codes == [401, 401, 401, 401, 401]
    elif role == Role.MICRO_GRID_LEAD:
        # May organise, but only inside their micro-grid: community A's rows are not theirs.
        assert codes == [404, 404, 404, 404, 400]
        assert responses[4].json()["field"] == "organiser_id"
    else:
        assert codes == [404, 404, 404, 404, 403]
    sign_up.refresh_from_db()
    occurrence.refresh_from_db()
    assert (sign_up.status, sign_up.checked_in_at, occurrence.state) == (
        "confirmed",
        None,
        "scheduled",
    )
    assert Activity.objects.count() == 1


def test_an_outsider_cannot_sign_up(world, occurrence):
    response = post_json(client_for(user_for(world, "outsider")), f"{URL}/{occurrence.pk}/sign-up")
    assert response.status_code == 404
    assert response.json()["field"] == "occurrence_id"
    assert SignUp.objects.count() == 0


# Check-in, attendance, feedback --------------------------------------------------------


def test_check_in_by_token_and_attendance(world):
    occurrence = make_activity(world, starts_in=timedelta(minutes=-10)).occurrences.get()
    resident = client_for(world.users[Role.RESIDENT])
    post_json(resident, f"{URL}/{occurrence.pk}/sign-up")
    wrong = post_json(resident, f"{URL}/check-in", {"token": "nope"})
    assert wrong.status_code == 400
    assert wrong.json() == {"message": "This check-in code is not valid.", "field": "token"}
    right = post_json(resident, f"{URL}/check-in", {"token": occurrence.check_in_token})
    assert right.status_code == 200
    assert right.json()["checked_in_at"] is not None
    attendance = (
        client_for(world.users[Role.SECRETARY]).get(f"{URL}/{occurrence.pk}/attendance").json()
    )
    assert attendance["count"] == 1
    row = attendance["items"][0]
    assert (row["name"], row["status"], row["check_in_method"]) == ("resident", "confirmed", "scan")


def test_a_code_of_another_community_is_refused(world):
    far = make_activity(
        world,
        actor=world.users[Role.STREET_ADMIN],
        organiser=world.other_community,
        starts_in=timedelta(minutes=-10),
    ).occurrences.get()
    response = post_json(
        client_for(world.users[Role.RESIDENT]), f"{URL}/check-in", {"token": far.check_in_token}
    )
    assert response.status_code == 400
    assert response.json()["field"] == "token"
    assert SignUp.objects.count() == 0


def test_feedback_before_the_occurrence_is_refused(world, occurrence):
    client = client_for(world.users[Role.RESIDENT])
    post_json(client, f"{URL}/{occurrence.pk}/sign-up")
    response = post_json(client, f"{URL}/{occurrence.pk}/feedback", {"rating": 5})
    assert response.status_code == 400
    assert response.json() == {
        "message": "Feedback opens when the activity is over.",
        "field": "occurrence",
    }
    assert Feedback.objects.count() == 0


# Staff create --------------------------------------------------------------------------


def test_staff_create_a_series(world):
    response = post_json(
        client_for(world.users[Role.SECRETARY]), URL, new_activity_payload(world, venue_id=None)
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["title"], body["rrule"], len(body["occurrence_ids"])) == (
        "周四行动日",
        "FREQ=WEEKLY;BYDAY=TH;COUNT=3",
        3,
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"capacity": 0}, "capacity"),
        ({"ends_at": "2030-01-03T08:00:00+08:00"}, "ends_at"),
        ({"rrule": "FREQ=NEVER"}, "rrule"),
        ({"organiser_id": 999999}, "organiser_id"),
    ],
)
def test_bad_staff_input_names_the_field_and_writes_nothing(world, changes, field):
    response = post_json(
        client_for(world.users[Role.SECRETARY]), URL, new_activity_payload(world, **changes)
    )
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert Activity.objects.count() == 0
    assert Occurrence.objects.count() == 0


def test_staff_call_off_an_occurrence(world, occurrence):
    response = post_json(
        client_for(world.users[Role.SECRETARY]),
        f"{URL}/{occurrence.pk}/cancel",
        {"reason": "台风预警"},
    )
    assert response.status_code == 200
    assert response.json()["state"] == "cancelled"
    again = post_json(
        client_for(world.users[Role.SECRETARY]),
        f"{URL}/{occurrence.pk}/cancel",
        {"reason": "台风预警"},
    )
    assert again.status_code == 400
    assert again.json()["field"] == "occurrence"


def test_a_time_without_a_zone_is_shanghai_time(world):
    response = post_json(
        client_for(world.users[Role.SECRETARY]),
        URL,
        new_activity_payload(
            world, starts_at="2030-01-03T09:00:00", ends_at="2030-01-03T10:30:00", rrule=""
        ),
    )
    assert response.status_code == 201
    detail = client_for(world.users[Role.SECRETARY]).get(
        f"{URL}/{response.json()['occurrence_ids'][0]}"
    )
    assert (detail.json()["starts_at"], detail.json()["ends_at"]) == (
        "2030-01-03T09:00:00+08:00",
        "2030-01-03T10:30:00+08:00",
    )
