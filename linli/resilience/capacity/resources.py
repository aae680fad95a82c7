"""Capacity indicators of the partners' lists: critical resource categories with two
independent providers (C_RESOURCE_REDUNDANCY), partner units under a valid agreement
(C_AGREEMENTS) and projects delivered in the last 365 days (C_PROJECTS_DELIVERED).
Agreements and resources are read by their validity dates on the period's last day."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from django.db.models import Count, Exists, Max, OuterRef, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from linli.accounts.grid_paths import within
from linli.grids.models import GridLevel, GridUnit
from linli.partners.models import (
    CRITICAL_CATEGORIES,
    Agreement,
    Partner,
    Project,
    ProjectState,
    Resource,
    ServiceCategory,
)
from linli.partners.selectors import (
    SKILLS_FOR_CATEGORY,
    communities_for,
    partners_visible,
    projects_visible,
    resources_visible,
)
from linli.resilience.capacity.common import (
    DRILLDOWN_LIMIT,
    community_path_of,
    last_day,
    serving_volunteers,
)
from linli.resilience.engine import (
    HIGHER,
    Context,
    DrillDown,
    Indicator,
    Measure,
    Unit,
    ratio,
    register,
    rollup,
)
from linli.resilience.models import Dimension
from linli.volunteers.models import SERVING_STATUSES, decode_codes
from linli.volunteers.selectors import volunteers_visible

# A critical resource category is redundant with two independent providers.
REDUNDANT_PROVIDERS = 2


PROJECTS_WINDOW_DAYS = 365


def _communities(context: Context) -> list[str]:
    """The community paths of the subtree (whatever levels the context lists)."""

    def fetch():
        return list(
            GridUnit.objects.filter(
                path__startswith=context.root_path, level=GridLevel.COMMUNITY
            ).values_list("path", flat=True)
        )

    return context.memo("capacity.communities", fetch)


# C_RESOURCE_REDUNDANCY ----------------------------------------------------------------------


def _valid_agreement(day: date, partner_field: str = "partner_id"):
    return Exists(
        Agreement.objects.filter(
            partner=OuterRef(partner_field), starts_on__lte=day, ends_on__gte=day
        )
    )


def _provider_resources(day: date):
    """Active critical resources on `day` (a partner's only under a valid agreement), as
    the partners app's redundancy page counts them."""
    return (
        Resource.objects.filter(is_active=True, category__in=CRITICAL_CATEGORIES)
        .filter(Q(available_until__isnull=True) | Q(available_until__gte=day))
        .filter(Q(partner__isnull=True) | _valid_agreement(day))
    )


def _volunteer_categories(skills: str) -> list[str]:
    """The critical categories a volunteer provides by skill alone."""
    held = set(decode_codes(skills))
    return [
        category
        for category in CRITICAL_CATEGORIES
        if held.intersection(SKILLS_FOR_CATEGORY.get(category, ()))
    ]


def _providers(context: Context) -> dict[tuple[str, str], int]:
    """(community path, category) → independent providers: distinct partners with an
    active resource, plus serving volunteers by skill, plus volunteers offering an active
    resource who do not already count by skill."""

    def compute():
        day = last_day(context)
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for path, skills, count in serving_volunteers(context):
            community = community_path_of(path)
            if community is None:
                continue
            for category in _volunteer_categories(skills):
                counts[(community, category)] += count
        resources = (
            _provider_resources(day)
            .filter(grid_path__startswith=context.root_path, created_at__lt=context.end)
            .filter(
                Q(partner__isnull=False)
                | Q(volunteer__status__in=SERVING_STATUSES, volunteer__created_at__lt=context.end)
            )
            .values_list(
                "grid_path",
                "category",
                "partner_id",
                "volunteer_id",
                "volunteer__grid_path",
                "volunteer__skills",
            )
            .order_by()
        )
        seen: set[tuple[str, str, str, int]] = set()
        for path, category, partner_id, volunteer_id, volunteer_path, skills in resources:
            community = community_path_of(path)
            if community is None:
                continue
            key = (community, category, "p" if partner_id else "v", partner_id or volunteer_id)
            if key in seen:
                continue
            seen.add(key)
            if volunteer_id and (
                category in _volunteer_categories(skills or "")
                and community_path_of(volunteer_path) == community
            ):
                continue  # already counted by skill
            counts[(community, category)] += 1
        return counts

    return context.memo("capacity.providers", compute)


def resource_redundancy(context: Context) -> dict[str, Measure]:
    providers = _providers(context)
    redundant, categories = [], []
    for community in _communities(context):
        categories.append((community, len(CRITICAL_CATEGORIES)))
        redundant.append(
            (
                community,
                sum(
                    1
                    for category in CRITICAL_CATEGORIES
                    if providers.get((community, category), 0) >= REDUNDANT_PROVIDERS
                ),
            )
        )
    return ratio(rollup(redundant, context), rollup(categories, context), context)


def resource_redundancy_rows(context: Context, unit: Unit, user) -> DrillDown:
    """Per community of the unit and critical category: the providers the viewer may see,
    categories with fewer than two providers first."""
    day = last_day(context)
    # The communities of the unit whose resources page the viewer may open.
    communities = [
        community
        for community in communities_for(user=user)
        if community.path.startswith(unit.path)
    ]
    providers = _providers(context)
    names: dict[tuple[str, str], set[str]] = defaultdict(set)
    if communities:
        paths = within(community.path for community in communities)
        for path, category, partner_name, volunteer_name in (
            _provider_resources(day)
            .filter(paths, created_at__lt=context.end)
            .filter(Q(pk__in=resources_visible(user=user).values("pk")))
            .values_list("grid_path", "category", "partner__name", "volunteer__name")
        ):
            names[(community_path_of(path), category)].add(partner_name or volunteer_name)
        for path, name, skills in (
            volunteers_visible(user=user)
            .filter(paths, status__in=SERVING_STATUSES, created_at__lt=context.end)
            .values_list("grid_path", "name", "skills")
        ):
            for category in _volunteer_categories(skills):
                names[(community_path_of(path), category)].add(name)
    items = [
        (community, category, providers.get((community.path, category), 0))
        for community in communities
        for category in CRITICAL_CATEGORIES
    ]
    items.sort(key=lambda item: (min(item[2], REDUNDANT_PROVIDERS), item[0].path))
    rows, links = [], []
    for community, category, count in items[:DRILLDOWN_LIMIT]:
        rows.append(
            [
                community.name,
                str(ServiceCategory(category).label),
                str(count),
                "、".join(sorted(names.get((community.path, category), ()))) or "—",
                str(
                    _("no provider")
                    if count == 0
                    else _("single provider")
                    if count < REDUNDANT_PROVIDERS
                    else _("redundant")
                ),
            ]
        )
        links.append(reverse("partners:community_resources", args=[community.pk]))
    return DrillDown(
        columns=[
            str(_("Community")),
            str(_("Category")),
            str(_("Providers")),
            str(_("Who provides it")),
            str(_("Redundancy")),
        ],
        rows=rows,
        links=links,
        total=len(items),
        note=str(
            _(
                "Critical categories with fewer than two independent providers first "
                "(partners count only under a valid agreement)."
            )
        ),
    )


# C_AGREEMENTS -------------------------------------------------------------------------------


def agreements_active(context: Context) -> dict[str, Measure]:
    day = last_day(context)
    rows = (
        Partner.objects.filter(grid_path__startswith=context.root_path, is_active=True)
        .filter(_valid_agreement(day, "pk"))
        .values("grid_path")
        .annotate(n=Count("id"))
        .values_list("grid_path", "n")
        .order_by()
    )
    counts = rollup(rows, context)
    return {
        path: Measure(counts.get(path, 0.0), counts.get(path, 0.0), None) for path in context.paths
    }


def agreements_rows(context: Context, unit: Unit, user) -> DrillDown:
    """The unit's partners with a valid agreement on the last day, soonest to expire first."""
    day = last_day(context)
    agreements = (
        Agreement.objects.filter(
            partner__in=partners_visible(user=user).filter(
                grid_path__startswith=unit.path, is_active=True
            ),
            starts_on__lte=day,
            ends_on__gte=day,
        )
        .select_related("partner")
        .order_by("ends_on", "partner__name", "id")
    )
    # One row per partner: the count is of partners under agreement.
    seen: set[int] = set()
    rows, links = [], []
    for agreement in agreements:
        if agreement.partner_id in seen:
            continue
        seen.add(agreement.partner_id)
        if len(rows) < DRILLDOWN_LIMIT:
            rows.append([agreement.partner.name, agreement.title, agreement.ends_on.isoformat()])
            links.append(reverse("partners:partner_detail", args=[agreement.partner_id]))
    return DrillDown(
        columns=[str(_("Partner unit")), str(_("Agreement")), str(_("Valid until"))],
        rows=rows,
        links=links,
        total=len(seen),
        note=str(_("Partner units with a cooperation agreement valid on the last day.")),
    )


# C_PROJECTS_DELIVERED -----------------------------------------------------------------------


def _completed_projects(context: Context):
    """Projects completed in the 365 days up to the last day; a project completes when its
    last milestone is done (without milestones: its end, else its start, date)."""
    day = last_day(context)
    since = day - timedelta(days=PROJECTS_WINDOW_DAYS - 1)
    return (
        Project.objects.filter(state=ProjectState.COMPLETED)
        .annotate(completed_on=Coalesce(Max("milestones__done_on"), "ends_on", "starts_on"))
        .filter(completed_on__gte=since, completed_on__lte=day)
    )


def projects_delivered(context: Context) -> dict[str, Measure]:
    rows = (
        _completed_projects(context)
        .filter(grid_path__startswith=context.root_path)
        .values_list("grid_path", flat=True)
    )
    per_path: dict[str, float] = defaultdict(float)
    for path in rows:
        per_path[path] += 1
    counts = rollup(per_path.items(), context)
    return {
        path: Measure(counts.get(path, 0.0), counts.get(path, 0.0), None) for path in context.paths
    }


def projects_delivered_rows(context: Context, unit: Unit, user) -> DrillDown:
    projects = (
        _completed_projects(context)
        .filter(pk__in=projects_visible(user=user).values("pk"), grid_path__startswith=unit.path)
        .select_related("resource__partner", "resource__volunteer")
        .order_by("-completed_on", "-id")
    )
    total = projects.count()
    rows, links = [], []
    for project in projects[:DRILLDOWN_LIMIT]:
        rows.append(
            [project.title, project.resource.provider_name, project.completed_on.isoformat()]
        )
        links.append(reverse("partners:project_detail", args=[project.pk]))
    return DrillDown(
        columns=[str(_("Project")), str(_("Provider")), str(_("Completed on"))],
        rows=rows,
        links=links,
        total=total,
        note=str(_("Projects completed in the last 365 days.")),
    )


# The catalogue ------------------------------------------------------------------------------

register(
    Indicator(
        code="C_RESOURCE_REDUNDANCY",
        dimension=Dimension.CAPACITY,
        name=_("Critical resource categories with two or more providers"),
        formula=_(
            "critical categories (medical, legal, food, water, venue/shelter, transport, "
            "repair, psychological support, information) with two or more independent "
            "providers in the community — partner units with an active resource under a valid "
            "agreement, serving volunteers by resource or matching skill — ÷ 9; above a "
            "community, over all its communities' categories"
        ),
        source=_("Resource list (资源清单), partner agreements and volunteer skills"),
        direction=HIGHER,
        target=1.0,
        unit="share",
        compute=resource_redundancy,
        drilldown=resource_redundancy_rows,
        finest_level=GridLevel.COMMUNITY,
    )
)

register(
    Indicator(
        code="C_AGREEMENTS",
        dimension=Dimension.CAPACITY,
        name=_("Partner units under a valid agreement"),
        formula=_(
            "active partner units of the unit with a cooperation agreement valid on the "
            "last day of the period"
        ),
        source=_("Partner units (共建单位) and their cooperation agreements"),
        direction=HIGHER,
        target=5.0,
        unit="count",
        compute=agreements_active,
        drilldown=agreements_rows,
        finest_level=GridLevel.COMMUNITY,
    )
)

register(
    Indicator(
        code="C_PROJECTS_DELIVERED",
        dimension=Dimension.CAPACITY,
        name=_("Projects delivered in the last 365 days"),
        formula=_(
            "projects of the project list completed (last milestone done) in the 365 days up "
            "to the last day of the period"
        ),
        source=_("Project list (项目清单) and milestones"),
        direction=HIGHER,
        target=5.0,
        unit="count",
        compute=projects_delivered,
        drilldown=projects_delivered_rows,
        finest_level=GridLevel.COMMUNITY,
    )
)
