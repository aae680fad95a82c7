"""Registry pages: grid tree, buildings, households, residents, visits, audit log.

Views stay thin: every read goes through `linli.grids.selectors` (or `linli.grids.tree`,
built on it), every write through `linli.grids.services`. Anything outside the user's
scope answers 404, including pages for a role the user does not hold.
"""

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Max
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from linli.accounts.audit_words import describe, object_noun
from linli.accounts.models import AuditAction
from linli.accounts.privacy import phone_is_valid
from linli.accounts.reveals import (
    REASON_MAX_LENGTH,
    REASON_MIN_LENGTH,
    RevealPurpose,
)
from linli.accounts.roles import Permission
from linli.accounts.services import client_address
from linli.api_shared import MAX_YEAR, MIN_YEAR
from linli.errors import PERMISSION_DENIED
from linli.forms import form_add_errors
from linli.grids import audit, selectors, services, tree
from linli.grids.models import (
    GridLevel,
    Household,
    Mood,
    PartyMembership,
    ResidencyType,
    Resident,
    VisitMethod,
    VulnerabilityTag,
)
from linli.idempotency.web import once_per_form

PAGE_SIZE = 50
REVEAL_LABELS = {"phone": gettext_lazy("Phone"), "id_number": gettext_lazy("ID number")}


def _is_htmx(request) -> bool:
    # A history restore wants the whole page back, not the fragment.
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


# Grid tree and grid units ----------------------------------------------------------------


@login_required
def grid_tree(request):
    user = request.user
    selectors.needs_registry(user=user)
    # Staff who may change the registry or assign posts invite households (linli.invitations).
    can_invite = any(
        selectors.user_can(user=user, permission=permission)
        for permission in (Permission.EDIT_REGISTRY, Permission.MANAGE_ROLES)
    )
    return render(
        request,
        "grids/grid_tree.html",
        {"roots": tree.grid_tree(user=user), "can_invite": can_invite},
    )


@login_required
def grid_detail(request, grid_unit_id: int):
    user = request.user
    unit = selectors.grid_unit_get(user=user, grid_unit_id=grid_unit_id)
    children = list(
        selectors.grid_units_visible(user=user).filter(parent=unit).order_by("sort_order", "code")
    )
    posts = list(selectors.posts_in(user=user, grid_unit=unit).filter(grid_path=unit.path))
    holders: dict[int, list] = {}
    for assignment in selectors.posts_in(user=user, grid_unit=unit).filter(grid_unit__parent=unit):
        holders.setdefault(assignment.grid_unit_id, []).append(assignment)
    rows = tree.units_with_counts(user=user, units=children)
    for row in rows:
        row["posts"] = holders.get(row["unit"].id, [])
    buildings = tree.buildings_of_group(user=user, grid_unit=unit)
    return render(
        request,
        "grids/grid_detail.html",
        {
            "unit": unit,
            "crumbs": selectors.ancestors_visible(user=user, grid_unit=unit),
            "counts": selectors.registry_counts(user=user, path=unit.path),
            "posts": posts,
            "rows": rows,
            "buildings": buildings,
        },
    )


# Buildings and households -------------------------------------------------------------------


@login_required
def building_detail(request, building_id: int):
    user = request.user
    building = selectors.building_get(user=user, building_id=building_id)
    households = (
        selectors.households_visible(user=user)
        .filter(building=building)
        .annotate(
            resident_count=Count("residents", distinct=True), last_visit=Max("visits__visited_at")
        )
        .order_by("room")
    )
    return render(
        request,
        "grids/building_detail.html",
        {
            "building": building,
            "crumbs": selectors.ancestors_visible(
                user=user, grid_unit=building.grid_unit, include_self=True
            ),
            "households": households,
            "can_record_visit": selectors.user_can(
                user=user, permission=Permission.RECORD_VISIT, grid_path=building.grid_path
            ),
            # Staff of the registry print the building's registration poster (not a resident
            # who sees the building of their own household).
            "can_print_poster": selectors.user_can(
                user=user, permission=Permission.VIEW_REGISTRY, grid_path=building.grid_path
            ),
        },
    )


