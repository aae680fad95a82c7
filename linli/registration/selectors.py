"""Every read of self-registration: poster tokens, the requests a leader decides, the
candidates shown beside a request, the buildings whose posters a person may print.

Who decides: whoever may see the household's health and vulnerability tags there
(`DECIDE`, Permission.VIEW_SENSITIVE) — the building-group leader of the building, the
micro-grid lead, the secretary, the street. An approval gives the new login sight of that
household, tags included, so the one approving must already have that sight: nobody hands
on more than they hold. EDIT_REGISTRY and MANAGE_ROLES would leave the building-group
leader out, and they are the ones who know who lives in each room.
"""

from django.conf import settings
from django.urls import reverse

from linli.accounts.grid_paths import path_ancestors
from linli.accounts.models import User
from linli.accounts.roles import ROLE_PERMISSIONS, Permission
from linli.errors import get_visible_or_404
from linli.grids.models import (
    Building,
    GridUnit,
    Resident,
    ResidentAccount,
    WithinPathQuerySet,
)
from linli.grids.selectors import scope_for, user_can
from linli.registration.matching import rooms_match
from linli.registration.models import RegistrationRequest, RegistrationRequestQuerySet
from linli.registration.tokens import building_token

DECIDE = Permission.VIEW_SENSITIVE
# Printing a building's poster: anyone who sees that part of the registry as staff.
PRINT_POSTERS = Permission.VIEW_REGISTRY
# One bulk PDF prints at most this many posters (a building group has a handful; a whole
# community a few hundred).
MAX_POSTERS = 500


# Poster addresses ----------------------------------------------------------------------


def join_path(building: Building) -> str:
    return reverse("registration:join", args=[building_token(building)])


def join_url(building: Building) -> str:
    """The address a poster's QR code holds, on LINLI_SITE_URL."""
    return f"{settings.LINLI_SITE_URL}{join_path(building)}"


def community_of(building: Building) -> GridUnit | None:
    """The community above a building (its name heads the poster)."""
    return (
        GridUnit.objects.filter(level="community", path__in=path_ancestors(building.grid_path))
        .order_by("-path")
        .first()
    )


# Posters --------------------------------------------------------------------------------


def may_print_poster(*, user: User, building: Building) -> bool:
    return user_can(user=user, permission=PRINT_POSTERS, grid_path=building.grid_path)


def buildings_for_posters(*, user: User) -> WithinPathQuerySet:
    """Buildings whose posters the user may print: their staff registry scope only (a
    resident sees their own building's page, but prints no poster)."""
    paths = scope_for(user).paths_for(PRINT_POSTERS)
    return Building.objects.within(paths).select_related("grid_unit")


def poster_building_get(*, user: User, building_id) -> Building:
    return get_visible_or_404(buildings_for_posters(user=user), building_id)


def poster_unit_get(*, user: User, grid_unit_id) -> GridUnit:
    paths = scope_for(user).paths_for(PRINT_POSTERS)
    return get_visible_or_404(GridUnit.objects.within(paths), grid_unit_id)


def poster_buildings_in(*, user: User, grid_unit: GridUnit) -> list[Building]:
    return list(
        buildings_for_posters(user=user)
        .within([grid_unit.path])
        .order_by("grid_path", "name", "id")[:MAX_POSTERS]
    )


# Requests -------------------------------------------------------------------------------


def may_decide(*, user: User, grid_path: str) -> bool:
    return user_can(user=user, permission=DECIDE, grid_path=grid_path)


def requests_to_decide(*, user: User) -> RegistrationRequestQuerySet:
    """The requests of the user's area (DECIDE there), any status."""
    paths = scope_for(user).paths_for(DECIDE)
    return RegistrationRequest.objects.within(paths).select_related(
        "building", "candidate", "decided_by", "resident"
    )


def request_get(*, user: User, request_id) -> RegistrationRequest:
    return get_visible_or_404(requests_to_decide(user=user), request_id)


def pending_count(*, user: User) -> int:
    if not user_can(user=user, permission=DECIDE):
        return 0
    return requests_to_decide(user=user).pending().count()


def room_residents(*, building: Building, room: str) -> list[Resident]:
    """The registered residents of the room a person typed (every household it may name),
    still living there and not erased."""
    households = [
        household.pk
        for household in building.households.all().only("id", "room")
        if rooms_match(room, household.room)
    ]
    return list(
        Resident.objects.filter(
            household_id__in=households, moved_out_on__isnull=True, anonymised_at__isnull=True
        )
        .select_related("household")
        .order_by("household__room", "id")
    )


def candidates_for(*, request: RegistrationRequest) -> list[Resident]:
    """Whom the leader may approve the request as: the residents of the room it names (and
    the hinted candidate), each marked `.has_login`. Masked data only reaches the page."""
    residents = room_residents(building=request.building, room=request.room)
    if request.candidate is not None and request.candidate not in residents:
        candidate = request.candidate
        if candidate.moved_out_on is None and candidate.anonymised_at is None:
            residents.insert(0, candidate)
    linked = set(
        ResidentAccount.objects.filter(resident__in=residents).values_list("resident_id", flat=True)
    )
    for resident in residents:
        resident.has_login = resident.pk in linked  # type: ignore[attr-defined]
    return residents


def deciders_for(*, building: Building) -> list[User]:
    """Who hears that a request waits: the building-group leaders of the building; where
    the group has none, the nearest level above with someone who may decide."""
    roles = [role for role, permissions in ROLE_PERMISSIONS.items() if DECIDE in permissions]
    # Deepest first: the building group, its micro-grid, the community, the street.
    for path in sorted(path_ancestors(building.grid_path), key=len, reverse=True):
        users = list(
            User.objects.filter(
                is_active=True,
                role_assignments__grid_path=path,
                role_assignments__role__in=roles,
            )
            .distinct()
            .order_by("pk")
        )
        if users:
            return users
    return []
