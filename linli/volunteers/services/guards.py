"""Who may act on a volunteer: staff with VOLUNTEERS_MANAGE on the volunteer's (or team's)
grid path, or the volunteer on their own profile; and the volunteer's row locked for the
rest of the transaction.
"""

from linli.accounts.models import User
from linli.accounts.roles import Permission
from linli.grids.selectors import scope_for
from linli.volunteers.models import Volunteer

MANAGE = Permission.VOLUNTEERS_MANAGE


def may_manage(user: User | None, grid_path: str) -> bool:
    return scope_for(user).allows(MANAGE, grid_path)


def is_own(user: User | None, volunteer: Volunteer) -> bool:
    return user is not None and user.is_authenticated and volunteer.user_id == user.pk


def volunteer_locked(volunteer: Volunteer) -> Volunteer:
    return Volunteer.objects.select_for_update().get(pk=volunteer.pk)
