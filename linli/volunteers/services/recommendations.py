"""The team recommendation: the optimal placement of a community's volunteers into its teams
(linli.volunteers.recommend), adjusted by hand, then accepted (all or nothing) or discarded.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.models import User
from linli.errors import Conflict, NotAllowed
from linli.grids.models import GridUnit
from linli.volunteers import recommend
from linli.volunteers.models import (
    MembershipSource,
    RecommendationStatus,
    Team,
    TeamMembership,
    TeamRecommendation,
    Volunteer,
)
from linli.volunteers.services.guards import may_manage
from linli.volunteers.services.teams import check_community, check_member, join_team


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
    check_community(community)
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
        check_member(team, volunteer, field="recommendation")
        join_team(
            team=team, volunteer=volunteer, actor=actor, source=MembershipSource.RECOMMENDATION
        )
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
