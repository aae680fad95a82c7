"""Every write about volunteers: sign-up and review, profiles, functional teams, the team
recommendation, and the service-hours ledger. One named action, one transaction each;
a refused action raises ValidationError naming the field and writes nothing.

Who may act: staff with VOLUNTEERS_MANAGE on the volunteer's (or team's) grid path; a
volunteer on their own profile. `service_hours_record` is the ledger's one writer and
trusts its caller (the activity, claim or task service that already decided who acts);
staff enter hours by hand through `service_hours_add` and `service_hours_correct`.
"""

from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.grid_paths import path_at_depth
from linli.accounts.models import AuditAction, User
from linli.accounts.privacy import phone_is_valid
from linli.accounts.roles import Permission
from linli.accounts.services import audit_record
from linli.errors import Conflict, NotAllowed
from linli.grids.models import Building, GridLevel, GridUnit, PartyMembership, Resident
from linli.grids.selectors import scope_for
from linli.volunteers import recommend
from linli.volunteers.models import (
    SERVING_STATUSES,
    SLOTS,
    HoursSource,
    MembershipSource,
    RecommendationStatus,
    ServiceHoursEntry,
    ServiceKind,
    Skill,
    Team,
    TeamMembership,
    TeamRecommendation,
    Volunteer,
    VolunteerOrigin,
    VolunteerStatus,
    encode_codes,
)
from linli.volunteers.selectors import COMMUNITY_DEPTH

MANAGE = Permission.VOLUNTEERS_MANAGE
# One entry is at most one day's service; longer work is several entries.
MAX_ENTRY_HOURS = Decimal("24")
MAX_CORRECTION_HOURS = Decimal("9999.99")
CENT = Decimal("0.01")

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


def may_manage(user: User | None, grid_path: str) -> bool:
    return scope_for(user).allows(MANAGE, grid_path)


def is_own(user: User | None, volunteer: Volunteer) -> bool:
    return user is not None and user.is_authenticated and volunteer.user_id == user.pk


def _codes(values: Iterable[str] | None, allowed, field: str, message: str) -> str:
    """Encode a list of codes, refusing unknown ones by name (all of them, not the first)."""
    cleaned = [str(value).strip() for value in (values or []) if str(value).strip()]
    unknown = [value for value in cleaned if value not in allowed]
    if unknown:
        raise ValidationError({field: message % {"value": ", ".join(unknown)}})
    return encode_codes(cleaned)


def skills_encode(values: Iterable[str] | None, field: str = "skills") -> str:
    return _codes(values, Skill.values, field, _("Unknown skill: %(value)s"))


def willingness_encode(values: Iterable[str] | None, field: str = "willingness") -> str:
    return _codes(values, ServiceKind.values, field, _("Unknown kind of service: %(value)s"))


def slots_encode(values: Iterable[str] | None, field: str = "availability") -> str:
    return _codes(
        values,
        SLOTS,
        field,
        _("Unknown availability slot: %(value)s (use e.g. mon_am, thu_pm, sun_eve)"),
    )


def _check_phone(phone: str) -> str:
    phone = (phone or "").strip()
    if phone and not phone_is_valid(phone):
        raise ValidationError({"phone": _("Enter an 11-digit mobile number.")})
    return phone


def _check_party(value: str) -> str:
    value = value or ""
    if value not in PartyMembership.values:
        raise ValidationError(
            {"party_member_type": _("Unknown party member type: %(value)s") % {"value": value}}
        )
    return value


def _check_building(building: Building | None, grid_unit: GridUnit) -> None:
    # The community a unit belongs to (the unit itself from a community up).
    community_path = path_at_depth(grid_unit.path, COMMUNITY_DEPTH)
    if building is not None and not building.grid_path.startswith(community_path):
        raise ValidationError(
            {"home_building": _("The home building is not in the volunteer's community.")}
        )


# Sign-up and review ----------------------------------------------------------------------


