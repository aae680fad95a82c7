from datetime import timedelta

import pytest
from django.utils import timezone

from linli.accounts.roles import Role
from linli.participation.activities.services import activity_create
from linli.testing.language import english_throughout  # noqa: F401 - autouse, all in English


def make_activity(world, *, capacity=2, starts_in=timedelta(days=2), hours=2, **kwargs):
    """A one-off action day of community A, organised by the secretary."""
    starts_at = timezone.now().replace(microsecond=0) + starts_in
    defaults = dict(
        actor=world.users[Role.SECRETARY],
        organiser=world.community,
        kind="action_day",
        title="周四行动日",
        capacity=capacity,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
    )
    return activity_create(**{**defaults, **kwargs})


@pytest.fixture
def activity(world):
    return make_activity(world)


@pytest.fixture
def occurrence(activity):
    return activity.occurrences.get()
