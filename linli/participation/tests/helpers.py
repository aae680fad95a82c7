from linli.accounts.roles import Role
from linli.conftest import make_user
from linli.grids.services import role_assign
from linli.volunteers.services import volunteer_review, volunteer_signup


def member(world, username: str, unit=None):
    """Another person of community A (a volunteer post there), or of `unit`."""
    user = make_user(username)
    role_assign(user=user, role=Role.VOLUNTEER, grid_unit=unit or world.community, post="volunteer")
    return user


def user_for(world, role: str):
    """The world's user of `role` (None for "anonymous"); "outsider" is a volunteer of
    community C only, a stranger to community A's activities."""
    if role == "outsider":
        return member(world, "outsider", unit=world.other_community)
    return world.users[role]


def approved_volunteer(world, user, name="志愿者老周"):
    secretary = world.users[Role.SECRETARY]
    volunteer = volunteer_signup(
        actor=secretary,
        grid_unit=world.community,
        name=name,
        work_unit="市第一人民医院",
        skills=["medical"],
        willingness=["medical_support"],
        availability=["mon_am"],
        user=user,
    )
    return volunteer_review(actor=secretary, volunteer=volunteer, approve=True)
