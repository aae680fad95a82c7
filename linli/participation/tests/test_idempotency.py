"""Signing up for an activity with an Idempotency-Key: a retried POST answers the first
sign-up again (not "already signed up") and takes one place."""

from django.urls import reverse

from linli.accounts.roles import Role
from linli.idempotency.tests.helpers import (
    OTHER_KEY,
    assert_refused_as_reused,
    assert_replayed,
    assert_same_redirect,
    form_token,
    keyed_post,
    records,
    submit_twice,
)
from linli.participation.models import SignUp
from linli.participation.tests.conftest import make_activity
from linli.testing.clients import client_for

URL = "/api/v1/activities"


def test_signing_up_twice_with_the_same_key_answers_the_first_sign_up(world, occurrence):
    resident = client_for(world.users[Role.RESIDENT])
    first = keyed_post(resident, f"{URL}/{occurrence.pk}/sign-up")
    second = keyed_post(resident, f"{URL}/{occurrence.pk}/sign-up")

    assert_replayed(first, second, 201)
    assert first.json()["status"] == "confirmed"
    assert SignUp.objects.filter(occurrence=occurrence).count() == 1
    assert records() == 1


def test_a_different_key_is_a_second_attempt_and_is_refused_as_a_repeat(world, occurrence):
    resident = client_for(world.users[Role.RESIDENT])
    keyed_post(resident, f"{URL}/{occurrence.pk}/sign-up")
    again = keyed_post(resident, f"{URL}/{occurrence.pk}/sign-up", key=OTHER_KEY)
    assert again.status_code == 400
    assert again.json() == {
        "message": "You have already signed up for this activity.",
        "field": "occurrence",
    }
    assert SignUp.objects.filter(occurrence=occurrence).count() == 1


def test_the_same_key_for_another_activity_is_refused(world, occurrence):
    other = make_activity(world, title="周六义诊").occurrences.get()
    resident = client_for(world.users[Role.RESIDENT])
    keyed_post(resident, f"{URL}/{occurrence.pk}/sign-up")
    assert_refused_as_reused(keyed_post(resident, f"{URL}/{other.pk}/sign-up"))
    assert SignUp.objects.filter(occurrence=other).count() == 0


def test_the_same_key_from_another_resident_takes_their_own_place(world, occurrence):
    keyed_post(client_for(world.users[Role.RESIDENT]), f"{URL}/{occurrence.pk}/sign-up")
    theirs = keyed_post(client_for(world.users[Role.VOLUNTEER]), f"{URL}/{occurrence.pk}/sign-up")
    assert theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs
    assert SignUp.objects.filter(occurrence=occurrence).count() == 2


# The activity page: a double tap on "sign up" answers like the first tap ------------------------


def test_the_sign_up_form_sent_twice_signs_up_once_without_an_already_signed_up_error(
    world, occurrence
):
    resident = client_for(world.users[Role.RESIDENT])
    url = reverse("participation:sign_up", args=[occurrence.pk])
    page = resident.get(reverse("participation:detail", args=[occurrence.pk])).content.decode()
    token = form_token(page, f'action="{url}"')
    first, second = submit_twice(resident, url, {"once_token": token})
    assert_same_redirect(first, second)
    assert SignUp.objects.filter(occurrence=occurrence).count() == 1
    # The replay added no "already signed up" message: the page shows the first one's success.
    shown = [str(message) for message in resident.get(second["Location"]).context["messages"]]
    assert not any("already signed up" in message for message in shown)