@transaction.atomic
def volunteer_signup(
    *,
    actor: User | None,
    skills: Iterable[str],
    willingness: Iterable[str],
    availability: Iterable[str],
    party_member_type: str = "",
    resident: Resident | None = None,
    grid_unit: GridUnit | None = None,
    name: str = "",
    phone: str = "",
    work_unit: str = "",
    home_building: Building | None = None,
    introduction: str = "",
    user: User | None = None,
) -> Volunteer:
    """Register a volunteer; the new row waits for review (status applied).

    Staff with VOLUNTEERS_MANAGE register a resident of their scope or an outside person
    for a unit of their scope, with or without a login (`user`). Anyone else signs
    themselves up: a resident with a login as that resident, any other user as an outside
    volunteer of the community they pick (`grid_unit`)."""
    if actor is None or not actor.is_authenticated:
        raise NotAllowed(_("Log in to sign up as a volunteer."))
    encoded_skills = skills_encode(skills)
    encoded_willingness = willingness_encode(willingness)
    encoded_slots = slots_encode(availability)
    party_member_type = _check_party(party_member_type)
    phone = _check_phone(phone)
    work_unit = (work_unit or "").strip()
    name = (name or "").strip()

    staff_path = (
        resident.grid_path if resident is not None else (grid_unit.path if grid_unit else "")
    )
    if staff_path and may_manage(actor, staff_path):
        linked_user = user
    else:
        # Self sign-up: the actor is the volunteer; a resident login signs up as that resident.
        if user is not None and user.pk != actor.pk:
            raise NotAllowed(_("You may only sign yourself up."))
        linked_user = actor
        account = getattr(actor, "resident_account", None)
        if resident is not None and (account is None or account.resident_id != resident.pk):
            raise NotAllowed(_("You may only sign yourself up."))
        if account is not None:
            resident = account.resident
        elif grid_unit is None or grid_unit.level != GridLevel.COMMUNITY:
            raise ValidationError({"grid_unit": _("Choose the community you want to serve.")})

    if linked_user is not None and Volunteer.objects.filter(user=linked_user).exists():
        raise ValidationError({"user": _("This login is already signed up as a volunteer.")})

    if resident is not None:
        if Volunteer.objects.filter(resident=resident).exists():
            raise ValidationError({"resident": _("This resident is already a volunteer.")})
        resident = Resident.objects.select_related("household__building__grid_unit").get(
            pk=resident.pk
        )
        unit = resident.household.building.grid_unit
        origin = VolunteerOrigin.RESIDENT
        name = resident.name
        phone = phone or resident.phone
        party_member_type = party_member_type or resident.party_membership
        home_building = home_building or resident.household.building
    else:
        if grid_unit is None:
            raise ValidationError({"grid_unit": _("Choose the community you want to serve.")})
        if grid_unit.level in (GridLevel.STREET, GridLevel.BLOCK):
            raise ValidationError(
                {"grid_unit": _("A volunteer belongs to a community or a part of one.")}
            )
        unit = grid_unit
        origin = VolunteerOrigin.OUTSIDE
        if not name:
            raise ValidationError({"name": _("Enter the volunteer's name.")})
        if not work_unit:
            # 双报到: an outside volunteer reports from a work unit (or school).
            raise ValidationError({"work_unit": _("Enter the work unit of an outside volunteer.")})
    _check_building(home_building, unit)

    volunteer = Volunteer.objects.create(
        user=linked_user,
        resident=resident,
        origin=origin,
        name=name[:50],
        phone=phone,
        work_unit=work_unit[:100],
        party_member_type=party_member_type,
        grid_unit=unit,
        grid_path=unit.path,
        home_building=home_building,
        skills=encoded_skills,
        willingness=encoded_willingness,
        availability=encoded_slots,
        introduction=(introduction or "").strip()[:500],
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="volunteer",
        object_id=volunteer.pk,
        object_label=volunteer.name,
        grid_path=volunteer.grid_path,
    )
    return volunteer


def _locked(volunteer: Volunteer) -> Volunteer:
    return Volunteer.objects.select_for_update().get(pk=volunteer.pk)


