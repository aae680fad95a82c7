"""Capacity resilience (能力韧性): enough volunteers, staffed teams, redundant resources,
supplies at their minimum, drills that reach everyone in time.

Each indicator: a set-based compute over the whole subtree (one grouped query per source,
shared through `context.memo` where several indicators read the same rows) and a
drill-down to the rows behind one unit's value, read through the scope layer of the app
that owns them (volunteers, partners, supplies, emergency selectors).

States that change over time are taken as they stood at the end of the period where the
records allow it: team memberships by their joined/ended times, supply balances by the
last movement before the end, agreements by their validity dates, needs by the time
their last claim was confirmed. Volunteer statuses and resident tags have no history and
are read as they are now (rows created after the end are left out).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from django.db.models import Case, Count, Exists, Max, OuterRef, Q, Subquery, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.grid_paths import (
    path_ancestors,
    path_at_depth,
    path_depth,
    within,
    within_or_above,
)
from linli.accounts.roles import Permission
from linli.emergency.models import Activation, ActivationState, Simulation
from linli.emergency.selectors import activations_visible
from linli.grids.models import GridLevel, GridUnit, Resident
from linli.grids.selectors import residents_visible, scope_for
from linli.partners.models import (
    CRITICAL_CATEGORIES,
    Agreement,
    ClaimState,
    Need,
    NeedState,
    Partner,
    Project,
    ProjectState,
    Recurrence,
    Resource,
    ServiceCategory,
)
from linli.partners.selectors import (
    SKILLS_FOR_CATEGORY,
    communities_for,
    needs_visible,
    partners_visible,
    projects_visible,
    resources_visible,
)
from linli.resilience.engine import (
    HIGHER,
    LOWER,
    Context,
    DrillDown,
    Indicator,
    Measure,
    Unit,
    medians,
    ratio,
    register,
    rollup,
)
from linli.resilience.models import Dimension
from linli.supplies.models import StockMovement, SupplyItem
from linli.supplies.selectors import items_visible
from linli.volunteers.models import (
    SERVING_STATUSES,
    Skill,
    Team,
    Volunteer,
    decode_codes,
)
from linli.volunteers.selectors import COMMUNITY_DEPTH, teams_visible, volunteers_visible

DRILLDOWN_LIMIT = 200

# The skills a community cannot be without in an emergency: someone must be able to treat,
# give first aid, look after the elderly, calm people, drive and move supplies. A skill
# counts as covered when at least two serving volunteers hold it (one may be away).
CRITICAL_SKILLS: tuple[str, ...] = (
    Skill.MEDICAL,
    Skill.FIRST_AID,
    Skill.ELDER_CARE,
    Skill.PSYCHOLOGICAL,
    Skill.DRIVING,
    Skill.LOGISTICS,
)
SKILL_COVERED_HOLDERS = 2
# A critical resource category is redundant with two independent providers.
REDUNDANT_PROVIDERS = 2

NEEDS_WINDOW_DAYS = 90
PROJECTS_WINDOW_DAYS = 365
# A drill that never reached the share counts as taking a full day: far beyond any
# target, so its score is near 0 rather than the drill being left out of the index.
NOT_REACHED_MINUTES = 24 * 60


def community_path_of(path: str) -> str | None:
    """`/S/B/A/A1/` → `/S/B/A/`; None above the community level."""
    if path_depth(path) < COMMUNITY_DEPTH:
        return None
    return path_at_depth(path, COMMUNITY_DEPTH)


def last_day(context: Context) -> date:
    """The last calendar day of the period (`end` is exclusive)."""
    return timezone.localdate(context.end - timedelta(microseconds=1))


def _day(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d") if moment else "—"


# Shared sources ---------------------------------------------------------------------------


def _communities(context: Context) -> list[str]:
    """The community paths of the subtree (whatever levels the context lists)."""

    def fetch():
        return list(
            GridUnit.objects.filter(
                path__startswith=context.root_path, level=GridLevel.COMMUNITY
            ).values_list("path", flat=True)
        )

    return context.memo("capacity.communities", fetch)


def _serving_volunteers(context: Context) -> list[tuple[str, str, int]]:
    """(grid path, skills, how many) of the serving volunteers registered before the end:
    one grouped query shared by the volunteer, skill and redundancy indicators."""

    def fetch():
        return list(
            Volunteer.objects.filter(
                grid_path__startswith=context.root_path,
                status__in=SERVING_STATUSES,
                created_at__lt=context.end,
            )
            .values("grid_path", "skills")
            .annotate(n=Count("id"))
            .values_list("grid_path", "skills", "n")
            .order_by()
        )

    return context.memo("capacity.volunteers", fetch)


def _skill_holders(context: Context) -> dict[str, dict[str, float]]:
    """skill → {unit path: serving volunteers holding it}."""

    def compute():
        by_skill: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for path, skills, count in _serving_volunteers(context):
            for skill in set(decode_codes(skills)):
                by_skill[skill].append((path, count))
        return {skill: rollup(rows, context) for skill, rows in by_skill.items()}

    return context.memo("capacity.skill_holders", compute)


# C_VOLUNTEERS_PER_100 -----------------------------------------------------------------------


def volunteers_per_100(context: Context) -> dict[str, Measure]:
    volunteers = rollup(
        ((path, count) for path, _skills, count in _serving_volunteers(context)), context
    )
    vulnerable = rollup(
        Resident.objects.filter(grid_path__startswith=context.root_path, created_at__lt=context.end)
        .vulnerable()
        .values("grid_path")
        .annotate(n=Count("id"))
        .values_list("grid_path", "n")
        .order_by(),
        context,
    )
    return ratio(volunteers, vulnerable, context, scale=100.0)


def volunteers_per_100_rows(context: Context, unit: Unit, user) -> DrillDown:
    """The serving volunteers of the unit; the note gives the vulnerable residents the
    viewer may see."""
    volunteers = (
        volunteers_visible(user=user)
        .filter(
            grid_path__startswith=unit.path,
            status__in=SERVING_STATUSES,
            created_at__lt=context.end,
        )
        .select_related("grid_unit")
        .order_by("grid_path", "id")
    )
    total = volunteers.count()
    rows, links = [], []
    for volunteer in volunteers[:DRILLDOWN_LIMIT]:
        rows.append(
            [
                volunteer.name,
                volunteer.grid_unit.name,
                "、".join(volunteer.skill_labels) or "—",
                str(volunteer.get_status_display()),
            ]
        )
        links.append(reverse("volunteers:detail", args=[volunteer.pk]))
    vulnerable = (
        residents_visible(user=user)
        .filter(grid_path__startswith=unit.path, created_at__lt=context.end)
        .vulnerable()
        .count()
    )
    return DrillDown(
        columns=[str(_("Volunteer")), str(_("Grid unit")), str(_("Skills")), str(_("Status"))],
        rows=rows,
        links=links,
        total=total,
        note=str(
            _("Serving volunteers of the unit; %(count)d residents with a vulnerability tag.")
            % {"count": vulnerable}
        ),
    )


# C_TEAM_STAFFING ----------------------------------------------------------------------------


def _members_at(end: datetime) -> Q:
    """Memberships current at `end`."""
    return Q(memberships__joined_at__lt=end) & (
        Q(memberships__ended_at__isnull=True) | Q(memberships__ended_at__gte=end)
    )


def team_staffing(context: Context) -> dict[str, Measure]:
    teams = (
        Team.objects.filter(grid_path__startswith=context.root_path, created_at__lt=context.end)
        .annotate(members=Count("memberships", filter=_members_at(context.end)))
        .values_list("grid_path", "target_size", "members")
        .order_by()
    )
    staffed, targets = [], []
    for path, target, members in teams:
        staffed.append((path, min(members, target)))
        targets.append((path, target))
    return ratio(rollup(staffed, context), rollup(targets, context), context)


def team_staffing_rows(context: Context, unit: Unit, user) -> DrillDown:
    """The unit's teams, furthest below target first."""
    teams = list(
        teams_visible(user=user)
        .filter(grid_path__startswith=unit.path, created_at__lt=context.end)
        .select_related("community")
        .annotate(members=Count("memberships", filter=_members_at(context.end)))
    )
    teams.sort(key=lambda team: (-(team.target_size - team.members), team.grid_path, team.pk))
    rows, links = [], []
    for team in teams[:DRILLDOWN_LIMIT]:
        rows.append(
            [
                team.name,
                team.community.name,
                str(team.members),
                str(team.target_size),
                str(max(0, team.target_size - team.members)),
            ]
        )
        links.append(reverse("volunteers:team", args=[team.pk]))
    return DrillDown(
        columns=[
            str(_("Team")),
            str(_("Community")),
            str(_("Current members")),
            str(_("Target size")),
            str(_("Missing")),
        ],
        rows=rows,
        links=links,
        total=len(teams),
        note=str(_("Teams furthest below their target size first.")),
    )


