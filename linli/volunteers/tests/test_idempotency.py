"""Service hours with an Idempotency-Key: a retried POST credits the hours once."""

from decimal import Decimal

from django.db.models import Sum
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
from linli.testing.clients import client_for
from linli.volunteers.models import ServiceHoursEntry

URL = "/api/v1/volunteers/hours"


def ledger(volunteer) -> tuple[int, Decimal | None]:
    entries = ServiceHoursEntry.objects.filter(volunteer=volunteer)
    return entries.count(), entries.aggregate(total=Sum("hours"))["total"]


def test_recording_hours_twice_with_the_same_key_credits_them_once(world, volunteer):
    secretary = client_for(world.users[Role.SECRETARY])
    body = {"volunteer_id": volunteer.pk, "hours": "3", "note": "巡楼"}
    first = keyed_post(secretary, URL, body)
    second = keyed_post(secretary, URL, body)

    assert_replayed(first, second, 201)
    assert ledger(volunteer) == (1, Decimal("3.00"))
    assert records() == 1


def test_a_different_key_credits_the_hours_again(world, volunteer):
    secretary = client_for(world.users[Role.SECRETARY])
    body = {"volunteer_id": volunteer.pk, "hours": "3", "note": "巡楼"}
    keyed_post(secretary, URL, body)
    keyed_post(secretary, URL, body, key=OTHER_KEY)
    assert ledger(volunteer) == (2, Decimal("6.00"))


def test_other_hours_under_the_same_key_are_refused_and_credit_nothing(world, volunteer):
    secretary = client_for(world.users[Role.SECRETARY])
    keyed_post(secretary, URL, {"volunteer_id": volunteer.pk, "hours": "3"})
    assert_refused_as_reused(
        keyed_post(secretary, URL, {"volunteer_id": volunteer.pk, "hours": "4"})
    )
    assert ledger(volunteer) == (1, Decimal("3.00"))


def test_the_same_key_from_another_recorder_is_their_own_entry(world, volunteer):
    body = {"volunteer_id": volunteer.pk, "hours": "2"}
    keyed_post(client_for(world.users[Role.SECRETARY]), URL, body)
    theirs = keyed_post(client_for(world.users[Role.STREET_ADMIN]), URL, body)
    assert theirs.status_code == 201
    assert ledger(volunteer) == (2, Decimal("4.00"))


def test_a_correction_twice_with_the_same_key_corrects_once(world, volunteer):
    secretary = client_for(world.users[Role.SECRETARY])
    keyed_post(secretary, URL, {"volunteer_id": volunteer.pk, "hours": "3"}, key=OTHER_KEY)
    body = {"volunteer_id": volunteer.pk, "hours": "-1", "reason": "多记"}
    first = keyed_post(secretary, f"{URL}/corrections", body)
    second = keyed_post(secretary, f"{URL}/corrections", body)
    assert_replayed(first, second, 201)
    assert ledger(volunteer) == (2, Decimal("2.00"))


# The hours page: a double tap credits the hours once ------------------------------------------


def test_the_hours_form_sent_twice_credits_once(world, volunteer):
    secretary = client_for(world.users[Role.SECRETARY])
    url = reverse("volunteers:hours_add")
    token = form_token(secretary.get(reverse("volunteers:hours")).content.decode(), url)
    first, second = submit_twice(
        secretary,
        url,
        {"volunteer": volunteer.pk, "hours": "2.5", "note": "周四行动日", "once_token": token},
    )
    assert_same_redirect(first, second)
    assert ledger(volunteer) == (1, Decimal("2.50"))
