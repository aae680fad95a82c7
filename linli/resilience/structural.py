"""Structural resilience (结构韧性): the grid is staffed, households are visited, problems
close on time. Each indicator: a compute over the whole subtree and a drill-down to the
rows behind one unit's value (read through the scope layer).

What is measured as it stands now and what as it stood at the end of the period: the
registry's structure (grid units, households, residents, posts and whether their holders'
accounts are active) keeps no history, so it is read as it is now — a backfilled week sees
today's posts, as it sees today's households. Events (visits, case filing, due times,
escalations, closings) carry their own timestamps and are counted in the period they say
they happened; nothing after the end of the period counts.

Case indicators agree with the 民情 case metrics page (linli/cases/metrics.py): 按期结案率
and the median hours to close use its definitions, so both pages show the same number for
the same unit and period.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli import clock
from linli.accounts.grid_paths import within
from linli.accounts.models import User
from linli.accounts.roles import Permission, Role
from linli.cases.models import Case, CaseEvent, CaseState, EscalationLevel
from linli.cases.selectors import cases_visible
from linli.grids.models import (
    GridLevel,
    GridUnit,
    Household,
    Post,
    Resident,
    RoleAssignment,
    Visit,
    VulnerabilityTag,
)
from linli.grids.selectors import grid_units_visible, households_visible, scope_for
from linli.resilience.engine import (
    HIGHER,
    LOWER,
    Context,
    DrillDown,
    Indicator,
    Unit,
    medians,
    ratio,
    register,
    rollup,
)
from linli.resilience.models import Dimension

DRILLDOWN_LIMIT = 200
HOUR = 3600

VISIT_DAYS = 30
VULNERABLE_VISIT_DAYS = 14
# Escalated cases are followed for 90 days back from the end of the period (see
# escalation_resolution).
ESCALATION_WINDOW_DAYS = 90
# The two posts a micro-grid needs (the case study's 党支部书记 and 社工片长).
MICRO_GRID_POSTS = (Post.BRANCH_SECRETARY, Post.SOCIAL_WORKER_LEAD)
# Rejected (不予立案) and merged cases never enter the loop as problems of their own
# (cases.metrics.NOT_COUNTED).
NOT_COUNTED = (CaseState.REJECTED, CaseState.DUPLICATE)


def _local_day(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d") if moment else "—"


def _local_minute(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


def _hours(duration: timedelta | None) -> str:
    return "—" if duration is None else f"{duration.total_seconds() / HOUR:.1f}"


def _per_path(queryset: QuerySet) -> list[tuple[str, int]]:
    """(grid_path, row count) pairs of a queryset, one grouped query."""
    return list(
        queryset.order_by()
        .values("grid_path")
        .annotate(n=Count("id"))
        .values_list("grid_path", "n")
    )


def _cut(queryset: QuerySet) -> tuple[int, list]:
    return queryset.count(), list(queryset[:DRILLDOWN_LIMIT])


# Posts -----------------------------------------------------------------------------------


def _units_per_level(context: Context) -> dict[str, list[str]]:
    """Paths of the building groups and micro-grids of the subtree (one query, shared)."""

    def load():
        found: dict[str, list[str]] = {GridLevel.BUILDING_GROUP: [], GridLevel.MICRO_GRID: []}
        units = GridUnit.objects.filter(
            path__startswith=context.root_path, level__in=list(found)
        ).values_list("level", "path")
        for level, path in units:
            found[level].append(path)
        return found

    return context.memo("structural_units", load)


def _posts(context: Context) -> dict[str, set[str]]:
    """Per unit path, the posts that count held there by active users: "leader" for a
    building-group leader on a building group, and the micro-grid posts on a micro-grid."""

    def load():
        rows = (
            RoleAssignment.objects.filter(
                grid_path__startswith=context.root_path, user__is_active=True
            )
            .filter(
                Q(role=Role.BUILDING_GROUP_LEADER, grid_unit__level=GridLevel.BUILDING_GROUP)
                | Q(post__in=MICRO_GRID_POSTS, grid_unit__level=GridLevel.MICRO_GRID)
            )
            .values_list("grid_path", "grid_unit__level", "role", "post")
            .distinct()
        )
        held: dict[str, set[str]] = {}
        for path, level, role, post in rows:
            if level == GridLevel.BUILDING_GROUP and role == Role.BUILDING_GROUP_LEADER:
                held.setdefault(path, set()).add("leader")
            elif level == GridLevel.MICRO_GRID:
                held.setdefault(path, set()).add(post)
        return held

    return context.memo("structural_posts", load)


def leader_coverage(context: Context):
    groups = _units_per_level(context)[GridLevel.BUILDING_GROUP]
    posts = _posts(context)
    led = [(path, 1) for path in groups if "leader" in posts.get(path, ())]
    return ratio(rollup(led, context), rollup(((path, 1) for path in groups), context), context)


def _active_leader(**where) -> Exists:
    return Exists(
        RoleAssignment.objects.filter(
            grid_unit=OuterRef("pk"), role=Role.BUILDING_GROUP_LEADER, **where
        )
    )


def leader_coverage_rows(context: Context, unit: Unit, user: User) -> DrillDown:
    """The building groups of the unit without a leader whose account is active."""
    groups = (
        grid_units_visible(user=user)
        .filter(path__startswith=unit.path, level=GridLevel.BUILDING_GROUP)
        .annotate(
            has_active=_active_leader(user__is_active=True),
            has_any=_active_leader(),
        )
        .filter(has_active=False)
        .select_related("parent")
        .order_by("path")
    )
    total, page = _cut(groups)
    rows = [
        [
            group.name,
            group.parent.name if group.parent else "—",
            str(_("The leader's account is inactive") if group.has_any else _("No leader")),
        ]
        for group in page
    ]
    return DrillDown(
        columns=[str(_("Building group")), str(_("Micro-grid")), str(_("What is missing"))],
        rows=rows,
        links=[reverse("grids:grid_detail", args=[group.pk]) for group in page],
        total=total,
        note=str(_("Building groups without an active building-group leader.")),
    )


def micro_grid_pairs(context: Context):
    micro_grids = _units_per_level(context)[GridLevel.MICRO_GRID]
    posts = _posts(context)
    paired = [(path, 1) for path in micro_grids if posts.get(path, set()) >= set(MICRO_GRID_POSTS)]
    return ratio(
        rollup(paired, context), rollup(((path, 1) for path in micro_grids), context), context
    )


def micro_grid_pairs_rows(context: Context, unit: Unit, user: User) -> DrillDown:
    """The micro-grids of the unit missing one or both posts, and which."""
    held = {
        post: Exists(
            RoleAssignment.objects.filter(grid_unit=OuterRef("pk"), post=post, user__is_active=True)
        )
        for post in MICRO_GRID_POSTS
    }
    micro_grids = (
        grid_units_visible(user=user)
        .filter(path__startswith=unit.path, level=GridLevel.MICRO_GRID)
        .annotate(**held)
        .filter(~Q(**dict.fromkeys(MICRO_GRID_POSTS, True)))
        .select_related("parent")
        .order_by("path")
    )
    total, page = _cut(micro_grids)
    rows = [
        [
            micro_grid.name,
            micro_grid.parent.name if micro_grid.parent else "—",
            "、".join(
                str(Post(post).label) for post in MICRO_GRID_POSTS if not getattr(micro_grid, post)
            ),
        ]
        for micro_grid in page
    ]
    return DrillDown(
        columns=[str(_("Micro-grid")), str(_("Community")), str(_("Missing posts"))],
        rows=rows,
        links=[reverse("grids:grid_detail", args=[micro_grid.pk]) for micro_grid in page],
        total=total,
        note=str(
            _(
                "Micro-grids without both a party branch secretary and a social-worker lead "
                "held by active users."
            )
        ),
    )


# Visits ----------------------------------------------------------------------------------


def households_per_unit(context: Context) -> dict[str, float]:
    """Households in each unit's subtree (shared by several indicators)."""

    def count():
        return rollup(
            _per_path(Household.objects.filter(grid_path__startswith=context.root_path)), context
        )

    return context.memo("households", count)