def _household_context(user, household: Household) -> dict:
    members = selectors.residents_visible(user=user).filter(household=household).order_by("id")
    return {
        "household": household,
        "members": members,
        "show_tags": selectors.sensitive_visible(
            user=user, grid_path=household.grid_path, household_id=household.id
        ),
        "visits": selectors.visits_visible(user=user).filter(household=household)[:20],
        "can_record_visit": selectors.user_can(
            user=user, permission=Permission.RECORD_VISIT, grid_path=household.grid_path
        ),
        "building_visible": selectors.buildings_visible(user=user)
        .filter(pk=household.building_id)
        .exists(),
        "crumbs": selectors.crumbs_for_path(user=user, grid_path=household.grid_path),
    }


@login_required
def household_detail(request, household_id: int):
    household = selectors.household_get(user=request.user, household_id=household_id)
    return render(
        request, "grids/household_detail.html", _household_context(request.user, household)
    )


@login_required
def own_household(request):
    """The signed-in user's own household: a resident's page (staff who live here get it too)."""
    own = selectors.scope_for(request.user).own_household_ids
    if not own:
        raise Http404
    household = selectors.household_get(user=request.user, household_id=own[0])
    context = _household_context(request.user, household)
    context["own"] = True
    return render(request, "grids/household_detail.html", context)


# Residents ---------------------------------------------------------------------------------


@vary_on_headers("HX-Request")
@login_required
def resident_list(request):
    user = request.user
    selectors.needs_registry(user=user)
    query = request.GET.get("q", "")[:50]
    grid_unit = None
    if request.GET.get("grid"):
        grid_unit = selectors.grid_unit_get(user=user, grid_unit_id=request.GET["grid"])
    tag = request.GET.get("tag", "")
    if tag not in VulnerabilityTag.values:
        tag = ""
    residents = selectors.resident_search(user=user, query=query, grid_unit=grid_unit, tag=tag)
    page = _page(request, residents)
    rows = [
        (
            resident,
            selectors.sensitive_visible(
                user=user, grid_path=resident.grid_path, household_id=resident.household_id
            ),
        )
        for resident in page
    ]
    context = {
        "page": page,
        "rows": rows,
        "query": query,
        "grid_unit": grid_unit,
        "tag": tag,
        "grid_choices": selectors.grid_units_visible(user=user)
        .exclude(level=GridLevel.BUILDING_GROUP)
        .order_by("path"),
        "can_export": selectors.user_can(
            user=user,
            permission=Permission.EXPORT_REGISTRY,
            grid_path=grid_unit.path if grid_unit else None,
        ),
        "export_query": urlencode(
            {key: value for key, value in (("q", query), ("tag", tag)) if value}
            | ({"grid": grid_unit.id} if grid_unit else {})
        ),
        "tag_choices": VulnerabilityTag.choices
        if selectors.user_can(user=user, permission=Permission.VIEW_SENSITIVE)
        else [],
    }
    if _is_htmx(request):
        return render(request, "grids/_resident_rows.html", context)
    return render(request, "grids/resident_list.html", context)


def _resident_context(
    user, resident, revealed=None, reveal_errors=None, reveal_values=None
) -> dict:
    can_reveal = selectors.user_can(
        user=user, permission=Permission.REVEAL, grid_path=resident.grid_path
    )
    revealed = revealed or {}
    reveal_errors = reveal_errors or {}
    # What was typed into a refused reveal form, shown again beside its errors.
    reveal_values = reveal_values or {}
    fields = [
        {
            "name": "phone",
            "label": REVEAL_LABELS["phone"],
            "masked": resident.phone_masked,
            "value": revealed.get("phone"),
            "errors": reveal_errors.get("phone", []),
            "typed": reveal_values.get("phone", {}),
        },
        {
            "name": "id_number",
            "label": REVEAL_LABELS["id_number"],
            "masked": resident.id_number_masked,
            "value": revealed.get("id_number"),
            "errors": reveal_errors.get("id_number", []),
            "typed": reveal_values.get("id_number", {}),
        },
    ]
    return {
        "resident": resident,
        "household": resident.household,
        "can_reveal": can_reveal,
        "reveal_fields": fields,
        "reveal_purposes": RevealPurpose.choices,
        "reveal_reason_min": REASON_MIN_LENGTH,
        "reveal_reason_max": REASON_MAX_LENGTH,
        "show_tags": selectors.sensitive_visible(
            user=user, grid_path=resident.grid_path, household_id=resident.household_id
        ),
        "can_edit": selectors.user_can(
            user=user, permission=Permission.EDIT_REGISTRY, grid_path=resident.grid_path
        ),
    }


