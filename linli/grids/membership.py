"""Who belongs to a community: the one definition, for every app.

A person belongs to each community above
- any post they hold (a resident's role on their household, a partner liaison's post
  included),
- their resident login (the registry row they are linked to, however it was linked: the
  resident's own sign-up, a staff invitation or the admin),
- and whatever the apps above `grids` add through `register_membership_source` (volunteers:
  an approved volunteer profile; an application is not membership).

The apps above register their source when Django starts (their AppConfig.ready), so this
module never imports them and the layering holds. The answer is cached on the user object
for the request, like the scope (grids.services clears both when posts change).
"""

from collections.abc import Callable, Iterable

from django.db.models import Q

from linli.accounts.grid_paths import path_ancestors, within
from linli.accounts.models import User
from linli.grids.models import GridLevel, GridUnit, ResidentAccount, RoleAssignment

MembershipSource = Callable[[User], Iterable[str]]
_SOURCES: list[MembershipSource] = []
CACHE_ATTRIBUTE = "_linli_communities"


def register_membership_source(source: MembershipSource) -> None:
    """Add a kind of membership: `source(user)` gives the grid paths the person belongs at."""
    if source not in _SOURCES:
        _SOURCES.append(source)


def member_paths(*, user: User) -> set[str]:
    """Every grid path the person belongs at, through any kind of membership."""
    paths = set(RoleAssignment.objects.filter(user=user).values_list("grid_path", flat=True))
    paths.update(
        ResidentAccount.objects.filter(user=user).values_list("resident__grid_path", flat=True)
    )
    for source in _SOURCES:
        paths.update(source(user))
    return paths


def member_community_ids(*, user: User | None) -> list[int]:
    """The ids of the communities a person belongs to, in path order."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    cached = getattr(user, CACHE_ATTRIBUTE, None)
    if cached is not None:
        return cached
    ancestors = {ancestor for path in member_paths(user=user) for ancestor in path_ancestors(path)}
    ids = list(
        GridUnit.objects.filter(level=GridLevel.COMMUNITY, path__in=ancestors)
        .order_by("path")
        .values_list("id", flat=True)
    )
    setattr(user, CACHE_ATTRIBUTE, ids)
    return ids


def member_communities(*, user: User | None):
    return GridUnit.objects.filter(pk__in=member_community_ids(user=user)).order_by("path")


def forget_membership(user: User) -> None:
    """Drop the cached answer (a post, login or volunteer profile changed in this request)."""
    # delattr, not the instance's __dict__: request.user is a lazy object over the user.
    if hasattr(user, CACHE_ATTRIBUTE):
        delattr(user, CACHE_ATTRIBUTE)


def is_member(*, user: User | None, community: GridUnit) -> bool:
    return community.pk in member_community_ids(user=user)


def member_paths_condition(*, user: User | None, field: str = "grid_path") -> Q:
    """Rows inside the communities the person belongs to (nothing for a non-member)."""
    paths = GridUnit.objects.filter(pk__in=member_community_ids(user=user)).values_list(
        "path", flat=True
    )
    return within(list(paths), field)