def _visited_since(end: datetime, days: int) -> Exists:
    """The household has a visit in the `days` days up to `end` (later visits do not count)."""
    return Exists(
        Visit.objects.filter(
            household=OuterRef("pk"),
            visited_at__gte=end - timedelta(days=days),
            visited_at__lt=end,
        )
    )


def _has_vulnerable_resident() -> Exists:
    return Exists(Resident.objects.filter(household=OuterRef("pk")).exclude(vulnerability_tags=""))


def _households_where(context: Context, key: str, *conditions) -> dict[str, float]:
    # Each condition is an EXISTS in the WHERE clause, which PostgreSQL answers with a
    # semi-join over the whole subtree rather than a probe per household.
    def count():
        households = Household.objects.filter(*conditions, grid_path__startswith=context.root_path)
        return rollup(_per_path(households), context)

    return context.memo(key, count)


def _vulnerable_households(context: Context) -> dict[str, float]:
    return _households_where(context, "vulnerable_households", _has_vulnerable_resident())


def visit_coverage_30d(context: Context):
    visited = _households_where(
        context, "households_visited_30d", _visited_since(context.end, VISIT_DAYS)
    )
    return ratio(visited, households_per_unit(context), context)


def _household_rows(households: QuerySet, since: datetime, end: datetime, note: str, tags=False):
    households = (
        households.annotate(
            last_visit=Max("visits__visited_at", filter=Q(visits__visited_at__lt=end))
        )
        # Spelled out: a household never visited has no last visit, and NOT (NULL >= since)
        # would leave it out of the very list it belongs at the top of.
        .filter(Q(last_visit__lt=since) | Q(last_visit__isnull=True))
        .order_by(F("last_visit").asc(nulls_first=True), "grid_path", "id")
    )
    if tags:
        households = households.prefetch_related(
            Prefetch(
                "residents",
                queryset=Resident.objects.vulnerable().order_by("id"),
                to_attr="vulnerable_residents",
            )
        )
    total, page = _cut(households)
    labels = dict(VulnerabilityTag.choices)
    rows = []
    for household in page:
        row = [f"{household.building.name} {household.room}"]
        if tags:
            found = sorted({tag for each in household.vulnerable_residents for tag in each.tags})
            row.append("、".join(str(labels.get(tag, tag)) for tag in found))
        row.append(_local_day(household.last_visit))
        rows.append(row)
    columns = [str(_("Household"))]
    if tags:
        columns.append(str(_("Vulnerability")))
    columns.append(str(_("Last visit")))
    return DrillDown(
        columns=columns,
        rows=rows,
        links=[reverse("grids:household_detail", args=[household.pk]) for household in page],
        total=total,
        note=note,
    )


