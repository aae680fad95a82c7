"""Reads for invitations: who may invite where, the households a selection names, the
batches a person may see, and the one public read, `invitation_prefill`, that the
registration form calls with the token from the letter or the SMS.

Staff invite where they may change the registry or assign posts (Permission.EDIT_REGISTRY
or MANAGE_ROLES): the secretary for the community, the micro-grid lead for the micro-grid,
the street administrator for the street. A building, a unit or a batch outside that scope
answers 404, as every registry row does.
"""

import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.grid_paths import collapse_paths, is_within, within
from linli.accounts.models import User
from linli.accounts.privacy import phone_is_valid
from linli.accounts.roles import Permission
from linli.errors import NotVisible, get_visible_or_404
from linli.grids.models import (
    Building,
    GridUnit,
    Household,
    Resident,
    ResidentAccount,
    ResidentQuerySet,
    VulnerabilityTag,
)
from linli.grids.selectors import residents_with_visible_tag, scope_for
from linli.invitations.models import (
    Invitation,
    InvitationBatch,
    InvitationChannel,
    InvitationQuerySet,
    InvitationSelection,
    token_hash,
)

INVITE_PERMISSIONS = (Permission.EDIT_REGISTRY, Permission.MANAGE_ROLES)
# Tokens are `secrets.token_urlsafe` text; anything else is not looked up at all.
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def invite_paths(*, user: User | None) -> list[str]:
    """The subtrees in which `user` may invite households (empty: nowhere)."""
    scope = scope_for(user)
    if scope.unrestricted:
        return ["/"]
    return list(
        collapse_paths(
            path for permission in INVITE_PERMISSIONS for path in scope.paths_for(permission)
        )
    )


def may_invite(*, user: User | None, grid_path: str | None = None) -> bool:
    paths = invite_paths(user=user)
    return bool(paths) if grid_path is None else is_within(grid_path, paths)


def needs_inviting(*, user: User | None) -> None:
    """The invitation pages answer 404 to anyone who may invite nowhere."""
    if not may_invite(user=user):
        raise NotVisible()


def common_path(paths: list[str]) -> str:
    """The deepest unit path above every one of `paths` ("/" when they share no street)."""
    if not paths:
        return "/"
    parts = [path.strip("/").split("/") for path in paths]
    shared: list[str] = []
    for column in zip(*parts, strict=False):
        if len(set(column)) != 1:
            break
        shared.append(column[0])
    return "/" + "".join(f"{part}/" for part in shared if part)


# Selections --------------------------------------------------------------------------------


def buildings_for_inviting(*, user: User) -> QuerySet[Building]:
    return (
        Building.objects.within(invite_paths(user=user))
        .select_related("grid_unit")
        .order_by("grid_path", "name")
    )


def grid_units_for_inviting(*, user: User) -> QuerySet[GridUnit]:
    return GridUnit.objects.within(invite_paths(user=user)).order_by("path")


@dataclass(frozen=True)
class HouseholdSelection:
    """Households picked on the invitation form, already limited to the picker's scope."""

    kind: str
    households: QuerySet[Household]
    description: str
    grid_path: str


def current_residents(residents: ResidentQuerySet) -> ResidentQuerySet:
    """Residents still living there: neither moved out nor anonymised."""
    return residents.filter(moved_out_on__isnull=True, anonymised_at__isnull=True)


def household_selection(
    *,
    user: User,
    kind: str,
    building_id: int | None = None,
    grid_unit_id: int | None = None,
) -> HouseholdSelection:
    """The households of a building, of a unit (building group, micro-grid, community), or
    of every elderly resident living alone in a unit or in the whole of the user's scope.
    A building or unit outside the scope answers 404 (NotVisible)."""
    paths = invite_paths(user=user)
    if not paths:
        raise NotVisible()
    if kind == InvitationSelection.BUILDING:
        building = get_visible_or_404(
            buildings_for_inviting(user=user), building_id, field="building"
        )
        return HouseholdSelection(
            kind=kind,
            households=Household.objects.filter(building=building),
            description=building.name,
            grid_path=building.grid_path,
        )
    if kind == InvitationSelection.GRID_UNIT:
        unit = get_visible_or_404(
            grid_units_for_inviting(user=user), grid_unit_id, field="grid_unit"
        )
        return HouseholdSelection(
            kind=kind,
            households=Household.objects.within([unit.path]),
            description=unit.name,
            grid_path=unit.path,
        )
    if kind == InvitationSelection.ELDERLY_ALONE:
        tag = VulnerabilityTag.ELDERLY_ALONE
        if grid_unit_id:
            unit = get_visible_or_404(
                grid_units_for_inviting(user=user), grid_unit_id, field="grid_unit"
            )
            area_paths, area_name, grid_path = [unit.path], unit.name, unit.path
        else:
            area_paths, area_name, grid_path = paths, "", common_path(paths)
        tagged = residents_with_visible_tag(
            user=user, residents=current_residents(Resident.objects.within(area_paths)), tag=tag
        )
        label = str(VulnerabilityTag(tag).label)
        return HouseholdSelection(
            kind=kind,
            households=Household.objects.filter(pk__in=tagged.values("household_id")),
            description=f"{label} · {area_name}" if area_name else label,
            grid_path=grid_path,
        )
    raise NotVisible("selection")


def households_with_login(households: QuerySet[Household]) -> QuerySet[ResidentAccount, Any]:
    """The household ids among `households` where a resident already has a login."""
    return ResidentAccount.objects.filter(resident__household__in=households.values("pk")).values(
        "resident__household_id"
    )


