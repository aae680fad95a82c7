"""A volunteer application waiting for review does not make its applicant one of the
community: they are not told of its live emergency until staff approve them (issue 13, the
membership rule participation's selectors already follow)."""

from linli.accounts.roles import Role
from linli.conftest import make_user
from linli.emergency import selectors, services
from linli.volunteers.services import volunteer_review, volunteer_signup


def test_a_pending_applicant_hears_of_the_live_emergency_only_once_approved(emergency_world, plan):
    world = emergency_world
    activation = services.activation_start(
        actor=world.users[Role.SECRETARY],
        plan=plan,
        scope=world.community,
        grade=4,
        is_drill=True,
    )
    outsider = make_user("applicant")
    volunteer = volunteer_signup(
        actor=outsider,
        grid_unit=world.community,
        name="周申请",
        skills=["repair"],
        willingness=["patrol"],
        availability=["sat_am"],
        phone="13500002222",
        work_unit="某物业公司",
    )

    assert selectors.active_activations_for(user=outsider) == []

    volunteer_review(actor=world.users[Role.SECRETARY], volunteer=volunteer, approve=True)
    outsider.refresh_from_db()

    assert [a.pk for a in selectors.active_activations_for(user=outsider)] == [activation.pk]
