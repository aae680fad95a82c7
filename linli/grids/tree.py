"""The registry as a tree: each visible unit's counts rolled up, the forest of the user's
units, and the rows of a unit's overview.

Every queryset here starts from a scoped selector (linli.grids.selectors), so nothing
outside the user's scope can leak into a count or a tree.
"""

from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet

from linli import clock
from linli.accounts.grid_paths import path_ancestors
from linli.accounts.models import User
from linli.grids import selectors
from linli.grids.models import GridLevel, GridUnit, RoleAssignment, WithinPathQuerySet

COUNT_KEYS = ("buildings", "households", "residents", "vulnerable", "visits_30d")


def counts_by_path(*, user: User) -> dict[str, dict[str, int]]:
    """The same numbers as `selectors.registry_counts`, for every visible unit at once.

    Registry rows carry the path of their building group, so one grouped query per kind
    of row, rolled up to each ancestor path, answers the whole tree in five queries
    instead of five per unit.
    """
    totals: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNT_KEYS, 0))
    cutoff = clock.now() - timedelta(days=30)
    grouped: list[tuple[QuerySet[Any, dict[str, Any]], tuple[str, ...]]] = [
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
            for path in path_ancestors(row["grid_path"]):
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
    nodes: dict[int | None, dict[str, Any]] = {
        unit.id: {
            "unit": unit,
            "counts": counts.get(unit.path, dict.fromkeys(COUNT_KEYS, 0)),
            "posts": posts_by_unit.get(unit.id, []),
            "children": [],
        }
        for unit in units
    }
    roots: list[dict] = []
    for unit in units:
        parent = nodes.get(unit.parent_id)
        (parent["children"] if parent else roots).append(nodes[unit.id])
    return roots


def table_level_below(level: str) -> str | None:
    """Which level a unit's overview table lists: a street lists its communities."""
    below: dict[str, str] = {
        GridLevel.STREET: GridLevel.COMMUNITY,
        GridLevel.BLOCK: GridLevel.COMMUNITY,
        GridLevel.COMMUNITY: GridLevel.MICRO_GRID,
        GridLevel.MICRO_GRID: GridLevel.BUILDING_GROUP,
    }
    return below.get(level)


def buildings_of_group(*, user: User, grid_unit: GridUnit) -> WithinPathQuerySet | list:
    """A building group's buildings with their household counts (empty above that level)."""
    if grid_unit.level != GridLevel.BUILDING_GROUP:
        return []
    return (
        selectors.buildings_visible(user=user)
        .filter(grid_unit=grid_unit)
        .annotate(household_count=Count("households", distinct=True))
        .order_by("name")
    )
