"""Pages of the three lists: the provider's phone page (open needs, my claims), needs,
claims with their actions, resources and projects.

Views stay thin: reads through partners.selectors, writes through partners.services. A row
outside the user's scope answers 404; a refused action is shown as a message and writes
nothing, because the service raises before saving.
"""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from linli import clock
from linli.accounts.models import User
from linli.accounts.roles import Permission, Role
from linli.cases.selectors import case_get
from linli.grids import selectors as grid_selectors
from linli.grids.models import Household
from linli.grids.selectors import scope_for
from linli.idempotency.web import once_per_form
from linli.partners import selectors, services
from linli.partners.models import (
    ClaimState,
    NeedSource,
    NeedState,
    Recurrence,
    ResourceKind,
    ServiceCategory,
    Urgency,
)

PAGE_SIZE = 50
EVENT_LABELS = {**services.ACTION_LABELS, "claim": gettext_lazy("Claimed")}
STATE_LABELS = dict(ClaimState.choices)


def error_map(error: ValidationError) -> dict[str, str]:
    if hasattr(error, "error_dict"):
        return {
            field: " ".join(e.messages[0] for e in errors)
            for field, errors in error.error_dict.items()
        }
    return {"general": " ".join(error.messages)}


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


def _can(user, permission: str, grid_path: str | None = None) -> bool:
    return grid_selectors.user_can(user=user, permission=permission, grid_path=grid_path)


def _provider(user) -> dict:
    partner = services.partner_of(user)
    if partner is not None:
        return {"partner": partner}
    volunteer = services.volunteer_of(user)
    if volunteer is not None:
        return {"volunteer": volunteer}
    return {}


# Home -----------------------------------------------------------------------------------


@login_required
def home(request):
    """Providers (liaisons, volunteers): open needs to claim and their own claims, on a
    phone. Staff: the lists. Residents: their household's needs."""
    user = request.user
    provider = _provider(user)
    staff = _can(user, Permission.PARTNERS_VIEW) or _can(user, Permission.VIEW_REGISTRY)
    if not provider and not staff and not scope_for(user).own_household_ids:
        roles = scope_for(user).roles
        if Role.VOLUNTEER in roles:
            # Not (yet) an approved volunteer: their volunteer page says where they stand.
            return redirect("volunteers:list")
        if Role.PARTNER_LIAISON not in roles:
            raise Http404
        messages.info(
            request, _("Your login is not linked to a partner unit yet; ask the community.")
        )
    needs = [
        {"need": need, "beneficiary": selectors.beneficiary_label(user=user, need=need)}
        for need in selectors.open_needs_for_provider(user=user)[:PAGE_SIZE]
    ]
    claims = list(selectors.my_claims(user=user)[:PAGE_SIZE])
    own_needs = []
    if scope_for(user).own_household_ids:
        own_needs = list(
            selectors.needs_visible(user=user)
            .filter(household_id__in=scope_for(user).own_household_ids)
            .prefetch_related("claims")[:PAGE_SIZE]
        )
    return render(
        request,
        "partners/home.html",
        {
            "provider": provider.get("partner") or provider.get("volunteer"),
            "needs": needs,
            "claims": claims,
            "own_needs": own_needs,
            "staff": staff,
            "partners_view": _can(user, Permission.PARTNERS_VIEW),
            "can_manage": _can(user, Permission.LISTS_MANAGE),
            "communities": selectors.communities_for(user=user),
        },
    )


# Needs ----------------------------------------------------------------------------------


@login_required
def need_list(request):
    user = request.user
    needs = selectors.needs_visible(user=user).order_by("-created_at", "-id")
    state = request.GET.get("state", "")
    if state in NeedState.values:
        needs = needs.filter(state=state)
    category = request.GET.get("category", "")
    if category in ServiceCategory.values:
        needs = needs.filter(category=category)
    page = Paginator(needs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {"need": n, "beneficiary": selectors.beneficiary_label(user=user, need=n)} for n in page
    ]
    return render(
        request,
        "partners/need_list.html",
        {
            "page": page,
            "rows": rows,
            "states": NeedState.choices,
            "categories": ServiceCategory.choices,
            "filters": {"state": state, "category": category},
            "can_manage": _can(user, Permission.LISTS_MANAGE),
        },
    )