# C_CRITICAL_SKILLS --------------------------------------------------------------------------


def critical_skills(context: Context) -> dict[str, Measure]:
    holders = _skill_holders(context)
    covered: dict[str, float] = defaultdict(float)
    for skill in CRITICAL_SKILLS:
        for path, count in holders.get(skill, {}).items():
            if count >= SKILL_COVERED_HOLDERS:
                covered[path] += 1
    total = dict.fromkeys(context.paths, float(len(CRITICAL_SKILLS)))
    return ratio(covered, total, context)


def critical_skills_rows(context: Context, unit: Unit, user) -> DrillDown:
    """Each critical skill with its holders (those the viewer may see), the uncovered
    first."""
    by_skill = _skill_holders(context)
    holders = {skill: by_skill.get(skill, {}).get(unit.path, 0.0) for skill in CRITICAL_SKILLS}
    visible = (
        volunteers_visible(user=user)
        .filter(
            grid_path__startswith=unit.path,
            status__in=SERVING_STATUSES,
            created_at__lt=context.end,
        )
        .order_by("id")
    )
    names: dict[str, list[str]] = defaultdict(list)
    for name, skills in visible.values_list("name", "skills"):
        for skill in decode_codes(skills):
            names[skill].append(name)
    order = sorted(
        CRITICAL_SKILLS, key=lambda skill: (holders[skill], CRITICAL_SKILLS.index(skill))
    )
    rows, links = [], []
    for skill in order:
        count = int(holders[skill])
        rows.append(
            [
                str(Skill(skill).label),
                str(count),
                "、".join(names.get(skill, [])) or "—",
                str(_("covered") if count >= SKILL_COVERED_HOLDERS else _("fewer than two")),
            ]
        )
        links.append(f"{reverse('volunteers:list')}?status=&skill={skill}")
    return DrillDown(
        columns=[
            str(_("Skill")),
            str(_("Holders")),
            str(_("Who holds it")),
            str(_("Skill coverage")),
        ],
        rows=rows,
        links=links,
        total=len(rows),
        note=str(_("A critical skill is covered when two or more serving volunteers hold it.")),
    )


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
        for path, skills, count in _serving_volunteers(context):
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