def visit_coverage_30d_rows(context: Context, unit: Unit, user: User) -> DrillDown:
    """The households of the unit not visited in the 30 days, longest unvisited first."""
    return _household_rows(
        households_visible(user=user).filter(grid_path__startswith=unit.path),
        since=context.end - timedelta(days=VISIT_DAYS),
        end=context.end,
        note=str(_("Households not visited in the last 30 days.")),
    )


def vulnerable_visit_14d(context: Context):
    visited = _households_where(
        context,
        "vulnerable_households_visited_14d",
        _has_vulnerable_resident(),
        _visited_since(context.end, VULNERABLE_VISIT_DAYS),
    )
    return ratio(visited, _vulnerable_households(context), context)


def _sensitive_households(user: User) -> QuerySet[Household]:
    """Households whose vulnerability the user may see: a vulnerable-household list tells
    who is vulnerable, so it needs VIEW_SENSITIVE (or is the user's own household)."""
    scope = scope_for(user)
    condition = within(scope.paths_for(Permission.VIEW_SENSITIVE))
    if scope.own_household_ids:
        condition |= Q(id__in=scope.own_household_ids)
    return households_visible(user=user).filter(condition)


def vulnerable_visit_14d_rows(context: Context, unit: Unit, user: User) -> DrillDown:
    """The vulnerable households of the unit not visited in the 14 days."""
    return _household_rows(
        _sensitive_households(user).filter(
            _has_vulnerable_resident(), grid_path__startswith=unit.path
        ),
        since=context.end - timedelta(days=VULNERABLE_VISIT_DAYS),
        end=context.end,
        note=str(_("Vulnerable households not visited in the last 14 days.")),
        tags=True,
    )


