"""Two people acting on the same occurrence at once: places are never over-given."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from linli.accounts.roles import Role
from linli.conftest import build_world, run_together
from linli.participation.activities.services import signup_cancel, signup_create
from linli.participation.models import SignUp
from linli.participation.tests.conftest import make_activity
from linli.participation.tests.helpers import member

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks are a PostgreSQL matter"
    ),
]


def statuses(occurrence) -> dict[str, str]:
    return dict(
        SignUp.objects.filter(occurrence=occurrence).values_list("user__username", "status")
    )


@pytest.mark.django_db(transaction=True)
def test_two_people_taking_the_last_place_one_gets_it_the_other_waits():
    world = build_world()
    occurrence = make_activity(world, capacity=2).occurrences.get()
    signup_create(occurrence=occurrence, user=member(world, "first"))
    a, b = member(world, "a"), member(world, "b")

    errors = run_together(
        lambda: signup_create(occurrence=occurrence, user=a),
        lambda: signup_create(occurrence=occurrence, user=b),
    )

    assert errors == []
    rows = statuses(occurrence)
    assert rows["first"] == "confirmed"
    assert sorted([rows["a"], rows["b"]]) == ["confirmed", "waitlisted"]


@pytest.mark.django_db(transaction=True)
def test_many_sign_ups_at_once_never_exceed_the_capacity():
    world = build_world()
    occurrence = make_activity(world, capacity=3).occurrences.get()
    people = [member(world, f"p{n}") for n in range(8)]

    errors = run_together(
        *[lambda u=u: signup_create(occurrence=occurrence, user=u) for u in people]
    )

    assert errors == []
    values = list(statuses(occurrence).values())
    assert (values.count("confirmed"), values.count("waitlisted")) == (3, 5)


@pytest.mark.django_db(transaction=True)
def test_a_cancellation_and_a_new_sign_up_at_once_promote_exactly_the_first_waiting():
    world = build_world()
    occurrence = make_activity(world, capacity=1).occurrences.get()
    holder = signup_create(occurrence=occurrence, user=world.users[Role.RESIDENT])
    signup_create(occurrence=occurrence, user=member(world, "waiting1"))
    signup_create(occurrence=occurrence, user=member(world, "waiting2"))
    newcomer = member(world, "newcomer")

    errors = run_together(
        lambda: signup_cancel(sign_up=holder, actor=holder.user),
        lambda: signup_create(occurrence=occurrence, user=newcomer),
    )

    assert errors == []
    assert statuses(occurrence) == {
        "resident": "cancelled",
        "waiting1": "confirmed",
        "waiting2": "waitlisted",
        "newcomer": "waitlisted",
    }


@pytest.mark.django_db(transaction=True)
def test_a_double_cancellation_promotes_one_person_only():
    world = build_world()
    occurrence = make_activity(world, capacity=1).occurrences.get()
    holder = signup_create(occurrence=occurrence, user=world.users[Role.RESIDENT])
    signup_create(occurrence=occurrence, user=member(world, "waiting1"))
    signup_create(occurrence=occurrence, user=member(world, "waiting2"))

    errors = run_together(
        lambda: signup_cancel(sign_up=holder, actor=holder.user),
        lambda: signup_cancel(sign_up=holder, actor=holder.user),
    )

    assert len(errors) == 1 and isinstance(errors[0], ValidationError)
    # The threads speak the default language, so the field is asserted, not the words.
    assert list(errors[0].message_dict) == ["sign_up"]
    assert statuses(occurrence) == {
        "resident": "cancelled",
        "waiting1": "confirmed",
        "waiting2": "waitlisted",
    }
