"""Capacity indicators of the drills: minutes to contact 90% (C_DRILL_90) and every
(C_DRILL_100) targeted household in the latest drill covering the unit, a real drill's
after-action report before a simulated drill."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from linli.accounts.grid_paths import path_ancestors, within_or_above
from linli.accounts.roles import Permission
from linli.emergency.models import Activation, ActivationState, Simulation
from linli.emergency.selectors import activations_visible
from linli.grids.models import GridLevel
from linli.grids.selectors import scope_for
from linli.resilience.capacity.common import DRILLDOWN_LIMIT, day_text
from linli.resilience.engine import LOWER, Context, DrillDown, Indicator, Measure, Unit, register
from linli.resilience.models import Dimension

# A drill that never reached the share counts as taking a full day: far beyond any
# target, so its score is near 0 rather than the drill being left out of the index.
NOT_REACHED_MINUTES = 24 * 60


# C_DRILL_90 and C_DRILL_100 -----------------------------------------------------------------


def _root_reach(context: Context) -> Q:
    """Rows scoped inside the subtree or on a unit above its root."""
    return within_or_above([context.root_path])


def _minutes(value) -> float:
    return float(value) if value is not None else float(NOT_REACHED_MINUTES)


def _drills(context: Context) -> dict[str, dict]:
    """Unit path → the drill that counts for it: the latest real drill stood down before
    the end whose scope is the unit or above it, else the latest simulated drill."""

    def compute():
        real: dict[str, tuple] = {}
        # The whole `minutes_to` object: a key such as "90" would be read as an array
        # index by the JSON path lookups.
        for pk, path, ended, minutes_to, targeted in (
            Activation.objects.filter(
                _root_reach(context),
                is_drill=True,
                state=ActivationState.STOOD_DOWN,
                stood_down_at__lt=context.end,
                summary__has_key="minutes_to",
            )
            .values_list(
                "pk",
                "grid_path",
                "stood_down_at",
                "summary__minutes_to",
                "summary__targeted_households",
            )
            .order_by()
        ):
            minutes_to = minutes_to or {}
            entry = (
                "activation",
                pk,
                ended,
                minutes_to.get("90"),
                minutes_to.get("100"),
                targeted,
            )
            if path not in real or (ended, pk) > (real[path][2], real[path][1]):
                real[path] = entry
        simulated: dict[str, tuple] = {}
        for pk, path, ended, to90, to100, targeted in (
            Simulation.objects.filter(_root_reach(context), created_at__lt=context.end)
            .values_list(
                "pk",
                "grid_path",
                "created_at",
                "minutes_to_90",
                "minutes_to_100",
                "targeted_households",
            )
            .order_by()
        ):
            entry = ("simulation", pk, ended, to90, to100, targeted)
            if path not in simulated or (ended, pk) > (simulated[path][2], simulated[path][1]):
                simulated[path] = entry
        chosen = {}
        for unit_path in context.paths:
            for found in (real, simulated):
                covering = [found[path] for path in path_ancestors(unit_path) if path in found]
                if covering:
                    chosen[unit_path] = max(covering, key=lambda entry: (entry[2], entry[1]))
                    break
        return chosen

    return context.memo("capacity.drills", compute)


def _drill_measures(context: Context, index: int) -> dict[str, Measure]:
    drills = _drills(context)
    result = {}
    for path in context.paths:
        drill = drills.get(path)
        if drill is None:
            result[path] = Measure(None)
        else:
            targeted = drill[5]
            result[path] = Measure(
                _minutes(drill[index]), None, float(targeted) if targeted is not None else None
            )
    return result


def drill_90(context: Context) -> dict[str, Measure]:
    return _drill_measures(context, 3)


def drill_100(context: Context) -> dict[str, Measure]:
    return _drill_measures(context, 4)


def _minutes_cell(value) -> str:
    if value is None:
        return str(_("not reached"))
    return f"{float(value):g}"


def drill_rows(context: Context, unit: Unit, user) -> DrillDown:
    """The drills covering the unit that ended before the end, newest first, real drills
    (with their after-action report) before simulations; the first row is the one
    counted."""
    unit_ancestors = path_ancestors(unit.path)
    activations = (
        activations_visible(user=user)
        .filter(
            grid_path__in=unit_ancestors,
            is_drill=True,
            state=ActivationState.STOOD_DOWN,
            stood_down_at__lt=context.end,
            summary__has_key="minutes_to",
        )
        .select_related("scope")
        .order_by("-stood_down_at", "-id")
    )
    rows, links = [], []
    for activation in activations[:DRILLDOWN_LIMIT]:
        minutes_to = activation.summary.get("minutes_to") or {}
        rows.append(
            [
                str(_("Drill")),
                activation.scope.name,
                day_text(activation.stood_down_at),
                _minutes_cell(minutes_to.get("90")),
                _minutes_cell(minutes_to.get("100")),
                str(activation.summary.get("targeted_households", "—")),
            ]
        )
        links.append(reverse("emergency:report", args=[activation.pk]))
    # Simulations have no selector of their own: shown to whoever sees activations of the
    # same scope (EMERGENCY_HELP inside or above it).
    scope = scope_for(user)
    help_paths = scope.paths_for(Permission.EMERGENCY_HELP)
    simulations = Simulation.objects.filter(
        grid_path__in=unit_ancestors, created_at__lt=context.end
    ).select_related("scope")
    if not scope.unrestricted:
        simulations = simulations.filter(
            pk__in=[
                pk
                for pk, path in simulations.values_list("pk", "grid_path")
                if any(path.startswith(mine) or mine.startswith(path) for mine in help_paths)
            ]
        )
    for simulation in simulations.order_by("-created_at", "-id")[:DRILLDOWN_LIMIT]:
        if len(rows) >= DRILLDOWN_LIMIT:
            break
        rows.append(
            [
                str(_("Simulated drill")),
                simulation.scope.name,
                day_text(simulation.created_at),
                _minutes_cell(simulation.minutes_to_90),
                _minutes_cell(simulation.minutes_to_100),
                str(simulation.targeted_households),
            ]
        )
        links.append(None)
    return DrillDown(
        columns=[
            str(_("Kind")),
            str(_("Scope")),
            str(_("Ended")),
            str(_("Minutes to 90%")),
            str(_("Minutes to 100%")),
            str(_("Targeted households")),
        ],
        rows=rows,
        links=links,
        total=len(rows),
        note=str(
            _(
                "The first row is the drill counted: real drills before simulated ones. A "
                "share never reached counts as %(minutes)d minutes."
            )
            % {"minutes": NOT_REACHED_MINUTES}
        ),
    )


# The catalogue ------------------------------------------------------------------------------

register(
    Indicator(
        code="C_DRILL_90",
        dimension=Dimension.CAPACITY,
        # xgettext:no-python-format
        name=_("Drill: minutes to contact 90% of households"),
        formula=_(
            "minutes from activation until nine in ten targeted households were contacted in "
            "the latest drill covering the unit that ended before the end of the period (a "
            "real drill if there is one, else the latest simulated drill); a share never "
            "reached counts as 1440 minutes"
        ),
        source=_("Emergency drills (after-action reports) and simulated drills"),
        direction=LOWER,
        target=60.0,
        unit="minutes",
        compute=drill_90,
        drilldown=drill_rows,
        finest_level=GridLevel.COMMUNITY,
    )
)

register(
    Indicator(
        code="C_DRILL_100",
        dimension=Dimension.CAPACITY,
        name=_("Drill: minutes to contact every household"),
        formula=_(
            "minutes from activation until every targeted household was contacted in the "
            "latest drill covering the unit that ended before the end of the period (a real "
            "drill if there is one, else the latest simulated drill); never reached counts "
            "as 1440 minutes"
        ),
        source=_("Emergency drills (after-action reports) and simulated drills"),
        direction=LOWER,
        target=120.0,
        unit="minutes",
        compute=drill_100,
        drilldown=drill_rows,
        finest_level=GridLevel.COMMUNITY,
    )
)
