"""The scope layer: what a user may see, decided here and nowhere else.

A user's scope is the set of grid paths their role assignments cover, per permission, plus
(for a resident) their own household. Every page, API route, export and admin list reads
through these functions; a row outside the scope is simply not in the queryset, so the
caller answers 404 without learning anything.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import TypeVar

from django.db.models import Count, Q, QuerySet

from linli import clock
from linli.accounts.grid_paths import collapse_paths, is_within, path_ancestors, within
from linli.accounts.models import AuditEntry, User
from linli.accounts.roles import ROLE_PERMISSIONS, Permission, Role
from linli.errors import NotVisible, get_visible_or_404
from linli.grids.geo import distance_metres, point_in_geojson
from linli.grids.models import (
    Building,
    GridLevel,
    GridUnit,
    GridUnitQuerySet,
    Household,
    Resident,
    ResidentAccount,
    ResidentQuerySet,
    RoleAssignment,
    RoleAssignmentQuerySet,
    Visit,
    VisitQuerySet,
    WithinPathQuerySet,
)

RowsWithPath = TypeVar("RowsWithPath", bound=WithinPathQuerySet)


@dataclass(frozen=True)
class Scope:
    """Grid paths per permission; `own_household_ids` for a resident's own household."""

    paths: dict[str, tuple[str, ...]] = field(default_factory=dict)
    own_household_ids: tuple[int, ...] = ()
    roles: frozenset[str] = frozenset()
    unrestricted: bool = False
    # Every unit the person holds any role on (volunteers and residents included): where
    # they belong, whatever they may do there (the emergency banner reads it).
    role_paths: tuple[str, ...] = ()

    def paths_for(self, permission: str) -> list[str]:
        if self.unrestricted:
            return ["/"]
        return list(self.paths.get(permission, ()))

    def allows(self, permission: str, grid_path: str) -> bool:
        return is_within(grid_path, self.paths_for(permission))

    def allows_anywhere(self, permission: str) -> bool:
        return bool(self.paths_for(permission))

    @property
    def is_resident_only(self) -> bool:
        return not self.unrestricted and not any(paths for permission, paths in self.paths.items())


_EMPTY = Scope()
# Where `scope_for` keeps its answer on the user object for the rest of the request.
SCOPE_ATTRIBUTE = "_linli_scope"


