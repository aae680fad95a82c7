"""Two people registering as the same resident at the same instant: one login is linked,
the other registration becomes a request (PostgreSQL row locks)."""

import pytest
from django.db import connection

from linli.conftest import build_world, run_together
from linli.grids.models import ResidentAccount
from linli.registration import services
from linli.registration.models import RegistrationRequest, RequestCause
from linli.registration.tests.support import code_for

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's"),
]


@pytest.mark.django_db(transaction=True)
def test_one_resident_registered_twice_at_once_is_linked_once():
    world = build_world()
    phones = ["13500001111", "13500002222"]
    codes = {phone: code_for(phone) for phone in phones}
    outcomes = []

    def register(phone):
        return lambda: outcomes.append(
            services.registration_submit(
                building=world.building,
                phone=phone,
                code=codes[phone],
                name="李建国",
                room="102",
                id_last4="0054",
                address="203.0.113.9",
            )
        )

    assert run_together(*(register(phone) for phone in phones)) == []
    assert sorted(outcome.matched for outcome in outcomes) == [False, True]
    assert ResidentAccount.objects.filter(resident=world.neighbour).count() == 1
    assert RegistrationRequest.objects.get().cause == RequestCause.ALREADY_LINKED