# C_NEEDS_FULFILLED and C_NEED_DAYS ----------------------------------------------------------


def _with_fulfilled_at(needs):
    """When each need was met: a one-off need when its last claim was confirmed; a
    recurring need (never "done" once and for all) when its last standing claim was made,
    i.e. when providers for its whole quantity were found."""
    return needs.annotate(
        fulfilled_at=Case(
            When(
                recurrence=Recurrence.ONCE,
                then=Max("claims__confirmed_at", filter=Q(claims__state=ClaimState.CONFIRMED)),
            ),
            default=Max("claims__created_at", filter=~Q(claims__state=ClaimState.CANCELLED)),
        )
    )


# The states in which a need counts as met: a one-off need fulfilled, a recurring need
# fully claimed.
MET = Q(recurrence=Recurrence.ONCE, state=NeedState.FULFILLED) | (
    ~Q(recurrence=Recurrence.ONCE) & Q(state__in=[NeedState.CLAIMED, NeedState.FULFILLED])
)


def _counted_needs(context: Context):
    """Needs created in the 90 days up to the end, cancelled ones left out."""
    return Need.objects.filter(
        created_at__gte=context.end - timedelta(days=NEEDS_WINDOW_DAYS),
        created_at__lt=context.end,
    ).exclude(state=NeedState.CANCELLED)