@login_required
def resident_detail(request, resident_id: int):
    resident = selectors.resident_get(user=request.user, resident_id=resident_id)
    return render(request, "grids/resident_detail.html", _resident_context(request.user, resident))


@never_cache
@login_required
@require_POST
def resident_reveal(request, resident_id: int):
    """Show one full number in place (htmx) or on the page; the service checks the purpose,
    the reason and the daily quota, and audits it. A refusal shows at the form."""
    user = request.user
    resident = selectors.resident_get(user=user, resident_id=resident_id)
    field = request.POST.get("field", "")
    if field not in services.REVEALABLE_FIELDS or not selectors.user_can(
        user=user, permission=Permission.REVEAL, grid_path=resident.grid_path
    ):
        raise Http404
    typed = {
        "purpose": request.POST.get("purpose", ""),
        "reason": request.POST.get("reason", "")[:REASON_MAX_LENGTH],
    }
    revealed, errors = {}, {}
    try:
        revealed[field] = services.resident_reveal(
            user=user,
            resident=resident,
            field=field,
            purpose=typed["purpose"],
            reason=request.POST.get("reason", ""),
            ip_address=client_address(request),
        )
    except ValidationError as error:
        if getattr(error, "code", None) == PERMISSION_DENIED:
            raise Http404 from None
        errors[field] = error.messages
    context = _resident_context(
        user, resident, revealed=revealed, reveal_errors=errors, reveal_values={field: typed}
    )
    if _is_htmx(request):
        item = next(item for item in context["reveal_fields"] if item["name"] == field)
        return render(request, "grids/_reveal.html", {**context, "item": item})
    return render(request, "grids/resident_detail.html", context)


class ResidentEditForm(forms.Form):
    """The editable fields of `services.EDITABLE_RESIDENT_FIELDS`.

    The phone starts empty and empty means "keep the current number": the page must never
    carry the full number, so there is nothing to pre-fill. `services.resident_update`
    checks everything again; the form only lets one page show every field's error at once.
    """

    name = forms.CharField(max_length=50, strip=True)
    phone = forms.CharField(required=False, max_length=20, strip=True)
    residency_type = forms.ChoiceField(choices=ResidencyType.choices)
    party_membership = forms.ChoiceField(choices=PartyMembership.choices, required=False)
    vulnerability_tags = forms.MultipleChoiceField(
        choices=VulnerabilityTag.choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, show_tags: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not show_tags:
            # Not shown, so not accepted either: a posted tag list is ignored.
            del self.fields["vulnerability_tags"]

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].replace(" ", "").replace("-", "")
        if phone and not phone_is_valid(phone):
            raise ValidationError(_("A mobile number has 11 digits and starts with 1."))
        return phone

    def changes_for(self, resident: Resident) -> dict:
        """Only what differs from the stored row; an empty phone keeps the current one."""
        data = self.cleaned_data
        changes = {
            name: data[name]
            for name in ("name", "residency_type", "party_membership")
            if data[name] != getattr(resident, name)
        }
        if data["phone"] and data["phone"] != resident.phone:
            changes["phone"] = data["phone"]
        if "vulnerability_tags" in self.fields:
            tags = data["vulnerability_tags"]
            if Resident.encode_tags(tags) != resident.vulnerability_tags:
                changes["vulnerability_tags"] = tags
        return changes


