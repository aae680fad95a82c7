"""Every scoped read about activities.

Two ways to see an activity:
- staff with ACTIVITIES_MANAGE see (and organise) every activity inside their paths;
- anyone signed in sees the activities of the communities they belong to (through any post,
  a resident's household included, or their approved volunteer profile), and those of round tables
  their community is invited to. That is what a resident's phone lists as "upcoming".
Anything else is not in the queryset, and the caller answers 404.
"""

from datetime import timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404

from linli import clock
from linli.accounts.grid_paths import path_at_depth, within, within_or_above
from linli.accounts.models import User
from linli.accounts.roles import Permission
from linli.errors import get_visible_or_404
from linli.grids.membership import member_community_ids, member_paths_condition
from linli.grids.models import GRID_LEVEL_ORDER, GridLevel, GridUnit
from linli.grids.selectors import scope_for, user_can
from linli.participation.activities.models import (
    Activity,
    Feedback,
    Occurrence,
    OccurrenceQuerySet,
    ProviderKind,
    SignUp,
    SignUpStatus,
    Stall,
    Venue,
)
from linli.partners.models import Partner
from linli.volunteers.models import Team, Volunteer

MANAGE = Permission.ACTIVITIES_MANAGE
# path_at_depth counts from the street (1): street, block, community.
COMMUNITY_DEPTH = GRID_LEVEL_ORDER.index(GridLevel.COMMUNITY) + 1


def may_manage(user: User, grid_path: str | None = None) -> bool:
    """Whether the user organises activities on `grid_path` (anywhere, without a path)."""
    return user_can(user=user, permission=MANAGE, grid_path=grid_path)


def _member_condition(user: User | None, prefix: str = "") -> Q:
    community_ids = member_community_ids(user=user)
    if not community_ids:
        return Q(pk__in=[])
    return Q(**{f"{prefix}invited_communities__in": community_ids}) | member_paths_condition(
        user=user, field=f"{prefix}grid_path"
    )


def _manage_condition(user: User | None, field: str = "grid_path") -> Q:
    return within(scope_for(user).paths_for(MANAGE), field)


# Activities and occurrences ------------------------------------------------------------


def activities_managed(*, user: User) -> QuerySet[Activity]:
    return Activity.objects.filter(_manage_condition(user)).select_related("organiser", "venue")


def activity_get_managed(*, user: User, activity_id: int) -> Activity:
    return get_visible_or_404(activities_managed(user=user), activity_id)


def activities_visible(*, user: User) -> QuerySet[Activity]:
    # The invited-communities join can repeat a row; an id subquery keeps the rows unique.
    ids = Activity.objects.filter(_member_condition(user) | _manage_condition(user)).values("id")
    return Activity.objects.filter(pk__in=ids).select_related("organiser", "venue")


def occurrences_visible(*, user: User) -> OccurrenceQuerySet:
    return Occurrence.objects.filter(
        activity__in=activities_visible(user=user).values("id")
    ).select_related("activity__venue", "activity__organiser")


def occurrence_get(*, user: User, occurrence_id: int) -> Occurrence:
    return get_visible_or_404(occurrences_visible(user=user), occurrence_id)


def occurrences_managed(*, user: User) -> QuerySet[Occurrence]:
    return Occurrence.objects.filter(_manage_condition(user)).select_related(
        "activity__venue", "activity__organiser"
    )


def occurrence_get_managed(*, user: User, occurrence_id: int) -> Occurrence:
    return get_visible_or_404(occurrences_managed(user=user), occurrence_id)


def occurrence_visible_to(*, user: User, occurrence: Occurrence) -> bool:
    return occurrences_visible(user=user).filter(pk=occurrence.pk).exists()


def with_counts(queryset: QuerySet[Occurrence], *, user: User) -> QuerySet[Occurrence]:
    """Places taken, the waitlist length and the user's own live sign-up status, in the
    same query as the list."""
    mine = SignUp.objects.filter(occurrence=OuterRef("pk"), user=user).exclude(
        status=SignUpStatus.CANCELLED
    )
    return queryset.annotate(
        confirmed_count=Count("sign_ups", filter=Q(sign_ups__status=SignUpStatus.CONFIRMED)),
        waitlist_count=Count("sign_ups", filter=Q(sign_ups__status=SignUpStatus.WAITLISTED)),
        my_confirmed=Exists(mine.filter(status=SignUpStatus.CONFIRMED)),
        my_waitlisted=Exists(mine.filter(status=SignUpStatus.WAITLISTED)),
    )


def upcoming_for(*, user: User, now=None) -> QuerySet[Occurrence]:
    """What a resident's phone lists: scheduled occurrences not yet over, soonest first."""
    queryset = occurrences_visible(user=user).upcoming(now).order_by("starts_at", "id")
    return with_counts(queryset, user=user)


