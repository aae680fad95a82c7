"""Two supports from one resident at the same instant: one row, and a clear refusal."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from linli.accounts.roles import Role
from linli.conftest import build_world, run_together
from linli.participation.deliberation import services
from linli.participation.deliberation.models import TopicSupport
from linli.participation.tests.helpers import member

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="concurrent inserts are a PostgreSQL matter"
    ),
]


def open_topic(world):
    secretary = world.users[Role.SECRETARY]
    topic = services.topic_create(
        actor=secretary, community=world.community, title="702路公交站点", description="设站"
    )
    return services.topic_transition(actor=secretary, topic=topic, action="open")


@pytest.mark.django_db(transaction=True)
def test_two_supports_at_once_from_one_resident_leave_one_row():
    world = build_world()
    topic = open_topic(world)
    resident = world.users[Role.RESIDENT]

    errors = run_together(
        lambda: services.topic_support(actor=resident, topic=topic),
        lambda: services.topic_support(actor=resident, topic=topic),
    )

    assert TopicSupport.objects.filter(topic=topic, user=resident).count() == 1
    assert len(errors) == 1
    assert isinstance(errors[0], ValidationError)
    # Checked by code: the threads run outside the test's language override.
    assert [error.code for error in errors[0].error_dict["topic"]] == ["supported"]


@pytest.mark.django_db(transaction=True)
def test_supports_from_many_residents_at_once_are_all_counted():
    world = build_world()
    topic = open_topic(world)
    people = [member(world, f"p{n}") for n in range(6)]

    errors = run_together(
        *[lambda u=u: services.topic_support(actor=u, topic=topic) for u in people]
    )

    assert errors == []
    assert TopicSupport.objects.filter(topic=topic).count() == 6
