"""Which role each post title is held under, as the case study names them.

A RoleAssignment keeps both: the role (what the person may do, linli.accounts.roles) and the
post (the title in the community's words, grids.Post). The pages here offer a post and take
its role from this table; a resident's role comes with their resident login (the
registry), never from this app.
"""

from django.utils.translation import gettext as _

from linli.accounts.roles import Role
from linli.grids.models import Post

POST_ROLES: dict[str, str] = {
    Post.STREET_ADMIN: Role.STREET_ADMIN,
    Post.PARTY_SECRETARY: Role.SECRETARY,
    Post.COMMITTEE_STAFF: Role.SECRETARY,
    Post.BRANCH_SECRETARY: Role.MICRO_GRID_LEAD,
    Post.SOCIAL_WORKER_LEAD: Role.MICRO_GRID_LEAD,
    Post.MICRO_GRID_HEAD: Role.MICRO_GRID_LEAD,
    Post.BUILDING_GROUP_HEAD: Role.BUILDING_GROUP_LEADER,
    Post.VOLUNTEER: Role.VOLUNTEER,
    Post.PARTNER_LIAISON: Role.PARTNER_LIAISON,
}

# Roles offered here: every role but the resident's.
GRANTABLE_ROLES = tuple(role for role in Role.values if role != Role.RESIDENT)


def post_label(post: str) -> str:
    """ "Party general branch secretary (Party secretary / committee staff)"."""
    role = POST_ROLES[post]
    return _("%(post)s (%(role)s)") % {"post": Post(post).label, "role": Role(role).label}


def post_choices() -> list[tuple[str, str]]:
    return [(post, post_label(post)) for post in POST_ROLES]


def role_for(*, role: str = "", post: str = "") -> str:
    """The role a post is held under; `role` when given and the post fits it (or no post)."""
    if post and post in POST_ROLES and not role:
        return POST_ROLES[post]
    return role