@transaction.atomic
def volunteer_review(
    *, actor: User, volunteer: Volunteer, approve: bool, note: str = ""
) -> Volunteer:
    """Approve or reject an application. A rejection says why."""
    if not may_manage(actor, volunteer.grid_path):
        raise NotAllowed(_("You may not review this volunteer."))
    volunteer = _locked(volunteer)
    if volunteer.status != VolunteerStatus.APPLIED:
        raise Conflict(_("Only an application can be approved or rejected."), field="status")
    note = (note or "").strip()
    if not approve and not note:
        raise ValidationError({"note": _("Say why the application is rejected.")})
    volunteer.status = VolunteerStatus.APPROVED if approve else VolunteerStatus.REJECTED
    volunteer.review_note = note[:300]
    volunteer.reviewed_by = actor
    volunteer.reviewed_at = clock.now()
    volunteer.save(
        update_fields=["status", "review_note", "reviewed_by", "reviewed_at", "updated_at"]
    )
    # An approval makes the person a member of the community (participation's
    # member_community_ids), so the decision is on the record.
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="volunteer",
        object_id=volunteer.pk,
        object_label=volunteer.name,
        field="status",
        changes={"status": [VolunteerStatus.APPLIED.value, volunteer.status]},
        reason=volunteer.review_note,
        grid_path=volunteer.grid_path,
    )
    return volunteer


@transaction.atomic
def volunteer_set_active(*, actor: User, volunteer: Volunteer, active: bool) -> Volunteer:
    """Pause or resume serving. Pausing ends the current team membership."""
    if not (may_manage(actor, volunteer.grid_path) or is_own(actor, volunteer)):
        raise NotAllowed(_("You may not change this volunteer."))
    volunteer = _locked(volunteer)
    if volunteer.status not in (*SERVING_STATUSES, VolunteerStatus.INACTIVE):
        raise ValidationError(
            {"status": _("Only an approved volunteer can be made active or inactive.")}
        )
    volunteer.status = VolunteerStatus.ACTIVE if active else VolunteerStatus.INACTIVE
    volunteer.save(update_fields=["status", "updated_at"])
    if not active:
        TeamMembership.objects.current().filter(volunteer=volunteer).update(ended_at=clock.now())
        Team.objects.filter(lead=volunteer).update(lead=None)
    return volunteer


@transaction.atomic
def volunteer_update(
    *,
    actor: User,
    volunteer: Volunteer,
    skills: Iterable[str] | None = None,
    willingness: Iterable[str] | None = None,
    availability: Iterable[str] | None = None,
    phone: str | None = None,
    work_unit: str | None = None,
    introduction: str | None = None,
    home_building: Building | None = None,
) -> Volunteer:
    """Change a profile: the volunteer themselves or staff of their scope. Arguments left
    as None stay as they are."""
    if not (may_manage(actor, volunteer.grid_path) or is_own(actor, volunteer)):
        raise NotAllowed(_("You may not change this volunteer."))
    changes: dict[str, str] = {}
    if skills is not None:
        changes["skills"] = skills_encode(skills)
    if willingness is not None:
        changes["willingness"] = willingness_encode(willingness)
    if availability is not None:
        changes["availability"] = slots_encode(availability)
    if phone is not None:
        changes["phone"] = _check_phone(phone)
    if work_unit is not None:
        work_unit = work_unit.strip()
        if volunteer.origin == VolunteerOrigin.OUTSIDE and not work_unit:
            raise ValidationError({"work_unit": _("Enter the work unit of an outside volunteer.")})
        changes["work_unit"] = work_unit[:100]
    if introduction is not None:
        changes["introduction"] = introduction.strip()[:500]
    volunteer = _locked(volunteer)
    if home_building is not None:
        _check_building(home_building, volunteer.grid_unit)
        volunteer.home_building = home_building
    changed = [name for name, value in changes.items() if getattr(volunteer, name) != value]
    for name, value in changes.items():
        setattr(volunteer, name, value)
    volunteer.save()
    if changed or home_building is not None:
        # Field names only: the audit log must not become a second copy of the phone.
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="volunteer",
            object_id=volunteer.pk,
            object_label=volunteer.name,
            changes={"fields": sorted(changed + (["home_building"] if home_building else []))},
            grid_path=volunteer.grid_path,
        )
    return volunteer


# Teams --------------------------------------------------------------------------------


def _check_community(community: GridUnit) -> None:
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
    _check_community(community)
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
    _check_community(community)
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


