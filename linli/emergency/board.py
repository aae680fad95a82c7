"""The live board (应急指挥看板): every figure of one activation, for one person's part of it.

The secretary sees the whole activation; a micro-grid lead or building-group leader sees
the tasks, help requests, volunteers and supplies of their own subtree only. Each figure
is one aggregate or one bounded list query, so the board costs the same dozen queries for
a building group or a street and can be polled every few seconds. Every number is a count
of rows that the lists below it (or the task pages) show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Sum
from django.http import Http404

from linli import clock
from linli.accounts.grid_paths import is_within, within
from linli.accounts.models import User
from linli.accounts.roles import Permission
from linli.emergency.models import (
    OPEN_HELP_STATES,
    OPEN_TASK_STATES,
    Activation,
    HelpRequest,
    Task,
    TaskKind,
    TaskReport,
    TaskState,
    Unavailability,
    Urgency,
)
from linli.grids.selectors import scope_for
from linli.supplies.models import SupplyCategory, SupplyItem
from linli.volunteers.models import Volunteer

# A volunteer who acknowledged or reported within this window counts as active.
ACTIVE_WINDOW = timedelta(minutes=30)
# Lists on the board are cut here; the counts above them stay exact.
LIST_LIMIT = 50
# Points of the coverage curve (evenly spaced from activation to now or stand-down).
CURVE_POINTS = 13
SPARKLINE_WIDTH = 300
SPARKLINE_HEIGHT = 80


def board_paths(activation: Activation, user: User) -> list[str]:
    """The parts of the activation's scope that this person follows on the board: the whole
    scope when their emergency paths cover it, else their own subtrees inside it. Empty
    when they follow none of it (the board is then a 404)."""
    scope = scope_for(user)
    paths = scope.paths_for(Permission.EMERGENCY_HELP)
    if is_within(activation.grid_path, paths):
        return [activation.grid_path]
    return sorted(path for path in paths if is_within(path, [activation.grid_path]))


@dataclass
class CoveragePoint:
    at: datetime
    minutes: int
    contacted: int
    share: float  # 0..100


@dataclass
class Board:
    activation: Activation
    paths: list[str]
    whole_scope: bool
    now: datetime
    targeted: int = 0
    contacted: int = 0
    coverage_share: float = 0.0
    curve: list[CoveragePoint] = field(default_factory=list)
    sparkline: str = ""
    tasks_total: int = 0
    tasks_by_state: list[tuple[str, str, int]] = field(default_factory=list)
    tasks_open: int = 0
    tasks_done: int = 0
    overdue_count: int = 0
    overdue: list[Task] = field(default_factory=list)
    unassigned_count: int = 0
    unassigned_by_reason: list[tuple[str, int]] = field(default_factory=list)
    unassigned: list[Task] = field(default_factory=list)
    help_open: int = 0
    help_by_urgency: list[tuple[int, str, int]] = field(default_factory=list)
    help_requests: list[HelpRequest] = field(default_factory=list)
    volunteers_active: list[tuple[int, str]] = field(default_factory=list)
    volunteers_idle: list[tuple[int, str]] = field(default_factory=list)
    volunteers_unavailable: list[tuple[int, str, str]] = field(default_factory=list)
    supplies_below: list[SupplyItem] = field(default_factory=list)
    supply_minimums: list[dict] = field(default_factory=list)

    @property
    def supply_minimums_short(self) -> list[dict]:
        return [row for row in self.supply_minimums if row["short"]]


def _coverage(board: Board, tasks) -> None:
    """Targeted households are those of the welfare checks (a check cancelled while the
    emergency ran, by lowering the grade, no longer targets anyone); contacted ones were
    reached at least once. The curve counts each household at its first contact."""
    activation = board.activation
    welfare = tasks.filter(kind=TaskKind.WELFARE_CHECK, household__isnull=False)
    if activation.stood_down_at is not None:
        welfare = welfare.exclude(
            state=TaskState.CANCELLED, completed_at__lt=activation.stood_down_at
        )
    else:
        welfare = welfare.exclude(state=TaskState.CANCELLED)
    first_contact: dict[int, datetime | None] = {}
    for household_id, contacted_at in welfare.values_list("household_id", "contacted_at"):
        known = first_contact.get(household_id)
        if contacted_at is not None and (known is None or contacted_at < known):
            first_contact[household_id] = contacted_at
        else:
            first_contact.setdefault(household_id, None)
    board.targeted = len(first_contact)
    times = sorted(moment for moment in first_contact.values() if moment is not None)
    board.contacted = len(times)
    board.coverage_share = _share(board.contacted, board.targeted)

    start = activation.activated_at
    end = max(activation.stood_down_at or board.now, start)
    span = end - start
    points: list[CoveragePoint] = []
    index = 0
    for step in range(CURVE_POINTS):
        moment = start + span * step / (CURVE_POINTS - 1)
        while index < len(times) and times[index] <= moment:
            index += 1
        points.append(
            CoveragePoint(
                at=moment,
                minutes=int((moment - start).total_seconds() // 60),
                contacted=index,
                share=_share(index, board.targeted),
            )
        )
    board.curve = points
    board.sparkline = " ".join(
        f"{SPARKLINE_WIDTH * step / (CURVE_POINTS - 1):.1f},"
        f"{SPARKLINE_HEIGHT - SPARKLINE_HEIGHT * point.share / 100:.1f}"
        for step, point in enumerate(points)
    )


def _share(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def _tasks(board: Board, tasks) -> None:
    counts = {
        row["state"]: row
        for row in tasks.values("state").annotate(
            total=Count("id"), overdue=Count("id", filter=Q(due_at__lt=board.now))
        )
    }
    board.tasks_by_state = [
        (state.value, str(state.label), counts[state]["total"] if state in counts else 0)
        for state in TaskState
    ]
    board.tasks_total = sum(row["total"] for row in counts.values())
    board.tasks_open = sum(counts[s]["total"] for s in OPEN_TASK_STATES if s in counts)
    board.tasks_done = counts[TaskState.DONE]["total"] if TaskState.DONE in counts else 0
    board.overdue_count = sum(counts[s]["overdue"] for s in OPEN_TASK_STATES if s in counts)
    board.unassigned_count = (
        counts[TaskState.UNASSIGNED]["total"] if TaskState.UNASSIGNED in counts else 0
    )
    related = ("household", "household__building", "building", "assignee")
    board.overdue = list(
        tasks.filter(state__in=OPEN_TASK_STATES, due_at__lt=board.now)
        .select_related(*related)
        .order_by("due_at", "id")[:LIST_LIMIT]
    )
    if board.unassigned_count:
        board.unassigned_by_reason = list(
            tasks.filter(state=TaskState.UNASSIGNED)
            .values_list("unassigned_reason")
            .annotate(count=Count("id"))
            .order_by("-count", "unassigned_reason")
        )
        board.unassigned = list(
            tasks.filter(state=TaskState.UNASSIGNED).select_related(*related)[:LIST_LIMIT]
        )


def _help(board: Board) -> None:
    requests = HelpRequest.objects.filter(
        within(board.paths), activation=board.activation, state__in=OPEN_HELP_STATES
    )
    counts = dict(requests.values_list("urgency").annotate(count=Count("id")))
    board.help_by_urgency = [
        (urgency.value, str(urgency.label), counts.get(urgency.value, 0)) for urgency in Urgency
    ]
    board.help_open = sum(counts.values())
    board.help_requests = list(
        requests.select_related(
            "household", "household__building", "volunteer", "partner"
        ).order_by("urgency", "created_at", "id")[:LIST_LIMIT]
    )
    for request in board.help_requests:
        request.age_minutes = int((board.now - request.created_at).total_seconds() // 60)


def _volunteers(board: Board) -> None:
    """Serving volunteers of the part (by registration or by home building), sorted into
    unavailable (marked in this activation), active (acknowledged a task or reported within
    the last half hour) and idle (everyone else)."""
    activation = board.activation
    since = board.now - ACTIVE_WINDOW
    unavailable = Unavailability.objects.filter(activation=activation, volunteer_id=OuterRef("pk"))
    rows = (
        Volunteer.objects.serving()
        .filter(within(board.paths) | within(board.paths, "home_building__grid_path"))
        .annotate(
            unavailable_reason=Subquery(unavailable.values("reason")[:1]),
            acknowledged=Exists(
                Task.objects.filter(
                    activation=activation, assignee_id=OuterRef("pk"), acknowledged_at__gte=since
                )
            ),
            reported=Exists(
                TaskReport.objects.filter(
                    task__activation=activation,
                    volunteer_id=OuterRef("pk"),
                    created_at__gte=since,
                )
            ),
        )
        .order_by("name", "id")
        .values_list("id", "name", "unavailable_reason", "acknowledged", "reported")
    )
    for volunteer_id, name, reason, acknowledged, reported in rows:
        if reason is not None:
            board.volunteers_unavailable.append((volunteer_id, name, reason))
        elif acknowledged or reported:
            board.volunteers_active.append((volunteer_id, name))
        else:
            board.volunteers_idle.append((volunteer_id, name))


def _supplies(board: Board) -> None:
    items = SupplyItem.objects.filter(within(board.paths))
    board.supplies_below = list(
        items.filter(quantity__lt=F("minimum_level"))
        .select_related("location")
        .order_by("grid_path", "name", "id")[:LIST_LIMIT]
    )
    # The plan's minimums hold for the whole scope: a part is not measured against them.
    minimums = list(board.activation.plan.supply_minimums.all()) if board.whole_scope else []
    if not minimums:
        return
    held = dict(
        items.filter(category__in=[m.category for m in minimums])
        .values_list("category")
        .annotate(total=Sum("quantity"))
    )
    for minimum in sorted(minimums, key=lambda m: m.category):
        quantity = held.get(minimum.category) or 0
        board.supply_minimums.append(
            {
                "category": minimum.category,
                "label": _category_label(minimum.category),
                "minimum": minimum.minimum_quantity,
                "quantity": quantity,
                "short": quantity < minimum.minimum_quantity,
            }
        )


def _category_label(code: str) -> str:
    try:
        return str(SupplyCategory(code).label)
    except ValueError:
        return code


def board_data(activation: Activation, user: User, *, now: datetime | None = None) -> Board:
    """Every figure of the board for `user`'s part of `activation` (404 when they follow no
    part of it)."""
    paths = board_paths(activation, user)
    if not paths:
        raise Http404
    board = Board(
        activation=activation,
        paths=paths,
        whole_scope=paths == [activation.grid_path],
        now=now or clock.now(),
    )
    tasks = Task.objects.filter(within(paths), activation=activation)
    _coverage(board, tasks)
    _tasks(board, tasks)
    _help(board)
    _volunteers(board)
    _supplies(board)
    return board