def _is_met(recurrence: str, state: str, fulfilled_at: datetime | None, end: datetime) -> bool:
    if recurrence == Recurrence.ONCE:
        in_state = state == NeedState.FULFILLED
    else:
        in_state = state in (NeedState.CLAIMED, NeedState.FULFILLED)
    return in_state and fulfilled_at is not None and fulfilled_at < end


def needs_fulfilled(context: Context) -> dict[str, Measure]:
    rows = list(
        _with_fulfilled_at(_counted_needs(context).filter(grid_path__startswith=context.root_path))
        .values_list("grid_path", "recurrence", "state", "fulfilled_at")
        .order_by()
    )
    created = rollup(((path, 1) for path, *_rest in rows), context)
    fulfilled = rollup(
        (
            (path, 1)
            for path, recurrence, state, at in rows
            if _is_met(recurrence, state, at, context.end)
        ),
        context,
    )
    return ratio(fulfilled, created, context)


def needs_fulfilled_rows(context: Context, unit: Unit, user) -> DrillDown:
    """The needs of the period not (yet) fulfilled, open longest first."""
    needs = [
        need
        for need in _with_fulfilled_at(
            _counted_needs(context).filter(
                pk__in=needs_visible(user=user).values("pk"), grid_path__startswith=unit.path
            )
        )
        .select_related("grid_unit")
        .order_by("created_at", "id")
        if not _is_met(need.recurrence, need.state, need.fulfilled_at, context.end)
    ]
    rows, links = [], []
    for need in needs[:DRILLDOWN_LIMIT]:
        rows.append(
            [
                need.title,
                str(need.get_category_display()),
                need.grid_unit.name,
                _day(need.created_at),
                str((context.end - need.created_at).days),
                str(need.get_state_display()),
            ]
        )
        links.append(reverse("partners:need_detail", args=[need.pk]))
    return DrillDown(
        columns=[
            str(_("Need")),
            str(_("Category")),
            str(_("Where")),
            str(_("Created on")),
            str(_("Days open")),
            str(_("State")),
        ],
        rows=rows,
        links=links,
        total=len(needs),
        note=str(_("Needs of the last 90 days not met by the end, open longest first.")),
    )


def _fulfilled_recently(context: Context):
    return _with_fulfilled_at(Need.objects.filter(MET, created_at__lt=context.end)).filter(
        fulfilled_at__gte=context.end - timedelta(days=NEEDS_WINDOW_DAYS),
        fulfilled_at__lt=context.end,
    )


def need_days(context: Context) -> dict[str, Measure]:
    rows = (
        _fulfilled_recently(context)
        .filter(grid_path__startswith=context.root_path)
        .values_list("grid_path", "created_at", "fulfilled_at")
        .order_by()
    )
    return medians(
        (
            (path, (fulfilled - created).total_seconds() / 86400)
            for path, created, fulfilled in rows
        ),
        context,
    )


def need_days_rows(context: Context, unit: Unit, user) -> DrillDown:
    """The needs fulfilled in the 90 days, slowest first."""
    needs = sorted(
        _fulfilled_recently(context)
        .filter(pk__in=needs_visible(user=user).values("pk"), grid_path__startswith=unit.path)
        .select_related("grid_unit"),
        key=lambda need: (need.created_at - need.fulfilled_at, need.pk),
    )
    rows, links = [], []
    for need in needs[:DRILLDOWN_LIMIT]:
        days = (need.fulfilled_at - need.created_at).total_seconds() / 86400
        rows.append(
            [
                need.title,
                need.grid_unit.name,
                _day(need.created_at),
                _day(need.fulfilled_at),
                f"{days:.1f}",
            ]
        )
        links.append(reverse("partners:need_detail", args=[need.pk]))
    return DrillDown(
        columns=[
            str(_("Need")),
            str(_("Where")),
            str(_("Created on")),
            str(_("Met on")),
            str(_("Days")),
        ],
        rows=rows,
        links=links,
        total=len(needs),
        note=str(_("Needs met in the last 90 days, slowest first.")),
    )


# C_SUPPLIES_AT_MINIMUM ----------------------------------------------------------------------