def _join(*, team: Team, volunteer: Volunteer, actor: User | None, source: str) -> TeamMembership:
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


def _check_member(team: Team, volunteer: Volunteer, field: str = "volunteer") -> None:
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
    volunteer = _locked(volunteer)
    _check_member(team, volunteer)
    if TeamMembership.objects.current().filter(team=team, volunteer=volunteer).exists():
        raise ValidationError({"volunteer": _("Already a member of this team.")})
    if TeamMembership.objects.current().filter(team=team).count() >= team.target_size:
        raise Conflict(
            _("The team is full (%(size)s members).") % {"size": team.target_size}, field="team"
        )
    return _join(team=team, volunteer=volunteer, actor=actor, source=MembershipSource.MANUAL)


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


# Team recommendation ---------------------------------------------------------------------


def _candidate(volunteer: Volunteer) -> recommend.Candidate:
    return recommend.Candidate(
        id=volunteer.pk,
        skills=frozenset(volunteer.skill_list),
        willingness=frozenset(volunteer.willingness_list),
        slots=frozenset(volunteer.slot_list),
    )


def _team_slot(team: Team, capacity: int) -> recommend.TeamSlot:
    return recommend.TeamSlot(
        id=team.pk,
        kind=team.kind,
        required_skills=frozenset(team.required_skill_list),
        capacity=max(capacity, 0),
        duty_slots=frozenset(team.duty_slot_list),
    )


def _row(placement: recommend.Placement) -> dict:
    fit = placement.fit
    return {
        "volunteer_id": placement.volunteer_id,
        "team_id": placement.team_id,
        "score": fit.score if fit else 0,
        "skills": list(fit.matched_skills) if fit else [],
        "willing": fit.willing if fit else False,
        "slots": fit.slots if fit else 0,
        "adjusted": False,
    }


@transaction.atomic
def recommendation_create(
    *, actor: User, community: GridUnit, include_members: bool = False
) -> TeamRecommendation:
    """Compute the optimal placement of the community's approved volunteers into its teams.

    By default only volunteers without a team are placed, into the places each team still
    has free; `include_members` re-plans everyone against the full targets."""
    _check_community(community)
    if not may_manage(actor, community.path):
        raise NotAllowed(_("You may not staff teams in this community."))
    teams = list(Team.objects.filter(community=community).order_by("sort_order", "id"))
    if not teams:
        raise ValidationError({"community": _("The community has no teams yet.")})
    volunteers = Volunteer.objects.within([community.path]).serving().order_by("id")
    members = dict(
        TeamMembership.objects.current()
        .filter(team__community=community)
        .values_list("volunteer_id", "team_id")
    )
    if include_members:
        capacities = {team.pk: team.target_size for team in teams}
    else:
        volunteers = volunteers.exclude(pk__in=list(members))
        taken: dict[int, int] = {}
        for team_id in members.values():
            taken[team_id] = taken.get(team_id, 0) + 1
        capacities = {team.pk: team.target_size - taken.get(team.pk, 0) for team in teams}
    plan = recommend.optimise(
        [_candidate(volunteer) for volunteer in volunteers],
        [_team_slot(team, capacities[team.pk]) for team in teams],
    )
    return TeamRecommendation.objects.create(
        community=community,
        grid_path=community.path,
        include_members=include_members,
        objective=plan.objective,
        bound=plan.bound,
        assignments=[_row(placement) for placement in plan.placements],
        created_by=actor,
    )


def _proposed(recommendation: TeamRecommendation, actor: User) -> TeamRecommendation:
    if not may_manage(actor, recommendation.grid_path):
        raise NotAllowed(_("You may not staff teams in this community."))
    recommendation = TeamRecommendation.objects.select_for_update().get(pk=recommendation.pk)
    if recommendation.status != RecommendationStatus.PROPOSED:
        raise Conflict(_("This recommendation has already been decided."), field="recommendation")
    return recommendation