# Cases -----------------------------------------------------------------------------------


def _cases(context: Context) -> QuerySet[Case]:
    return Case.objects.filter(grid_path__startswith=context.root_path)


def _due_condition(context: Context) -> Q:
    """cases.metrics "due": the first time limit fell in the period and has passed."""
    passed = min(context.end, clock.now())
    return Q(original_due_at__gte=context.start, original_due_at__lt=passed) & ~Q(
        state__in=NOT_COUNTED
    )


def _on_time_condition() -> Q:
    return Q(state=CaseState.CLOSED, closed_at__lte=F("original_due_at"))


def on_time_rate(context: Context):
    def load():
        rows = (
            _cases(context)
            .filter(_due_condition(context))
            .order_by()
            .values("grid_path")
            .annotate(due=Count("id"), on_time=Count("id", filter=_on_time_condition()))
            .values_list("grid_path", "due", "on_time")
        )
        rows = list(rows)
        return (
            rollup(((path, on_time) for path, _due, on_time in rows), context),
            rollup(((path, due) for path, due, _on_time in rows), context),
        )

    on_time, due = context.memo("cases_on_time", load)
    return ratio(on_time, due, context)


def _case_row_link(case: Case) -> str:
    return reverse("cases:detail", args=[case.pk])


def on_time_rate_rows(context: Context, unit: Unit, user: User) -> DrillDown:
    """The cases that fell due in the period and were not closed by their first time limit
    (closed late or still open), earliest due first."""
    cases = (
        cases_visible(user=user)
        .filter(_due_condition(context), grid_path__startswith=unit.path)
        .exclude(_on_time_condition())
        .order_by("original_due_at", "id")
    )
    total, page = _cut(cases)
    rows = [
        [
            case.reference,
            case.title,
            _local_minute(case.original_due_at),
            _local_minute(case.closed_at)
            if case.state == CaseState.CLOSED
            else str(CaseState(case.state).label),
        ]
        for case in page
    ]
    return DrillDown(
        columns=[str(_("Reference")), str(_("Title")), str(_("First due")), str(_("Closed at"))],
        rows=rows,
        links=[_case_row_link(case) for case in page],
        total=total,
        note=str(
            _("Cases that fell due in the period and were not closed by their first time limit.")
        ),
    )


def _closed_condition(context: Context) -> Q:
    """cases.metrics "closed": closed (结案) in the period, whenever filed."""
    return Q(state=CaseState.CLOSED, closed_at__gte=context.start, closed_at__lt=context.end)


def median_hours_to_close(context: Context):
    rows = context.memo(
        "cases_close_durations",
        lambda: list(
            _cases(context)
            .filter(_closed_condition(context))
            .values_list("grid_path", "created_at", "closed_at")
        ),
    )
    return medians(
        ((path, (closed - created).total_seconds() / HOUR) for path, created, closed in rows),
        context,
    )


def median_hours_to_close_rows(context: Context, unit: Unit, user: User) -> DrillDown:
    """The cases closed in the period, slowest first."""
    cases = (
        cases_visible(user=user)
        .filter(_closed_condition(context), grid_path__startswith=unit.path)
        .annotate(
            duration=ExpressionWrapper(
                F("closed_at") - F("created_at"), output_field=DurationField()
            )
        )
        .order_by("-duration", "id")
    )
    total, page = _cut(cases)
    rows = [
        [case.reference, case.title, _local_minute(case.closed_at), _hours(case.duration)]
        for case in page
    ]
    return DrillDown(
        columns=[
            str(_("Reference")),
            str(_("Title")),
            str(_("Closed at")),
            str(_("Hours to close")),
        ],
        rows=rows,
        links=[_case_row_link(case) for case in page],
        total=total,
        note=str(_("Cases closed in the period, slowest first.")),
    )


def _escalated_condition(context: Context) -> Q:
    """Escalated (an "escalate" event, by hand or by the overdue sweep) before the end of
    the period, and open at some time in the window: not closed before it started."""
    window_start = context.end - timedelta(days=ESCALATION_WINDOW_DAYS)
    escalated = Exists(
        CaseEvent.objects.filter(case=OuterRef("pk"), action="escalate", created_at__lt=context.end)
    )
    return (
        Q(escalated)
        & ~Q(state__in=NOT_COUNTED)
        & (~Q(state=CaseState.CLOSED) | Q(closed_at__gte=window_start))
    )