def _items_with_balance(context: Context, items):
    """Items with a minimum level, created before the end, with their balance at the end
    (the balance after their last movement before it; 0 before any movement)."""
    last = (
        StockMovement.objects.filter(item=OuterRef("pk"), created_at__lt=context.end)
        .order_by("-created_at", "-id")
        .values("balance_after")[:1]
    )
    return items.filter(minimum_level__gt=0, created_at__lt=context.end).annotate(
        balance=Coalesce(Subquery(last), 0)
    )


def supplies_at_minimum(context: Context) -> dict[str, Measure]:
    rows = list(
        _items_with_balance(
            context, SupplyItem.objects.filter(grid_path__startswith=context.root_path)
        )
        .values_list("grid_path", "balance", "minimum_level")
        .order_by()
    )
    items = rollup(((path, 1) for path, _balance, _minimum in rows), context)
    at_minimum = rollup(
        ((path, 1) for path, balance, minimum in rows if balance >= minimum), context
    )
    return ratio(at_minimum, items, context)


def supplies_at_minimum_rows(context: Context, unit: Unit, user) -> DrillDown:
    """The items below their minimum at the end, furthest below first."""
    items = [
        item
        for item in _items_with_balance(
            context, items_visible(user=user).filter(grid_path__startswith=unit.path)
        ).order_by("grid_path", "name", "id")
        if item.balance < item.minimum_level
    ]
    items.sort(key=lambda item: (item.balance - item.minimum_level, item.grid_path, item.pk))
    rows, links = [], []
    for item in items[:DRILLDOWN_LIMIT]:
        rows.append(
            [
                item.name,
                item.location.name,
                f"{item.balance} {item.unit}",
                f"{item.minimum_level} {item.unit}",
            ]
        )
        links.append(reverse("supplies:item_detail", args=[item.pk]))
    return DrillDown(
        columns=[str(_("Item")), str(_("Location")), str(_("Balance")), str(_("Minimum level"))],
        rows=rows,
        links=links,
        total=len(items),
        note=str(_("Supply items below their minimum level at the end of the period.")),
    )


# C_DRILL_90 and C_DRILL_100 -----------------------------------------------------------------


def _root_reach(context: Context) -> Q:
    """Rows scoped inside the subtree or on a unit above its root."""
    return within_or_above([context.root_path])


def _minutes(value) -> float:
    return float(value) if value is not None else float(NOT_REACHED_MINUTES)


def _drills(context: Context) -> dict[str, dict]:
    """Unit path → the drill that counts for it: the latest real drill stood down before
    the end whose scope is the unit or above it, else the latest simulated drill."""

    def compute():
        real: dict[str, tuple] = {}
        # The whole `minutes_to` object: a key such as "90" would be read as an array
        # index by the JSON path lookups.
        for pk, path, ended, minutes_to, targeted in (
            Activation.objects.filter(
                _root_reach(context),
                is_drill=True,
                state=ActivationState.STOOD_DOWN,
                stood_down_at__lt=context.end,
                summary__has_key="minutes_to",
            )
            .values_list(
                "pk",
                "grid_path",
                "stood_down_at",
                "summary__minutes_to",
                "summary__targeted_households",
            )
            .order_by()
        ):
            minutes_to = minutes_to or {}
            entry = (
                "activation",
                pk,
                ended,
                minutes_to.get("90"),
                minutes_to.get("100"),
                targeted,
            )
            if path not in real or (ended, pk) > (real[path][2], real[path][1]):
                real[path] = entry
        simulated: dict[str, tuple] = {}
        for pk, path, ended, to90, to100, targeted in (
            Simulation.objects.filter(_root_reach(context), created_at__lt=context.end)
            .values_list(
                "pk",
                "grid_path",
                "created_at",
                "minutes_to_90",
                "minutes_to_100",
                "targeted_households",
            )
            .order_by()
        ):
            entry = ("simulation", pk, ended, to90, to100, targeted)
            if path not in simulated or (ended, pk) > (simulated[path][2], simulated[path][1]):
                simulated[path] = entry
        chosen = {}
        for unit_path in context.paths:
            for found in (real, simulated):
                covering = [found[path] for path in path_ancestors(unit_path) if path in found]
                if covering:
                    chosen[unit_path] = max(covering, key=lambda entry: (entry[2], entry[1]))
                    break
        return chosen

    return context.memo("capacity.drills", compute)