@transaction.atomic
def recommendation_adjust(
    *,
    actor: User,
    recommendation: TeamRecommendation,
    volunteer: Volunteer,
    team: Team | None,
) -> TeamRecommendation:
    """Move one volunteer to another team (or out of every team) before accepting."""
    recommendation = _proposed(recommendation, actor)
    rows = recommendation.assignments
    row = next((row for row in rows if row["volunteer_id"] == volunteer.pk), None)
    if row is None:
        raise ValidationError({"volunteer": _("This volunteer is not in the recommendation.")})
    if team is not None:
        if team.community_id != recommendation.community_id:
            raise ValidationError({"team": _("The team is not in this community.")})
        placement_fit = recommend.fit(_candidate(volunteer), _team_slot(team, 1))
        row.update(
            team_id=team.pk,
            score=placement_fit.score,
            skills=list(placement_fit.matched_skills),
            willing=placement_fit.willing,
            slots=placement_fit.slots,
        )
    else:
        row.update(team_id=None, score=0, skills=[], willing=False, slots=0)
    row["adjusted"] = True
    recommendation.objective = sum(row["score"] for row in rows if row["team_id"])
    recommendation.save(update_fields=["assignments", "objective"])
    return recommendation


@transaction.atomic
def recommendation_accept(*, actor: User, recommendation: TeamRecommendation) -> int:
    """Write every placement as a membership, all or nothing. Returns how many volunteers
    were placed. Refused if a team would end up above its target."""
    recommendation = _proposed(recommendation, actor)
    rows = [row for row in recommendation.assignments if row["team_id"]]
    # Lock the teams in id order (the same order as every other writer: no deadlock).
    teams = {
        team.pk: team
        for team in Team.objects.select_for_update()
        .filter(community_id=recommendation.community_id)
        .order_by("pk")
    }
    volunteers = {
        volunteer.pk: volunteer
        for volunteer in Volunteer.objects.select_for_update()
        .filter(pk__in=[row["volunteer_id"] for row in rows])
        .order_by("pk")
    }
    if recommendation.include_members:
        # A re-plan of everyone: members it leaves out of every team leave their team.
        left_out = [row["volunteer_id"] for row in recommendation.assignments if not row["team_id"]]
        TeamMembership.objects.current().filter(
            team__community_id=recommendation.community_id, volunteer_id__in=left_out
        ).update(ended_at=clock.now())
    for row in rows:
        team = teams.get(row["team_id"])
        volunteer = volunteers.get(row["volunteer_id"])
        if team is None or volunteer is None:
            raise Conflict(
                _("A team or volunteer has gone; compute a new one."), field="recommendation"
            )
        _check_member(team, volunteer, field="recommendation")
        _join(team=team, volunteer=volunteer, actor=actor, source=MembershipSource.RECOMMENDATION)
    for team in teams.values():
        size = TeamMembership.objects.current().filter(team=team).count()
        if size > team.target_size:
            raise Conflict(
                _("%(team)s would have %(size)s members, above its target of %(target)s.")
                % {"team": team.name, "size": size, "target": team.target_size},
                field="recommendation",
            )
    recommendation.status = RecommendationStatus.ACCEPTED
    recommendation.decided_by = actor
    recommendation.decided_at = clock.now()
    recommendation.save(update_fields=["status", "decided_by", "decided_at"])
    return len(rows)


@transaction.atomic
def recommendation_discard(*, actor: User, recommendation: TeamRecommendation) -> None:
    recommendation = _proposed(recommendation, actor)
    recommendation.status = RecommendationStatus.DISCARDED
    recommendation.decided_by = actor
    recommendation.decided_at = clock.now()
    recommendation.save(update_fields=["status", "decided_by", "decided_at"])


# Service-hours ledger ----------------------------------------------------------------------


def _hours(value) -> Decimal:
    try:
        hours = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({"hours": _("Enter the hours as a number.")}) from None
    try:
        # 6e240 has no two-decimal form: quantize raises rather than answer False.
        exact = hours.is_finite() and hours == hours.quantize(Decimal("0.01"))
    except InvalidOperation:
        exact = False
    if not exact:
        raise ValidationError({"hours": _("Enter the hours with at most two decimals.")})
    return hours


