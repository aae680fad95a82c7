import pytest

from linli.accounts.roles import Role
from linli.testing.language import english_throughout  # noqa: F401 - autouse, all in English
from linli.volunteers.services import volunteer_review, volunteer_signup


def register(world, *, name="周医生", unit=None, approve=True, staff=Role.SECRETARY, **kwargs):
    """Staff (the secretary) register an outside volunteer and, by default, approve them."""
    secretary = world.users[staff]
    defaults = dict(
        skills=["medical"],
        willingness=["medical_support"],
        availability=["mon_am", "sat_pm"],
        work_unit="市第一人民医院",
        party_member_type="in_service",
    )
    volunteer = volunteer_signup(
        actor=secretary,
        grid_unit=unit or world.community,
        name=name,
        **{**defaults, **kwargs},
    )
    if approve:
        volunteer = volunteer_review(actor=secretary, volunteer=volunteer, approve=True)
    return volunteer


@pytest.fixture
def volunteer(world):
    return register(world)