def _drill_measures(context: Context, index: int) -> dict[str, Measure]:
    drills = _drills(context)
    result = {}
    for path in context.paths:
        drill = drills.get(path)
        if drill is None:
            result[path] = Measure(None)
        else:
            targeted = drill[5]
            result[path] = Measure(
                _minutes(drill[index]), None, float(targeted) if targeted is not None else None
            )
    return result


def drill_90(context: Context) -> dict[str, Measure]:
    return _drill_measures(context, 3)


def drill_100(context: Context) -> dict[str, Measure]:
    return _drill_measures(context, 4)


def _minutes_cell(value) -> str:
    if value is None:
        return str(_("not reached"))
    return f"{float(value):g}"


def drill_rows(context: Context, unit: Unit, user) -> DrillDown:
    """The drills covering the unit that ended before the end, newest first, real drills
    (with their after-action report) before simulations; the first row is the one
    counted."""
    unit_ancestors = path_ancestors(unit.path)
    activations = (
        activations_visible(user=user)
        .filter(
            grid_path__in=unit_ancestors,
            is_drill=True,
            state=ActivationState.STOOD_DOWN,
            stood_down_at__lt=context.end,
            summary__has_key="minutes_to",
        )
        .select_related("scope")
        .order_by("-stood_down_at", "-id")
    )
    rows, links = [], []
    for activation in activations[:DRILLDOWN_LIMIT]:
        minutes_to = activation.summary.get("minutes_to") or {}
        rows.append(
            [
                str(_("Drill")),
                activation.scope.name,
                _day(activation.stood_down_at),
                _minutes_cell(minutes_to.get("90")),
                _minutes_cell(minutes_to.get("100")),
                str(activation.summary.get("targeted_households", "—")),
            ]
        )
        links.append(reverse("emergency:report", args=[activation.pk]))
    # Simulations have no selector of their own: shown to whoever sees activations of the
    # same scope (EMERGENCY_HELP inside or above it).
    scope = scope_for(user)
    help_paths = scope.paths_for(Permission.EMERGENCY_HELP)
    simulations = Simulation.objects.filter(
        grid_path__in=unit_ancestors, created_at__lt=context.end
    ).select_related("scope")
    if not scope.unrestricted:
        simulations = simulations.filter(
            pk__in=[
                pk
                for pk, path in simulations.values_list("pk", "grid_path")
                if any(path.startswith(mine) or mine.startswith(path) for mine in help_paths)
            ]
        )
    for simulation in simulations.order_by("-created_at", "-id")[:DRILLDOWN_LIMIT]:
        if len(rows) >= DRILLDOWN_LIMIT:
            break
        rows.append(
            [
                str(_("Simulated drill")),
                simulation.scope.name,
                _day(simulation.created_at),
                _minutes_cell(simulation.minutes_to_90),
                _minutes_cell(simulation.minutes_to_100),
                str(simulation.targeted_households),
            ]
        )
        links.append(None)
    return DrillDown(
        columns=[
            str(_("Kind")),
            str(_("Scope")),
            str(_("Ended")),
            str(_("Minutes to 90%")),
            str(_("Minutes to 100%")),
            str(_("Targeted households")),
        ],
        rows=rows,
        links=links,
        total=len(rows),
        note=str(
            _(
                "The first row is the drill counted: real drills before simulated ones. A "
                "share never reached counts as %(minutes)d minutes."
            )
            % {"minutes": NOT_REACHED_MINUTES}
        ),
    )


# The catalogue ------------------------------------------------------------------------------

register(
    Indicator(
        code="C_VOLUNTEERS_PER_100",
        dimension=Dimension.CAPACITY,
        name=_("Active volunteers per 100 vulnerable residents"),
        formula=_(
            "serving (approved or active) volunteers registered in the unit ÷ residents with "
            "any vulnerability tag × 100"
        ),
        source=_("Volunteer register and the resident registry"),
        direction=HIGHER,
        target=10.0,
        unit="per_100",
        compute=volunteers_per_100,
        drilldown=volunteers_per_100_rows,
        finest_level=GridLevel.MICRO_GRID,
    )
)

