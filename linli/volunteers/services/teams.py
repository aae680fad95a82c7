"""The seven functional teams of a community and their members. A team takes members up to
its target size; `join_team` and `check_member` are shared with the recommendation.
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.models import User
from linli.errors import Conflict, NotAllowed
from linli.grids.models import GridLevel, GridUnit
from linli.volunteers.models import (
    MembershipSource,
    ServiceKind,
    Skill,
    Team,
    TeamMembership,
    Volunteer,
    VolunteerStatus,
    encode_codes,
)
from linli.volunteers.services.guards import may_manage, volunteer_locked
from linli.volunteers.services.profile_fields import skills_encode, slots_encode

# (kind, default name, required skills, target size) of the seven functional teams.
DEFAULT_TEAMS: tuple[tuple[str, str, tuple[str, ...], int], ...] = (
    (ServiceKind.EMERGENCY_RESPONSE, "应急处置", (Skill.FIRST_AID, Skill.DRIVING), 10),
    (ServiceKind.MEDICAL_SUPPORT, "医疗保障", (Skill.MEDICAL, Skill.NURSING), 6),
    (ServiceKind.SUPPLIES, "物资保障", (Skill.LOGISTICS, Skill.DRIVING), 8),
    (ServiceKind.LIAISON, "信息联络", (Skill.IT, Skill.LANGUAGE), 6),
    (
        ServiceKind.CARE,
        "关爱帮扶",
        (Skill.ELDER_CARE, Skill.PSYCHOLOGICAL, Skill.CHILD_CARE),
        10,
    ),
    (ServiceKind.PATROL, "环境巡查", (Skill.REPAIR,), 8),
    (ServiceKind.PUBLICITY, "宣传动员", (Skill.PUBLICITY, Skill.LANGUAGE), 6),
)


def check_community(community: GridUnit) -> None:
    if community.level != GridLevel.COMMUNITY:
        raise ValidationError({"community": _("Teams belong to a community grid.")})


def _check_target(target_size) -> int:
    try:
        value = int(target_size)
    except (TypeError, ValueError):
        value = -1
    if value < 0 or value > 10000:
        raise ValidationError({"target_size": _("Enter a target size from 0 to 10000.")})
    return value


@transaction.atomic
def teams_create_defaults(*, community: GridUnit, actor: User | None = None) -> list[Team]:
    """The seven functional teams with their default names, skills and targets. Teams
    already present (by name) are kept as they are, so running it twice adds nothing.
    `actor` None is the system (the demo generator, a new community's set-up)."""
    check_community(community)
    if actor is not None and not may_manage(actor, community.path):
        raise NotAllowed(_("You may not set up teams in this community."))
    existing = set(Team.objects.filter(community=community).values_list("name", flat=True))
    created = []
    for order, (kind, name, skills, target) in enumerate(DEFAULT_TEAMS):
        if name in existing:
            continue
        created.append(
            Team.objects.create(
                community=community,
                grid_path=community.path,
                kind=kind,
                name=name,
                target_size=target,
                required_skills=encode_codes(skills),
                sort_order=order,
            )
        )
    return created


@transaction.atomic
def team_create(
    *,
    actor: User,
    community: GridUnit,
    kind: str,
    name: str,
    target_size: int,
    required_skills: Iterable[str] = (),
    duty_slots: Iterable[str] = (),
) -> Team:
    check_community(community)
    if not may_manage(actor, community.path):
        raise NotAllowed(_("You may not set up teams in this community."))
    if kind not in ServiceKind.values:
        raise ValidationError({"kind": _("Unknown kind of service: %(value)s") % {"value": kind}})
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Enter the team's name.")})
    if Team.objects.filter(community=community, name=name).exists():
        raise ValidationError({"name": _("The community already has a team of this name.")})
    return Team.objects.create(
        community=community,
        grid_path=community.path,
        kind=kind,
        name=name[:50],
        target_size=_check_target(target_size),
        required_skills=skills_encode(required_skills, "required_skills"),
        duty_slots=slots_encode(duty_slots, "duty_slots"),
        sort_order=Team.objects.filter(community=community).count(),
    )


_UNCHANGED = object()


@transaction.atomic
def team_update(
    *,
    actor: User,
    team: Team,
    name: str | None = None,
    target_size: int | None = None,
    required_skills: Iterable[str] | None = None,
    duty_slots: Iterable[str] | None = None,
    lead=_UNCHANGED,
) -> Team:
    """Rename, resize, change skills or the lead (`lead=None` clears it)."""
    if not may_manage(actor, team.grid_path):
        raise NotAllowed(_("You may not change this team."))
    team = Team.objects.select_for_update().get(pk=team.pk)
    if name is not None:
        name = name.strip()
        if not name:
            raise ValidationError({"name": _("Enter the team's name.")})
        if (
            Team.objects.filter(community_id=team.community_id, name=name)
            .exclude(pk=team.pk)
            .exists()
        ):
            raise ValidationError({"name": _("The community already has a team of this name.")})
        team.name = name[:50]
    if target_size is not None:
        team.target_size = _check_target(target_size)
    if required_skills is not None:
        team.required_skills = skills_encode(required_skills, "required_skills")
    if duty_slots is not None:
        team.duty_slots = slots_encode(duty_slots, "duty_slots")
    if lead is not _UNCHANGED:
        if lead is not None and not (lead.is_serving and lead.grid_path.startswith(team.grid_path)):
            raise ValidationError(
                {"lead": _("The lead must be an approved volunteer of the community.")}
            )
        team.lead = lead
    team.save()
    return team


def join_team(
    *, team: Team, volunteer: Volunteer, actor: User | None, source: str
) -> TeamMembership:
    """Move `volunteer` into `team` (ending any other current membership). The caller holds
    the team's row lock and checks capacity."""
    now = clock.now()
    TeamMembership.objects.current().filter(volunteer=volunteer).exclude(team=team).update(
        ended_at=now
    )
    current = TeamMembership.objects.current().filter(volunteer=volunteer, team=team).first()
    if current is not None:
        return current
    membership = TeamMembership.objects.create(
        team=team, volunteer=volunteer, grid_path=team.grid_path, source=source, added_by=actor
    )
    if volunteer.status == VolunteerStatus.APPROVED:
        Volunteer.objects.filter(pk=volunteer.pk).update(
            status=VolunteerStatus.ACTIVE, updated_at=now
        )
    return membership


def check_member(team: Team, volunteer: Volunteer, field: str = "volunteer") -> None:
    if not volunteer.is_serving:
        raise ValidationError(
            {field: _("%(name)s is not an approved volunteer.") % {"name": volunteer.name}}
        )
    if not volunteer.grid_path.startswith(team.grid_path):
        raise ValidationError(
            {field: _("%(name)s does not belong to this community.") % {"name": volunteer.name}}
        )


@transaction.atomic
def team_member_add(*, actor: User, team: Team, volunteer: Volunteer) -> TeamMembership:
    """Place a volunteer in a team by hand (an override of the recommendation). A team
    takes members up to its target size: the team row is locked first, so two staff adding
    the last place at once cannot both succeed."""
    if not may_manage(actor, team.grid_path):
        raise NotAllowed(_("You may not change this team."))
    team = Team.objects.select_for_update().get(pk=team.pk)
    volunteer = volunteer_locked(volunteer)
    check_member(team, volunteer)
    if TeamMembership.objects.current().filter(team=team, volunteer=volunteer).exists():
        raise ValidationError({"volunteer": _("Already a member of this team.")})
    if TeamMembership.objects.current().filter(team=team).count() >= team.target_size:
        raise Conflict(
            _("The team is full (%(size)s members).") % {"size": team.target_size}, field="team"
        )
    return join_team(team=team, volunteer=volunteer, actor=actor, source=MembershipSource.MANUAL)


@transaction.atomic
def team_member_remove(*, actor: User, team: Team, volunteer: Volunteer) -> None:
    if not may_manage(actor, team.grid_path):
        raise NotAllowed(_("You may not change this team."))
    ended = (
        TeamMembership.objects.current()
        .filter(team=team, volunteer=volunteer)
        .update(ended_at=clock.now())
    )
    if not ended:
        raise ValidationError({"volunteer": _("Not a member of this team.")})
    if team.lead_id == volunteer.pk:
        Team.objects.filter(pk=team.pk).update(lead=None)
