"""Who acts for which provider: the partner unit a liaison login acts for, the volunteer
record of a volunteer login, and the community a provider serves.
"""

from linli.accounts.grid_paths import path_at_depth
from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.grids.selectors import scope_for
from linli.partners.models import Need, Partner, PartnerLiaison
from linli.volunteers.models import Volunteer
from linli.volunteers.selectors import COMMUNITY_DEPTH


def partner_of(user: User | None) -> Partner | None:
    """The partner unit a liaison login acts for (None for everyone else)."""
    if user is None or not user.is_authenticated:
        return None
    link = PartnerLiaison.objects.filter(user=user).select_related("partner").first()
    if link is None or Role.PARTNER_LIAISON not in scope_for(user).roles:
        return None
    return link.partner


def volunteer_of(user: User | None) -> Volunteer | None:
    """The serving volunteer record of a volunteer login (None for everyone else)."""
    if user is None or not user.is_authenticated:
        return None
    return Volunteer.objects.serving().filter(user=user).first()


def acts_for_provider(*, user: User | None, partner_id: int | None, volunteer_id: int | None):
    if partner_id is not None:
        partner = partner_of(user)
        return partner is not None and partner.pk == partner_id
    if volunteer_id is not None:
        volunteer = volunteer_of(user)
        return volunteer is not None and volunteer.pk == volunteer_id
    return False


def provider_reaches(need: Need, grid_path: str) -> bool:
    """A provider serves the whole community it belongs to: a volunteer registered in one
    building group may help an elder two buildings away. Grid paths run street/block/
    community/..., so the community is the unit three levels down."""
    return need.grid_path.startswith(path_at_depth(grid_path, COMMUNITY_DEPTH))