register(
    Indicator(
        code="C_TEAM_STAFFING",
        dimension=Dimension.CAPACITY,
        name=_("Functional teams staffed against their targets"),
        formula=_(
            "Σ min(current members, target size) ÷ Σ target sizes over the functional teams "
            "of the unit's communities, memberships as they stood at the end of the period"
        ),
        source=_("Functional teams (七支队伍) and their memberships"),
        direction=HIGHER,
        target=1.0,
        unit="share",
        compute=team_staffing,
        drilldown=team_staffing_rows,
        finest_level=GridLevel.COMMUNITY,
    )
)

register(
    Indicator(
        code="C_CRITICAL_SKILLS",
        dimension=Dimension.CAPACITY,
        name=_("Critical skills held by at least two volunteers"),
        formula=_(
            "critical skills (medical, first aid, elder care, psychological counselling, "
            "driving, logistics) held by two or more serving volunteers of the unit ÷ 6"
        ),
        source=_("Volunteer register (skills)"),
        direction=HIGHER,
        target=1.0,
        unit="share",
        compute=critical_skills,
        drilldown=critical_skills_rows,
        finest_level=GridLevel.MICRO_GRID,
    )
)

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

register(
    Indicator(
        code="C_NEEDS_FULFILLED",
        dimension=Dimension.CAPACITY,
        name=_("Needs fulfilled"),
        formula=_(
            "needs created in the 90 days up to the end and met by the end (a one-off need "
            "fulfilled, every claim confirmed; a recurring need fully claimed) ÷ needs "
            "created in those days, cancelled ones left out"
        ),
        source=_("Needs list (需求清单) and claims"),
        direction=HIGHER,
        target=0.8,
        unit="share",
        compute=needs_fulfilled,
        drilldown=needs_fulfilled_rows,
        finest_level=GridLevel.MICRO_GRID,
    )
)

register(
    Indicator(
        code="C_NEED_DAYS",
        dimension=Dimension.CAPACITY,
        name=_("Median days to fulfil a need"),
        formula=_(
            "median of the days from a need's creation until it was met (a one-off need: its "
            "last claim confirmed; a recurring need: fully claimed), over the needs met in the "
            "90 days up to the end"
        ),
        source=_("Needs list (需求清单) and claims"),
        direction=LOWER,
        target=7.0,
        unit="days",
        compute=need_days,
        drilldown=need_days_rows,
        finest_level=GridLevel.MICRO_GRID,
    )
)

register(
    Indicator(
        code="C_SUPPLIES_AT_MINIMUM",
        dimension=Dimension.CAPACITY,
        name=_("Supply items at or above their minimum"),
        formula=_(
            "supply items whose balance at the end was at or above their minimum level ÷ "
            "supply items with a minimum level"
        ),
        source=_("Emergency supplies (物资) and their movements"),
        direction=HIGHER,
        target=1.0,
        unit="share",
        compute=supplies_at_minimum,
        drilldown=supplies_at_minimum_rows,
        finest_level=GridLevel.MICRO_GRID,
    )
)

register(
    Indicator(
        code="C_DRILL_90",
        dimension=Dimension.CAPACITY,
        # xgettext:no-python-format
        name=_("Drill: minutes to contact 90% of households"),
        formula=_(
            "minutes from activation until nine in ten targeted households were contacted in "
            "the latest drill covering the unit that ended before the end of the period (a "
            "real drill if there is one, else the latest simulated drill); a share never "
            "reached counts as 1440 minutes"
        ),
        source=_("Emergency drills (after-action reports) and simulated drills"),
        direction=LOWER,
        target=60.0,
        unit="minutes",
        compute=drill_90,
        drilldown=drill_rows,
        finest_level=GridLevel.COMMUNITY,
    )
)

register(
    Indicator(
        code="C_DRILL_100",
        dimension=Dimension.CAPACITY,
        name=_("Drill: minutes to contact every household"),
        formula=_(
            "minutes from activation until every targeted household was contacted in the "
            "latest drill covering the unit that ended before the end of the period (a real "
            "drill if there is one, else the latest simulated drill); never reached counts "
            "as 1440 minutes"
        ),
        source=_("Emergency drills (after-action reports) and simulated drills"),
        direction=LOWER,
        target=120.0,
        unit="minutes",
        compute=drill_100,
        drilldown=drill_rows,
        finest_level=GridLevel.COMMUNITY,
    )
)