@login_required
def need_new(request):
    """Add a need: staff for any household or unit in scope (one step from a visit or a
    case with ?visit= or ?case=), a resident for their own household."""
    user = request.user
    scope = scope_for(user)
    staff = _can(user, Permission.LISTS_MANAGE)
    if not staff and not scope.own_household_ids:
        raise Http404
    visit = case = None
    if staff and request.GET.get("visit"):
        visit = grid_selectors.visit_get(user=user, visit_id=_int(request.GET["visit"]))
    if staff and request.GET.get("case"):
        case = case_get(user=user, case_id=_int(request.GET["case"]))
    if staff:
        households = Household.objects.within(scope.paths_for(Permission.LISTS_MANAGE))
    else:
        households = Household.objects.filter(pk__in=scope.own_household_ids)
    households = households.select_related("building")
    errors: dict[str, str] = {}
    values = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        fields = dict(
            category=request.POST.get("category", ""),
            title=request.POST.get("title", ""),
            description=request.POST.get("description", ""),
            urgency=request.POST.get("urgency", Urgency.NORMAL),
            quantity=request.POST.get("quantity", "1"),
            unit=request.POST.get("unit", ""),
            recurrence=request.POST.get("recurrence", Recurrence.ONCE),
        )
        try:
            if visit is not None:
                need = services.need_from_visit(actor=user, visit=visit, **fields)
            elif case is not None:
                need = services.need_from_case(actor=user, case=case, **fields)
            else:
                household = households.filter(pk=_int(request.POST.get("household"))).first()
                need = services.need_create(
                    actor=user,
                    household=household,
                    beneficiary=household.residents.first() if household and not staff else None,
                    source=NeedSource.STAFF if staff else NeedSource.RESIDENT,
                    **fields,
                )
        except ValidationError as error:
            errors = error_map(error)
        else:
            messages.success(request, _("The need is on the list."))
            return redirect("partners:need_detail", need.pk)
    return render(
        request,
        "partners/need_form.html",
        {
            "households": households.order_by("grid_path", "building_id", "room")[:500],
            "visit": visit,
            "case": case,
            "errors": errors,
            "values": values,
            "categories": ServiceCategory.choices,
            "urgencies": Urgency.choices,
            "recurrences": Recurrence.choices,
        },
    )


@login_required
def need_detail(request, need_id: int):
    user = request.user
    need = selectors.need_get(user=user, need_id=need_id)
    provider = _provider(user)
    staff_view = _can(user, Permission.PARTNERS_VIEW, need.grid_path)
    can_manage = _can(user, Permission.LISTS_MANAGE, need.grid_path)
    claims = list(
        selectors.claims_visible(user=user).filter(need=need).order_by("created_at", "id")
    )
    return render(
        request,
        "partners/need_detail.html",
        {
            "need": need,
            "beneficiary": selectors.beneficiary_label(user=user, need=need),
            "description": selectors.need_description(user=user, need=need),
            "claims": claims,
            "provider": provider.get("partner") or provider.get("volunteer"),
            "can_claim": bool(provider) and need.state == NeedState.OPEN,
            "can_manage": can_manage,
            "matches": selectors.match_suggestions(need=need)
            if staff_view and need.state == NeedState.OPEN
            else [],
            "resources": (
                selectors.resources_visible(user=user).filter(
                    category=need.category,
                    is_active=True,
                    grid_path__in=need.grid_unit.ancestor_paths(),
                )
                if can_manage
                else []
            ),
        },
    )