def natural_key(text: str) -> tuple:
    """Rooms in the order of the doors: 2, 10, 101 rather than 10, 101, 2."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in re.split(r"(\d+)", text)
        if part
    )


def registered_phone(resident: Resident | None) -> str:
    """The resident's registered phone when it is a valid mobile number, else ""."""
    phone = (resident.phone or "").strip() if resident is not None else ""
    return phone if phone_is_valid(phone) else ""


def invitation_targets(
    *, user: User, households: QuerySet[Household], resident_filter: str
) -> list[tuple[Household, Resident | None]]:
    """Each household with the resident it invites, in the order of the letters (unit,
    building, room). Without a filter that is the household's contact: the first current
    resident with a registered phone, else the first current resident, else nobody. With a
    vulnerability tag, the resident carrying it (only tags the user may see count), and
    households without one drop out."""
    residents = current_residents(Resident.objects.filter(household__in=households.values("pk")))
    if resident_filter:
        residents = residents_with_visible_tag(user=user, residents=residents, tag=resident_filter)
    chosen: dict[int, Resident] = {}
    for resident in residents.order_by("household_id", "id"):
        best = chosen.get(resident.household_id)
        if best is None or (not registered_phone(best) and registered_phone(resident)):
            chosen[resident.household_id] = resident
    rows = households.select_related("building").order_by()
    if resident_filter:
        rows = rows.filter(pk__in=list(chosen))
    ordered = sorted(
        rows, key=lambda h: (h.grid_path, natural_key(h.building.name), natural_key(h.room))
    )
    return [(household, chosen.get(household.pk)) for household in ordered]


# Batches -----------------------------------------------------------------------------------


def batches_visible(*, user: User) -> QuerySet[InvitationBatch]:
    """Batches made inside the user's inviting scope, and their own (an "elderly living
    alone" batch over posts in two communities sits on the unit above both)."""
    paths = invite_paths(user=user)
    if not paths:
        return InvitationBatch.objects.none()
    return InvitationBatch.objects.filter(within(paths) | Q(created_by=user)).select_related(
        "created_by"
    )


def batch_get(*, user: User, batch_id: int) -> InvitationBatch:
    return get_visible_or_404(batches_visible(user=user), batch_id)


def no_phone_selection(*, batch: InvitationBatch) -> HouseholdSelection:
    """The households an SMS batch left out for want of a registered phone, as a selection
    (for their letters)."""
    return HouseholdSelection(
        kind=batch.selection,
        households=Household.objects.filter(pk__in=batch.no_phone_households.values("pk")),
        description=_("%(batch)s · no registered phone") % {"batch": batch.description},
        grid_path=batch.grid_path,
    )


def batch_invitations(*, batch: InvitationBatch) -> InvitationQuerySet:
    return batch.invitations.select_related("household__building", "resident", "used_by")


def batch_counts(*, batch: InvitationBatch) -> dict[str, int]:
    """How the batch's current invitations stand: used, waiting, expired (revoked ones,
    replaced by a reprint, are not counted)."""
    now = clock.now()
    current = batch.invitations.filter(revoked_at__isnull=True)
    return {
        "used": current.filter(used_at__isnull=False).count(),
        "waiting": current.live(now).count(),
        "expired": current.filter(used_at__isnull=True, expires_at__lte=now).count(),
    }


# The public read ---------------------------------------------------------------------------


def invitation_for_token(token: str) -> Invitation | None:
    """The live invitation that `token` opens, or None (unknown, used, revoked, expired:
    the caller cannot tell which)."""
    if not isinstance(token, str) or not TOKEN_PATTERN.match(token):
        return None
    return (
        Invitation.objects.live(clock.now())
        .select_related("household__building", "resident", "batch")
        .filter(token_hash=token_hash(token))
        .first()
    )


def invitation_prefill(token: str) -> dict | None:
    """What the registration form fills in for the holder of a valid invitation:
    {"building_id", "room", "name"}; None for a token that is unknown, used, revoked or
    expired. The name is the invited resident's only when it was already on the letter
    (staff ticked "print names") or the SMS went to that resident's own phone: a letter
    without names put in the wrong letterbox must not tell its finder who lives there."""
    invitation = invitation_for_token(token)
    if invitation is None:
        return None
    resident = invitation.resident
    shows_name = invitation.batch.print_names or invitation.channel == InvitationChannel.SMS
    shown = resident is not None and shows_name and resident.anonymised_at is None
    name = resident.name if shown and resident is not None else ""
    return {
        "building_id": invitation.household.building_id,
        "room": invitation.household.room,
        "name": name,
    }


def selection_preview(
    *,
    user: User,
    selection: HouseholdSelection,
    resident_filter: str,
    skip_registered: bool,
) -> dict[str, int]:
    """What a batch of this selection would hold, before anything is written."""
    households = selection.households
    registered = households.filter(pk__in=households_with_login(households)).count()
    if skip_registered:
        households = households.exclude(pk__in=households_with_login(households))
    targets = invitation_targets(user=user, households=households, resident_filter=resident_filter)
    with_phone = sum(1 for _household, resident in targets if registered_phone(resident))
    return {
        "households": len(targets),
        "registered": registered,
        "skipped": registered if skip_registered else 0,
        "with_phone": with_phone,
        "without_phone": len(targets) - with_phone,
    }


def resident_filter_for(kind: str) -> str:
    """Which resident a selection invites in each household: the elderly resident living
    alone for that selection, the household's contact otherwise."""
    return VulnerabilityTag.ELDERLY_ALONE if kind == InvitationSelection.ELDERLY_ALONE else ""
