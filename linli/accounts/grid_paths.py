"""Grid paths, the one vocabulary of scope: `/S01/B02/A/MG3/BG1/`, a unit's codes from the
street down, each followed by the separator.

A row inside a unit's subtree carries a path that starts with the unit's path, so "inside"
is a prefix test, and a person's scope is a handful of paths (linli.grids.scope). Every
filter by grid path and every walk up the tree is written here, once; the audit log in this
app uses it, which is why it sits in `accounts`, the bottom of the apps.
"""

from collections.abc import Iterable

from django.db.models import Q

PATH_SEPARATOR = "/"


def path_ancestors(path: str) -> list[str]:
    """Every unit path on the way down to `path`, itself last: `/S/B/A/` → `/S/`, `/S/B/`,
    `/S/B/A/`."""
    parts = [part for part in path.split(PATH_SEPARATOR) if part]
    return [
        PATH_SEPARATOR + PATH_SEPARATOR.join(parts[: index + 1]) + PATH_SEPARATOR
        for index in range(len(parts))
    ]


def path_at_depth(path: str, depth: int) -> str:
    """The ancestor `depth` units down from the top (1: the street); the path itself when it
    is not that deep."""
    ancestors = path_ancestors(path)
    return ancestors[min(depth, len(ancestors)) - 1] if ancestors else path


def path_depth(path: str) -> int:
    """How many units down from the top: 1 for a street, 5 for a building group."""
    return len(path_ancestors(path))


def collapse_paths(paths: Iterable[str]) -> tuple[str, ...]:
    """Drop paths already covered by an ancestor path, so that filters stay short."""
    kept: list[str] = []
    for path in sorted(set(paths), key=len):
        if not any(path.startswith(ancestor) for ancestor in kept):
            kept.append(path)
    return tuple(sorted(kept))


def within(paths: Iterable[str], field: str = "grid_path") -> Q:
    """The condition "inside any of these subtrees" on `field`; matches nothing when `paths`
    is empty (an empty scope sees nothing, never everything)."""
    condition = Q(pk__in=[])
    for path in collapse_paths(paths):
        condition |= Q(**{f"{field}__startswith": path})
    return condition


def is_within(path: str, paths: Iterable[str]) -> bool:
    """The same test as `within`, on one path in Python."""
    return any(path.startswith(ancestor) for ancestor in paths)


def within_or_above(paths: Iterable[str], field: str = "grid_path") -> Q:
    """`within(paths)`, and rows held on a unit above one of the paths: what serves a
    subtree from higher up (a community's store or partner serves every micro-grid below
    it; a street-wide emergency covers each of its communities). Nothing when empty."""
    paths = list(paths)
    condition = within(paths, field)
    above = sorted({ancestor for path in paths for ancestor in path_ancestors(path)})
    if above:
        condition |= Q(**{f"{field}__in": above})
    return condition