def _resolved_condition(context: Context) -> Q:
    # With _escalated_condition, closed_at is already inside the window.
    return Q(state=CaseState.CLOSED, closed_at__lt=context.end)


def escalation_resolution(context: Context):
    def load():
        rows = list(
            _cases(context)
            .filter(_escalated_condition(context))
            .order_by()
            .values("grid_path")
            .annotate(
                escalated=Count("id"),
                resolved=Count("id", filter=_resolved_condition(context)),
            )
            .values_list("grid_path", "escalated", "resolved")
        )
        return (
            rollup(((path, resolved) for path, _escalated, resolved in rows), context),
            rollup(((path, escalated) for path, escalated, _resolved in rows), context),
        )

    resolved, escalated = context.memo("cases_escalated", load)
    return ratio(resolved, escalated, context)


def escalation_resolution_rows(context: Context, unit: Unit, user: User) -> DrillDown:
    """The escalated cases still open at the end of the period, oldest first."""
    cases = (
        cases_visible(user=user)
        .filter(_escalated_condition(context), grid_path__startswith=unit.path)
        .exclude(_resolved_condition(context))
        .order_by("created_at", "id")
    )
    total, page = _cut(cases)
    rows = [
        [
            case.reference,
            case.title,
            str(EscalationLevel(case.escalation_level).label),
            _local_minute(case.created_at),
            str(CaseState(case.state).label),
        ]
        for case in page
    ]
    return DrillDown(
        columns=[
            str(_("Reference")),
            str(_("Title")),
            str(_("Escalated to")),
            str(_("Filed at")),
            str(_("State now")),
        ],
        rows=rows,
        links=[_case_row_link(case) for case in page],
        total=total,
        note=str(_("Escalated cases not closed by the end of the period, oldest first.")),
    )


def _from_visit_condition(context: Context) -> Q:
    return Q(visit__isnull=False, created_at__gte=context.start, created_at__lt=context.end)


def visit_to_case_hours(context: Context):
    rows = context.memo(
        "cases_from_visits",
        lambda: list(
            _cases(context)
            .filter(_from_visit_condition(context))
            .values_list("grid_path", "created_at", "visit__visited_at")
        ),
    )
    # A visit recorded after the case it led to (entered late) counts as no delay.
    return medians(
        (
            (path, max(0.0, (created - visited).total_seconds() / HOUR))
            for path, created, visited in rows
        ),
        context,
    )


def visit_to_case_hours_rows(context: Context, unit: Unit, user: User) -> DrillDown:
    """The cases filed from a visit in the period, slowest first."""
    cases = (
        cases_visible(user=user)
        .filter(_from_visit_condition(context), grid_path__startswith=unit.path)
        .select_related("visit")
        .annotate(
            delay=ExpressionWrapper(
                F("created_at") - F("visit__visited_at"), output_field=DurationField()
            )
        )
        .order_by("-delay", "id")
    )
    total, page = _cut(cases)
    rows = [
        [
            case.reference,
            case.title,
            _local_minute(case.visit.visited_at),
            _local_minute(case.created_at),
            _hours(max(case.delay, timedelta(0))),
        ]
        for case in page
    ]
    return DrillDown(
        columns=[
            str(_("Reference")),
            str(_("Title")),
            str(_("Visited at")),
            str(_("Filed at")),
            str(_("Hours")),
        ],
        rows=rows,
        links=[_case_row_link(case) for case in page],
        total=total,
        note=str(_("Cases filed from a visit finding in the period, slowest first.")),
    )


# The catalogue ---------------------------------------------------------------------------

register(
    Indicator(
        code="S_LEADERS",
        dimension=Dimension.STRUCTURAL,
        name=_("Building groups with an active leader"),
        formula=_(
            "building groups where a user with an active account holds the building-group "
            "leader role there ÷ building groups. At a building group: 1 or 0. Default target 1.0."
        ),
        source=_("Posts (role assignments) and the grid"),
        direction=HIGHER,
        target=1.0,
        unit="share",
        compute=leader_coverage,
        drilldown=leader_coverage_rows,
    )
)

