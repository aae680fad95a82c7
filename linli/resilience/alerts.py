"""Live alerts of the resilience dashboard and the to-do list they imply.

Unlike the index (read from weekly snapshots), alerts are about now: a vulnerable household
nobody has visited for 30 days, a critical service category only one provider covers in a
community, a functional team below its target size, a supply below its minimum. Each is one
or two indexed queries over the unit's subtree, whatever its size, and each reads through the
scope of the permission that guards its rows (vulnerability is sensitive; partner resources
need PARTNERS_VIEW; supplies need SUPPLIES_MANAGE or PARTNERS_VIEW).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from linli import clock
from linli.accounts.grid_paths import within
from linli.accounts.models import User
from linli.accounts.roles import Permission
from linli.grids.models import GridLevel, GridUnit, Household, Resident, Visit
from linli.grids.selectors import households_visible, scope_for
from linli.partners.models import Agreement, Resource, ServiceCategory
from linli.partners.selectors import SKILLS_FOR_CATEGORY
from linli.resilience import capacity
from linli.supplies.models import SupplyItem
from linli.supplies.selectors import items_visible
from linli.volunteers.models import CODE_SEPARATOR, Team, Volunteer
from linli.volunteers.selectors import teams_visible

UNVISITED_DAYS = 30


def _critical_categories() -> list[str]:
    # The capacity indicators (C_RESOURCE_REDUNDANCY) own what "critical" means; they take
    # the partners app's list, which is the fallback should they stop exporting it.
    from linli.partners.models import CRITICAL_CATEGORIES

    categories = getattr(capacity, "CRITICAL_CATEGORIES", CRITICAL_CATEGORIES)
    return [str(category) for category in categories]


# A category is redundant from this many independent providers (capacity's threshold);
# an alert is raised for those with some provider but fewer than this.
REDUNDANT_PROVIDERS = getattr(capacity, "REDUNDANT_PROVIDERS", 2)


class Severity:
    DANGER = "danger"
    WARNING = "warning"


@dataclass
class TodoItem:
    text: str
    url: str


@dataclass
class Alert:
    kind: str
    severity: str
    message: str
    count: int
    url: str
    todos: list[TodoItem] = field(default_factory=list)


# Vulnerable households not visited --------------------------------------------------------


def _sensitive_condition(user: User) -> Q:
    return within(scope_for(user).paths_for(Permission.VIEW_SENSITIVE))


def vulnerable_unvisited(
    *, user: User, unit: GridUnit, now: datetime | None = None, days: int = UNVISITED_DAYS
) -> QuerySet[Household]:
    """Households of the unit with a vulnerable resident and no visit in the last `days`
    days, oldest visit first. Only where the user may see vulnerability tags: counting
    them elsewhere would disclose the tags."""
    now = now or clock.now()
    since = now - timedelta(days=days)
    vulnerable = Resident.objects.filter(household=OuterRef("pk")).vulnerable()
    # Served by the visit_household_recent (household, -visited_at) index.
    recent = Visit.objects.filter(household=OuterRef("pk"), visited_at__gte=since)
    return (
        households_visible(user=user)
        .filter(_sensitive_condition(user), grid_path__startswith=unit.path)
        .filter(Exists(vulnerable))
        .exclude(Exists(recent))
    )


def vulnerable_unvisited_rows(
    *, user: User, unit: GridUnit, now: datetime | None = None, limit: int = 200
) -> tuple[list[dict], int]:
    """The households behind the alert with their last visit (for the alert's list page)."""
    households = vulnerable_unvisited(user=user, unit=unit, now=now)
    total = households.count()
    rows = (
        households.annotate(last_visit=Max("visits__visited_at"))
        .select_related("building")
        .order_by(F("last_visit").asc(nulls_first=True), "id")[:limit]
    )
    return [
        {
            "household": household,
            "label": f"{household.building.name} {household.room}",
            "last_visit": household.last_visit,
            "url": reverse("grids:household_detail", args=[household.pk]),
        }
        for household in rows
    ], total


# Single-provider critical categories ---------------------------------------------------


def providers_by_community(
    *, communities: list[GridUnit], today: date | None = None
) -> dict[str, dict[str, set[tuple[str, int]]]]:
    """For each community path, each critical category's independent providers, counted as
    partners.selectors.redundancy counts them (a partner while an agreement is valid, a
    volunteer by an offered resource or a matching skill) but for all communities in two
    queries."""
    today = today or clock.localdate()
    critical = _critical_categories()
    paths = {community.path for community in communities}
    found: dict[str, dict[str, set[tuple[str, int]]]] = {
        path: {category: set() for category in critical} for path in paths
    }
    if not paths:
        return found
    inside = within(paths)
    valid = Agreement.objects.filter(
        partner=OuterRef("partner_id"), starts_on__lte=today, ends_on__gte=today
    )
    resources = (
        Resource.objects.filter(inside, is_active=True, category__in=critical)
        .filter(Q(available_until__isnull=True) | Q(available_until__gte=today))
        .filter(Q(partner__isnull=True) | Exists(valid))
        .values_list("grid_path", "category", "partner_id", "volunteer_id")
    )
    for grid_path, category, partner_id, volunteer_id in resources:
        community = capacity.community_path_of(grid_path)
        if community in found:
            provider = ("p", partner_id) if partner_id else ("v", volunteer_id)
            found[community][category].add(provider)
    skills = {skill for category in critical for skill in SKILLS_FOR_CATEGORY.get(category, ())}
    if skills:
        has_skill = Q(pk__in=[])
        for skill in skills:
            has_skill |= Q(skills__contains=f"{CODE_SEPARATOR}{skill}{CODE_SEPARATOR}")
        volunteers = (
            Volunteer.objects.serving()
            .filter(inside)
            .filter(has_skill)
            .values_list("id", "grid_path", "skills")
        )
        for volunteer_id, grid_path, codes in volunteers:
            community = capacity.community_path_of(grid_path)
            if community not in found:
                continue
            held = {code for code in codes.split(CODE_SEPARATOR) if code}
            for category in critical:
                if held & set(SKILLS_FOR_CATEGORY.get(category, ())):
                    found[community][category].add(("v", volunteer_id))
    return found


def single_provider(
    *, user: User, unit: GridUnit, today: date | None = None
) -> list[tuple[GridUnit, list[str]]]:
    """The communities of the unit (or the unit's own community) whose partner resources
    the user may see, each with the critical categories some provider but fewer than
    REDUNDANT_PROVIDERS cover (with the threshold of 2: a single provider)."""
    scope = scope_for(user)
    community_path = capacity.community_path_of(unit.path)
    if unit.level in (GridLevel.STREET, GridLevel.BLOCK):
        candidates = GridUnit.objects.filter(
            path__startswith=unit.path, level=GridLevel.COMMUNITY
        ).order_by("path")
    else:
        candidates = GridUnit.objects.filter(path=community_path)
    communities = [
        community
        for community in candidates
        if scope.allows(Permission.PARTNERS_VIEW, community.path)
    ]
    providers = providers_by_community(communities=communities, today=today)
    result = []
    for community in communities:
        single = [
            category
            for category, found in providers[community.path].items()
            if 0 < len(found) < REDUNDANT_PROVIDERS
        ]
        if single:
            result.append((community, single))
    return result


# Teams and supplies --------------------------------------------------------------------


def teams_below_target(*, user: User, unit: GridUnit) -> list[Team]:
    """The unit's functional teams (a team belongs to its community) with fewer current
    members than their target size; `member_count` annotated."""
    community_path = capacity.community_path_of(unit.path)
    where = Q(grid_path__startswith=unit.path)
    if community_path and unit.level != GridLevel.COMMUNITY:
        # A micro-grid's people serve in the community's teams.
        where |= Q(grid_path=community_path)
    return list(
        teams_visible(user=user)
        .filter(where)
        .annotate(member_count=Count("memberships", filter=Q(memberships__ended_at__isnull=True)))
        .filter(member_count__lt=F("target_size"))
        .select_related("community")
        .order_by("grid_path", "sort_order", "id")
    )


def supplies_below_minimum(*, user: User, unit: GridUnit) -> list[SupplyItem]:
    return list(
        items_visible(user=user)
        .filter(grid_path__startswith=unit.path, quantity__lt=F("minimum_level"))
        .order_by("grid_path", "name", "id")
    )


# The list ------------------------------------------------------------------------------


def alerts_for(*, user: User, unit: GridUnit, now: datetime | None = None) -> list[Alert]:
    """Every live alert of the unit for the user, each with the to-do items it implies."""
    now = now or clock.now()
    alerts: list[Alert] = []

    unvisited = vulnerable_unvisited(user=user, unit=unit, now=now).count()
    if unvisited:
        url = reverse("resilience:alert_unvisited", args=[unit.pk])
        alerts.append(
            Alert(
                kind="vulnerable_unvisited",
                severity=Severity.DANGER,
                message=ngettext(
                    "%(count)s vulnerable household not visited for %(days)s days",
                    "%(count)s vulnerable households not visited for %(days)s days",
                    unvisited,
                )
                % {"count": unvisited, "days": UNVISITED_DAYS},
                count=unvisited,
                url=url,
                todos=[
                    TodoItem(
                        ngettext(
                            "Visit %(count)s vulnerable household",
                            "Visit %(count)s vulnerable households",
                            unvisited,
                        )
                        % {"count": unvisited},
                        url,
                    )
                ],
            )
        )

    # Agreements run by the Shanghai calendar: `now.date()` (UTC) is yesterday before 08:00.
    today = clock.localtime(now).date()
    for community, categories in single_provider(user=user, unit=unit, today=today):
        labels = ", ".join(str(ServiceCategory(category).label) for category in categories)
        url = reverse("partners:community_resources", args=[community.pk])
        alerts.append(
            Alert(
                kind="single_provider",
                severity=Severity.WARNING,
                message=_("%(community)s: only one provider for %(categories)s")
                % {"community": community.name, "categories": labels},
                count=len(categories),
                url=url,
                todos=[
                    TodoItem(
                        _("Find a second provider in %(community)s for %(categories)s")
                        % {"community": community.name, "categories": labels},
                        url,
                    )
                ],
            )
        )

    teams = teams_below_target(user=user, unit=unit)
    if teams:
        alerts.append(
            Alert(
                kind="team_below_target",
                severity=Severity.WARNING,
                message=ngettext(
                    "%(count)s team below its target size",
                    "%(count)s teams below their target size",
                    len(teams),
                )
                % {"count": len(teams)},
                count=len(teams),
                url=reverse("volunteers:teams"),
                todos=[
                    TodoItem(
                        _("Recruit %(missing)s for %(team)s (%(members)s of %(target)s)")
                        % {
                            "missing": team.target_size - team.member_count,
                            "team": f"{team.community.name} {team.name}",
                            "members": team.member_count,
                            "target": team.target_size,
                        },
                        reverse("volunteers:team", args=[team.pk]),
                    )
                    for team in teams
                ],
            )
        )

    items = supplies_below_minimum(user=user, unit=unit)
    if items:
        alerts.append(
            Alert(
                kind="supplies_below_minimum",
                severity=Severity.WARNING,
                message=ngettext(
                    "%(count)s supply below its minimum",
                    "%(count)s supplies below their minimum",
                    len(items),
                )
                % {"count": len(items)},
                count=len(items),
                url=reverse("supplies:alerts"),
                todos=[
                    TodoItem(
                        _("Restock %(item)s (%(quantity)s of at least %(minimum)s)")
                        % {
                            "item": item.name,
                            "quantity": item.quantity,
                            "minimum": item.minimum_level,
                        },
                        reverse("supplies:item_detail", args=[item.pk]),
                    )
                    for item in items
                ],
            )
        )
    return alerts


def todo_list(alerts: list[Alert]) -> list[TodoItem]:
    return [todo for alert in alerts for todo in alert.todos]