@login_required
@require_POST
def need_cancel(request, need_id: int):
    user = request.user
    need = selectors.need_get(user=user, need_id=need_id)
    try:
        services.need_cancel(actor=user, need=need, reason=request.POST.get("reason", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The need is cancelled."))
    return redirect("partners:need_detail", need.pk)


@login_required
@require_POST
def resource_withdraw(request, resource_id: int):
    user = request.user
    resource = selectors.resource_get(user=user, resource_id=resource_id)
    try:
        services.resource_withdraw(actor=user, resource=resource)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The resource is withdrawn."))
    return redirect("partners:resource_list")


@login_required
@require_POST
@once_per_form
def need_claim(request, need_id: int):
    user = request.user
    need = selectors.need_get(user=user, need_id=need_id)
    provider = _provider(user)
    if not provider:
        raise Http404
    try:
        claim = services.claim_need(
            actor=user, need=need, quantity=_int(request.POST.get("quantity")) or 0, **provider
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("partners:need_detail", need.pk)
    messages.success(request, _("Claimed. Thank you!"))
    return redirect("partners:claim_detail", claim.pk)


@login_required
@require_POST
@once_per_form
def need_claim_resource(request, need_id: int):
    user = request.user
    need = selectors.need_get(user=user, need_id=need_id)
    resource = selectors.resource_get(user=user, resource_id=_int(request.POST.get("resource")))
    try:
        claim = services.claim_resource(
            actor=user,
            need=need,
            resource=resource,
            quantity=_int(request.POST.get("quantity")) or 0,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("partners:need_detail", need.pk)
    messages.success(request, _("The resource is claimed for this need."))
    return redirect("partners:claim_detail", claim.pk)


# Claims ---------------------------------------------------------------------------------


@login_required
def claim_detail(request, claim_id: int):
    user = request.user
    claim = selectors.claim_get(user=user, claim_id=claim_id)
    actions = [
        {"name": action, "label": services.ACTION_LABELS[action]}
        for (state, action) in services.TRANSITIONS
        if state == claim.state and services.may_act(user=user, action=action, claim=claim)
    ]
    return render(
        request,
        "partners/claim_detail.html",
        {
            "claim": claim,
            "beneficiary": selectors.beneficiary_label(user=user, need=claim.need),
            "events": [
                {
                    "at": event.created_at,
                    "label": EVENT_LABELS.get(event.action, event.action),
                    "state": STATE_LABELS.get(event.to_state, event.to_state),
                    "note": event.note,
                }
                for event in claim.events.all()
            ],
            "actions": actions,
            "ask_hours": claim.volunteer_id is not None,
        },
    )


@login_required
@require_POST
def claim_act(request, claim_id: int):
    user = request.user
    claim = selectors.claim_get(user=user, claim_id=claim_id)
    action = request.POST.get("action", "")
    if action not in services.ACTIONS:
        messages.error(request, _("Unknown action."))
        return redirect("partners:claim_detail", claim.pk)
    try:
        services.claim_transition(
            claim=claim,
            actor=user,
            action=action,
            note=request.POST.get("note", ""),
            hours=request.POST.get("hours") or None,
            expected_version=_int(request.POST.get("version")),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("%(action)s: done.") % {"action": services.ACTION_LABELS[action]}
        )
    return redirect("partners:claim_detail", claim.pk)


# Resources ------------------------------------------------------------------------------


@login_required
def resource_list(request):
    user = request.user
    provider = _provider(user)
    if not provider and not _can(user, Permission.PARTNERS_VIEW):
        raise Http404
    resources = selectors.resources_visible(user=user).order_by("category", "id")
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not provider:
            raise Http404
        try:
            services.resource_offer(
                actor=user,
                kind=request.POST.get("kind", ""),
                category=request.POST.get("category", ""),
                title=request.POST.get("title", ""),
                quantity=request.POST.get("quantity", "1"),
                unit=request.POST.get("unit", ""),
                available_from=_date(request.POST.get("available_from")),
                available_until=_date(request.POST.get("available_until")),
                availability=request.POST.get("availability", ""),
                conditions=request.POST.get("conditions", ""),
                **provider,
            )
        except ValidationError as error:
            errors = error_map(error)
        else:
            messages.success(request, _("Your offer is on the resources list."))
            return redirect("partners:resource_list")
    return render(
        request,
        "partners/resource_list.html",
        {
            "page": Paginator(resources, PAGE_SIZE).get_page(request.GET.get("page")),
            "provider": provider.get("partner") or provider.get("volunteer"),
            "kinds": ResourceKind.choices,
            "categories": ServiceCategory.choices,
            "errors": errors,
            "values": request.POST if request.method == "POST" else {},
        },
    )


# Projects -------------------------------------------------------------------------------


@login_required
def project_list(request):
    user = request.user
    projects = selectors.projects_visible(user=user).prefetch_related("milestones")
    if not _can(user, Permission.PARTNERS_VIEW) and not projects.exists():
        raise Http404
    return render(
        request,
        "partners/project_list.html",
        {
            "page": Paginator(projects.order_by("-starts_on", "-id"), PAGE_SIZE).get_page(
                request.GET.get("page")
            ),
            "can_manage": _can(user, Permission.LISTS_MANAGE),
        },
    )


@login_required
def project_new(request):
    user = request.user
    if not _can(user, Permission.LISTS_MANAGE):
        raise Http404
    errors: dict[str, str] = {}
    needs = (
        selectors.needs_visible(user=user).exclude(state=NeedState.CANCELLED).order_by("-id")[:200]
    )
    resources = selectors.resources_visible(user=user).filter(is_active=True).order_by("-id")[:200]
    if request.method == "POST":
        need = selectors.needs_visible(user=user).filter(pk=_int(request.POST.get("need"))).first()
        resource = (
            selectors.resources_visible(user=user)
            .filter(pk=_int(request.POST.get("resource")))
            .first()
        )
        owner = User.objects.filter(
            username=request.POST.get("owner", "").strip(), is_active=True
        ).first()
        milestones = []
        for label, due in zip(
            request.POST.getlist("milestone_title"),
            request.POST.getlist("milestone_due"),
            strict=False,
        ):
            if label.strip() or due:
                milestones.append((label, _date(due)))
        if need is None or resource is None:
            errors = {"need": _("Choose a need and a resource.")}
        else:
            try:
                project = services.project_create(
                    actor=user,
                    need=need,
                    resource=resource,
                    title=request.POST.get("title", ""),
                    owner=owner,
                    starts_on=_date(request.POST.get("starts_on")),
                    ends_on=_date(request.POST.get("ends_on")),
                    schedule=request.POST.get("schedule", ""),
                    milestones=milestones,
                )
            except ValidationError as error:
                errors = error_map(error)
            else:
                messages.success(request, _("Project created."))
                return redirect("partners:project_detail", project.pk)
    return render(
        request,
        "partners/project_form.html",
        {
            "needs": needs,
            "resources": resources,
            "errors": errors,
            "values": request.POST if request.method == "POST" else {},
            "today": clock.localdate(),
        },
    )


@login_required
def project_detail(request, project_id: int):
    user = request.user
    project = selectors.project_get(user=user, project_id=project_id)
    if request.method == "POST":
        milestone = project.milestones.filter(pk=_int(request.POST.get("milestone"))).first()
        if milestone is None:
            raise Http404
        try:
            services.milestone_done(actor=user, milestone=milestone)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect("partners:project_detail", project.pk)
    return render(
        request,
        "partners/project_detail.html",
        {
            "project": project,
            "milestones": list(project.milestones.all()),
            "can_update": user.pk == project.owner_id
            or _can(user, Permission.LISTS_MANAGE, project.grid_path),
        },
    )
