"""Every scoped read about volunteers, teams and hours.

Staff see what their VOLUNTEERS_VIEW paths cover (through grids.selectors.scope_for); a
volunteer sees their own profile, their own hours and the team they are in. A team belongs
to a community, so a micro-grid lead also sees the teams of the community above them.
Anything else is simply not in the queryset, and the caller answers 404.
"""

from datetime import date
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext as _

from linli.accounts.grid_paths import path_at_depth, path_depth, within
from linli.accounts.models import User
from linli.accounts.roles import Permission
from linli.errors import get_visible_or_404
from linli.grids.models import GRID_LEVEL_ORDER, GridLevel, GridUnit
from linli.grids.selectors import scope_for
from linli.volunteers.models import (
    ServiceHoursEntry,
    ServiceHoursQuerySet,
    ServiceKind,
    Skill,
    Team,
    TeamMembership,
    TeamRecommendation,
    Volunteer,
    VolunteerQuerySet,
)

VIEW = Permission.VOLUNTEERS_VIEW
MANAGE = Permission.VOLUNTEERS_MANAGE
# A team belongs to a community: the unit this many levels down from the street.
COMMUNITY_DEPTH = GRID_LEVEL_ORDER.index(GridLevel.COMMUNITY) + 1


def _cents(value) -> Decimal:
    # SQLite sums decimals to whatever precision falls out; show hours to the cent everywhere.
    return (value or Decimal("0")).quantize(Decimal("0.01"))


def own_volunteer(*, user: User | None) -> Volunteer | None:
    if user is None or not user.is_authenticated:
        return None
    return Volunteer.objects.filter(user=user).select_related("grid_unit").first()


def is_staff(user: User | None) -> bool:
    return scope_for(user).allows_anywhere(VIEW)


def can_manage(user: User | None, grid_path: str | None = None) -> bool:
    scope = scope_for(user)
    return scope.allows_anywhere(MANAGE) if grid_path is None else scope.allows(MANAGE, grid_path)


# Volunteers ---------------------------------------------------------------------------------


def volunteers_visible(*, user: User | None) -> VolunteerQuerySet:
    condition = within(scope_for(user).paths_for(VIEW))
    if user is not None and user.is_authenticated:
        condition |= Q(user=user)
    return Volunteer.objects.filter(condition)


def volunteer_list(
    *, user: User, status: str | None = None, skill: str | None = None, query: str = ""
) -> VolunteerQuerySet:
    volunteers = volunteers_visible(user=user).select_related("grid_unit")
    if status:
        volunteers = volunteers.filter(status=status)
    if skill:
        volunteers = volunteers.with_skill(skill)
    if query:
        volunteers = volunteers.filter(Q(name__contains=query) | Q(work_unit__contains=query))
    return volunteers.order_by("grid_path", "id")


def volunteer_get(*, user: User | None, volunteer_id: int) -> Volunteer:
    return get_visible_or_404(
        volunteers_visible(user=user).select_related("grid_unit", "home_building"), volunteer_id
    )


# Teams ------------------------------------------------------------------------------------


def _community_paths(paths: list[str]) -> list[str]:
    """The community above each scope path below a community."""
    return [
        path_at_depth(path, COMMUNITY_DEPTH) for path in paths if path_depth(path) > COMMUNITY_DEPTH
    ]


def teams_visible(*, user: User | None) -> QuerySet[Team]:
    paths = scope_for(user).paths_for(VIEW)
    condition = within(paths) | Q(grid_path__in=_community_paths(paths))
    if user is not None and user.is_authenticated:
        # A subquery, not a join: the join would also filter the member counts.
        condition |= Q(
            pk__in=TeamMembership.objects.current().filter(volunteer__user=user).values("team_id")
        )
    return Team.objects.filter(condition)


def team_list(*, user: User, community: GridUnit | None = None) -> QuerySet[Team]:
    teams = teams_visible(user=user)
    if community is not None:
        teams = teams.filter(community=community)
    return (
        teams.select_related("community", "lead")
        .annotate(member_count=Count("memberships", filter=Q(memberships__ended_at__isnull=True)))
        .order_by("grid_path", "sort_order", "id")
    )


def team_get(*, user: User | None, team_id: int) -> Team:
    return get_visible_or_404(teams_visible(user=user).select_related("community", "lead"), team_id)


def team_members(*, team: Team) -> QuerySet[TeamMembership]:
    return (
        TeamMembership.objects.current()
        .filter(team=team)
        .select_related("volunteer")
        .order_by("joined_at", "id")
    )


def communities_with_teams(*, user: User) -> QuerySet[GridUnit]:
    """The communities whose teams the user may see (the team page's chooser)."""
    paths = scope_for(user).paths_for(VIEW)
    condition = within(paths, "path") | Q(path__in=_community_paths(paths))
    return GridUnit.objects.filter(condition, level=GridLevel.COMMUNITY).order_by("path")


def communities_for_signup() -> QuerySet[GridUnit]:
    # Community names are public (they are on the street's notice boards).
    return GridUnit.objects.filter(level=GridLevel.COMMUNITY).order_by("path")


def community_get(*, user: User, community_id: int) -> GridUnit:
    return get_visible_or_404(communities_with_teams(user=user), community_id)


def current_team(*, volunteer: Volunteer) -> Team | None:
    membership = (
        TeamMembership.objects.current().filter(volunteer=volunteer).select_related("team").first()
    )
    return membership.team if membership else None


