"""Case metrics per grid unit and period: how well the 民情 loop closes.

Every number is a count of cases matching one named condition (`METRICS`), inside the
unit's subtree (`Case.grid_path` starts with the unit's path), so the dashboard can link it
to exactly the rows behind it (`metric_cases`). Rates and medians are derived from those
counts and rows. A period is half-open, `[start, end)`, with its bounds at midnight in the
site time zone (Asia/Shanghai).

Definitions (each a condition in `_conditions`):

- filed: created in the period, not rejected (不予立案) and not merged as a duplicate, since
  those never enter the loop as problems of their own.
- closed: closed (结案) in the period, whenever they were filed. A reopened case loses its
  closing time and counts again only when it is closed again.
- 结案率 closure rate = closed / filed. A flow ratio (the closed cases need not be the filed
  ones), so it can exceed 1 when a period clears an older backlog; None when nothing was filed.
- due: the first time limit (`original_due_at`, unchanged by escalation or extension) falls
  in the period and has passed (before the period end or now, whichever is earlier), not
  rejected or duplicate. closed_on_time: of those, closed with `closed_at <= original_due_at`.
- 按期结案率 on-time rate = closed_on_time / due; None when nothing fell due.
- accepted: accepted (立案) in the period; median hours to accept = median of
  `accepted_at - created_at` over them. Median hours to close = median of
  `closed_at - created_at` over the closed cases.
- escalated: filed cases with at least one "escalate" event (manual or by the overdue
  sweep), whenever it happened. Escalation rate = escalated / filed.
- resolved: resolved (反馈) in the period (`resolved_at`, the latest resolution; closed cases
  keep it). reopened: of those, reopened at least once before (`reopen_count > 0`).
  Reopen rate = reopened / resolved: the share of the period's resolutions that were a second
  (or later) attempt. A case reopened and still being worked on counts when it is resolved.
- rated: resolved cases that carry a rating; average satisfaction = mean of their 1–5 scores.
- open by age: cases open now (reported up to verified), by time since filing: under 1 day,
  1–3 days, 3–7 days, 7–30 days, 30 days or more (lower bound inclusive). Past states are
  not recorded, so this is always a snapshot of now, whatever the period.

All counts for a unit and all its children come from one grouped query (by `grid_path`),
the durations for the medians from one `values_list` over the period's rows, the trend from
one query: the number of queries does not depend on the number of child units.
"""

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli import clock
from linli.accounts.grid_paths import is_within, path_depth
from linli.accounts.models import User
from linli.accounts.roles import Permission
from linli.api_shared import MAX_YEAR, MIN_YEAR
from linli.cases.models import OPEN_STATES, Case, CaseEvent, CaseState
from linli.grids.models import GridUnit
from linli.grids.selectors import grid_roots_for, grid_unit_get, scope_for

PERIOD_KINDS = ("week", "month", "quarter", "year")
TREND_LENGTH = 12
HOUR = 3600

# (name, label, lower bound, upper bound) of each open-case age bucket.
AGE_BUCKETS = (
    ("open_lt_1d", gettext_lazy("under 1 day"), timedelta(0), timedelta(days=1)),
    ("open_1_3d", gettext_lazy("1–3 days"), timedelta(days=1), timedelta(days=3)),
    ("open_3_7d", gettext_lazy("3–7 days"), timedelta(days=3), timedelta(days=7)),
    ("open_7_30d", gettext_lazy("7–30 days"), timedelta(days=7), timedelta(days=30)),
    ("open_gt_30d", gettext_lazy("30 days or more"), timedelta(days=30), None),
)

# Every countable metric, in display order, with what its list of cases shows.
METRICS = {
    "filed": gettext_lazy("Filed in the period"),
    "closed": gettext_lazy("Closed in the period"),
    "due": gettext_lazy("Due in the period"),
    "closed_on_time": gettext_lazy("Closed on time"),
    "accepted": gettext_lazy("Accepted in the period"),
    "escalated": gettext_lazy("Escalated (filed in the period)"),
    "resolved": gettext_lazy("Resolved in the period"),
    "reopened": gettext_lazy("Resolved after a reopen"),
    "rated": gettext_lazy("Rated (resolved in the period)"),
    **{name: label for name, label, _low, _high in AGE_BUCKETS},
}
COUNTS = tuple(METRICS)


