"""Reads of cases, scoped by the acting user through grids.selectors.scope_for."""

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Case as When_
from django.db.models import Count, IntegerField, Q, QuerySet, Value, When

from linli import clock
from linli.accounts.grid_paths import path_ancestors, within
from linli.accounts.models import User
from linli.accounts.privacy import mask_numbers_in_text
from linli.accounts.roles import ROLE_PERMISSIONS, Permission
from linli.cases.models import (
    ACTIVE_STATES,
    OPEN_STATES,
    Case,
    CaseCategory,
    CaseEvent,
    CaseState,
    Coordination,
)
from linli.errors import get_visible_or_404
from linli.grids.geo import distance_metres
from linli.grids.models import Building, GridLevel, GridUnit, Household, RoleAssignment
from linli.grids.selectors import scope_for

DUPLICATE_RADIUS_METRES = 50
DUPLICATE_WINDOW = timedelta(days=7)


def cases_visible(*, user: User | None) -> QuerySet[Case]:
    """Staff: cases inside the subtrees they may view; anyone: the cases they reported."""
    if user is None or not user.is_authenticated:
        return Case.objects.none()
    condition = Q(reporter=user) | within(scope_for(user).paths_for(Permission.VIEW_REGISTRY))
    return Case.objects.filter(condition).select_related(
        "category", "building", "owner_unit", "owner_user"
    )


def covers_case(*, user: User | None, case: Case) -> bool:
    """Does one of the user's posts cover the case's place? Staff rights on a case (the
    person in charge, the 会商 records, the timeline's actors) come from such a post, never
    from a post held somewhere else by its reporter."""
    return scope_for(user).allows(Permission.VIEW_REGISTRY, case.grid_path)


def case_text(*, user: User | None, case: Case, text: str, typed_by_id: int | None = None) -> str:
    """Free text of `case` (its title and description, the handler, a timeline note) as
    `user` reads it. Staff whose post covers the case read it as typed (it may name people
    and their numbers), and so does the person who typed it (`typed_by_id`: their own
    words); anyone else (a reporter reading staff's notes, who may be a volunteer or a
    partner unit's liaison) reads it with phone and ID numbers masked."""
    if covers_case(user=user, case=case):
        return text
    if typed_by_id is not None and user is not None and typed_by_id == user.pk:
        return text
    return mask_numbers_in_text(text)


def coordinations_visible(*, user: User | None, case: Case) -> list[Coordination]:
    """The 会商 records of `case` that `user` may read: all of them for staff whose post
    covers the case, none for anyone else (they may name the other party of a dispute)."""
    if not covers_case(user=user, case=case):
        return []
    return list(case.coordinations.all())


# Timeline steps whose note is a staff record (the 会商 decision may name the other party
# of a dispute): the step shows to the reporter, its note only to staff covering the case.
STAFF_NOTE_ACTIONS = frozenset({"coordinate"})


def case_timeline(*, user: User | None, case: Case) -> list[CaseEvent]:
    """The case's events in order, as `user` may read them."""
    events = list(case.events.select_related("actor").order_by("created_at", "id"))
    if not covers_case(user=user, case=case):
        for event in events:
            if event.action in STAFF_NOTE_ACTIONS:
                event.note = ""
            else:
                event.note = case_text(
                    user=user, case=case, text=event.note, typed_by_id=event.actor_id
                )
    return events


def case_get(*, user: User | None, case_id: int) -> Case:
    return get_visible_or_404(cases_visible(user=user), case_id)


def case_assignees(*, case: Case) -> list[RoleAssignment]:
    """Who may be given the case: active users holding CASE_HANDLE on a unit whose subtree
    holds it, one row per person (their closest post), the building-group leader first.

    The caller has already reached the case through `case_get`, so the case is in scope;
    the list offers names, posts and units only, never a phone."""
    roles = [
        role for role, granted in ROLE_PERMISSIONS.items() if Permission.CASE_HANDLE in granted
    ]
    posts = RoleAssignment.objects.filter(
        role__in=roles, grid_path__in=path_ancestors(case.grid_path), user__is_active=True
    ).select_related("user", "grid_unit")
    # Every post here is on an ancestor of the case, so a longer path is a closer unit.
    ordered = sorted(
        posts, key=lambda post: (-len(post.grid_path), str(post.user), post.user_id, post.pk)
    )
    closest: dict[int, RoleAssignment] = {}
    for post in ordered:
        closest.setdefault(post.user_id, post)
    return list(closest.values())


