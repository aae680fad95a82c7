"""Round-table invitations stay inside the organiser's scope (issue 13, hole 14).

A's secretary may invite only communities of their own area; inviting C is refused with a
4xx naming the field, over the API, on the web and in the service, and writes nothing. A
street administrator, whose area holds both, may widen an invitation to C; only then do C's
people see and join the activity, and only then does the organiser read their names on the
attendance list.
"""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from linli.accounts.roles import Role
from linli.participation.activities.services import activity_create, activity_update, signup_create
from linli.participation.models import Activity, Occurrence, SignUp
from linli.participation.tests.conftest import make_activity
from linli.participation.tests.helpers import member
from linli.testing.clients import client_for

MOMENT = timezone.datetime(2026, 3, 2, 9, 0, tzinfo=timezone.get_fixed_timezone(8 * 60))


@pytest.fixture(autouse=True)
def _pinned_clock():
    with time_machine.travel(MOMENT, tick=False):
        yield


def api_payload(world, **kwargs) -> dict:
    starts_at = MOMENT + timedelta(days=2)
    return {
        "organiser_id": world.community.pk,
        "kind": "round_table",
        "title": "圆桌交流会：楼道堆物",
        "capacity": 10,
        "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + timedelta(hours=2)).isoformat(),
        "invited_community_ids": [world.other_community.pk],
        **kwargs,
    }


def test_the_secretary_inviting_another_community_is_refused_by_the_service(world):
    with pytest.raises(ValidationError) as error:
        make_activity(world, kind="round_table", invited_communities=[world.other_community])
    assert error.value.message_dict == {
        "invited_communities": [
            "Only communities of your own area can be invited; "
            "a street administrator invites others."
        ]
    }
    assert (Activity.objects.count(), Occurrence.objects.count()) == (0, 0)


def test_the_secretary_inviting_another_community_is_refused_over_the_api(world):
    client = client_for(world.users[Role.SECRETARY])
    response = client.post(
        "/api/v1/activities", api_payload(world), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "message": "Only communities of your own area can be invited; "
        "a street administrator invites others.",
        "field": "invited_community_ids",
    }
    assert Activity.objects.count() == 0


def test_the_secretary_inviting_another_community_is_refused_on_the_web(world):
    client = client_for(world.users[Role.SECRETARY])
    form = client.get("/activities/manage/new/").context["form"]
    assert list(form.fields["invited_communities"].queryset) == [world.community]
    starts_at = timezone.localtime(MOMENT + timedelta(days=2))
    response = client.post(
        "/activities/manage/new/",
        {
            "organiser": world.community.pk,
            "kind": "round_table",
            "title": "圆桌交流会：楼道堆物",
            "capacity": 10,
            "starts_at": f"{starts_at:%Y-%m-%dT%H:%M}",
            "ends_at": f"{starts_at + timedelta(hours=2):%Y-%m-%dT%H:%M}",
            "invited_communities": [world.other_community.pk],
        },
    )
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["invited_communities"]
    assert Activity.objects.count() == 0


def test_the_secretary_cannot_add_another_community_to_an_existing_activity(world):
    activity = make_activity(world, kind="round_table")
    with pytest.raises(ValidationError) as error:
        activity_update(
            actor=world.users[Role.SECRETARY],
            activity=activity,
            title=activity.title,
            capacity=activity.capacity,
            invited_communities=[world.other_community],
        )
    assert list(error.value.message_dict) == ["invited_communities"]
    assert list(activity.invited_communities.all()) == []


def test_a_street_administrator_widens_an_invitation_to_another_community(world):
    client = client_for(world.users[Role.STREET_ADMIN])
    response = client.post(
        "/api/v1/activities", api_payload(world), content_type="application/json"
    )
    assert response.status_code == 201
    activity = Activity.objects.get()
    assert list(activity.invited_communities.all()) == [world.other_community]


def test_the_secretary_keeps_a_widened_invitation_when_editing(world):
    activity = make_activity(world, kind="round_table")
    activity_update(
        actor=world.users[Role.STREET_ADMIN],
        activity=activity,
        title=activity.title,
        capacity=activity.capacity,
        invited_communities=[world.other_community],
    )
    activity_update(
        actor=world.users[Role.SECRETARY],
        activity=activity,
        title="圆桌交流会：加装电梯",
        capacity=activity.capacity,
        invited_communities=[world.other_community],
    )
    assert list(activity.invited_communities.all()) == [world.other_community]
    # And narrowing it again is theirs to do.
    activity_update(
        actor=world.users[Role.SECRETARY],
        activity=activity,
        title=activity.title,
        capacity=activity.capacity,
        invited_communities=[],
    )
    assert list(activity.invited_communities.all()) == []


def _attendance_names(world, occurrence) -> list[str]:
    client = client_for(world.users[Role.SECRETARY])
    response = client.get(f"/api/v1/activities/{occurrence.pk}/attendance")
    assert response.status_code == 200
    return [item["name"] for item in response.json()["items"]]


def test_guests_of_an_allowed_invitation_are_named_to_the_organiser(world):
    activity = make_activity(world, kind="round_table", actor=world.users[Role.STREET_ADMIN])
    activity_update(
        actor=world.users[Role.STREET_ADMIN],
        activity=activity,
        title=activity.title,
        capacity=activity.capacity,
        invited_communities=[world.other_community],
    )
    occurrence = activity.occurrences.get()
    signup_create(occurrence=occurrence, user=member(world, "guest", unit=world.other_community))
    assert _attendance_names(world, occurrence) == ["guest"]


def test_without_an_allowed_invitation_no_guest_reaches_the_attendance_list(world):
    activity = make_activity(world, kind="round_table")
    with pytest.raises(ValidationError):
        activity_update(
            actor=world.users[Role.SECRETARY],
            activity=activity,
            title=activity.title,
            capacity=activity.capacity,
            invited_communities=[world.other_community],
        )
    occurrence = activity.occurrences.get()
    guest = member(world, "guest", unit=world.other_community)
    with pytest.raises(ValidationError) as error:
        signup_create(occurrence=occurrence, user=guest)
    assert error.value.code == "permission_denied"
    assert client_for(guest).get(f"/api/v1/activities/{occurrence.pk}").status_code == 404
    assert SignUp.objects.count() == 0
    assert _attendance_names(world, occurrence) == []


def test_a_micro_grid_lead_inviting_another_community_is_refused(world):
    starts_at = MOMENT + timedelta(days=2)
    with pytest.raises(ValidationError) as error:
        activity_create(
            actor=world.users[Role.MICRO_GRID_LEAD],
            organiser=world.micro_grid,
            kind="round_table",
            title="楼组议事",
            capacity=5,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=1),
            invited_communities=[world.other_community],
        )
    assert list(error.value.message_dict) == ["invited_communities"]
    assert Activity.objects.count() == 0