@never_cache
@login_required
def resident_edit(request, resident_id: int):
    user = request.user
    resident = selectors.resident_get(user=user, resident_id=resident_id)
    if not selectors.user_can(
        user=user, permission=Permission.EDIT_REGISTRY, grid_path=resident.grid_path
    ):
        raise Http404
    show_tags = selectors.sensitive_visible(
        user=user, grid_path=resident.grid_path, household_id=resident.household_id
    )
    initial = {
        "name": resident.name,
        "residency_type": resident.residency_type,
        "party_membership": resident.party_membership,
        "vulnerability_tags": resident.tags,
    }
    form = ResidentEditForm(request.POST or None, initial=initial, show_tags=show_tags)
    if request.method == "POST" and form.is_valid():
        changes = form.changes_for(resident)
        if not changes:
            messages.info(request, _("Nothing was changed."))
            return redirect("grids:resident_detail", resident_id=resident.id)
        try:
            services.resident_update(
                user=user, resident=resident, ip_address=client_address(request), **changes
            )
        except ValidationError as error:
            if getattr(error, "code", None) == PERMISSION_DENIED:
                raise Http404 from None
            form_add_errors(form, error)
            # The service sets attributes before its final check; show the stored row.
            resident.refresh_from_db()
        else:
            messages.success(request, _("Saved changes to %(name)s.") % {"name": resident.name})
            return redirect("grids:resident_detail", resident_id=resident.id)
    return render(
        request,
        "grids/resident_edit.html",
        {
            "resident": resident,
            "household": resident.household,
            "form": form,
            "show_tags": show_tags,
            "residency_types": ResidencyType.choices,
            "party_memberships": PartyMembership.choices,
            "tag_choices": VulnerabilityTag.choices,
        },
    )


# Visits --------------------------------------------------------------------------------------


class VisitForm(forms.Form):
    """Carries the submitted values; `services.visit_record` is the one that validates."""

    method = forms.CharField(required=False)
    mood = forms.CharField(required=False)
    finding = forms.CharField(required=False, widget=forms.Textarea, strip=True)
    needs_follow_up = forms.BooleanField(required=False)


@login_required
@once_per_form
def visit_new(request):
    user = request.user
    selectors.needs_registry(user=user, permission=Permission.RECORD_VISIT)
    household_id = request.POST.get("household") or request.GET.get("household")
    if not household_id:
        return _household_picker(request)
    household = selectors.household_for_visiting_get(user=user, household_id=household_id)
    form = VisitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.visit_record(visitor=user, household=household, **form.cleaned_data)
        except ValidationError as error:
            if getattr(error, "code", None) == PERMISSION_DENIED:
                raise Http404 from None
            form_add_errors(form, error)
        else:
            messages.success(request, _("Visit recorded."))
            return redirect("grids:household_detail", household_id=household.id)
    return render(
        request,
        "grids/visit_form.html",
        {
            "household": household,
            "form": form,
            "members": selectors.residents_visible(user=user).filter(household=household),
            "methods": VisitMethod.choices,
            "moods": Mood.choices,
        },
    )


@vary_on_headers("HX-Request")
def _household_picker(request):
    query = request.GET.get("q", "").strip()[:50]
    households = selectors.households_for_visiting_search(user=request.user, query=query)
    context = {"page": _page(request, households), "query": query}
    if _is_htmx(request):
        return render(request, "grids/_household_choices.html", context)
    return render(request, "grids/visit_pick_household.html", context)


@login_required
def visit_list(request):
    user = request.user
    selectors.needs_registry(user=user, permission=Permission.RECORD_VISIT)
    follow_ups = request.GET.get("show") == "follow_up"
    visits = selectors.visits_visible(user=user)
    visits = visits.needing_follow_up() if follow_ups else visits.filter(visitor=user)
    return render(
        request,
        "grids/visit_list.html",
        {"page": _page(request, visits), "follow_ups": follow_ups},
    )


# Audit log -----------------------------------------------------------------------------------


