"""`/api/v1/volunteers`: sign-up and review, profiles, functional teams, the team
recommendation and the service-hours ledger for apps.

Mounted by linli/api.py with `api.add_router("/volunteers", router)`. Conventions follow
grids.api and cases.api (limit/offset paging, `{"items", "count"}`, errors `{"message",
"field"}`, 404 for anything outside the caller's scope, 403 for a refused action on a
visible row). Reads go through volunteers.selectors, writes through volunteers.services.
Phones leave masked only.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from linli.accounts.services import client_address
from linli.api_shared import (
    ERRORS,
    WRITE_ERRORS,
    BoundedDate,
    CorrectionHours,
    Hours,
    Id,
    NotVisible,
    PageIn,
    column_int,
    column_text,
    paginate,
    visible_or_404,
)
from linli.grids.models import Building, GridUnit
from linli.grids.selectors import resident_get
from linli.idempotency.decorators import idempotent
from linli.volunteers import selectors, services
from linli.volunteers.exporting import hours_export
from linli.volunteers.models import ServiceHoursEntry, Team, TeamRecommendation, Volunteer

router = Router(tags=["volunteers"])


# Schemas ------------------------------------------------------------------------------


class VolunteerOut(Schema):
    id: int
    name: str
    origin: str
    status: str
    phone: str = Field(description="Masked")
    work_unit: str
    party_member_type: str
    grid_unit_id: int
    grid_unit: str
    home_building_id: int | None
    skills: list[str]
    willingness: list[str]
    availability: list[str]
    has_login: bool
    created_at: datetime


class VolunteerDetailOut(VolunteerOut):
    introduction: str
    review_note: str
    team_id: int | None
    team: str | None
    total_hours: Decimal


class VolunteerPage(Schema):
    items: list[VolunteerOut]
    count: int


class VolunteerFilters(Schema):
    status: column_text(Volunteer, "status") | None = None
    skill: Annotated[str, Field(max_length=50)] | None = None
    q: Annotated[str, Field(max_length=50)] = ""


class SignupIn(Schema):
    skills: list[column_text(Volunteer, "skills")] = []
    willingness: list[column_text(Volunteer, "willingness")] = []
    availability: list[column_text(Volunteer, "availability")] = Field(
        [], description="Slots such as mon_am, thu_pm, sun_eve"
    )
    party_member_type: column_text(Volunteer, "party_member_type") = ""
    resident_id: Id | None = Field(None, description="Staff: a resident of their scope")
    grid_unit_id: Id | None = Field(None, description="The community (outside volunteers)")
    name: column_text(Volunteer, "name") = ""
    phone: column_text(Volunteer, "phone") = ""
    work_unit: column_text(Volunteer, "work_unit") = ""
    home_building_id: Id | None = None
    introduction: column_text(Volunteer, "introduction") = ""
    for_me: bool = Field(False, description="Staff signing themselves up (links their login)")


class ProfileIn(Schema):
    skills: list[column_text(Volunteer, "skills")] | None = None
    willingness: list[column_text(Volunteer, "willingness")] | None = None
    availability: list[column_text(Volunteer, "availability")] | None = None
    phone: column_text(Volunteer, "phone") | None = None
    work_unit: column_text(Volunteer, "work_unit") | None = None
    introduction: column_text(Volunteer, "introduction") | None = None
    home_building_id: Id | None = None


class ReviewIn(Schema):
    approve: bool
    note: column_text(Volunteer, "review_note") = ""


class ActiveIn(Schema):
    active: bool


class TeamOut(Schema):
    id: int
    community_id: int
    kind: str
    name: str
    lead_id: int | None
    lead: str | None
    target_size: int
    member_count: int
    required_skills: list[str]
    duty_slots: list[str]


class MemberOut(Schema):
    volunteer_id: int
    name: str
    source: str
    joined_at: datetime


class TeamDetailOut(TeamOut):
    members: list[MemberOut]


class TeamIn(Schema):
    community_id: Id
    kind: column_text(Team, "kind")
    name: column_text(Team, "name")
    target_size: column_int(Team, "target_size")
    required_skills: list[column_text(Team, "required_skills")] = []
    duty_slots: list[column_text(Team, "duty_slots")] = []


class TeamPatchIn(Schema):
    name: column_text(Team, "name") | None = None
    target_size: column_int(Team, "target_size") | None = None
    required_skills: list[column_text(Team, "required_skills")] | None = None
    duty_slots: list[column_text(Team, "duty_slots")] | None = None
    lead_id: Id | None = Field(None, description="0 clears the lead")


class CommunityIn(Schema):
    community_id: Id


class MemberIn(Schema):
    volunteer_id: Id


class RecommendIn(Schema):
    community_id: Id
    include_members: bool = False


class PlacementOut(Schema):
    volunteer_id: int
    volunteer_name: str
    team_id: int | None
    team_name: str | None
    score: int
    reason: str
    adjusted: bool


class RecommendationOut(Schema):
    id: int
    community_id: int
    status: str
    objective: int
    bound: int
    include_members: bool
    placements: list[PlacementOut]
    created_at: datetime


class AdjustIn(Schema):
    volunteer_id: Id
    team_id: Id | None = None


class AcceptOut(Schema):
    placed: int


class HoursOut(Schema):
    id: int
    volunteer_id: int
    volunteer: str
    team_id: int | None
    hours: Decimal
    source_kind: str
    source_id: int | None
    note: str
    occurred_on: date
    created_at: datetime


class HoursPage(Schema):
    items: list[HoursOut]
    count: int


class HoursFilters(Schema):
    volunteer_id: Id | None = None
    start: BoundedDate | None = None
    end: BoundedDate | None = None


class HoursIn(Schema):
    volunteer_id: Id
    hours: Hours
    note: column_text(ServiceHoursEntry, "note") = ""
    occurred_on: BoundedDate | None = None


class CorrectionIn(Schema):
    volunteer_id: Id
    hours: CorrectionHours
    reason: column_text(ServiceHoursEntry, "note") = ""
    corrects_id: Id | None = None
    occurred_on: BoundedDate | None = None


class TotalsFilters(Schema):
    by: Literal["volunteer", "team", "month"] = "volunteer"
    start: BoundedDate | None = None
    end: BoundedDate | None = None


class TotalOut(Schema):
    key: str | None = Field(description="Volunteer id, team id or month (YYYY-MM)")
    name: str
    total: Decimal


class TotalsOut(Schema):
    by: str
    items: list[TotalOut]


# Shapes -------------------------------------------------------------------------------


def _volunteer(volunteer: Volunteer) -> dict[str, Any]:
    return {
        "id": volunteer.pk,
        "name": volunteer.name,
        "origin": volunteer.origin,
        "status": volunteer.status,
        "phone": volunteer.phone_masked,
        "work_unit": volunteer.work_unit,
        "party_member_type": volunteer.party_member_type,
        "grid_unit_id": volunteer.grid_unit_id,
        "grid_unit": volunteer.grid_unit.name,
        "home_building_id": volunteer.home_building_id,
        "skills": volunteer.skill_list,
        "willingness": volunteer.willingness_list,
        "availability": volunteer.slot_list,
        "has_login": volunteer.user_id is not None,
        "created_at": volunteer.created_at,
    }


def _volunteer_detail(volunteer: Volunteer) -> dict[str, Any]:
    team = selectors.current_team(volunteer=volunteer)
    return {
        **_volunteer(volunteer),
        "introduction": volunteer.introduction,
        "review_note": volunteer.review_note,
        "team_id": team.pk if team else None,
        "team": team.name if team else None,
        "total_hours": selectors.hours_total(volunteer=volunteer),
    }


def _team(team: Team, member_count: int | None = None) -> dict[str, Any]:
    return {
        "id": team.pk,
        "community_id": team.community_id,
        "kind": team.kind,
        "name": team.name,
        "lead_id": team.lead_id,
        "lead": team.lead.name if team.lead_id else None,
        "target_size": team.target_size,
        "member_count": member_count
        if member_count is not None
        else getattr(team, "member_count", 0),
        "required_skills": team.required_skill_list,
        "duty_slots": team.duty_slot_list,
    }


def _team_detail(team: Team) -> dict[str, Any]:
    members = list(selectors.team_members(team=team))
    return {
        **_team(team, len(members)),
        "members": [
            {
                "volunteer_id": member.volunteer_id,
                "name": member.volunteer.name,
                "source": member.source,
                "joined_at": member.joined_at,
            }
            for member in members
        ],
    }


def _recommendation(recommendation: TeamRecommendation) -> dict[str, Any]:
    return {
        "id": recommendation.pk,
        "community_id": recommendation.community_id,
        "status": recommendation.status,
        "objective": recommendation.objective,
        "bound": recommendation.bound,
        "include_members": recommendation.include_members,
        "placements": selectors.recommendation_rows(recommendation=recommendation),
        "created_at": recommendation.created_at,
    }


def _hours(entry: ServiceHoursEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "volunteer_id": entry.volunteer_id,
        "volunteer": entry.volunteer.name,
        "team_id": entry.team_id,
        "hours": entry.hours,
        "source_kind": entry.source_kind,
        "source_id": entry.source_id,
        "note": entry.note,
        "occurred_on": entry.occurred_on,
        "created_at": entry.created_at,
    }


def _building(building_id: Id | None) -> Building | None:
    if building_id is None:
        return None
    building = Building.objects.filter(pk=building_id).first()
    if building is None:
        raise DjangoValidationError({"home_building_id": _("Unknown building.")})
    return building


def _volunteer_in_scope(user, volunteer_id: Id) -> Volunteer:
    return visible_or_404(
        selectors.volunteer_get, "volunteer_id", user=user, volunteer_id=volunteer_id
    )


# Volunteers ---------------------------------------------------------------------------


@router.get("", response={200: VolunteerPage, **ERRORS}, summary="Volunteers in scope (or own)")
def volunteer_list(
    request: HttpRequest, filters: Query[VolunteerFilters], page: Query[PageIn]
) -> dict[str, Any]:
    volunteers = selectors.volunteer_list(
        user=request.auth, status=filters.status, skill=filters.skill, query=filters.q.strip()
    )
    items, count = paginate(volunteers, page)
    return {"items": [_volunteer(volunteer) for volunteer in items], "count": count}


@router.post("", response={201: VolunteerDetailOut, **WRITE_ERRORS}, summary="Sign up")
def volunteer_sign_up(request: HttpRequest, payload: SignupIn):
    user = request.auth
    resident = None
    if payload.resident_id is not None:
        resident = visible_or_404(
            resident_get, "resident_id", user=user, resident_id=payload.resident_id
        )
    grid_unit = None
    if payload.grid_unit_id is not None:
        grid_unit = GridUnit.objects.filter(pk=payload.grid_unit_id).first()
        if grid_unit is None:
            raise DjangoValidationError({"grid_unit_id": _("Unknown grid unit.")})
    volunteer = services.volunteer_signup(
        actor=user,
        skills=payload.skills,
        willingness=payload.willingness,
        availability=payload.availability,
        party_member_type=payload.party_member_type,
        resident=resident,
        grid_unit=grid_unit,
        name=payload.name,
        phone=payload.phone,
        work_unit=payload.work_unit,
        home_building=_building(payload.home_building_id),
        introduction=payload.introduction,
        user=user if payload.for_me else None,
    )
    return Status(201, _volunteer_detail(_volunteer_in_scope(user, volunteer.pk)))


@router.get("/me", response={200: VolunteerDetailOut, **ERRORS}, summary="Own profile")
def volunteer_me(request: HttpRequest) -> dict[str, Any]:
    own = selectors.own_volunteer(user=request.auth)
    if own is None:
        raise NotVisible("volunteer")
    return _volunteer_detail(own)


# Teams ---------------------------------------------------------------------------------


@router.get("/teams", response={200: list[TeamOut], **ERRORS})
def team_list(request: HttpRequest, community_id: Id | None = None) -> list[dict]:
    community = None
    if community_id is not None:
        community = visible_or_404(
            selectors.community_get, "community_id", user=request.auth, community_id=community_id
        )
    return [_team(team) for team in selectors.team_list(user=request.auth, community=community)]


@router.post("/teams", response={201: TeamOut, **WRITE_ERRORS})
def team_create(request: HttpRequest, payload: TeamIn):
    community = visible_or_404(
        selectors.community_get,
        "community_id",
        user=request.auth,
        community_id=payload.community_id,
    )
    team = services.team_create(
        actor=request.auth,
        community=community,
        kind=payload.kind,
        name=payload.name,
        target_size=payload.target_size,
        required_skills=payload.required_skills,
        duty_slots=payload.duty_slots,
    )
    return Status(201, _team(team, 0))


@router.post("/teams/defaults", response={201: list[TeamOut], **WRITE_ERRORS})
def team_defaults(request: HttpRequest, payload: CommunityIn):
    community = visible_or_404(
        selectors.community_get,
        "community_id",
        user=request.auth,
        community_id=payload.community_id,
    )
    created = services.teams_create_defaults(community=community, actor=request.auth)
    return Status(201, [_team(team, 0) for team in created])


@router.get("/teams/{team_id}", response={200: TeamDetailOut, **ERRORS})
def team_detail(request: HttpRequest, team_id: Id) -> dict[str, Any]:
    return _team_detail(
        visible_or_404(selectors.team_get, "team_id", user=request.auth, team_id=team_id)
    )


@router.patch("/teams/{team_id}", response={200: TeamDetailOut, **WRITE_ERRORS})
def team_change(request: HttpRequest, team_id: Id, payload: TeamPatchIn):
    user = request.auth
    team = visible_or_404(selectors.team_get, "team_id", user=user, team_id=team_id)
    changes: dict[str, Any] = {}
    if payload.lead_id is not None:
        changes["lead"] = (
            None if payload.lead_id == 0 else _volunteer_in_scope(user, payload.lead_id)
        )
    services.team_update(
        actor=user,
        team=team,
        name=payload.name,
        target_size=payload.target_size,
        required_skills=payload.required_skills,
        duty_slots=payload.duty_slots,
        **changes,
    )
    return _team_detail(selectors.team_get(user=user, team_id=team_id))


@router.post("/teams/{team_id}/members", response={200: TeamDetailOut, **WRITE_ERRORS})
def team_member_add(request: HttpRequest, team_id: Id, payload: MemberIn):
    user = request.auth
    team = visible_or_404(selectors.team_get, "team_id", user=user, team_id=team_id)
    volunteer = _volunteer_in_scope(user, payload.volunteer_id)
    services.team_member_add(actor=user, team=team, volunteer=volunteer)
    return _team_detail(selectors.team_get(user=user, team_id=team_id))


@router.delete(
    "/teams/{team_id}/members/{volunteer_id}", response={200: TeamDetailOut, **WRITE_ERRORS}
)
def team_member_remove(request: HttpRequest, team_id: Id, volunteer_id: Id):
    user = request.auth
    team = visible_or_404(selectors.team_get, "team_id", user=user, team_id=team_id)
    volunteer = _volunteer_in_scope(user, volunteer_id)
    services.team_member_remove(actor=user, team=team, volunteer=volunteer)
    return _team_detail(selectors.team_get(user=user, team_id=team_id))


# Recommendation -------------------------------------------------------------------------


def _visible_recommendation(user, recommendation_id: Id) -> TeamRecommendation:
    return visible_or_404(
        selectors.recommendation_get,
        "recommendation_id",
        user=user,
        recommendation_id=recommendation_id,
    )


@router.post("/recommendations", response={201: RecommendationOut, **WRITE_ERRORS})
def recommendation_create(request: HttpRequest, payload: RecommendIn):
    community = visible_or_404(
        selectors.community_get,
        "community_id",
        user=request.auth,
        community_id=payload.community_id,
    )
    recommendation = services.recommendation_create(
        actor=request.auth, community=community, include_members=payload.include_members
    )
    return Status(201, _recommendation(recommendation))


@router.get("/recommendations/{recommendation_id}", response={200: RecommendationOut, **ERRORS})
def recommendation_detail(request: HttpRequest, recommendation_id: Id) -> dict[str, Any]:
    return _recommendation(_visible_recommendation(request.auth, recommendation_id))


@router.post(
    "/recommendations/{recommendation_id}/adjust",
    response={200: RecommendationOut, **WRITE_ERRORS},
)
def recommendation_adjust(request: HttpRequest, recommendation_id: Id, payload: AdjustIn):
    user = request.auth
    recommendation = _visible_recommendation(user, recommendation_id)
    volunteer = _volunteer_in_scope(user, payload.volunteer_id)
    team = None
    if payload.team_id is not None:
        team = visible_or_404(selectors.team_get, "team_id", user=user, team_id=payload.team_id)
    recommendation = services.recommendation_adjust(
        actor=user, recommendation=recommendation, volunteer=volunteer, team=team
    )
    return _recommendation(recommendation)


@router.post(
    "/recommendations/{recommendation_id}/accept", response={200: AcceptOut, **WRITE_ERRORS}
)
def recommendation_accept(request: HttpRequest, recommendation_id: Id):
    user = request.auth
    recommendation = _visible_recommendation(user, recommendation_id)
    placed = services.recommendation_accept(actor=user, recommendation=recommendation)
    return {"placed": placed}


# Hours ----------------------------------------------------------------------------------


@router.get("/hours", response={200: HoursPage, **ERRORS}, summary="Ledger entries in scope")
def hours_list(
    request: HttpRequest, filters: Query[HoursFilters], page: Query[PageIn]
) -> dict[str, Any]:
    user = request.auth
    volunteer = None
    if filters.volunteer_id is not None:
        volunteer = _volunteer_in_scope(user, filters.volunteer_id)
    entries = selectors.hours_entries(
        user=user, volunteer=volunteer, start=filters.start, end=filters.end
    )
    items, count = paginate(entries, page)
    return {"items": [_hours(entry) for entry in items], "count": count}


@router.post("/hours", response={201: HoursOut, **WRITE_ERRORS}, summary="Record hours by hand")
@idempotent
def hours_add(request: HttpRequest, payload: HoursIn):
    user = request.auth
    volunteer = _volunteer_in_scope(user, payload.volunteer_id)
    entry = services.service_hours_add(
        actor=user,
        volunteer=volunteer,
        hours=payload.hours,
        note=payload.note,
        occurred_on=payload.occurred_on,
    )
    return Status(201, _hours(entry))


@router.post("/hours/corrections", response={201: HoursOut, **WRITE_ERRORS})
@idempotent
def hours_correct(request: HttpRequest, payload: CorrectionIn):
    user = request.auth
    volunteer = _volunteer_in_scope(user, payload.volunteer_id)
    corrects = None
    if payload.corrects_id is not None:
        corrects = selectors.hours_visible(user=user).filter(pk=payload.corrects_id).first()
        if corrects is None:
            raise NotVisible("corrects_id")
    entry = services.service_hours_correct(
        actor=user,
        volunteer=volunteer,
        hours=payload.hours,
        reason=payload.reason,
        corrects=corrects,
        occurred_on=payload.occurred_on,
    )
    return Status(201, _hours(entry))


@router.get("/hours/totals", response={200: TotalsOut, **ERRORS})
def hours_totals(request: HttpRequest, filters: Query[TotalsFilters]) -> dict[str, Any]:
    user, start, end = request.auth, filters.start, filters.end
    if filters.by == "team":
        rows = selectors.hours_totals_by_team(user=user, start=start, end=end)
        items = [
            {
                "key": str(row["team_id"]) if row["team_id"] else None,
                "name": row["name"],
                "total": row["total"],
            }
            for row in rows
        ]
    elif filters.by == "month":
        rows = selectors.hours_totals_by_month(user=user, start=start, end=end)
        items = [
            {"key": f"{row['month']:%Y-%m}", "name": f"{row['month']:%Y-%m}", "total": row["total"]}
            for row in rows
        ]
    else:
        rows = selectors.hours_totals_by_volunteer(user=user, start=start, end=end)
        items = [
            {"key": str(row["volunteer_id"]), "name": row["name"], "total": row["total"]}
            for row in rows
        ]
    return {"by": filters.by, "items": items}


# POST, not GET: a cross-site page can make a browser follow a link with its session cookie,
# but cannot send a session POST without the CSRF token (bearer callers need none).
@router.post("/hours/export", response={200: None, **ERRORS}, summary="Ledger as .xlsx (audited)")
def hours_export_xlsx(
    request: HttpRequest, start: BoundedDate | None = None, end: BoundedDate | None = None
):
    exported = hours_export(
        user=request.auth, start=start, end=end, ip_address=client_address(request)
    )
    response = HttpResponse(exported.content, content_type=exported.content_type)
    response["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
    return response


# One volunteer (declared last: the fixed paths above take precedence) ---------------------


@router.get("/{volunteer_id}", response={200: VolunteerDetailOut, **ERRORS})
def volunteer_detail(request: HttpRequest, volunteer_id: Id) -> dict[str, Any]:
    return _volunteer_detail(_volunteer_in_scope(request.auth, volunteer_id))


@router.patch("/{volunteer_id}", response={200: VolunteerDetailOut, **WRITE_ERRORS})
def volunteer_change(request: HttpRequest, volunteer_id: Id, payload: ProfileIn):
    user = request.auth
    volunteer = _volunteer_in_scope(user, volunteer_id)
    services.volunteer_update(
        actor=user,
        volunteer=volunteer,
        skills=payload.skills,
        willingness=payload.willingness,
        availability=payload.availability,
        phone=payload.phone,
        work_unit=payload.work_unit,
        introduction=payload.introduction,
        home_building=_building(payload.home_building_id),
    )
    return _volunteer_detail(selectors.volunteer_get(user=user, volunteer_id=volunteer_id))


@router.post("/{volunteer_id}/review", response={200: VolunteerDetailOut, **WRITE_ERRORS})
def volunteer_review(request: HttpRequest, volunteer_id: Id, payload: ReviewIn):
    user = request.auth
    volunteer = _volunteer_in_scope(user, volunteer_id)
    services.volunteer_review(
        actor=user, volunteer=volunteer, approve=payload.approve, note=payload.note
    )
    return _volunteer_detail(selectors.volunteer_get(user=user, volunteer_id=volunteer_id))


@router.post("/{volunteer_id}/active", response={200: VolunteerDetailOut, **WRITE_ERRORS})
def volunteer_active(request: HttpRequest, volunteer_id: Id, payload: ActiveIn):
    user = request.auth
    volunteer = _volunteer_in_scope(user, volunteer_id)
    services.volunteer_set_active(actor=user, volunteer=volunteer, active=payload.active)
    return _volunteer_detail(selectors.volunteer_get(user=user, volunteer_id=volunteer_id))


@router.get("/{volunteer_id}/hours", response={200: HoursPage, **ERRORS})
def volunteer_hours(request: HttpRequest, volunteer_id: Id, page: Query[PageIn]) -> dict[str, Any]:
    user = request.auth
    volunteer = _volunteer_in_scope(user, volunteer_id)
    items, count = paginate(selectors.hours_entries(user=user, volunteer=volunteer), page)
    return {"items": [_hours(entry) for entry in items], "count": count}
