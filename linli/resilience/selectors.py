"""Scoped reads of the stored resilience snapshots for the dashboard, the drill-down and
the API: the unit a person may look at, its latest week (index and indicators), its
children's table, its trend, and the catalogue with the settings in force.

Every page reads IndexSnapshot / IndicatorValue rows and never recomputes an indicator (the
dashboard must answer from snapshots in well under 300 ms for a whole district); only the
drill-down runs one indicator's `drilldown` for one unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.http import Http404
from django.utils import timezone, translation

from linli import clock
from linli.accounts.grid_paths import path_depth
from linli.accounts.models import User
from linli.accounts.roles import Permission
from linli.grids.models import GridLevel, GridUnit
from linli.grids.selectors import grid_roots_for, grid_unit_get, grid_units_visible, scope_for
from linli.resilience.catalogue import indicators
from linli.resilience.engine import REGISTRY, Context, DrillDown, Indicator, Unit, context_for
from linli.resilience.index import Settings, settings_in_force
from linli.resilience.models import Dimension, IndexSnapshot, IndicatorValue
from linli.resilience.services import may_change_settings as services_may_change_settings

# The level whose units make up the dashboard's table of a unit and a report's breakdown: a
# street lists its communities (a block is only an administrative layer between them, with
# no staff of its own).
CHILD_LEVEL: dict[str, str] = {
    GridLevel.STREET: GridLevel.COMMUNITY,
    GridLevel.BLOCK: GridLevel.COMMUNITY,
    GridLevel.COMMUNITY: GridLevel.MICRO_GRID,
    GridLevel.MICRO_GRID: GridLevel.BUILDING_GROUP,
}
# How many of a child's lowest-scoring indicators the table highlights.
WEAKEST_COUNT = 2
TREND_WEEKS = 26
INDEX_FIELDS = ("structural", "capacity", "cultural", "overall")


# The unit ------------------------------------------------------------------------------


def dashboard_unit(*, user: User, unit_id: int | None = None) -> GridUnit:
    """The unit asked for if the user may see its registry (else 404); by default the
    highest unit of the user's posts (secretary: community; street admin: street)."""
    if unit_id is not None:
        return grid_unit_get(user=user, grid_unit_id=unit_id)
    roots = sorted(grid_roots_for(user=user), key=lambda unit: (path_depth(unit.path), unit.path))
    if not roots:
        raise Http404
    return roots[0]


def may_view_dashboard(user: User | None) -> bool:
    return scope_for(user).allows_anywhere(Permission.VIEW_REGISTRY)


def may_change_settings(user: User | None) -> bool:
    """The rule services.indicator_setting_update enforces, asked before showing a form."""
    return services_may_change_settings(user)


def child_level(unit: GridUnit) -> str | None:
    return CHILD_LEVEL.get(unit.level)


# Snapshots -----------------------------------------------------------------------------


def latest_period(*, unit: GridUnit) -> date | None:
    """The last week stored for the unit (indexed by indexsnapshot_one_per_week)."""
    return (
        IndexSnapshot.objects.filter(grid_unit=unit)
        .order_by("-period_end")
        .values_list("period_end", flat=True)
        .first()
    )


def index_at(*, unit: GridUnit, period_end: date) -> IndexSnapshot | None:
    return IndexSnapshot.objects.filter(grid_unit=unit, period_end=period_end).first()


def trend(*, unit: GridUnit, weeks: int = TREND_WEEKS) -> list[IndexSnapshot]:
    """The unit's index over its last `weeks` stored weeks, oldest first."""
    rows = list(IndexSnapshot.objects.filter(grid_unit=unit).order_by("-period_end")[:weeks])
    rows.reverse()
    return rows


def values_at(*, unit: GridUnit, period_end: date) -> dict[str, IndicatorValue]:
    """The unit's stored indicator values of the week, by code (indicatorvalue_unit_period)."""
    return {
        value.code: value
        for value in IndicatorValue.objects.filter(grid_unit=unit, period_end=period_end)
    }


def value_at(*, unit: GridUnit, period_end: date, code: str) -> IndicatorValue | None:
    return IndicatorValue.objects.filter(grid_unit=unit, period_end=period_end, code=code).first()


@dataclass
class IndicatorLine:
    """One indicator of one unit for the week, with the settings in force."""

    indicator: Indicator
    target: float
    weight: float
    stored: IndicatorValue | None

    @property
    def code(self) -> str:
        return self.indicator.code

    @property
    def value(self) -> float | None:
        return self.stored.value if self.stored else None

    @property
    def score(self) -> float | None:
        return self.stored.score if self.stored else None


