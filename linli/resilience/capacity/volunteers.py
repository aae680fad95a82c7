"""Capacity indicators of the volunteer register: serving volunteers per 100 vulnerable
residents (C_VOLUNTEERS_PER_100), functional teams staffed against their targets
(C_TEAM_STAFFING) and critical skills held by two volunteers or more (C_CRITICAL_SKILLS).
Team memberships are taken as they stood at the end of the period; volunteer statuses
have no history and are read as they are now."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from linli.grids.models import GridLevel, Resident
from linli.grids.selectors import residents_visible
from linli.resilience.capacity.common import DRILLDOWN_LIMIT, serving_volunteers
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
from linli.volunteers.models import SERVING_STATUSES, Skill, Team, decode_codes
from linli.volunteers.selectors import teams_visible, volunteers_visible

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


def _skill_holders(context: Context) -> dict[str, dict[str, float]]:
    """skill → {unit path: serving volunteers holding it}."""

    def compute():
        by_skill: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for path, skills, count in serving_volunteers(context):
            for skill in set(decode_codes(skills)):
                by_skill[skill].append((path, count))
        return {skill: rollup(rows, context) for skill, rows in by_skill.items()}

    return context.memo("capacity.skill_holders", compute)


# C_VOLUNTEERS_PER_100 -----------------------------------------------------------------------


def volunteers_per_100(context: Context) -> dict[str, Measure]:
    volunteers = rollup(
        ((path, count) for path, _skills, count in serving_volunteers(context)), context
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
