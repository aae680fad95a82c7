"""Two people registering with the same invitation at once: one of them uses it."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import translation

from linli.accounts.roles import Role
from linli.conftest import build_world, make_user, run_together
from linli.invitations.models import Invitation
from linli.invitations.services import invitation_mark_used
from linli.invitations.tests.conftest import invite

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks are a PostgreSQL matter"
    ),
]


@pytest.mark.django_db(transaction=True)
def test_two_people_using_one_invitation_at_once_leaves_it_used_by_one():
    world = build_world()
    issued = invite(world.users[Role.SECRETARY], building=world.building).issued[0]
    first, second = make_user("first_at_the_door"), make_user("second_at_the_door")

    def use(user):
        # Each thread has its own language: the message is compared in English.
        with translation.override("en"):
            invitation_mark_used(token=issued.token, user=user)

    errors = run_together(lambda: use(first), lambda: use(second))

    invitation = Invitation.objects.get(pk=issued.invitation.pk)
    assert invitation.used_by in (first, second)
    assert len(errors) == 1 and isinstance(errors[0], ValidationError)
    assert errors[0].message_dict == {"invitation": ["This invitation can no longer be used."]}