def indicator_lines(
    *, unit: GridUnit, period_end: date, settings: Settings | None = None
) -> dict[str, list[IndicatorLine]]:
    """The unit's indicators grouped by dimension (catalogue order), each with its stored
    value of the week (None when nothing was measured) and the target and weight in force."""
    settings = settings or settings_in_force()
    stored = values_at(unit=unit, period_end=period_end)
    grouped: dict[str, list[IndicatorLine]] = {dimension: [] for dimension in Dimension.values}
    for indicator in indicators():
        if not indicator.applies_to(unit.level):
            continue
        grouped[indicator.dimension].append(
            IndicatorLine(
                indicator=indicator,
                target=settings.targets[indicator.code],
                weight=settings.weights[indicator.code],
                stored=stored.get(indicator.code),
            )
        )
    return grouped


@dataclass
class ChildRow:
    unit: GridUnit
    snapshot: IndexSnapshot | None
    # The lowest-scoring indicators (score, code), lowest first.
    weakest: list[IndicatorValue]


def children_table(*, user: User, unit: GridUnit, period_end: date) -> list[ChildRow]:
    """The visible units one table-level down (communities of a street, micro-grids of a
    community) with their index of the week and their weakest indicators: three queries
    whatever the number of children."""
    level = child_level(unit)
    if level is None:
        return []
    children = list(
        grid_units_visible(user=user)
        .filter(path__startswith=unit.path, level=level)
        .order_by("path")
    )
    if not children:
        return []
    ids = [child.pk for child in children]
    snapshots = {
        snapshot.grid_unit_id: snapshot
        for snapshot in IndexSnapshot.objects.filter(grid_unit_id__in=ids, period_end=period_end)
    }
    scored: dict[int, list[IndicatorValue]] = {child_id: [] for child_id in ids}
    for value in IndicatorValue.objects.filter(
        grid_unit_id__in=ids, period_end=period_end, score__isnull=False
    ).only("grid_unit_id", "code", "value", "score"):
        if value.code in REGISTRY:
            scored[value.grid_unit_id].append(value)
    rows = []
    for child in children:
        # Ties go to catalogue code order so the highlight does not move between loads.
        # (Only scored values were read: `score or 0.0` is the score itself.)
        weakest = sorted(scored[child.pk], key=lambda value: (value.score or 0.0, value.code))
        # A full score is not weak whatever its rank.
        weakest = [value for value in weakest if (value.score or 0.0) < 1][:WEAKEST_COUNT]
        rows.append(ChildRow(unit=child, snapshot=snapshots.get(child.pk), weakest=weakest))
    return rows


# The drill-down ------------------------------------------------------------------------


def period_end_moment(period_end: date) -> datetime:
    """When the stored week was measured up to: Monday 00:00 after its Sunday, or now for
    the week still running (services.snapshot_take stores both under the Sunday)."""
    closing = timezone.make_aware(
        datetime.combine(period_end + timedelta(days=1), datetime.min.time())
    )
    return min(closing, clock.now())


def drilldown_context(*, unit: GridUnit, period_end: date) -> Context:
    return context_for(unit, end=period_end_moment(period_end))


def drilldown_rows(*, user: User, unit: GridUnit, code: str, period_end: date) -> DrillDown | None:
    """The rows behind one indicator of one unit for the week, read through the scope layer
    by the indicator's own drill-down (None when the indicator has none)."""
    indicator = REGISTRY[code]
    if indicator.drilldown is None:
        return None
    context = drilldown_context(unit=unit, period_end=period_end)
    return indicator.drilldown(context, Unit(unit.pk, unit.path, unit.level, unit.name), user)


def indicator_for(*, unit: GridUnit, code: str) -> Indicator:
    """The catalogue's indicator if it applies at the unit's level, else 404."""
    indicator = REGISTRY.get(code)
    if indicator is None or not indicator.applies_to(unit.level):
        raise Http404
    return indicator


# The catalogue -------------------------------------------------------------------------


def names_in(indicator: Indicator) -> dict[str, str]:
    """The indicator's name in Chinese and in English, whatever the page's language."""
    names = {}
    for key, language in (("zh", "zh-hans"), ("en", "en")):
        with translation.override(language):
            names[key] = str(indicator.name)
    return names


@dataclass
class CatalogueRow:
    indicator: Indicator
    name_zh: str
    name_en: str
    target: float
    weight: float
    changed: bool


def catalogue(settings: Settings | None = None) -> dict[str, list[CatalogueRow]]:
    """Every indicator grouped by dimension with the target and weight in force."""
    settings = settings or settings_in_force()
    grouped: dict[str, list[CatalogueRow]] = {dimension: [] for dimension in Dimension.values}
    for indicator in indicators():
        names = names_in(indicator)
        target = settings.targets[indicator.code]
        weight = settings.weights[indicator.code]
        grouped[indicator.dimension].append(
            CatalogueRow(
                indicator=indicator,
                name_zh=names["zh"],
                name_en=names["en"],
                target=target,
                weight=weight,
                changed=target != indicator.target or weight != 1.0,
            )
        )
    return grouped