def occurrences_for_staff(*, user: User, upcoming_only: bool = True) -> QuerySet[Occurrence]:
    queryset = occurrences_managed(user=user)
    if upcoming_only:
        queryset = queryset.filter(ends_at__gt=clock.now() - timedelta(days=1))
    return with_counts(queryset.order_by("starts_at", "id"), user=user)


# Sign-ups ------------------------------------------------------------------------------


def my_sign_ups(*, user: User) -> QuerySet[SignUp]:
    return (
        SignUp.objects.filter(user=user)
        .exclude(status=SignUpStatus.CANCELLED)
        .select_related("occurrence__activity__venue")
        .annotate(
            has_feedback=Exists(
                Feedback.objects.filter(occurrence=OuterRef("occurrence"), user=user)
            )
        )
        .order_by("-occurrence__starts_at", "-id")
    )


def my_sign_up_for(*, user: User, occurrence: Occurrence) -> SignUp | None:
    return (
        SignUp.objects.filter(user=user, occurrence=occurrence)
        .exclude(status=SignUpStatus.CANCELLED)
        .first()
    )


def sign_up_get_own(*, user: User, sign_up_id: int) -> SignUp:
    return get_visible_or_404(
        SignUp.objects.filter(user=user).select_related("occurrence__activity"), sign_up_id
    )


def sign_ups_of(*, user: User, occurrence: Occurrence) -> QuerySet[SignUp]:
    """The attendance list of a managed occurrence (staff only)."""
    if not may_manage(user, occurrence.grid_path):
        raise Http404
    return (
        SignUp.objects.filter(occurrence=occurrence)
        .exclude(status=SignUpStatus.CANCELLED)
        .select_related("user")
        .order_by("status", "created_at", "id")
    )


def sign_up_get_managed(*, user: User, sign_up_id: int) -> SignUp:
    return get_visible_or_404(
        SignUp.objects.filter(_manage_condition(user)).select_related("occurrence__activity"),
        sign_up_id,
    )


def stall_get_managed(*, user: User, stall_id: int) -> Stall:
    return get_visible_or_404(Stall.objects.filter(_manage_condition(user)), stall_id)


def stall_providers(*, occurrence: Occurrence) -> dict[str, QuerySet]:
    """Who may run a stall at a fair: the organising community's serving volunteers, its
    teams and its active partner units."""
    path = path_at_depth(occurrence.grid_path, COMMUNITY_DEPTH)
    return {
        ProviderKind.VOLUNTEER: Volunteer.objects.within([path]).serving(),
        ProviderKind.TEAM: Team.objects.within([path]),
        ProviderKind.PARTNER: Partner.objects.within([path]).filter(is_active=True),
    }


def occurrence_by_token(*, token: str) -> Occurrence | None:
    if not token or len(token) > 64:
        return None
    return Occurrence.objects.select_related("activity").filter(check_in_token=token).first()


def feedback_of(*, occurrence: Occurrence) -> QuerySet[Feedback]:
    """Ratings and comments for the organiser, without names: people say more that way."""
    return Feedback.objects.filter(occurrence=occurrence).only("rating", "comment", "created_at")


def feedback_summary(*, occurrence: Occurrence) -> dict:
    rows = list(Feedback.objects.filter(occurrence=occurrence).values_list("rating", flat=True))
    average = round(sum(rows) / len(rows), 2) if rows else None
    return {"count": len(rows), "average": average}


# Venues ---------------------------------------------------------------------------------


def venues_managed(*, user: User) -> QuerySet[Venue]:
    return Venue.objects.filter(_manage_condition(user)).select_related("community")


def venues_usable(*, user: User) -> QuerySet[Venue]:
    """Venues a user may book: inside their scope, or of the community above their
    micro-grid (a micro-grid lead uses the community's shared living room)."""
    return Venue.objects.filter(
        within_or_above(scope_for(user).paths_for(MANAGE)), is_active=True
    ).select_related("community")


def communities_managed(*, user: User) -> QuerySet[GridUnit]:
    """Units that may organise an activity: communities and micro-grids within the scope."""
    return GridUnit.objects.within(scope_for(user).paths_for(MANAGE)).filter(
        level__in=(GridLevel.COMMUNITY, GridLevel.MICRO_GRID)
    )


def communities_invitable(*, user: User) -> QuerySet[GridUnit]:
    """Communities an organiser may invite to a round table: those inside their own area.
    A secretary's area is their community; a street administrator's holds every community
    of the street, so only they widen an invitation to another community (whose people
    then see the activity and whose names the organiser reads on the attendance list)."""
    return GridUnit.objects.within(scope_for(user).paths_for(MANAGE)).filter(
        level=GridLevel.COMMUNITY
    )
