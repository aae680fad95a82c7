"""Reads the web pages need beyond linli.grids.selectors, built only on top of them.

Every queryset here starts from a scoped selector, so nothing outside the user's scope can
leak into a count or a tree.
"""

from collections import defaultdict

from django.db.models import Count, Q
from django.http import Http404
from django.utils import timezone

from linli import clock
from linli.accounts.models import User
from linli.accounts.roles import Permission
from linli.grids import selectors
from linli.grids.models import PATH_SEPARATOR, GridLevel, GridUnit, Household, RoleAssignment

COUNT_KEYS = ("buildings", "households", "residents", "vulnerable", "visits_30d")


def _ancestor_paths(grid_path: str) -> list[str]:
    parts = grid_path.strip(PATH_SEPARATOR).split(PATH_SEPARATOR)
    return [
        PATH_SEPARATOR + PATH_SEPARATOR.join(parts[: index + 1]) + PATH_SEPARATOR
        for index in range(len(parts))
    ]


def counts_by_path(*, user: User) -> dict[str, dict[str, int]]:
    """The same numbers as `selectors.registry_counts`, for every visible unit at once.

    Registry rows carry the path of their building group, so one grouped query per kind
    of row, rolled up to each ancestor path, answers the whole tree in five queries
    instead of five per unit.
    """
    totals: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNT_KEYS, 0))
    cutoff = clock.now() - timezone.timedelta(days=30)
    grouped = [
        (
            selectors.buildings_visible(user=user)
            .order_by()
            .values("grid_path")
            .annotate(buildings=Count("id")),
            ("buildings",),
        ),
        (
            selectors.households_visible(user=user)
            .order_by()
            .values("grid_path")
            .annotate(households=Count("id")),
            ("households",),
        ),
        (
            selectors.residents_visible(user=user)
            .order_by()
            .values("grid_path")
            .annotate(
                residents=Count("id"),
                vulnerable=Count("id", filter=~Q(vulnerability_tags="")),
            ),
            ("residents", "vulnerable"),
        ),
        (
            selectors.visits_visible(user=user)
            .filter(visited_at__gte=cutoff)
            .order_by()
            .values("grid_path")
            .annotate(visits_30d=Count("id")),
            ("visits_30d",),
        ),
    ]
    for queryset, keys in grouped:
        for row in queryset:
            for path in _ancestor_paths(row["grid_path"]):
                for key in keys:
                    totals[path][key] += row[key]
    return totals


def units_with_counts(*, user: User, units: list[GridUnit]) -> list[dict]:
    counts = counts_by_path(user=user)
    return [
        dict(unit=unit, **counts.get(unit.path, dict.fromkeys(COUNT_KEYS, 0))) for unit in units
    ]


def grid_tree(*, user: User) -> list[dict]:
    """The user's visible forest: nodes of {unit, counts, posts, children}, roots first."""
    units = list(selectors.grid_units_visible(user=user).order_by("sort_order", "code"))
    if not units:
        return []
    counts = counts_by_path(user=user)
    posts_by_unit: dict[int, list[RoleAssignment]] = defaultdict(list)
    for root in selectors.grid_roots_for(user=user):
        for assignment in selectors.posts_in(user=user, grid_unit=root):
            posts_by_unit[assignment.grid_unit_id].append(assignment)
    nodes = {
        unit.id: {
            "unit": unit,
            "counts": counts.get(unit.path, dict.fromkeys(COUNT_KEYS, 0)),
            "posts": posts_by_unit.get(unit.id, []),
            "children": [],
        }
        for unit in units
    }
    roots = []
    for unit in units:
        parent = nodes.get(unit.parent_id)
        (parent["children"] if parent else roots).append(nodes[unit.id])
    return roots


def table_level_below(level: str) -> str | None:
    """Which level a unit's overview table lists: a street lists its communities."""
    return {
        GridLevel.STREET: GridLevel.COMMUNITY,
        GridLevel.BLOCK: GridLevel.COMMUNITY,
        GridLevel.COMMUNITY: GridLevel.MICRO_GRID,
        GridLevel.MICRO_GRID: GridLevel.BUILDING_GROUP,
    }.get(level)


def ancestors_visible(
    *, user: User, grid_unit: GridUnit, include_self: bool = False
) -> list[GridUnit]:
    """The breadcrumb: the unit's ancestors the user may open (and the unit, if asked)."""
    units = selectors.grid_units_visible(user=user).filter(path__in=grid_unit.ancestor_paths())
    if not include_self:
        units = units.exclude(pk=grid_unit.pk)
    return list(units.order_by("path"))


def crumbs_for_path(*, user: User, grid_path: str) -> list[GridUnit]:
    """The visible grid units above a registry row, e.g. a household's building group."""
    return list(
        selectors.grid_units_visible(user=user)
        .filter(path__in=_ancestor_paths(grid_path))
        .order_by("path")
    )


def household_for_visiting_get(*, user: User, household_id) -> Household:
    try:
        return selectors.households_for_visiting(user=user).get(pk=int(household_id))
    except (Household.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def households_for_visiting_search(*, user: User, query: str = ""):
    """Households the user may visit, found by building name, room or a member's name."""
    households = selectors.households_for_visiting(user=user)
    if query:
        households = households.filter(
            Q(building__name__contains=query)
            | Q(room__startswith=query)
            | Q(residents__name__contains=query)
        ).distinct()
    return households.order_by("grid_path", "building__name", "room")


def posts_of_user(*, user: User) -> list[RoleAssignment]:
    if not user.is_authenticated:
        return []
    return list(
        RoleAssignment.objects.filter(user=user).select_related("grid_unit").order_by("grid_path")
    )


def needs_registry(*, user: User, permission: str = Permission.VIEW_REGISTRY) -> None:
    """Pages for a registry role answer 404 to anyone without that role anywhere."""
    if not selectors.user_can(user=user, permission=permission):
        raise Http404


def buildings_of_group(*, user: User, grid_unit: GridUnit):
    """A building group's buildings with their household counts (empty above that level)."""
    if grid_unit.level != GridLevel.BUILDING_GROUP:
        return []
    return (
        selectors.buildings_visible(user=user)
        .filter(grid_unit=grid_unit)
        .annotate(household_count=Count("households", distinct=True))
        .order_by("name")
    )