# Recommendations ------------------------------------------------------------------------


def recommendations_visible(*, user: User) -> QuerySet[TeamRecommendation]:
    return TeamRecommendation.objects.within(scope_for(user).paths_for(MANAGE))


def recommendation_get(*, user: User, recommendation_id: int) -> TeamRecommendation:
    return get_visible_or_404(
        recommendations_visible(user=user).select_related("community"), recommendation_id
    )


def reason_text(row: dict, team_name: str | None) -> str:
    """Why a volunteer was placed where they were, in words (e.g. 技能匹配: 医疗; 意愿:
    医疗保障; 可服务时段 6 个)."""
    if not row.get("team_id"):
        return _("No place left in any team")
    parts = []
    if row.get("skills"):
        labels = [str(Skill(code).label) for code in row["skills"] if code in Skill.values]
        parts.append(_("Skills matched: %(skills)s") % {"skills": ", ".join(labels)})
    else:
        parts.append(_("No required skill"))
    if row.get("willing"):
        parts.append(_("Willing: %(team)s") % {"team": team_name or ""})
    else:
        parts.append(_("Not among the services wanted"))
    parts.append(_("Available slots: %(count)s") % {"count": row.get("slots", 0)})
    if row.get("adjusted"):
        parts.append(_("Adjusted by staff"))
    return "; ".join(parts)


def recommendation_rows(*, recommendation: TeamRecommendation) -> list[dict]:
    """The recommendation's rows with names, team names and the reason in words."""
    volunteer_ids = [row["volunteer_id"] for row in recommendation.assignments]
    names = dict(Volunteer.objects.filter(pk__in=volunteer_ids).values_list("pk", "name"))
    teams = dict(
        Team.objects.filter(community_id=recommendation.community_id).values_list("pk", "name")
    )
    return [
        {
            **row,
            "volunteer_name": names.get(row["volunteer_id"], ""),
            "team_name": teams.get(row["team_id"]) if row["team_id"] else None,
            "reason": reason_text(row, teams.get(row["team_id"])),
        }
        for row in recommendation.assignments
    ]


# Service hours ---------------------------------------------------------------------------


def hours_visible(*, user: User | None) -> ServiceHoursQuerySet:
    condition = within(scope_for(user).paths_for(VIEW))
    if user is not None and user.is_authenticated:
        condition |= Q(volunteer__user=user)
    return ServiceHoursEntry.objects.filter(condition)


def hours_entries(
    *,
    user: User,
    volunteer: Volunteer | None = None,
    start: date | None = None,
    end: date | None = None,
) -> QuerySet[ServiceHoursEntry]:
    entries = hours_visible(user=user).between(start, end)
    if volunteer is not None:
        entries = entries.filter(volunteer=volunteer)
    return entries.select_related("volunteer", "team").order_by("-occurred_on", "-id")


def hours_total(*, volunteer: Volunteer, start: date | None = None, end: date | None = None):
    total = (
        ServiceHoursEntry.objects.filter(volunteer=volunteer)
        .between(start, end)
        .aggregate(total=Sum("hours"))["total"]
    )
    return _cents(total)


def hours_totals_by_volunteer(
    *, user: User, start: date | None = None, end: date | None = None
) -> list[dict]:
    """[{volunteer_id, name, total}] for every volunteer with entries in the period,
    largest total first."""
    rows = (
        hours_visible(user=user)
        .between(start, end)
        .values("volunteer_id", "volunteer__name")
        .annotate(total=Sum("hours"))
        .order_by("-total", "volunteer_id")
    )
    return [
        {
            "volunteer_id": row["volunteer_id"],
            "name": row["volunteer__name"],
            "total": _cents(row["total"]),
        }
        for row in rows
    ]


def hours_totals_by_team(
    *, user: User, start: date | None = None, end: date | None = None
) -> list[dict]:
    """[{team_id, name, total}]; hours served outside any team have team_id None."""
    rows = (
        hours_visible(user=user)
        .between(start, end)
        .values("team_id", "team__name")
        .annotate(total=Sum("hours"))
        .order_by(F("team_id").asc(nulls_last=True))
    )
    return [
        {"team_id": row["team_id"], "name": row["team__name"] or "", "total": _cents(row["total"])}
        for row in rows
    ]


def hours_totals_by_month(
    *, user: User, start: date | None = None, end: date | None = None
) -> list[dict]:
    """[{month (first day), total}] in date order."""
    rows = (
        hours_visible(user=user)
        .between(start, end)
        .annotate(month=TruncMonth("occurred_on"))
        .values("month")
        .annotate(total=Sum("hours"))
        .order_by("month")
    )
    return [{"month": row["month"], "total": _cents(row["total"])} for row in rows]


def service_kind_label(kind: str) -> str:
    return str(ServiceKind(kind).label) if kind in ServiceKind.values else kind


def volunteer_member_paths(user: User) -> list[str]:
    """Where an approved volunteer belongs (a membership source of linli.grids.membership);
    an application still waiting is not membership."""
    from linli.volunteers.models import MEMBER_STATUSES

    return list(
        Volunteer.objects.filter(user=user, status__in=MEMBER_STATUSES).values_list(
            "grid_path", flat=True
        )
    )


def volunteer_contact_phone(user: User) -> str:
    """The phone on the person's volunteer profile ("" without one): where SMS reaches them."""
    return (
        Volunteer.objects.filter(user=user)
        .exclude(phone="")
        .values_list("phone", flat=True)
        .first()
        or ""
    )
