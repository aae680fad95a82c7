"""Volunteer pages: sign-up (mobile-first), the staff list and review, a volunteer's profile
and hours, the functional teams, the team recommendation and the hours ledger.

Views stay thin: reads through `linli.volunteers.selectors`, writes through
`linli.volunteers.services`. A row outside the user's scope answers 404; a refused action is
shown as a message (or next to its field) and writes nothing, because the service raises
before saving.
"""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from linli.accounts.services import client_address
from linli.grids.models import GridUnit, PartyMembership
from linli.grids.selectors import scope_for
from linli.idempotency.web import once_per_form
from linli.volunteers import selectors, services
from linli.volunteers.exporting import hours_export
from linli.volunteers.models import (
    DayPart,
    HoursSource,
    ServiceKind,
    Skill,
    Team,
    TeamMembership,
    VolunteerStatus,
    Weekday,
)

PAGE_SIZE = 50


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _date(value) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _errors(error: ValidationError) -> dict[str, list[str]]:
    return error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}


def _say(request, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


def _slot_rows():
    """Availability grid: one row per weekday, one checkbox per part of the day."""
    return [
        (day_label, [(f"{day}_{part}", part_label) for part, part_label in DayPart.choices])
        for day, day_label in Weekday.choices
    ]


def _form_context(values: dict) -> dict:
    return {
        "skills": Skill.choices,
        "kinds": ServiceKind.choices,
        "slot_rows": _slot_rows(),
        "party_types": PartyMembership.choices,
        "values": values,
    }


def _profile_values(post) -> dict:
    return {
        "skills": post.getlist("skills"),
        "willingness": post.getlist("willingness"),
        "availability": post.getlist("availability"),
        "party_member_type": post.get("party_member_type", ""),
        "name": post.get("name", "").strip(),
        "phone": post.get("phone", "").strip(),
        "work_unit": post.get("work_unit", "").strip(),
        "party_organisation": post.get("party_organisation", "").strip(),
        "introduction": post.get("introduction", "").strip(),
        "grid_unit": post.get("grid_unit", ""),
    }


# Sign-up -------------------------------------------------------------------------------


@login_required
def signup(request):
    user = request.user
    own = selectors.own_volunteer(user=user)
    if own is not None:
        return redirect("volunteers:detail", volunteer_id=own.pk)
    account = getattr(user, "resident_account", None)
    # Someone who registered with their phone (volunteers:join) finds their name and number.
    values: dict = {
        "skills": [],
        "willingness": [],
        "availability": [],
        "name": user.display_name,
        "phone": user.phone,
    }
    errors: dict = {}
    if request.method == "POST":
        values = _profile_values(request.POST)
        community = (
            GridUnit.objects.filter(pk=_int(values["grid_unit"])).first() if not account else None
        )
        try:
            volunteer = services.volunteer_signup(
                actor=user,
                user=user,
                skills=values["skills"],
                willingness=values["willingness"],
                availability=values["availability"],
                party_member_type=values["party_member_type"],
                grid_unit=community,
                name=values["name"],
                phone=values["phone"],
                work_unit=values["work_unit"],
                party_organisation=values["party_organisation"],
                introduction=values["introduction"],
            )
        except ValidationError as error:
            errors = _errors(error)
        else:
            messages.success(request, _("Thank you for signing up. Staff will review it soon."))
            return redirect("volunteers:detail", volunteer_id=volunteer.pk)
    return render(
        request,
        "volunteers/signup.html",
        {
            **_form_context(values),
            "errors": errors,
            # Errors that belong to no box on the page.
            "general_errors": [
                message
                for key in ("__all__", "user", "resident")
                for message in errors.get(key, [])
            ],
            "resident": account.resident if account else None,
            "communities": selectors.communities_for_signup(),
        },
        status=400 if errors else 200,
    )


# Staff list and review -----------------------------------------------------------------------


@login_required
def volunteer_list(request):
    user = request.user
    if not selectors.is_staff(user):
        own = selectors.own_volunteer(user=user)
        if own is not None:
            return redirect("volunteers:detail", volunteer_id=own.pk)
        return redirect("volunteers:signup")
    status = request.GET.get("status", VolunteerStatus.APPLIED)
    if status not in VolunteerStatus.values:
        status = ""
    skill = request.GET.get("skill", "")
    if skill not in Skill.values:
        skill = ""
    volunteers = selectors.volunteer_list(
        user=user,
        status=status or None,
        skill=skill or None,
        query=request.GET.get("q", "").strip(),
    )
    return render(
        request,
        "volunteers/list.html",
        {
            "page": Paginator(volunteers, PAGE_SIZE).get_page(request.GET.get("page")),
            "statuses": VolunteerStatus.choices,
            "skills": Skill.choices,
            "filters": {"status": status, "skill": skill, "q": request.GET.get("q", "")},
            "can_manage": selectors.can_manage(user),
        },
    )


@login_required
@require_POST
def volunteer_review(request, volunteer_id: int):
    volunteer = selectors.volunteer_get(user=request.user, volunteer_id=volunteer_id)
    approve = request.POST.get("decision") == "approve"
    try:
        services.volunteer_review(
            actor=request.user,
            volunteer=volunteer,
            approve=approve,
            note=request.POST.get("note", ""),
        )
    except ValidationError as error:
        _say(request, error)
    else:
        messages.success(
            request,
            (_("%(name)s approved.") if approve else _("%(name)s rejected."))
            % {"name": volunteer.name},
        )
    return redirect("volunteers:list")


# Profile ---------------------------------------------------------------------------------------


@login_required
def volunteer_detail(request, volunteer_id: int):
    user = request.user
    volunteer = selectors.volunteer_get(user=user, volunteer_id=volunteer_id)
    may_edit = services.is_own(user, volunteer) or services.may_manage(user, volunteer.grid_path)
    errors: dict = {}
    values = {
        "skills": volunteer.skill_list,
        "willingness": volunteer.willingness_list,
        "availability": volunteer.slot_list,
        "work_unit": volunteer.work_unit,
        "introduction": volunteer.introduction,
        "phone": "",
    }
    if request.method == "POST":
        if not may_edit:
            raise Http404
        values = _profile_values(request.POST)
        try:
            services.volunteer_update(
                actor=user,
                volunteer=volunteer,
                skills=values["skills"],
                willingness=values["willingness"],
                availability=values["availability"],
                # A blank phone box keeps the number: the page never shows it in full.
                phone=values["phone"] or None,
                work_unit=values["work_unit"] if volunteer.origin == "outside" else None,
                introduction=values["introduction"],
            )
        except ValidationError as error:
            errors = _errors(error)
        else:
            messages.success(request, _("Profile saved."))
            return redirect("volunteers:detail", volunteer_id=volunteer.pk)
    entries = selectors.hours_entries(user=user, volunteer=volunteer)[:20]
    return render(
        request,
        "volunteers/detail.html",
        {
            **_form_context(values),
            "volunteer": volunteer,
            "errors": errors,
            "may_edit": may_edit,
            "may_toggle": may_edit
            and volunteer.status
            in (VolunteerStatus.APPROVED, VolunteerStatus.ACTIVE, VolunteerStatus.INACTIVE),
            "may_manage": services.may_manage(user, volunteer.grid_path),
            "team": selectors.current_team(volunteer=volunteer),
            "entries": entries,
            "total": selectors.hours_total(volunteer=volunteer),
            "sources": dict(HoursSource.choices),
        },
        status=400 if errors else 200,
    )


@login_required
@require_POST
def volunteer_active(request, volunteer_id: int):
    volunteer = selectors.volunteer_get(user=request.user, volunteer_id=volunteer_id)
    try:
        services.volunteer_set_active(
            actor=request.user, volunteer=volunteer, active=request.POST.get("active") == "1"
        )
    except ValidationError as error:
        _say(request, error)
    return redirect("volunteers:detail", volunteer_id=volunteer.pk)


# Teams --------------------------------------------------------------------------------------


@login_required
def team_list(request):
    user = request.user
    communities = list(selectors.communities_with_teams(user=user))
    if not communities:
        own = selectors.own_volunteer(user=user)
        team = selectors.current_team(volunteer=own) if own else None
        if team is None:
            raise Http404
        return redirect("volunteers:team", team_id=team.pk)
    community = next(
        (c for c in communities if c.pk == _int(request.GET.get("community"))), communities[0]
    )
    teams = list(selectors.team_list(user=user, community=community))
    return render(
        request,
        "volunteers/teams.html",
        {
            "communities": communities,
            "community": community,
            "teams": teams,
            "can_manage": selectors.can_manage(user, community.path),
            "recent": selectors.recommendations_visible(user=user).filter(community=community)[:5],
        },
    )


@login_required
@require_POST
def team_defaults(request):
    community = selectors.community_get(
        user=request.user, community_id=_int(request.POST.get("community")) or 0
    )
    try:
        created = services.teams_create_defaults(community=community, actor=request.user)
    except ValidationError as error:
        _say(request, error)
    else:
        messages.success(request, _("%(count)s teams created.") % {"count": len(created)})
    return redirect(f"{_url('volunteers:teams')}?community={community.pk}")


def _url(name: str, **kwargs) -> str:
    from django.urls import reverse

    return reverse(name, kwargs=kwargs or None)


@login_required
def team_detail(request, team_id: int):
    user = request.user
    team = selectors.team_get(user=user, team_id=team_id)
    can_manage = selectors.can_manage(user, team.grid_path)
    if request.method == "POST":
        if not can_manage:
            raise Http404
        try:
            if "target_size" in request.POST:
                lead_id = _int(request.POST.get("lead"))
                services.team_update(
                    actor=user,
                    team=team,
                    name=request.POST.get("name", team.name),
                    target_size=request.POST.get("target_size"),
                    required_skills=request.POST.getlist("required_skills"),
                    lead=selectors.volunteers_visible(user=user).filter(pk=lead_id).first()
                    if lead_id
                    else None,
                )
                messages.success(request, _("Team saved."))
            elif request.POST.get("remove"):
                volunteer = selectors.volunteer_get(
                    user=user, volunteer_id=_int(request.POST["remove"]) or 0
                )
                services.team_member_remove(actor=user, team=team, volunteer=volunteer)
            else:
                volunteer = selectors.volunteer_get(
                    user=user, volunteer_id=_int(request.POST.get("volunteer")) or 0
                )
                services.team_member_add(actor=user, team=team, volunteer=volunteer)
        except ValidationError as error:
            _say(request, error)
        return redirect("volunteers:team", team_id=team.pk)
    members = list(selectors.team_members(team=team))
    candidates = []
    if can_manage:
        placed = TeamMembership.objects.current().values("volunteer_id")
        candidates = (
            selectors.volunteers_visible(user=user)
            .within([team.grid_path])
            .serving()
            .exclude(pk__in=placed)
            .order_by("name")[:200]
        )
    return render(
        request,
        "volunteers/team.html",
        {
            "team": team,
            "members": members,
            "candidates": candidates,
            "can_manage": can_manage,
            "skills": Skill.choices,
        },
    )


# Recommendation -------------------------------------------------------------------------------


@login_required
@require_POST
def recommend(request):
    community = selectors.community_get(
        user=request.user, community_id=_int(request.POST.get("community")) or 0
    )
    try:
        recommendation = services.recommendation_create(
            actor=request.user,
            community=community,
            include_members=request.POST.get("include_members") == "1",
        )
    except ValidationError as error:
        _say(request, error)
        return redirect(f"{_url('volunteers:teams')}?community={community.pk}")
    return redirect("volunteers:recommendation", recommendation_id=recommendation.pk)


@login_required
def recommendation_detail(request, recommendation_id: int):
    user = request.user
    recommendation = selectors.recommendation_get(user=user, recommendation_id=recommendation_id)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "accept":
                placed = services.recommendation_accept(actor=user, recommendation=recommendation)
                messages.success(request, _("%(count)s volunteers placed.") % {"count": placed})
                return redirect(
                    f"{_url('volunteers:teams')}?community={recommendation.community_id}"
                )
            if action == "discard":
                services.recommendation_discard(actor=user, recommendation=recommendation)
            elif action == "adjust":
                volunteer = selectors.volunteer_get(
                    user=user, volunteer_id=_int(request.POST.get("volunteer")) or 0
                )
                team_id = _int(request.POST.get("team"))
                team = (
                    Team.objects.filter(
                        pk=team_id, community_id=recommendation.community_id
                    ).first()
                    if team_id
                    else None
                )
                services.recommendation_adjust(
                    actor=user, recommendation=recommendation, volunteer=volunteer, team=team
                )
        except ValidationError as error:
            _say(request, error)
        return redirect("volunteers:recommendation", recommendation_id=recommendation.pk)
    rows = selectors.recommendation_rows(recommendation=recommendation)
    return render(
        request,
        "volunteers/recommendation.html",
        {
            "recommendation": recommendation,
            # A street-sized run has thousands of rows: a page at a time.
            "page": Paginator(rows, 100).get_page(request.GET.get("page")),
            "total": len(rows),
            "teams": Team.objects.filter(community_id=recommendation.community_id),
            "placed": sum(1 for row in rows if row["team_id"]),
        },
    )


# Hours -----------------------------------------------------------------------------------------


@login_required
def hours(request):
    user = request.user
    own = selectors.own_volunteer(user=user)
    if not selectors.is_staff(user):
        if own is None:
            raise Http404
        return redirect("volunteers:detail", volunteer_id=own.pk)
    start, end = _date(request.GET.get("start")), _date(request.GET.get("end"))
    by = request.GET.get("by", "volunteer")
    if by == "team":
        totals = [
            {"name": row["name"] or _("No team"), "total": row["total"]}
            for row in selectors.hours_totals_by_team(user=user, start=start, end=end)
        ]
    elif by == "month":
        totals = [
            {"name": f"{row['month']:%Y-%m}", "total": row["total"]}
            for row in selectors.hours_totals_by_month(user=user, start=start, end=end)
        ]
    else:
        by = "volunteer"
        totals = selectors.hours_totals_by_volunteer(user=user, start=start, end=end)
    return render(
        request,
        "volunteers/hours.html",
        {
            "totals": totals,
            "by": by,
            "filters": {"start": request.GET.get("start", ""), "end": request.GET.get("end", "")},
            "can_manage": selectors.can_manage(user),
            "volunteers": selectors.volunteers_visible(user=user).serving().order_by("name")[:500]
            if selectors.can_manage(user)
            else [],
        },
    )


@login_required
@require_POST
@once_per_form
def hours_add(request):
    user = request.user
    volunteer = selectors.volunteer_get(
        user=user, volunteer_id=_int(request.POST.get("volunteer")) or 0
    )
    kind = request.POST.get("kind", "manual")
    try:
        if kind == "correction":
            services.service_hours_correct(
                actor=user,
                volunteer=volunteer,
                hours=request.POST.get("hours", ""),
                reason=request.POST.get("note", ""),
                occurred_on=_date(request.POST.get("occurred_on")),
            )
        else:
            services.service_hours_add(
                actor=user,
                volunteer=volunteer,
                hours=request.POST.get("hours", ""),
                note=request.POST.get("note", ""),
                occurred_on=_date(request.POST.get("occurred_on")),
            )
    except ValidationError as error:
        _say(request, error)
    else:
        messages.success(request, _("Hours recorded for %(name)s.") % {"name": volunteer.name})
    if request.POST.get("back") == "detail":
        return redirect("volunteers:detail", volunteer_id=volunteer.pk)
    return redirect("volunteers:hours")


@never_cache
@login_required
def hours_export_view(request):
    """A POST (with the CSRF token) downloads; a GET shows the page with the button, so a
    link from another site downloads nothing."""
    if request.method != "POST":
        scope = scope_for(request.user)
        if (
            not scope.paths_for(selectors.VIEW)
            and selectors.own_volunteer(user=request.user) is None
        ):
            raise Http404
        fields = {key: request.GET.get(key, "") for key in ("start", "end")}
        return render(
            request,
            "grids/export_confirm.html",
            {
                "title": _("Export service hours"),
                "fields": {key: value for key, value in fields.items() if value},
            },
        )
    try:
        exported = hours_export(
            user=request.user,
            start=_date(request.POST.get("start")),
            end=_date(request.POST.get("end")),
            ip_address=client_address(request),
        )
    except ValidationError:
        raise Http404 from None
    response = HttpResponse(exported.content, content_type=exported.content_type)
    response["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
    response["Cache-Control"] = "no-store"
    return response
