"""Capacity indicators of the needs list: needs fulfilled (C_NEEDS_FULFILLED) and the
median days to fulfil one (C_NEED_DAYS), a need met at the time its last claim was
confirmed (one-off) or made (recurring)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Case, Max, Q, When
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from linli.grids.models import GridLevel
from linli.partners.models import ClaimState, Need, NeedState, Recurrence
from linli.partners.selectors import needs_visible
from linli.resilience.capacity.common import DRILLDOWN_LIMIT, day_text
from linli.resilience.engine import (
    HIGHER,
    LOWER,
    Context,
    DrillDown,
    Indicator,
    Measure,
    Unit,
    medians,
    ratio,
    register,
    rollup,
)
from linli.resilience.models import Dimension

NEEDS_WINDOW_DAYS = 90


# C_NEEDS_FULFILLED and C_NEED_DAYS ----------------------------------------------------------


def _with_fulfilled_at(needs):
    """When each need was met: a one-off need when its last claim was confirmed; a
    recurring need (never "done" once and for all) when its last standing claim was made,
    i.e. when providers for its whole quantity were found."""
    return needs.annotate(
        fulfilled_at=Case(
            When(
                recurrence=Recurrence.ONCE,
                then=Max("claims__confirmed_at", filter=Q(claims__state=ClaimState.CONFIRMED)),
            ),
            default=Max("claims__created_at", filter=~Q(claims__state=ClaimState.CANCELLED)),
        )
    )


# The states in which a need counts as met: a one-off need fulfilled, a recurring need
# fully claimed.
MET = Q(recurrence=Recurrence.ONCE, state=NeedState.FULFILLED) | (
    ~Q(recurrence=Recurrence.ONCE) & Q(state__in=[NeedState.CLAIMED, NeedState.FULFILLED])
)


def _counted_needs(context: Context):
    """Needs created in the 90 days up to the end, cancelled ones left out."""
    return Need.objects.filter(
        created_at__gte=context.end - timedelta(days=NEEDS_WINDOW_DAYS),
        created_at__lt=context.end,
    ).exclude(state=NeedState.CANCELLED)


def _is_met(recurrence: str, state: str, fulfilled_at: datetime | None, end: datetime) -> bool:
    if recurrence == Recurrence.ONCE:
        in_state = state == NeedState.FULFILLED
    else:
        in_state = state in (NeedState.CLAIMED, NeedState.FULFILLED)
    return in_state and fulfilled_at is not None and fulfilled_at < end


def needs_fulfilled(context: Context) -> dict[str, Measure]:
    rows = list(
        _with_fulfilled_at(_counted_needs(context).filter(grid_path__startswith=context.root_path))
        .values_list("grid_path", "recurrence", "state", "fulfilled_at")
        .order_by()
    )
    created = rollup(((path, 1) for path, *_rest in rows), context)
    fulfilled = rollup(
        (
            (path, 1)
            for path, recurrence, state, at in rows
            if _is_met(recurrence, state, at, context.end)
        ),
        context,
    )
    return ratio(fulfilled, created, context)


def needs_fulfilled_rows(context: Context, unit: Unit, user) -> DrillDown:
    """The needs of the period not (yet) fulfilled, open longest first."""
    needs = [
        need
        for need in _with_fulfilled_at(
            _counted_needs(context).filter(
                pk__in=needs_visible(user=user).values("pk"), grid_path__startswith=unit.path
            )
        )
        .select_related("grid_unit")
        .order_by("created_at", "id")
        if not _is_met(need.recurrence, need.state, need.fulfilled_at, context.end)
    ]
    rows, links = [], []
    for need in needs[:DRILLDOWN_LIMIT]:
        rows.append(
            [
                need.title,
                str(need.get_category_display()),
                need.grid_unit.name,
                day_text(need.created_at),
                str((context.end - need.created_at).days),
                str(need.get_state_display()),
            ]
        )
        links.append(reverse("partners:need_detail", args=[need.pk]))
    return DrillDown(
        columns=[
            str(_("Need")),
            str(_("Category")),
            str(_("Where")),
            str(_("Created on")),
            str(_("Days open")),
            str(_("State")),
        ],
        rows=rows,
        links=links,
        total=len(needs),
        note=str(_("Needs of the last 90 days not met by the end, open longest first.")),
    )


def _fulfilled_recently(context: Context):
    return _with_fulfilled_at(Need.objects.filter(MET, created_at__lt=context.end)).filter(
        fulfilled_at__gte=context.end - timedelta(days=NEEDS_WINDOW_DAYS),
        fulfilled_at__lt=context.end,
    )


def need_days(context: Context) -> dict[str, Measure]:
    rows = (
        _fulfilled_recently(context)
        .filter(grid_path__startswith=context.root_path)
        .values_list("grid_path", "created_at", "fulfilled_at")
        .order_by()
    )
    return medians(
        (
            (path, (fulfilled - created).total_seconds() / 86400)
            for path, created, fulfilled in rows
        ),
        context,
    )


def need_days_rows(context: Context, unit: Unit, user) -> DrillDown:
    """The needs fulfilled in the 90 days, slowest first."""
    needs = sorted(
        _fulfilled_recently(context)
        .filter(pk__in=needs_visible(user=user).values("pk"), grid_path__startswith=unit.path)
        .select_related("grid_unit"),
        key=lambda need: (need.created_at - need.fulfilled_at, need.pk),
    )
    rows, links = [], []
    for need in needs[:DRILLDOWN_LIMIT]:
        days = (need.fulfilled_at - need.created_at).total_seconds() / 86400
        rows.append(
            [
                need.title,
                need.grid_unit.name,
                day_text(need.created_at),
                day_text(need.fulfilled_at),
                f"{days:.1f}",
            ]
        )
        links.append(reverse("partners:need_detail", args=[need.pk]))
    return DrillDown(
        columns=[
            str(_("Need")),
            str(_("Where")),
            str(_("Created on")),
            str(_("Met on")),
            str(_("Days")),
        ],
        rows=rows,
        links=links,
        total=len(needs),
        note=str(_("Needs met in the last 90 days, slowest first.")),
    )


# The catalogue ------------------------------------------------------------------------------

register(
    Indicator(
        code="C_NEEDS_FULFILLED",
        dimension=Dimension.CAPACITY,
        name=_("Needs fulfilled"),
        formula=_(
            "needs created in the 90 days up to the end and met by the end (a one-off need "
            "fulfilled, every claim confirmed; a recurring need fully claimed) ÷ needs "
            "created in those days, cancelled ones left out"
        ),
        source=_("Needs list (需求清单) and claims"),
        direction=HIGHER,
        target=0.8,
        unit="share",
        compute=needs_fulfilled,
        drilldown=needs_fulfilled_rows,
        finest_level=GridLevel.MICRO_GRID,
    )
)

register(
    Indicator(
        code="C_NEED_DAYS",
        dimension=Dimension.CAPACITY,
        name=_("Median days to fulfil a need"),
        formula=_(
            "median of the days from a need's creation until it was met (a one-off need: its "
            "last claim confirmed; a recurring need: fully claimed), over the needs met in the "
            "90 days up to the end"
        ),
        source=_("Needs list (需求清单) and claims"),
        direction=LOWER,
        target=7.0,
        unit="days",
        compute=need_days,
        drilldown=need_days_rows,
        finest_level=GridLevel.MICRO_GRID,
    )
)