register(
    Indicator(
        code="S_MICRO_PAIRS",
        dimension=Dimension.STRUCTURAL,
        name=_("Micro-grids with a branch secretary and a social-worker lead"),
        formula=_(
            "micro-grids where both the party branch secretary post and the social-worker "
            "lead post are held on the micro-grid by users with active accounts ÷ "
            "micro-grids. Default target 1.0."
        ),
        source=_("Posts (role assignments) and the grid"),
        direction=HIGHER,
        target=1.0,
        unit="share",
        compute=micro_grid_pairs,
        drilldown=micro_grid_pairs_rows,
        finest_level=GridLevel.MICRO_GRID,
    )
)

register(
    Indicator(
        code="S_VISIT_30D",
        dimension=Dimension.STRUCTURAL,
        name=_("Households visited in the last 30 days"),
        formula=_(
            "households with at least one visit in the 30 days up to the end of the period "
            "÷ households. Default target 0.9."
        ),
        source=_("Visits (寻访) and the household registry"),
        direction=HIGHER,
        target=0.9,
        unit="share",
        compute=visit_coverage_30d,
        drilldown=visit_coverage_30d_rows,
    )
)

register(
    Indicator(
        code="S_VULNERABLE_VISIT_14D",
        dimension=Dimension.STRUCTURAL,
        name=_("Vulnerable households visited in the last 14 days"),
        formula=_(
            "households with a vulnerable resident (any vulnerability tag) and at least one "
            "visit in the 14 days up to the end of the period ÷ households with a "
            "vulnerable resident. Default target 1.0."
        ),
        source=_("Visits (寻访) and the resident registry"),
        direction=HIGHER,
        target=1.0,
        unit="share",
        compute=vulnerable_visit_14d,
        drilldown=vulnerable_visit_14d_rows,
    )
)

register(
    Indicator(
        code="S_ON_TIME",
        dimension=Dimension.STRUCTURAL,
        name=_("Cases closed on time (按期结案率)"),
        formula=_(
            "cases whose first time limit fell in the period, closed by that limit ÷ cases "
            "whose first time limit fell in the period (rejected and merged cases left out; "
            "the same definition as the case metrics page). Default target 0.9."
        ),
        source=_("民情 cases"),
        direction=HIGHER,
        target=0.9,
        unit="share",
        compute=on_time_rate,
        drilldown=on_time_rate_rows,
    )
)

register(
    Indicator(
        code="S_CLOSE_HOURS",
        dimension=Dimension.STRUCTURAL,
        name=_("Median hours to close a case"),
        formula=_(
            "median of the hours from filing to closing (结案) of the cases closed in the "
            "period. Lower is better; default target 72 hours."
        ),
        source=_("民情 cases"),
        direction=LOWER,
        target=72.0,
        unit="hours",
        compute=median_hours_to_close,
        drilldown=median_hours_to_close_rows,
    )
)

register(
    Indicator(
        code="S_ESCALATION_RESOLVED",
        dimension=Dimension.STRUCTURAL,
        name=_("Escalated cases resolved"),
        formula=_(
            "escalated cases (escalated at least once before the end of the period) closed "
            "(结案) in the 90 days up to the end of the period ÷ escalated cases open at any "
            "time in those 90 days. An escalated case still open keeps counting, however "
            "old; rejected and merged cases are left out. Default target 0.8."
        ),
        source=_("民情 cases and their escalations"),
        direction=HIGHER,
        target=0.8,
        unit="share",
        compute=escalation_resolution,
        drilldown=escalation_resolution_rows,
    )
)

register(
    Indicator(
        code="S_VISIT_TO_CASE_HOURS",
        dimension=Dimension.STRUCTURAL,
        name=_("Median hours from a visit finding to its case"),
        formula=_(
            "median of the hours from a visit to the filing of the case made from it, over "
            "the cases filed from visits in the period. Lower is better; default target 24 "
            "hours."
        ),
        source=_("Visits (寻访) and 民情 cases"),
        direction=LOWER,
        target=24.0,
        unit="hours",
        compute=visit_to_case_hours,
        drilldown=visit_to_case_hours_rows,
    )
)