def workbench(
    *,
    user: User,
    state: str | None = None,
    category: CaseCategory | None = None,
    building: Building | None = None,
    source: str | None = None,
    now: datetime | None = None,
) -> QuerySet[Case]:
    """A staff member's open queue within their subtree: overdue first, then by due time."""
    now = now or clock.now()
    cases = Case.objects.within(scope_for(user).paths_for(Permission.VIEW_REGISTRY))
    cases = cases.filter(state=state) if state else cases.open()
    if category is not None:
        cases = cases.filter(category=category)
    if building is not None:
        cases = cases.filter(building=building)
    if source:
        cases = cases.filter(source=source)
    overdue_first = When_(
        When(state__in=ACTIVE_STATES, due_at__lt=now, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return (
        cases.select_related("category", "building", "owner_unit", "owner_user")
        .annotate(overdue_rank=overdue_first)
        .order_by("overdue_rank", "due_at", "id")
    )


def board_communities(*, user: User) -> list[GridUnit]:
    """The communities whose public board the user is offered: those containing (or inside)
    their posts, and the one they live in."""
    scope = scope_for(user)
    paths = set(scope.paths_for(Permission.VIEW_REGISTRY))
    paths |= set(
        Household.objects.filter(id__in=scope.own_household_ids).values_list("grid_path", flat=True)
    )
    if not paths:
        return []
    # A community's path is a prefix of every path below it, and inside every post above it.
    containing = {ancestor for path in paths for ancestor in path_ancestors(path)}
    communities = GridUnit.objects.filter(level=GridLevel.COMMUNITY)
    return list(
        (communities.filter(path__in=containing) | communities.within(sorted(paths))).order_by(
            "path"
        )
    )


def public_board(*, community: GridUnit) -> list[Mapping[str, Any]]:
    """What anyone may see about a community's problems: no names, rooms or descriptions."""
    return list(
        Case.objects.within([community.path])
        .filter(category__is_public=True)
        .exclude(state__in=[CaseState.REJECTED, CaseState.DUPLICATE])
        .order_by("-created_at", "-id")
        .values(
            "reference",
            "category__name_zh",
            "category__name_en",
            "state",
            "created_at",
            "building__name",
        )
    )


def cases_for_duplicates(*, user: User | None) -> QuerySet[Case]:
    """The cases that may be offered to `user` as suspected duplicates: those they may open
    (cases_visible: their staff subtrees and their own filings) and, in the communities they
    live or work in, the cases anyone may read on the public board (public categories).
    A dispute (a non-public category) of a neighbour is never among them."""
    if user is None or not user.is_authenticated:
        return Case.objects.none()
    condition = Q(reporter=user) | within(scope_for(user).paths_for(Permission.VIEW_REGISTRY))
    public = within(community.path for community in board_communities(user=user))
    return Case.objects.filter(condition | (public & Q(category__is_public=True)))


def duplicate_candidates(
    *,
    user: User | None,
    category: CaseCategory,
    building: Building | None = None,
    latitude: Decimal | float | None = None,
    longitude: Decimal | float | None = None,
    now: datetime | None = None,
) -> list[Case]:
    """Open cases of the same category filed in the last 7 days at the same building or
    within 50 m, among those `user` may be shown (cases_for_duplicates). Shown before filing
    and to staff, who may merge them."""
    now = now or clock.now()
    recent = cases_for_duplicates(user=user).filter(
        category=category, state__in=OPEN_STATES, created_at__gte=now - DUPLICATE_WINDOW
    )
    if latitude is None and building is not None and building.latitude is not None:
        latitude, longitude = building.latitude, building.longitude
    condition = Q(pk__in=[])
    if building is not None:
        condition |= Q(building=building)
    if latitude is not None and longitude is not None:
        # A bounding box lets the database discard far rows; haversine decides the rest.
        box = Decimal("0.001")
        lat, lon = Decimal(str(latitude)), Decimal(str(longitude))
        condition |= Q(
            latitude__range=(lat - box, lat + box), longitude__range=(lon - box, lon + box)
        )
    found = []
    for case in (
        recent.filter(condition)
        .select_related("building", "category")
        .order_by("-created_at", "-id")
    ):
        same_building = building is not None and case.building_id == building.pk
        near = (
            latitude is not None
            and case.latitude is not None
            and distance_metres(latitude, longitude, case.latitude, case.longitude)
            <= DUPLICATE_RADIUS_METRES
        )
        if same_building or near:
            found.append(case)
    return found


# Categories ------------------------------------------------------------------------------


def category_tree_with_counts(*, user: User) -> list[tuple[CaseCategory, list[CaseCategory]]]:
    """Every class, active or not, as (major, minors), each minor annotated with
    `open_cases`: its open cases inside the user's subtrees (the tree is shared, the counts
    are not). Two queries."""
    counts = dict(
        Case.objects.within(scope_for(user).paths_for(Permission.VIEW_REGISTRY))
        .open()
        .order_by()
        .values_list("category")
        .annotate(count=Count("id"))
    )
    majors: dict[int, tuple[CaseCategory, list[CaseCategory]]] = {}
    minors: list[tuple[int, CaseCategory]] = []
    for category in CaseCategory.objects.order_by("sort_order", "code"):
        if category.parent_id is None:
            majors[category.pk] = (category, [])
        else:
            category.open_cases = counts.get(category.pk, 0)
            minors.append((category.parent_id, category))
    for parent_id, minor in minors:
        majors[parent_id][1].append(minor)
    return list(majors.values())