# Periods ---------------------------------------------------------------------------------


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """`[start, end)` in aware datetimes; `kind` is a calendar period or "custom"."""

    kind: str
    first_day: date
    end_day: date  # exclusive

    @property
    def start(self) -> datetime:
        return _midnight(self.first_day)

    @property
    def end(self) -> datetime:
        return _midnight(self.end_day)

    @property
    def last_day(self) -> date:
        return self.end_day - timedelta(days=1)

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.first_day:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.first_day.year} Q{(self.first_day.month - 1) // 3 + 1}"
        if self.kind == "year":
            return str(self.first_day.year)
        return f"{self.first_day:%Y-%m-%d} – {self.last_day:%Y-%m-%d}"

    def params(self) -> dict[str, str]:
        """The query parameters that name this period again (links, API)."""
        if self.kind in PERIOD_KINDS:
            return {"period": self.kind, "date": self.first_day.isoformat()}
        return {"start": self.first_day.isoformat(), "end": self.end_day.isoformat()}

    def shifted(self, steps: int) -> "Period":
        """The period `steps` periods later (earlier when negative), of the same kind."""
        if self.kind == "week":
            return period_containing("week", self.first_day + timedelta(weeks=steps))
        if self.kind in ("month", "quarter", "year"):
            months = {"month": 1, "quarter": 3, "year": 12}[self.kind]
            return period_containing(self.kind, _add_months(self.first_day, steps * months))
        length = self.end_day - self.first_day
        return Period("custom", self.first_day + steps * length, self.end_day + steps * length)


def period_containing(kind: str, day: date) -> Period:
    if kind == "week":
        first = day - timedelta(days=day.weekday())
        return Period("week", first, first + timedelta(days=7))
    if kind == "month":
        first = day.replace(day=1)
        return Period("month", first, _add_months(first, 1))
    if kind == "quarter":
        first = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        return Period("quarter", first, _add_months(first, 3))
    if kind == "year":
        return Period("year", date(day.year, 1, 1), date(day.year + 1, 1, 1))
    raise ValueError(kind)


def _date(value: str | date | None, name: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        parsed = parse_date(str(value).strip())
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValidationError({name: _("Give a date as YYYY-MM-DD.")})
    # Year 9999 would overflow once stepped by a period; nothing is counted outside these.
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise ValidationError(
            {
                name: _("Enter a date between %(min)s-01-01 and %(max)s-12-31.")
                % {"min": MIN_YEAR, "max": MAX_YEAR}
            }
        )
    return parsed


def period_from_params(
    *,
    period: str | None = None,
    day: str | date | None = None,
    start: str | date | None = None,
    end: str | date | None = None,
    today: date | None = None,
) -> Period:
    """`period` (week, month, quarter, year) containing `day` (default today), or the dates
    `start` to `end` (end exclusive: start=2026-11-01, end=2026-12-01 is November).
    Bad input raises ValidationError naming the field."""
    first, last = _date(start, "start"), _date(end, "end")
    if first is not None or last is not None:
        if first is None or last is None:
            raise ValidationError({"start" if first is None else "end": _("Give both dates.")})
        if last <= first:
            raise ValidationError({"end": _("The end date must be after the start date.")})
        if (last - first).days > 366 * 5:
            raise ValidationError({"end": _("A period is at most five years long.")})
        return Period("custom", first, last)
    kind = period or "month"
    if kind not in PERIOD_KINDS:
        raise ValidationError({"period": _("Choose week, month, quarter or year.")})
    return period_containing(kind, _date(day, "date") or today or clock.localdate())


# Conditions --------------------------------------------------------------------------------

NOT_COUNTED = (CaseState.REJECTED, CaseState.DUPLICATE)


def _conditions(period: Period, now: datetime) -> dict[str, Q]:
    start, end = period.start, period.end
    passed = min(end, now)
    counted = ~Q(state__in=NOT_COUNTED)
    filed = Q(created_at__gte=start, created_at__lt=end) & counted
    due = Q(original_due_at__gte=start, original_due_at__lt=passed) & counted
    resolved = Q(resolved_at__gte=start, resolved_at__lt=end)
    escalated = Exists(CaseEvent.objects.filter(case=OuterRef("pk"), action="escalate"))
    conditions = {
        "filed": filed,
        "closed": Q(state=CaseState.CLOSED, closed_at__gte=start, closed_at__lt=end),
        "due": due,
        "closed_on_time": due & Q(state=CaseState.CLOSED, closed_at__lte=F("original_due_at")),
        "accepted": Q(accepted_at__gte=start, accepted_at__lt=end),
        "escalated": filed & Q(escalated),
        "resolved": resolved,
        "reopened": resolved & Q(reopen_count__gt=0),
        "rated": resolved & Q(satisfaction__isnull=False),
    }
    for name, _label, low, high in AGE_BUCKETS:
        bucket = Q(state__in=OPEN_STATES, created_at__lte=now - low)
        if high is not None:
            bucket &= Q(created_at__gt=now - high)
        conditions[name] = bucket
    return conditions


def _any(conditions: dict[str, Q]) -> Q:
    # Escalation needs no term of its own: an escalated case is a filed one.
    found = Q(pk__in=[])
    for name, condition in conditions.items():
        if name != "escalated":
            found |= condition
    return found


# Results -----------------------------------------------------------------------------------


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _median_hours(durations: list[timedelta]) -> float | None:
    if not durations:
        return None
    return statistics.median(duration.total_seconds() / HOUR for duration in durations)


@dataclass
class CaseMetrics:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    satisfaction_sum: int = 0
    hours_to_accept: list[timedelta] = field(default_factory=list)
    hours_to_close: list[timedelta] = field(default_factory=list)

    def add(self, other: "CaseMetrics") -> None:
        for name in COUNTS:
            self.counts[name] += other.counts[name]
        self.satisfaction_sum += other.satisfaction_sum
        self.hours_to_accept += other.hours_to_accept
        self.hours_to_close += other.hours_to_close

    @property
    def closure_rate(self) -> float | None:
        return _rate(self.counts["closed"], self.counts["filed"])

    @property
    def on_time_rate(self) -> float | None:
        return _rate(self.counts["closed_on_time"], self.counts["due"])

    @property
    def escalation_rate(self) -> float | None:
        return _rate(self.counts["escalated"], self.counts["filed"])

    @property
    def reopen_rate(self) -> float | None:
        return _rate(self.counts["reopened"], self.counts["resolved"])

    @property
    def average_satisfaction(self) -> float | None:
        return _rate(self.satisfaction_sum, self.counts["rated"])

    @property
    def median_hours_to_accept(self) -> float | None:
        return _median_hours(self.hours_to_accept)

    @property
    def median_hours_to_close(self) -> float | None:
        return _median_hours(self.hours_to_close)

    @property
    def open_by_age(self) -> dict[str, int]:
        return {name: self.counts[name] for name, _label, _low, _high in AGE_BUCKETS}

    def as_dict(self) -> dict:
        """Plain values for the API: counts, rates (0–1) and hours, None where undefined."""

        def rounded(value, digits):
            return None if value is None else round(value, digits)

        return {
            **{name: self.counts[name] for name in COUNTS if not name.startswith("open_")},
            "closure_rate": rounded(self.closure_rate, 4),
            "on_time_rate": rounded(self.on_time_rate, 4),
            "median_hours_to_accept": rounded(self.median_hours_to_accept, 2),
            "median_hours_to_close": rounded(self.median_hours_to_close, 2),
            "escalation_rate": rounded(self.escalation_rate, 4),
            "reopen_rate": rounded(self.reopen_rate, 4),
            "average_satisfaction": rounded(self.average_satisfaction, 2),
            "open_by_age": self.open_by_age,
        }


@dataclass
class Breakdown:
    unit: GridUnit
    period: Period
    now: datetime
    total: CaseMetrics
    # One row per child unit, and (when it has cases) one for cases filed at the unit itself.
    rows: list[tuple[GridUnit, bool, CaseMetrics]]


# Selectors ---------------------------------------------------------------------------------


def metrics_unit(*, user: User, unit_id: int | None = None) -> GridUnit:
    """The unit asked for if the user may see its registry, else 404; by default the
    highest unit of the user's posts. Residents, volunteers and partners get 404."""
    if unit_id is not None:
        return grid_unit_get(user=user, grid_unit_id=unit_id)
    roots = sorted(grid_roots_for(user=user), key=lambda unit: (path_depth(unit.path), unit.path))
    if not roots:
        raise Http404
    return roots[0]


def _check_scope(user: User, unit: GridUnit) -> None:
    if not scope_for(user).allows(Permission.VIEW_REGISTRY, unit.path):
        raise Http404


def _subtree(unit: GridUnit) -> QuerySet[Case]:
    return Case.objects.within([unit.path])


def _metrics_by_path(unit: GridUnit, period: Period, now: datetime) -> dict[str, CaseMetrics]:
    """Metrics per distinct `grid_path` in the unit's subtree: two queries."""
    conditions = _conditions(period, now)
    rows = (
        _subtree(unit)
        .filter(_any(conditions))
        .order_by()
        .values("grid_path")
        .annotate(
            **{name: Count("pk", filter=condition) for name, condition in conditions.items()},
            satisfaction_sum=Sum("satisfaction", filter=conditions["rated"]),
        )
    )
    by_path: dict[str, CaseMetrics] = {}
    for row in rows:
        metrics = by_path.setdefault(row["grid_path"], CaseMetrics())
        metrics.counts = {name: row[name] for name in COUNTS}
        metrics.satisfaction_sum = row["satisfaction_sum"] or 0
    start, end = period.start, period.end
    durations = (
        _subtree(unit)
        .filter(conditions["accepted"] | conditions["closed"])
        .values_list("grid_path", "state", "created_at", "accepted_at", "closed_at")
    )
    for path, state, created_at, accepted_at, closed_at in durations:
        metrics = by_path.setdefault(path, CaseMetrics())
        if accepted_at is not None and start <= accepted_at < end:
            metrics.hours_to_accept.append(accepted_at - created_at)
        if state == CaseState.CLOSED and closed_at is not None and start <= closed_at < end:
            metrics.hours_to_close.append(closed_at - created_at)
    return by_path


def case_metrics(
    *, user: User, unit: GridUnit, period: Period, now: datetime | None = None
) -> CaseMetrics:
    """The unit's metrics for the period (404 outside the user's registry scope)."""
    return case_metrics_breakdown(user=user, unit=unit, period=period, now=now).total


def case_metrics_breakdown(
    *, user: User, unit: GridUnit, period: Period, now: datetime | None = None
) -> Breakdown:
    """The unit's metrics and one row per child unit, in a constant number of queries."""
    _check_scope(user, unit)
    now = now or clock.now()
    by_path = _metrics_by_path(unit, period, now)
    children = list(GridUnit.objects.filter(parent=unit).order_by("sort_order", "code"))
    total = CaseMetrics()
    for metrics in by_path.values():
        total.add(metrics)
    rows: list[tuple[GridUnit, bool, CaseMetrics]] = []
    for child in children:
        combined = CaseMetrics()
        for path, metrics in by_path.items():
            if is_within(path, [child.path]):
                combined.add(metrics)
        rows.append((child, False, combined))
    if unit.path in by_path:
        rows.append((unit, True, by_path[unit.path]))
    return Breakdown(unit=unit, period=period, now=now, total=total, rows=rows)


def case_metrics_trend(
    *,
    user: User,
    unit: GridUnit,
    period: Period,
    now: datetime | None = None,
    length: int = TREND_LENGTH,
) -> list[dict]:
    """Closure and on-time rates for the `length` weeks (for a week) or months (otherwise)
    up to the one holding the end of `period` (or now, if earlier); one query."""
    _check_scope(user, unit)
    now = now or clock.now()
    kind = "week" if period.kind == "week" else "month"
    last_moment = min(period.end, now) - timedelta(microseconds=1)
    last = period_containing(kind, timezone.localdate(last_moment))
    periods = [last.shifted(step) for step in range(1 - length, 1)]
    names = ("filed", "closed", "due", "closed_on_time")
    aggregates = {}
    relevant = Q(pk__in=[])
    for index, each in enumerate(periods):
        conditions = _conditions(each, now)
        for name in names:
            aggregates[f"{name}_{index}"] = Count("pk", filter=conditions[name])
            relevant |= conditions[name]
    totals = _subtree(unit).filter(relevant).aggregate(**aggregates)
    trend = []
    for index, each in enumerate(periods):
        counts = {name: totals[f"{name}_{index}"] for name in names}
        trend.append(
            {
                "period": each,
                **counts,
                "closure_rate": _rate(counts["closed"], counts["filed"]),
                "on_time_rate": _rate(counts["closed_on_time"], counts["due"]),
            }
        )
    return trend


def metric_cases(
    *,
    user: User,
    unit: GridUnit,
    period: Period,
    metric: str,
    direct: bool = False,
    now: datetime | None = None,
) -> QuerySet[Case]:
    """The cases behind one number: the same condition that counted them, in the unit's
    subtree (or, with `direct`, filed at the unit itself: the breakdown's own row)."""
    _check_scope(user, unit)
    conditions = _conditions(period, now or clock.now())
    if metric not in conditions:
        raise Http404
    cases = Case.objects.filter(grid_path=unit.path) if direct else _subtree(unit)
    return (
        cases.filter(conditions[metric])
        .select_related("category", "building", "owner_unit")
        .order_by("-created_at", "-id")
    )
