"""Plan pages (预案): the list by hazard, one plan with its templates, supply levels and
contact tree, and the forms that edit them.

Reads go through linli.emergency.selectors (plans_visible / plan_get / plan_editable),
writes through linli.emergency.services.plans. Anyone who may see a plan reads it; only those
holding EMERGENCY_PLANS on the owning unit see the forms, and an edit address reached by
anyone else answers 403 (a secretary reading the street's plan copies it to edit it).
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from linli.accounts.privacy import FREE_TEXT_WARNING
from linli.accounts.roles import Permission
from linli.emergency import selectors
from linli.emergency.models import (
    Grade,
    Hazard,
    MovementRule,
    Plan,
    PlanContact,
    PlanSupplyMinimum,
    TaskKind,
    TaskTemplate,
)
from linli.emergency.services import plans as services
from linli.errors import get_visible_or_404, status_for
from linli.forms import form_add_errors
from linli.grids.models import GridUnit, Post, VulnerabilityTag
from linli.grids.selectors import scope_for
from linli.supplies.models import SupplyCategory
from linli.volunteers.models import ServiceKind, Skill, decode_codes

P = Permission
NUMBER = forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"})


def _may_see_plans(user) -> bool:
    scope = scope_for(user)
    return scope.allows_anywhere(P.EMERGENCY_PLANS) or scope.allows_anywhere(P.EMERGENCY_ACTIVATE)


def own_plan_units(user) -> list[GridUnit]:
    """The units whose plans the person writes: those of their own EMERGENCY_PLANS posts
    (a secretary's community, a street administrator's street)."""
    paths = scope_for(user).paths_for(P.EMERGENCY_PLANS)
    return list(GridUnit.objects.filter(path__in=paths, level__in=services.OWNER_LEVELS))


def _own_unit(user, unit_id) -> GridUnit:
    for unit in own_plan_units(user):
        if str(unit.pk) == str(unit_id):
            return unit
    raise Http404


def _editable_plan(user, plan_id: int) -> Plan:
    plan = selectors.plan_get(user=user, plan_id=plan_id)
    if not selectors.plan_editable(user=user, plan=plan):
        raise PermissionDenied(
            _("You may not edit the plans of %(owner)s.") % {"owner": plan.grid_unit.name}
        )
    return plan


def _codes_label(value: str, choices) -> list[str]:
    labels = dict(choices.choices)
    return [str(labels.get(code, code)) for code in decode_codes(value)]


# ---------------------------------------------------------------------------------------
# The list


@login_required
def plan_list(request):
    user = request.user
    if not _may_see_plans(user):
        raise Http404
    plans = list(
        selectors.plans_visible(user=user)
        .select_related("grid_unit")
        .annotate(template_count=Count("templates"))
        .order_by("hazard", "grid_path", "name")
    )
    units = own_plan_units(user)
    owned = {plan.grid_unit_id for plan in plans}
    for plan in plans:
        plan.editable = selectors.plan_editable(user=user, plan=plan)
        # A unit above the person's own: offer a copy their community can adapt.
        plan.copy_targets = [
            unit
            for unit in units
            if unit.path != plan.grid_path and unit.path.startswith(plan.grid_path)
        ]
    groups = []
    for hazard, label in Hazard.choices:
        found = [plan for plan in plans if plan.hazard == hazard]
        if found:
            groups.append({"hazard": hazard, "label": label, "plans": found})
    return render(
        request,
        "emergency/plans/list.html",
        {
            "groups": groups,
            "units_without_plans": [unit for unit in units if unit.pk not in owned],
            "can_create": bool(units),
        },
    )


@login_required
@require_POST
def plan_defaults(request):
    user = request.user
    unit = _own_unit(user, request.POST.get("owner"))
    try:
        created = services.plans_create_defaults(owner=unit, actor=user)
    except ValidationError as error:
        _raise_if_denied(error)
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("%(count)d default plans added for %(owner)s.")
            % {"count": len(created), "owner": unit.name},
        )
    return redirect("emergency:plan_list")


class PlanForm(forms.Form):
    """The plan's own fields; the service checks them again (bounds, unique name)."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    hazard = forms.ChoiceField(label=gettext_lazy("Hazard"), choices=Hazard.choices)
    description = forms.CharField(
        label=gettext_lazy("Description"), required=False, widget=forms.Textarea, max_length=2000
    )
    movement_rule = forms.ChoiceField(
        label=gettext_lazy("Where volunteers may serve"),
        choices=MovementRule.choices,
        help_text=gettext_lazy("Under a closure, keep volunteers inside their own compound."),
    )
    volunteer_capacity = forms.IntegerField(
        label=gettext_lazy("Tasks per volunteer at once"), widget=NUMBER
    )
    acknowledge_minutes = forms.IntegerField(
        label=gettext_lazy("Minutes to acknowledge"),
        widget=NUMBER,
        help_text=gettext_lazy("An assigned task not acknowledged in time goes to someone else."),
    )
    retry_minutes = forms.IntegerField(
        label=gettext_lazy("Minutes before trying a household again"), widget=NUMBER
    )
    max_attempts = forms.IntegerField(
        label=gettext_lazy("Tries before the micro-grid head takes over"), widget=NUMBER
    )
    is_active = forms.BooleanField(label=gettext_lazy("In use"), required=False)