class AuditFilterForm(forms.Form):
    """The audit log's filter (GET). `date` is one day (the link in the alert on unusual
    reveals uses it with `actor` and `action`); `date_from`/`date_to` a range."""

    actor = forms.ChoiceField(label=gettext_lazy("Who"), required=False)
    action = forms.ChoiceField(label=pgettext_lazy("audit filter", "What"), required=False)
    object_type = forms.ChoiceField(label=gettext_lazy("Kind of record"), required=False)
    date_from = forms.DateField(label=gettext_lazy("From"), required=False)
    date_to = forms.DateField(label=gettext_lazy("To"), required=False)
    date = forms.DateField(required=False, widget=forms.HiddenInput)
    text = forms.CharField(
        label=gettext_lazy("Words in the record or reason"), required=False, max_length=100
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        everyone = [("", _("Anyone")), (audit.SYSTEM, _("System"))]
        self.fields["actor"].choices = everyone + audit.audit_actor_choices(user=user)
        self.fields["action"].choices = [("", _("Any action")), *AuditAction.choices]
        self.fields["object_type"].choices = [("", _("Any kind"))] + [
            (kind, object_noun(kind)) for kind in audit.audit_object_types(user=user)
        ]

    def _bounded(self, name):
        value = self.cleaned_data.get(name)
        if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
            raise ValidationError(
                _("Enter a date between %(min)s-01-01 and %(max)s-12-31.")
                % {"min": MIN_YEAR, "max": MAX_YEAR}
            )
        return value

    def clean_date_from(self):
        return self._bounded("date_from")

    def clean_date_to(self):
        return self._bounded("date_to")

    def clean_date(self):
        return self._bounded("date")

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def filters(self) -> "audit.AuditFilter":
        """What the valid fields ask for (a field with an error filters nothing)."""
        data = getattr(self, "cleaned_data", {})
        day = data.get("date")
        return audit.AuditFilter(
            actor=data.get("actor") or "",
            action=data.get("action") or "",
            object_type=data.get("object_type") or "",
            date_from=data.get("date_from") or day,
            date_to=data.get("date_to") or day,
            text=(data.get("text") or "").strip(),
        )


def _audit_form(request, data) -> AuditFilterForm:
    form = AuditFilterForm(data, user=request.user)
    form.is_valid()
    return form


@login_required
@never_cache
def audit_log(request):
    """The audit log of the reader's grids, each entry in words (linli.accounts.audit_words),
    filtered by who, what, kind, dates and words; the street administrator downloads it."""
    selectors.needs_registry(user=request.user, permission=Permission.VIEW_AUDIT)
    form = _audit_form(request, request.GET)
    return _audit_page(request, form)


def _audit_page(request, form, status=200):
    entries = audit.audit_entries_filtered(user=request.user, filters=form.filters())
    page = _page(request, entries)
    names = audit.grid_names(entry.grid_path for entry in page)
    for entry in page:
        entry.words = describe(entry)
        entry.grid_name = names.get(entry.grid_path, "")
    return render(
        request,
        "grids/audit_log.html",
        {
            "page": page,
            "form": form,
            "may_export": audit.may_export_audit(request.user),
            "export_query": {
                name: value for name, value in request.GET.items() if name != "page" and value
            },
        },
        status=status,
    )


@login_required
@require_POST
def audit_log_export(request):
    """Download the filtered log (.xlsx); the filter comes in the POST with its CSRF token.
    Only the street administrator: anyone else gets 404 and nothing is written."""
    selectors.needs_registry(user=request.user, permission=Permission.VIEW_AUDIT)
    if not audit.may_export_audit(request.user):
        raise Http404
    form = _audit_form(request, request.POST)
    if not form.is_valid():
        return _audit_page(request, form, status=400)
    export = audit.audit_log_export(
        user=request.user, filters=form.filters(), ip_address=client_address(request)
    )
    response = HttpResponse(
        export.content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("grids/", grid_tree, name="grid_tree"),
    path("grids/<int:grid_unit_id>/", grid_detail, name="grid_detail"),
    path("buildings/<int:building_id>/", building_detail, name="building_detail"),
    path("households/<int:household_id>/", household_detail, name="household_detail"),
    path("residents/", resident_list, name="resident_list"),
    path("residents/<int:resident_id>/", resident_detail, name="resident_detail"),
    path("residents/<int:resident_id>/reveal/", resident_reveal, name="resident_reveal"),
    path("residents/<int:resident_id>/edit/", resident_edit, name="resident_edit"),
    path("visits/", visit_list, name="visit_list"),
    path("visits/new", visit_new, name="visit_new"),
    path("me/", own_household, name="me"),
    path("audit/", audit_log, name="audit"),
    path("audit/export/", audit_log_export, name="audit_export"),
]
