"""Who hears of claims and of needs that wait, and what they read (the events are declared
in linli.partners.notification_events).

Every send runs inside the caller's transaction with `channels=None`, so each person's
channels, quiet hours and daily digest apply. A title that may leave the site names the need
by its number, never by its title (staff type that, and it may say what a household suffers
from); the link opens the claim or the need for whoever may see it.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop

from linli import clock
from linli.accounts.grid_paths import path_ancestors
from linli.accounts.models import User
from linli.accounts.roles import ROLE_PERMISSIONS, Permission, Role
from linli.notify.services import notification_send
from linli.partners.models import Claim, Need, NeedState

# What each step of a claim says to the claimant's side and to the beneficiary's household.
# None: that side is not told of the step.
CLAIMANT_TITLES: dict[str, str | None] = {
    "claim": gettext_noop("Need No. %(number)s is claimed by %(provider)s"),
    "start": gettext_noop("%(provider)s started on need No. %(number)s"),
    "deliver": gettext_noop("Need No. %(number)s is marked delivered"),
    "confirm": gettext_noop("Need No. %(number)s: the household confirmed receipt"),
    "dispute": gettext_noop("Need No. %(number)s: the household says it did not arrive"),
    "cancel": gettext_noop("The claim of %(provider)s on need No. %(number)s is cancelled"),
    "approve_hours": gettext_noop("Your %(hours)s hours for need No. %(number)s are approved"),
}
BENEFICIARY_TITLES: dict[str, str | None] = {
    "claim": gettext_noop("%(provider)s will help with your household's need No. %(number)s"),
    "start": gettext_noop("%(provider)s started on your household's need No. %(number)s"),
    # The delivery is its own event (claim_delivered): it asks the household to confirm.
    "deliver": gettext_noop("Need No. %(number)s was delivered: please confirm you received it"),
    "confirm": gettext_noop("Need No. %(number)s: receipt confirmed"),
    "dispute": gettext_noop("Need No. %(number)s: not received, back to %(provider)s"),
    "cancel": gettext_noop(
        "%(provider)s can no longer help with your household's need No. %(number)s"
    ),
    "approve_hours": None,
}


def claimant_people(claim: Claim) -> list[User]:
    """The claimant's side: the volunteer's own login, or every liaison of the partner unit
    (a login that still holds the liaison post)."""
    if claim.volunteer is not None:
        user = claim.volunteer.user
        return [user] if user is not None and user.is_active else []
    if claim.partner_id is None:
        return []
    return list(
        User.objects.filter(
            partner_liaison__partner_id=claim.partner_id,
            role_assignments__role=Role.PARTNER_LIAISON,
            is_active=True,
        )
        .distinct()
        .order_by("pk")
    )


def beneficiary_people(need: Need) -> list[User]:
    """The logins of the residents of the need's household: the people who confirm its
    delivery. A need of a whole area (no household) has nobody to tell here."""
    if need.household_id is None:
        return []
    return list(
        User.objects.filter(
            resident_account__resident__household_id=need.household_id, is_active=True
        ).order_by("pk")
    )


def claim_step_notify(*, claim: Claim, actor: User | None, action: str) -> None:
    """Tell both sides of a claim that it moved one step (`action` of claims.TRANSITIONS, or
    "claim" when it was made); the person who took the step is not told."""
    need = claim.need
    acting = actor.pk if actor is not None and actor.is_authenticated else None
    claimants = [user for user in claimant_people(claim) if user.pk != acting]
    claimant_ids = {user.pk for user in claimants}
    # A person on both sides (staff never claim for their own household, so only in odd
    # data) hears once, as the claimant.
    household = [
        user
        for user in beneficiary_people(need)
        if user.pk != acting and user.pk not in claimant_ids
    ]
    params = {
        "number": need.pk,
        "provider": claim.provider_name[:60],
        "hours": str(claim.hours or ""),
    }
    link = reverse("partners:claim_detail", args=[claim.pk])
    title = CLAIMANT_TITLES.get(action)
    if title and claimants:
        notification_send(
            recipients=claimants,
            kind="claim",
            title=title,
            title_params=params,
            link=link,
            channels=None,
        )
    title = BENEFICIARY_TITLES.get(action)
    if title and household:
        notification_send(
            recipients=household,
            kind="claim_delivered" if action == "deliver" else "claim",
            title=title,
            title_params=params,
            link=link,
            channels=None,
        )


# Needs that wait too long -----------------------------------------------------------------

LIST_KEEPER_ROLES = [
    role for role, permissions in ROLE_PERMISSIONS.items() if Permission.LISTS_MANAGE in permissions
]


def list_keepers(grid_path: str) -> list[User]:
    """The staff who keep the needs list over `grid_path` (LISTS_MANAGE on a unit at or
    above it)."""
    return list(
        User.objects.filter(
            is_active=True,
            role_assignments__role__in=LIST_KEEPER_ROLES,
            role_assignments__grid_path__in=path_ancestors(grid_path),
        )
        .distinct()
        .order_by("pk")
    )


def waiting_period() -> timedelta:
    return timedelta(days=settings.LINLI_NEED_WAITING_DAYS)


def needs_waiting(*, now: datetime | None = None):
    """Open needs (something still to claim) on which nobody made a claim for a whole
    waiting period, whose keepers were not told within one: oldest first. A need waits
    from its creation, or from the last claim made on it."""
    cutoff = (now or clock.now()) - waiting_period()
    return (
        Need.objects.filter(state=NeedState.OPEN)
        .annotate(waiting_since=Coalesce(Max("claims__created_at"), "created_at"))
        .filter(waiting_since__lte=cutoff)
        .filter(Q(waiting_notice_at__isnull=True) | Q(waiting_notice_at__lte=cutoff))
        .order_by("waiting_since", "pk")
    )


def waiting_needs_notify(*, now: datetime | None = None) -> int:
    """Tell the list keepers of each need that waits too long; returns how many needs were
    announced. Each need in its own transaction; the conditional update of
    `waiting_notice_at` is the guard, so two runs at once tell nobody twice."""
    now = now or clock.now()
    cutoff = now - waiting_period()
    told = 0
    keepers_by_path: dict[str, list[User]] = {}
    for need in list(needs_waiting(now=now)):
        with transaction.atomic():
            claimed = (
                Need.objects.filter(pk=need.pk, state=NeedState.OPEN)
                .filter(Q(waiting_notice_at__isnull=True) | Q(waiting_notice_at__lte=cutoff))
                .update(waiting_notice_at=now)
            )
            if not claimed:
                continue
            if need.grid_path not in keepers_by_path:
                keepers_by_path[need.grid_path] = list_keepers(need.grid_path)
            notification_send(
                recipients=keepers_by_path[need.grid_path],
                kind="need_waiting",
                title=gettext_noop("Need No. %(number)s has waited for a claim since %(date)s"),
                title_params={
                    "number": need.pk,
                    "date": f"{timezone.localtime(need.waiting_since):%Y-%m-%d}",
                },
                link=reverse("partners:need_detail", args=[need.pk]),
                channels=None,
            )
            told += 1
    return told