def scope_for(user: User | None) -> Scope:
    """The user's scope, computed once per request (cached on the user object)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return _EMPTY
    cached = getattr(user, SCOPE_ATTRIBUTE, None)
    if cached is not None:
        return cached
    if user.is_superuser:
        scope = Scope(unrestricted=True, roles=frozenset(Role.values))
    else:
        by_permission: dict[str, set[str]] = {}
        roles: set[str] = set()
        role_paths: set[str] = set()
        for role, grid_path in RoleAssignment.objects.filter(user=user).values_list(
            "role", "grid_path"
        ):
            roles.add(role)
            role_paths.add(grid_path)
            if role == Role.RESIDENT:
                # A resident's role never opens their building group: only their household.
                continue
            for permission in ROLE_PERMISSIONS.get(role, ()):
                by_permission.setdefault(permission, set()).add(grid_path)
        own = tuple(
            Household.objects.filter(residents__account__user=user)
            .values_list("id", flat=True)
            .distinct()
        )
        scope = Scope(
            paths={
                permission: collapse_paths(paths) for permission, paths in by_permission.items()
            },
            own_household_ids=own,
            roles=frozenset(roles),
            role_paths=tuple(sorted(role_paths)),
        )
    setattr(user, SCOPE_ATTRIBUTE, scope)
    return scope


def forget_scope(user: User) -> None:
    """Drop the cached scope (the person's posts or resident login changed in this request)."""
    # delattr, not the instance's __dict__: request.user is a lazy object over the user.
    if hasattr(user, SCOPE_ATTRIBUTE):
        delattr(user, SCOPE_ATTRIBUTE)


def _registry(queryset: RowsWithPath, scope: Scope, household_field: str | None) -> RowsWithPath:
    condition = within(scope.paths_for(Permission.VIEW_REGISTRY))
    if household_field and scope.own_household_ids:
        condition |= Q(**{f"{household_field}__in": scope.own_household_ids})
    return queryset.filter(condition)


# Grid units --------------------------------------------------------------------------


def grid_units_visible(*, user: User) -> GridUnitQuerySet:
    scope = scope_for(user)
    return GridUnit.objects.within(scope.paths_for(Permission.VIEW_REGISTRY))


def grid_unit_get(*, user: User, grid_unit_id: int) -> GridUnit:
    return get_visible_or_404(grid_units_visible(user=user), grid_unit_id)


def ancestors_visible(
    *, user: User, grid_unit: GridUnit, include_self: bool = False
) -> list[GridUnit]:
    """The breadcrumb: the unit's ancestors the user may open (and the unit, if asked)."""
    units = grid_units_visible(user=user).filter(path__in=grid_unit.ancestor_paths())
    if not include_self:
        units = units.exclude(pk=grid_unit.pk)
    return list(units.order_by("path"))


def crumbs_for_path(*, user: User, grid_path: str) -> list[GridUnit]:
    """The visible grid units above a registry row, e.g. a household's building group."""
    return list(
        grid_units_visible(user=user).filter(path__in=path_ancestors(grid_path)).order_by("path")
    )


def grid_roots_for(*, user: User) -> list[GridUnit]:
    """The top units of the user's visible forest (their own posts' units)."""
    scope = scope_for(user)
    paths = scope.paths_for(Permission.VIEW_REGISTRY)
    if scope.unrestricted:
        return list(GridUnit.objects.filter(parent__isnull=True))
    return list(GridUnit.objects.filter(path__in=paths))


def grid_unit_children_with_counts(*, user: User, grid_unit: GridUnit) -> list[dict]:
    """Each visible child with its buildings, households, residents and elderly counts."""
    children = list(
        grid_units_visible(user=user).filter(parent=grid_unit).order_by("sort_order", "code")
    )
    return [dict(unit=child, **registry_counts(user=user, path=child.path)) for child in children]


def registry_counts(*, user: User, path: str) -> dict[str, int]:
    """Counts inside one subtree, restricted to what the user may see."""
    cutoff = clock.now() - timedelta(days=30)
    residents = residents_visible(user=user).within([path])
    resident_counts = residents.aggregate(
        residents=Count("id"), vulnerable=Count("id", filter=~Q(vulnerability_tags=""))
    )
    return {
        "buildings": buildings_visible(user=user).within([path]).count(),
        "households": households_visible(user=user).within([path]).count(),
        "residents": resident_counts["residents"],
        "vulnerable": resident_counts["vulnerable"],
        "visits_30d": visits_visible(user=user)
        .within([path])
        .filter(visited_at__gte=cutoff)
        .count(),
    }


def users_in_scope(*, user: User, permission: str = Permission.MANAGE_ROLES) -> QuerySet[User]:
    """The logins of the user's area, for the admin's pickers and the link service: those
    holding a post or linked to a resident inside the paths where the user has
    `permission` (assigning posts, by default). A superuser's area holds every account;
    a login attached nowhere is in nobody else's."""
    scope = scope_for(user)
    if scope.unrestricted:
        return User.objects.all()
    paths = scope.paths_for(permission)
    if not paths:
        return User.objects.none()
    posts = RoleAssignment.objects.within(paths).values("user_id")
    links = ResidentAccount.objects.filter(
        resident__in=Resident.objects.within(paths).values("id")
    ).values("user_id")
    return User.objects.filter(Q(pk__in=posts) | Q(pk__in=links))


def role_assignments_visible(*, user: User) -> RoleAssignmentQuerySet:
    paths = scope_for(user).paths_for(Permission.VIEW_REGISTRY)
    return RoleAssignment.objects.within(paths).select_related("user", "grid_unit")


def posts_of_user(*, user: User) -> list[RoleAssignment]:
    """The person's own posts (the top bar lists them), wherever they are."""
    if not user.is_authenticated:
        return []
    return list(
        RoleAssignment.objects.filter(user=user).select_related("grid_unit").order_by("grid_path")
    )


def posts_in(*, user: User, grid_unit: GridUnit) -> RoleAssignmentQuerySet:
    """Who holds which post in the subtree (only within the user's scope)."""
    return role_assignments_visible(user=user).within([grid_unit.path]).exclude(role=Role.RESIDENT)


def micro_grids_with_counts(*, user: User, community: GridUnit) -> list[dict]:
    units = (
        grid_units_visible(user=user).filter(level=GridLevel.MICRO_GRID).within([community.path])
    )
    return [dict(unit=unit, **registry_counts(user=user, path=unit.path)) for unit in units]


# Registry ------------------------------------------------------------------------------


def buildings_visible(*, user: User) -> WithinPathQuerySet:
    scope = scope_for(user)
    queryset = _registry(Building.objects.all(), scope, None)
    if scope.own_household_ids:
        queryset = queryset | Building.objects.filter(households__in=scope.own_household_ids)
    return queryset.distinct() if scope.own_household_ids else queryset


def building_get(*, user: User, building_id: int) -> Building:
    return get_visible_or_404(buildings_visible(user=user).select_related("grid_unit"), building_id)


def households_visible(*, user: User) -> WithinPathQuerySet:
    return _registry(Household.objects.select_related("building"), scope_for(user), "id")


def household_get(*, user: User, household_id: int) -> Household:
    return get_visible_or_404(households_visible(user=user), household_id)


def residents_visible(*, user: User) -> ResidentQuerySet:
    return _registry(
        Resident.objects.select_related("household__building"), scope_for(user), "household_id"
    )


def resident_get(*, user: User, resident_id: int) -> Resident:
    return get_visible_or_404(residents_visible(user=user), resident_id)


def resident_search(
    *, user: User, query: str = "", grid_unit: GridUnit | None = None, tag: str = ""
) -> ResidentQuerySet:
    residents = residents_visible(user=user)
    if grid_unit is not None:
        residents = residents.within([grid_unit.path])
    if tag:
        residents = residents_with_visible_tag(user=user, residents=residents, tag=tag)
    query = query.strip()
    if query:
        residents = residents.filter(
            Q(name__contains=query) | Q(household__room=query) | Q(household__building__name=query)
        )
    return residents.order_by("grid_path", "id")


def residents_with_visible_tag(
    *, user: User, residents: ResidentQuerySet, tag: str
) -> ResidentQuerySet:
    """Narrow `residents` to those carrying `tag`, counting only rows whose tags the user may
    see (a VIEW_SENSITIVE subtree, or their own household), so that filtering by a tag can
    never disclose a tag the list itself would hide."""
    scope = scope_for(user)
    condition = within(scope.paths_for(Permission.VIEW_SENSITIVE))
    if scope.own_household_ids:
        condition |= Q(household_id__in=scope.own_household_ids)
    return residents.filter(condition).with_tag(tag)


def sensitive_visible(*, user: User, grid_path: str, household_id: int | None = None) -> bool:
    """Health and vulnerability tags: within a VIEW_SENSITIVE subtree, or one's own household."""
    scope = scope_for(user)
    if household_id is not None and household_id in scope.own_household_ids:
        return True
    return scope.allows(Permission.VIEW_SENSITIVE, grid_path)


def visits_visible(*, user: User) -> VisitQuerySet:
    return _registry(
        Visit.objects.select_related("household__building", "visitor"),
        scope_for(user),
        "household_id",
    )


def visit_get(*, user: User, visit_id: int) -> Visit:
    return get_visible_or_404(visits_visible(user=user), visit_id)


def households_for_visiting(*, user: User) -> WithinPathQuerySet:
    """Households the user may record a visit to."""
    paths = scope_for(user).paths_for(Permission.RECORD_VISIT)
    return Household.objects.within(paths).select_related("building")


def household_for_visiting_get(*, user: User, household_id) -> Household:
    return get_visible_or_404(households_for_visiting(user=user), household_id)


def households_for_visiting_search(*, user: User, query: str = "") -> WithinPathQuerySet:
    """Households the user may visit, found by building name, room or a member's name."""
    households = households_for_visiting(user=user)
    if query:
        households = households.filter(
            Q(building__name__contains=query)
            | Q(room__startswith=query)
            | Q(residents__name__contains=query)
        ).distinct()
    return households.order_by("grid_path", "building__name", "room")


# Permissions ----------------------------------------------------------------------------


def user_can(*, user: User, permission: str, grid_path: str | None = None) -> bool:
    scope = scope_for(user)
    if grid_path is None:
        return scope.allows_anywhere(permission)
    return scope.allows(permission, grid_path)


def needs_registry(*, user: User, permission: str = Permission.VIEW_REGISTRY) -> None:
    """Pages for a registry role answer 404 to anyone without that role anywhere."""
    if not user_can(user=user, permission=permission):
        raise NotVisible()


def audit_entries_visible(*, user: User) -> QuerySet[AuditEntry]:
    scope = scope_for(user)
    return AuditEntry.objects.within_paths(scope.paths_for(Permission.VIEW_AUDIT)).select_related(
        "actor"
    )


# Places ------------------------------------------------------------------------------

NEAREST_BUILDING_METRES = 300
# Levels that own problems found at a place (the block has no post that handles them).
PLACE_OWNING_LEVELS = (GridLevel.BUILDING_GROUP, GridLevel.MICRO_GRID, GridLevel.COMMUNITY)


def grid_unit_at_point(*, latitude, longitude, within: GridUnit | None = None) -> GridUnit | None:
    """The unit that owns a point on the map: the deepest building group, micro-grid or
    community whose boundary holds it; where no boundary is drawn, the building group of the
    nearest building within 300 m. None when the point is in nobody's patch."""
    units = GridUnit.objects.filter(level__in=PLACE_OWNING_LEVELS, boundary__isnull=False)
    if within is not None:
        units = units.within([within.path])
    holding = [
        unit
        for unit in units.only("id", "path", "level", "boundary", "name", "code")
        if point_in_geojson(latitude, longitude, unit.boundary)
    ]
    if holding:
        return GridUnit.objects.get(pk=max(holding, key=lambda unit: len(unit.path)).pk)
    # About 0.003° is 330 m in latitude; the box lets the database discard far buildings.
    box = Decimal("0.003")
    lat, lon = Decimal(str(latitude)), Decimal(str(longitude))
    buildings = Building.objects.filter(
        latitude__range=(lat - box, lat + box), longitude__range=(lon - box, lon + box)
    )
    if within is not None:
        buildings = buildings.within([within.path])
    nearest = min(
        (
            (distance_metres(latitude, longitude, b_lat, b_lon), unit_id)
            for unit_id, b_lat, b_lon in buildings.values_list(
                "grid_unit_id", "latitude", "longitude"
            )
        ),
        default=None,
    )
    if nearest is None or nearest[0] > NEAREST_BUILDING_METRES:
        return None
    return GridUnit.objects.get(pk=nearest[1])
