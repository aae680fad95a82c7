"""Writes of resilience measurement: weekly snapshots (compute every indicator and the index
for every unit of a subtree and store them), backfill, and the audited settings (targets,
indicator weights, dimension weights)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.grid_paths import path_depth
from linli.accounts.models import AuditAction, User
from linli.accounts.roles import Permission
from linli.accounts.services import audit_record
from linli.errors import NotAllowed
from linli.grids.models import GridUnit
from linli.grids.selectors import scope_for
from linli.resilience.catalogue import indicators
from linli.resilience.engine import REGISTRY, Context, Measure, Unit, context_for, week_end
from linli.resilience.index import Settings, indicator_score, settings_in_force, sub_indices
from linli.resilience.models import (
    Dimension,
    DimensionSetting,
    IndexSnapshot,
    IndicatorSetting,
    IndicatorValue,
)

# Who may change targets and weights: those who may edit the registry's structure for a
# whole street (the street administrator).
SETTINGS_PERMISSION = Permission.MANAGE_ROLES
# Settings are changed for a whole street: a post on the top unit of the tree.
STREET_DEPTH = 1


@dataclass
class Computed:
    """One run: each indicator's measure per unit path, and each unit's index."""

    context: Context
    settings: Settings
    measures: dict[str, dict[str, Measure]]
    scores: dict[str, dict[str, float | None]]
    index: dict[str, dict[str, float | None]]


def compute_all(context: Context, settings: Settings | None = None) -> Computed:
    """Every indicator for every unit of the context, normalised and aggregated (nothing
    is written)."""
    settings = settings or settings_in_force()
    levels = {unit.path: unit.level for unit in context.units}
    measures: dict[str, dict[str, Measure]] = {}
    for indicator in indicators():
        computed = indicator.compute(context)
        measures[indicator.code] = {
            path: measure
            for path, measure in computed.items()
            if path in levels and indicator.applies_to(levels[path])
        }
    scores: dict[str, dict[str, float | None]] = {path: {} for path in levels}
    for code, by_path in measures.items():
        indicator = REGISTRY[code]
        for path, measure in by_path.items():
            scores[path][code] = indicator_score(indicator, measure.value, settings)
    index = {path: sub_indices(unit_scores, settings) for path, unit_scores in scores.items()}
    return Computed(context, settings, measures, scores, index)


# Above this many values PostgreSQL takes the week's rows by COPY: a district's week is a
# quarter of a million values, where building model instances costs more than the database.
COPY_THRESHOLD = 2_000
VALUE_COLUMNS = (
    "grid_unit_id",
    "grid_path",
    "period_end",
    "code",
    "value",
    "numerator",
    "denominator",
    "score",
)
INDEX_COLUMNS = (
    "grid_unit_id",
    "grid_path",
    "level",
    "period_end",
    "structural",
    "capacity",
    "cultural",
    "overall",
    "computed_at",
)


def _copy(table: str, columns: tuple[str, ...], rows) -> None:
    names = ", ".join(f'"{name}"' for name in columns)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


@transaction.atomic
def snapshot_store(computed: Computed, period_end: date) -> int:
    """Replace the week's rows of the context's units with `computed`; returns the number
    of indicator values written."""
    units = {unit.path: unit for unit in computed.context.units}
    unit_ids = [unit.id for unit in units.values()]
    IndicatorValue.objects.filter(grid_unit_id__in=unit_ids, period_end=period_end).delete()
    IndexSnapshot.objects.filter(grid_unit_id__in=unit_ids, period_end=period_end).delete()
    values = [
        (
            units[path].id,
            path,
            period_end,
            code,
            measure.value,
            measure.numerator,
            measure.denominator,
            computed.scores[path].get(code),
        )
        for code, by_path in computed.measures.items()
        for path, measure in by_path.items()
    ]
    now = clock.now()
    snapshots = [
        (
            unit.id,
            path,
            unit.level,
            period_end,
            computed.index[path]["structural"],
            computed.index[path]["capacity"],
            computed.index[path]["cultural"],
            computed.index[path]["overall"],
            now,
        )
        for path, unit in units.items()
    ]
    if connection.vendor == "postgresql" and len(values) > COPY_THRESHOLD:
        _copy(IndicatorValue._meta.db_table, VALUE_COLUMNS, values)
        _copy(IndexSnapshot._meta.db_table, INDEX_COLUMNS, snapshots)
        return len(values)
    IndicatorValue.objects.bulk_create(
        [IndicatorValue(**dict(zip(VALUE_COLUMNS, row, strict=True))) for row in values],
        batch_size=5000,
    )
    IndexSnapshot.objects.bulk_create(
        [IndexSnapshot(**dict(zip(INDEX_COLUMNS, row, strict=True))) for row in snapshots],
        batch_size=5000,
    )
    return len(values)


def _week(end: datetime | None) -> tuple[datetime, date]:
    """When to measure until, and the Sunday the snapshot is stored under."""
    end = end or clock.now()
    # An `end` exactly at Monday 00:00 closes the week before, not the one it opens.
    closing = week_end(timezone.localdate(end - timedelta(microseconds=1)))
    # A week still running is measured up to now and stored under its closing Sunday.
    return min(end, closing), (closing - timedelta(days=1)).date()


def snapshot_take(*, root: GridUnit, end: datetime | None = None) -> int:
    """Compute and store the week ending at `end`'s week for `root`'s subtree."""
    measured_until, period_end = _week(end)
    context = context_for(root, end=measured_until)
    return snapshot_store(compute_all(context), period_end)


def snapshots_take_all(*, end: datetime | None = None) -> int:
    """Every street's subtree at once (the scheduled weekly task and `linli resilience
    snapshot`). One context over every unit reads each source table once: one street at a
    time read a case table stored in filing order fifteen times over (bench/README.md)."""
    measured_until, period_end = _week(end)
    units = GridUnit.objects.order_by("path").values_list("id", "path", "level", "name")
    context = Context(
        root_path="/",
        units=[Unit(*row) for row in units],
        start=measured_until - timedelta(days=7),
        end=measured_until,
    )
    if not context.units:
        return 0
    return snapshot_store(compute_all(context), period_end)


def snapshots_backfill(*, weeks: int, end: datetime | None = None) -> int:
    """Take the snapshots of the last `weeks` weeks as the records stand now (rows written
    back-dated count in the week they say they happened)."""
    if weeks < 1 or weeks > 260:
        raise ValidationError({"weeks": _("Backfill between 1 and 260 weeks.")})
    end = end or clock.now()
    written = 0
    for back in range(weeks - 1, -1, -1):
        written += snapshots_take_all(end=end - timedelta(weeks=back))
    return written


def may_change_settings(actor: User | None) -> bool:
    """Targets and weights are changed by whoever holds the settings permission on a whole
    street (pages ask the same before showing their forms)."""
    scope = scope_for(actor)
    return scope.unrestricted or any(
        path_depth(path) == STREET_DEPTH for path in scope.paths_for(SETTINGS_PERMISSION)
    )


def _positive(value, field: str, *, allow_zero: bool) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError({field: _("Enter a number.")}) from None
    if number != number or number < 0 or (number == 0 and not allow_zero):
        raise ValidationError(
            {
                field: _("Enter a number of 0 or more.")
                if allow_zero
                else _("Enter a number above 0.")
            }
        )
    return number


@transaction.atomic
def indicator_setting_update(
    *, actor: User, code: str, target=None, weight=None, reason: str = ""
) -> IndicatorSetting:
    """Change an indicator's target and/or weight (street administrators); audited with
    the old and new values."""
    if not may_change_settings(actor):
        raise NotAllowed(_("Only a street administrator may change targets and weights."))
    indicator = REGISTRY.get(code)
    if indicator is None:
        raise ValidationError({"code": _("Unknown indicator: %(code)s") % {"code": code}})
    current = IndicatorSetting.objects.select_for_update().filter(code=code).first()
    old_target = current.target if current else indicator.target
    old_weight = current.weight if current else 1.0
    new_target = old_target if target is None else _positive(target, "target", allow_zero=False)
    new_weight = old_weight if weight is None else _positive(weight, "weight", allow_zero=True)
    setting, _created = IndicatorSetting.objects.update_or_create(
        code=code,
        defaults={"target": new_target, "weight": new_weight, "updated_by": actor},
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="resilience_indicator",
        object_id=code,
        object_label=str(indicator.name),
        changes={
            "target": [old_target, new_target],
            "weight": [old_weight, new_weight],
        },
        reason=reason,
    )
    return setting


@transaction.atomic
def dimension_setting_update(
    *, actor: User, dimension: str, weight, reason: str = ""
) -> DimensionSetting:
    if not may_change_settings(actor):
        raise NotAllowed(_("Only a street administrator may change targets and weights."))
    if dimension not in Dimension.values:
        raise ValidationError({"dimension": _("Unknown dimension: %(code)s") % {"code": dimension}})
    new_weight = _positive(weight, "weight", allow_zero=True)
    current = DimensionSetting.objects.select_for_update().filter(dimension=dimension).first()
    old_weight = current.weight if current else 1.0
    setting, _created = DimensionSetting.objects.update_or_create(
        dimension=dimension, defaults={"weight": new_weight, "updated_by": actor}
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="resilience_dimension",
        object_id=dimension,
        object_label=str(Dimension(dimension).label),
        changes={"weight": [old_weight, new_weight]},
        reason=reason,
    )
    return setting