class PlanNewForm(PlanForm):
    owner = forms.ModelChoiceField(label=gettext_lazy("Owner"), queryset=GridUnit.objects.none())

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["is_active"]
        self.fields["owner"].queryset = GridUnit.objects.filter(pk__in=[u.pk for u in units])


PLAN_FIELDS = (
    "name",
    "hazard",
    "description",
    "movement_rule",
    "volunteer_capacity",
    "acknowledge_minutes",
    "retry_minutes",
    "max_attempts",
)


@login_required
def plan_new(request):
    user = request.user
    units = own_plan_units(user)
    if not units:
        raise Http404
    form = PlanNewForm(
        request.POST or None,
        units=units,
        initial={
            "owner": units[0].pk,
            "movement_rule": MovementRule.COMMUNITY,
            "volunteer_capacity": 8,
            "acknowledge_minutes": 15,
            "retry_minutes": 30,
            "max_attempts": 3,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            plan = services.plan_create(
                actor=user, owner=data["owner"], **{name: data[name] for name in PLAN_FIELDS}
            )
        except ValidationError as error:
            _raise_if_denied(error)
            form_add_errors(form, error)
        else:
            messages.success(request, _("Plan “%(name)s” created.") % {"name": plan.name})
            return redirect("emergency:plan_detail", plan.pk)
    return render(request, "emergency/plans/plan_form.html", {"form": form, "plan": None})


# ---------------------------------------------------------------------------------------
# One plan


def _detail_context(user, plan: Plan, form: PlanForm | None) -> dict:
    editable = selectors.plan_editable(user=user, plan=plan)
    templates = list(plan.templates.all())
    for template in templates:
        template.tag_labels = _codes_label(template.target_tags, VulnerabilityTag)
        template.skill_labels = _codes_label(template.required_skills, Skill)
        template.team_label = dict(ServiceKind.choices).get(
            template.required_team, template.required_team
        )
    minimums = list(plan.supply_minimums.order_by("category"))
    for minimum in minimums:
        minimum.label = dict(SupplyCategory.choices).get(minimum.category, minimum.category)
    contacts = list(plan.contacts.all())
    for contact in contacts:
        contact.label = dict(Post.choices).get(contact.post, contact.post)
    copy_targets = [
        unit
        for unit in own_plan_units(user)
        if unit.path != plan.grid_path and unit.path.startswith(plan.grid_path)
    ]
    return {
        "plan": plan,
        "editable": editable,
        "form": form,
        "templates": templates,
        "minimums": minimums,
        "contacts": contacts,
        "problems": services.plan_check(plan),
        "copy_targets": copy_targets,
        "categories": SupplyCategory.choices,
        "posts": Post.choices,
        "grades": Grade.choices,
    }


@login_required
def plan_detail(request, plan_id: int):
    """The plan; its own fields are edited here by those who may (POST)."""
    user = request.user
    plan = selectors.plan_get(user=user, plan_id=plan_id)
    editable = selectors.plan_editable(user=user, plan=plan)
    if request.method == "POST" and not editable:
        raise PermissionDenied
    form = None
    if editable:
        initial = {name: getattr(plan, name) for name in (*PLAN_FIELDS, "is_active")}
        form = PlanForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                services.plan_update(
                    actor=user,
                    plan=plan,
                    **{name: data[name] for name in (*PLAN_FIELDS, "is_active")},
                )
            except ValidationError as error:
                _raise_if_denied(error)
                form_add_errors(form, error)
            else:
                messages.success(request, _("Plan saved."))
                return redirect("emergency:plan_detail", plan.pk)
    return render(request, "emergency/plans/detail.html", _detail_context(user, plan, form))


@login_required
@require_POST
def plan_copy(request, plan_id: int):
    user = request.user
    plan = selectors.plan_get(user=user, plan_id=plan_id)
    owner = _own_unit(user, request.POST.get("owner"))
    try:
        copy = services.plan_copy(
            actor=user, plan=plan, owner=owner, name=request.POST.get("name", "")
        )
    except ValidationError as error:
        _raise_if_denied(error)
        messages.error(request, " ".join(error.messages))
        return redirect("emergency:plan_detail", plan.pk)
    messages.success(
        request,
        _("Copied to %(owner)s: adapt it to your community.") % {"owner": owner.name},
    )
    return redirect("emergency:plan_detail", copy.pk)


# ---------------------------------------------------------------------------------------
# Task templates


class TemplateForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind of task"), choices=TaskKind.choices)
    # Each task made from the template carries its title and instructions to a volunteer.
    title = forms.CharField(
        label=gettext_lazy("Title"), max_length=100, help_text=FREE_TEXT_WARNING
    )
    instructions = forms.CharField(
        label=gettext_lazy("Instructions"),
        required=False,
        widget=forms.Textarea,
        max_length=1000,
        help_text=FREE_TEXT_WARNING,
    )
    target_tags = forms.MultipleChoiceField(
        label=gettext_lazy("Households to check (welfare checks only)"),
        choices=VulnerabilityTag.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    due_hours = forms.IntegerField(label=gettext_lazy("Due within (hours)"), widget=NUMBER)
    required_team = forms.ChoiceField(
        label=gettext_lazy("Team"),
        choices=[("", gettext_lazy("Any team")), *ServiceKind.choices],
        required=False,
    )
    required_skills = forms.MultipleChoiceField(
        label=gettext_lazy("Required skills"),
        choices=Skill.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    lowest_grade = forms.TypedChoiceField(
        label=gettext_lazy("Applies from grade"),
        choices=Grade.choices,
        coerce=int,
        help_text=gettext_lazy("The task applies at this grade and every more severe one."),
    )
    sort_order = forms.IntegerField(
        label=gettext_lazy("Order"), required=False, min_value=0, widget=NUMBER
    )


def _template_values(data: dict) -> dict:
    values = {name: data[name] for name in TemplateForm.base_fields}
    if values["sort_order"] is None:
        values.pop("sort_order")
    return values


@login_required
def template_new(request, plan_id: int):
    user = request.user
    plan = _editable_plan(user, plan_id)
    form = TemplateForm(
        request.POST or None,
        initial={"kind": TaskKind.WELFARE_CHECK, "due_hours": 4, "lowest_grade": 4},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.template_create(actor=user, plan=plan, **_template_values(form.cleaned_data))
        except ValidationError as error:
            _raise_if_denied(error)
            form_add_errors(form, error)
        else:
            messages.success(request, _("Task added."))
            return redirect(reverse("emergency:plan_detail", args=[plan.pk]) + "#templates")
    return render(
        request,
        "emergency/plans/template_form.html",
        {"plan": plan, "form": form, "template": None},
    )


@login_required
def template_edit(request, plan_id: int, template_id: int):
    user = request.user
    plan = _editable_plan(user, plan_id)
    template = get_visible_or_404(TaskTemplate.objects.filter(plan=plan), template_id)
    initial = {
        "kind": template.kind,
        "title": template.title,
        "instructions": template.instructions,
        "target_tags": decode_codes(template.target_tags),
        "due_hours": template.due_hours,
        "required_team": template.required_team,
        "required_skills": decode_codes(template.required_skills),
        "lowest_grade": template.lowest_grade,
        "sort_order": template.sort_order,
    }
    form = TemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.template_update(
                actor=user, template=template, **_template_values(form.cleaned_data)
            )
        except ValidationError as error:
            _raise_if_denied(error)
            form_add_errors(form, error)
        else:
            messages.success(request, _("Task saved."))
            return redirect(reverse("emergency:plan_detail", args=[plan.pk]) + "#templates")
    return render(
        request,
        "emergency/plans/template_form.html",
        {"plan": plan, "form": form, "template": template},
    )


@login_required
@require_POST
def template_delete(request, plan_id: int, template_id: int):
    user = request.user
    plan = _editable_plan(user, plan_id)
    template = get_visible_or_404(TaskTemplate.objects.filter(plan=plan), template_id)
    try:
        services.template_delete(actor=user, template=template)
    except ValidationError as error:
        _raise_if_denied(error)
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Task “%(title)s” removed.") % {"title": template.title})
    return redirect(reverse("emergency:plan_detail", args=[plan.pk]) + "#templates")


def _raise_if_denied(error: ValidationError) -> None:
    if status_for(error) == 403:
        raise PermissionDenied(" ".join(error.messages)) from None


# ---------------------------------------------------------------------------------------
# Supply levels and the contact tree: small forms on the plan's page; a refusal is shown
# as a message (the page has several forms) and writes nothing.


def _back(plan: Plan, anchor: str):
    return redirect(reverse("emergency:plan_detail", args=[plan.pk]) + anchor)


def _message_of(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return " ".join(
            message for messages_ in error.message_dict.values() for message in messages_
        )
    return " ".join(error.messages)


@login_required
@require_POST
def supply_minimum_set(request, plan_id: int):
    user = request.user
    plan = _editable_plan(user, plan_id)
    try:
        services.supply_minimum_set(
            actor=user,
            plan=plan,
            category=request.POST.get("category", ""),
            minimum_quantity=request.POST.get("minimum_quantity", ""),
        )
    except ValidationError as error:
        _raise_if_denied(error)
        messages.error(request, _message_of(error))
    else:
        messages.success(request, _("Minimum supply level saved."))
    return _back(plan, "#supplies")


@login_required
@require_POST
def supply_minimum_delete(request, plan_id: int, minimum_id: int):
    user = request.user
    plan = _editable_plan(user, plan_id)
    minimum = get_visible_or_404(PlanSupplyMinimum.objects.filter(plan=plan), minimum_id)
    services.supply_minimum_delete(actor=user, minimum=minimum)
    messages.success(request, _("Minimum supply level removed."))
    return _back(plan, "#supplies")


@login_required
@require_POST
def contact_set(request, plan_id: int):
    user = request.user
    plan = _editable_plan(user, plan_id)
    try:
        services.contact_set(
            actor=user,
            plan=plan,
            post=request.POST.get("post", ""),
            level=request.POST.get("level", ""),
            duty=request.POST.get("duty", ""),
        )
    except ValidationError as error:
        _raise_if_denied(error)
        messages.error(request, _message_of(error))
    else:
        messages.success(request, _("Contact tree saved."))
    return _back(plan, "#contacts")


@login_required
@require_POST
def contact_delete(request, plan_id: int, contact_id: int):
    user = request.user
    plan = _editable_plan(user, plan_id)
    contact = get_visible_or_404(PlanContact.objects.filter(plan=plan), contact_id)
    services.contact_delete(actor=user, contact=contact)
    messages.success(request, _("Removed from the contact tree."))
    return _back(plan, "#contacts")