@transaction.atomic
def service_hours_record(
    *,
    volunteer: Volunteer,
    hours: Decimal,
    source_kind: str,
    source_id: int | None,
    note: str,
    actor: User | None,
    occurred_on: date | None = None,
) -> ServiceHoursEntry:
    """Append one entry to the ledger; nothing ever changes or deletes one.

    Hours are positive, at most 24 per entry, except for a correction: a new entry with
    positive or negative hours whose note says why (and whose source_id may name the
    corrected entry). A correction cannot take a volunteer's total below zero. The
    volunteer's row is locked, so two corrections at once cannot both pass that check.
    Authorisation is the caller's (see the module docstring)."""
    hours = _hours(hours)
    if source_kind not in HoursSource.values:
        raise ValidationError(
            {"source_kind": _("Unknown source of hours: %(value)s") % {"value": source_kind}}
        )
    note = (note or "").strip()
    correction = source_kind == HoursSource.CORRECTION
    if hours == 0:
        raise ValidationError({"hours": _("Hours cannot be zero.")})
    if correction:
        if not note:
            raise ValidationError({"note": _("Say why the hours are corrected.")})
        if abs(hours) > MAX_CORRECTION_HOURS:
            raise ValidationError({"hours": _("A correction is at most 9999.99 hours.")})
    elif hours < 0:
        raise ValidationError({"hours": _("Only a correction can take hours away.")})
    elif hours > MAX_ENTRY_HOURS:
        raise ValidationError({"hours": _("One entry is at most 24 hours.")})
    today = clock.localdate()
    occurred_on = occurred_on or today
    if occurred_on > today:
        raise ValidationError({"occurred_on": _("The date cannot be in the future.")})

    volunteer = _locked(volunteer)
    if volunteer.status in (VolunteerStatus.APPLIED, VolunteerStatus.REJECTED):
        raise ValidationError(
            {"volunteer": _("%(name)s is not an approved volunteer.") % {"name": volunteer.name}}
        )
    if correction and source_id is not None:
        if not ServiceHoursEntry.objects.filter(pk=source_id, volunteer=volunteer).exists():
            raise ValidationError(
                {"source_id": _("The corrected entry is not one of this volunteer's.")}
            )
    if correction and hours < 0:
        total = ServiceHoursEntry.objects.filter(volunteer=volunteer).aggregate(total=Sum("hours"))[
            "total"
        ] or Decimal("0")
        if total + hours < 0:
            raise ValidationError(
                {
                    "hours": _("The correction would take the total below zero (%(total)s).")
                    % {"total": total.quantize(CENT)}
                }
            )
    team_id = (
        TeamMembership.objects.current()
        .filter(volunteer=volunteer)
        .values_list("team_id", flat=True)
        .first()
    )
    return ServiceHoursEntry.objects.create(
        volunteer=volunteer,
        grid_path=volunteer.grid_path,
        team_id=team_id,
        hours=hours,
        source_kind=source_kind,
        source_id=source_id,
        note=note[:300],
        occurred_on=occurred_on,
        recorded_by=actor if actor is not None and actor.is_authenticated else None,
    )


@transaction.atomic
def service_hours_add(
    *,
    actor: User,
    volunteer: Volunteer,
    hours: Decimal,
    note: str,
    occurred_on: date | None = None,
) -> ServiceHoursEntry:
    """Staff record hours by hand (service not tracked elsewhere)."""
    if not may_manage(actor, volunteer.grid_path):
        raise NotAllowed(_("You may not record hours for this volunteer."))
    return service_hours_record(
        volunteer=volunteer,
        hours=hours,
        source_kind=HoursSource.MANUAL,
        source_id=None,
        note=note,
        actor=actor,
        occurred_on=occurred_on,
    )


@transaction.atomic
def service_hours_correct(
    *,
    actor: User,
    volunteer: Volunteer,
    hours: Decimal,
    reason: str,
    corrects: ServiceHoursEntry | None = None,
    occurred_on: date | None = None,
) -> ServiceHoursEntry:
    """Staff correct the ledger with a new entry that says why."""
    if not may_manage(actor, volunteer.grid_path):
        raise NotAllowed(_("You may not correct hours for this volunteer."))
    return service_hours_record(
        volunteer=volunteer,
        hours=hours,
        source_kind=HoursSource.CORRECTION,
        source_id=corrects.pk if corrects is not None else None,
        note=reason,
        actor=actor,
        occurred_on=occurred_on,
    )
