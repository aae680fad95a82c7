"""How an indicator is defined and computed, for every grid unit of a subtree at once.

An indicator is a plain object (`Indicator`) registered in the catalogue with `register`.
Its `compute(context)` returns a `Measure` per unit path: a ratio keeps its numerator and
denominator so that the page can say "312 of 340 households", a median keeps the count it is
the median of. Computing is set-based: one grouped query per source table for the whole
subtree, then `rollup` adds the leaf counts into every ancestor unit, so a district of 7,000
units costs the same few queries as one community.

Its `drilldown(context, unit, user)` returns the rows behind the number for one unit, read
through the scope layer (linli.grids.selectors and each app's selectors), so a viewer sees
only what their role covers — the number may count rows they cannot open.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils import timezone

from linli import clock
from linli.accounts.grid_paths import path_ancestors
from linli.grids.models import GRID_LEVEL_ORDER, GridUnit

HIGHER = "higher"
LOWER = "lower"


@dataclass(frozen=True)
class Measure:
    value: float | None
    numerator: float | None = None
    denominator: float | None = None


@dataclass(frozen=True)
class Unit:
    id: int
    path: str
    level: str
    name: str


@dataclass
class Context:
    """What every computation of one run shares: the subtree's units and the period."""

    root_path: str
    units: list[Unit]
    # The week (or month, quarter) measured: [start, end).
    start: datetime
    end: datetime
    # Cache for sources several indicators read (e.g. households per unit).
    shared: dict = field(default_factory=dict)

    @property
    def now(self) -> datetime:
        return self.end

    @property
    def paths(self) -> list[str]:
        return [unit.path for unit in self.units]

    def memo(self, key: str, compute: Callable[[], object]):
        if key not in self.shared:
            self.shared[key] = compute()
        return self.shared[key]


def context_for(
    root: GridUnit, end: datetime | None = None, days: int = 7, levels: Iterable[str] = ()
) -> Context:
    """The subtree of `root` (all levels unless `levels` is given) for the `days` up to
    `end` (now by default)."""
    end = end or clock.now()
    units = GridUnit.objects.filter(path__startswith=root.path)
    if levels:
        units = units.filter(level__in=list(levels))
    return Context(
        root_path=root.path,
        units=[
            Unit(id, path, level, name)
            for id, path, level, name in units.order_by("path").values_list(
                "id", "path", "level", "name"
            )
        ],
        start=end - timedelta(days=days),
        end=end,
    )


def week_end(day: date) -> datetime:
    """The end of the week containing `day` (Monday 00:00 Asia/Shanghai of the next week):
    snapshots are labelled by the Sunday they close."""
    monday = day - timedelta(days=day.weekday())
    return timezone.make_aware(datetime.combine(monday + timedelta(days=7), datetime.min.time()))


def rollup(counts: Iterable[tuple[str, float]], context: Context) -> dict[str, float]:
    """Sum `(row path, amount)` pairs into every unit of the context whose subtree holds the
    row. Rows sit at any depth (a household at its building group, a team at its
    community)."""
    known = set(context.paths)
    totals: dict[str, float] = defaultdict(float)
    for path, amount in counts:
        if not amount:
            continue
        for ancestor in path_ancestors(path):
            if ancestor in known:
                totals[ancestor] += amount
    return totals


def ratio(
    numerators: dict[str, float],
    denominators: dict[str, float],
    context: Context,
    scale: float = 1.0,
) -> dict[str, Measure]:
    """numerator / denominator × scale per unit; no value where the denominator is 0."""
    result = {}
    for path in context.paths:
        denominator = denominators.get(path, 0.0)
        numerator = numerators.get(path, 0.0)
        value = numerator / denominator * scale if denominator else None
        result[path] = Measure(value, numerator, denominator)
    return result


def medians(values: Iterable[tuple[str, float]], context: Context) -> dict[str, Measure]:
    """The median of the values of the rows in each unit's subtree (`denominator` is how
    many there were)."""
    known = set(context.paths)
    grouped: dict[str, list[float]] = defaultdict(list)
    for path, value in values:
        for ancestor in path_ancestors(path):
            if ancestor in known:
                grouped[ancestor].append(value)
    return {
        path: Measure(
            statistics.median(grouped[path]) if grouped.get(path) else None,
            None,
            float(len(grouped.get(path, ()))),
        )
        for path in context.paths
    }


def level_depth(level: str) -> int:
    return GRID_LEVEL_ORDER.index(level) + 1


@dataclass(frozen=True)
class DrillDown:
    """The rows behind one value: column headings, rows of cells, and each row's link."""

    columns: list[str]
    rows: list[list[str]]
    links: list[str | None]
    # How many rows there are in all (the list may be cut at `limit`).
    total: int
    note: str = ""


@dataclass(frozen=True)
class Indicator:
    code: str
    dimension: str
    # English names and texts, translated through the catalogue (zh-hans first).
    name: str
    formula: str
    source: str
    direction: str
    target: float
    # "share" (0–1, shown as %), "per_100", "hours", "days", "minutes", "count", "score".
    unit: str
    compute: Callable[[Context], dict[str, Measure]]
    drilldown: Callable[..., DrillDown] | None = None
    # The lowest grid level the indicator means something at (a drill is per community).
    finest_level: str = "building_group"

    def applies_to(self, level: str) -> bool:
        return level_depth(level) <= level_depth(self.finest_level)


REGISTRY: dict[str, Indicator] = {}


def register(indicator: Indicator) -> Indicator:
    if indicator.code in REGISTRY:
        raise ValueError(f"indicator {indicator.code} registered twice")
    if indicator.direction not in (HIGHER, LOWER):
        raise ValueError(f"indicator {indicator.code}: direction must be higher or lower")
    REGISTRY[indicator.code] = indicator
    return indicator
