"""Staff handling pages of a case: escalation "beyond this level", the 会商 record, and the
parts of the detail page that serve them (who can take the case, where an escalation goes,
suspected duplicates and merges).

As in `loop`, reads go through `linli.cases.selectors` and writes through
`linli.cases.services`. A case outside the user's scope answers 404; a user who sees the
case but may not do the step answers 403 before anything is written; a refusal of the step
itself (stale version, missing reason, wrong level) is a message in words.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from linli.cases import selectors, services
from linli.cases.models import ESCALATION_ORDER, Case, EscalationLevel
from linli.forms import form_add_errors
from linli.grids.models import GridLevel, GridUnit


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _messages_of(error: ValidationError) -> str:
    return " ".join(error.messages)


# Parts of the detail page ----------------------------------------------------------------


def next_escalation(case: Case) -> dict | None:
    """Where "beyond this level" would send the case: the next level and its unit, or None
    when the case is already at the street."""
    position = ESCALATION_ORDER.index(case.escalation_level)
    if position + 1 >= len(ESCALATION_ORDER):
        return None
    level = ESCALATION_ORDER[position + 1]
    unit = GridUnit.objects.filter(path__in=case.grid_unit.ancestor_paths(), level=level).first()
    return {"level": EscalationLevel(level).label, "unit": unit}


def can_escalate(*, user, case: Case) -> bool:
    return (
        case.is_open
        and case.escalation_level != GridLevel.STREET
        and services.may_act(user=user, action="escalate", case=case)
    )


def can_coordinate(*, user, case: Case) -> bool:
    return (
        case.is_open
        and case.escalation_level == GridLevel.COMMUNITY
        and services.may_act(user=user, action="coordinate", case=case)
    )


def may_merge(*, user, duplicate: Case) -> bool:
    """May the user mark `duplicate` as a duplicate of another case now?"""
    return (duplicate.state, "mark_duplicate") in services.TRANSITIONS and services.may_act(
        user=user, action="mark_duplicate", case=duplicate
    )


def duplicate_rows(*, user, case: Case) -> list[dict]:
    """Suspected duplicates the user can see, each with the merges the user may do; none
    once the case is finished (a merged case points to its original instead)."""
    if not case.is_open:
        return []
    found = [
        other
        for other in selectors.duplicate_candidates(
            user=user,
            category=case.category,
            building=case.building,
            latitude=case.latitude,
            longitude=case.longitude,
        )
        if other.pk != case.pk
    ]
    # Candidates are found by place, not by scope: keep only cases the user may open.
    visible = set(
        selectors.cases_visible(user=user)
        .filter(pk__in=[other.pk for other in found])
        .values_list("pk", flat=True)
    )
    this_may_merge = may_merge(user=user, duplicate=case)
    return [
        {
            "case": other,
            "merge_this_into_other": this_may_merge,
            "merge_other_into_this": may_merge(user=user, duplicate=other),
        }
        for other in found
        if other.pk in visible
    ]


# Escalation --------------------------------------------------------------------------------


@login_required
@require_POST
def case_escalate(request, case_id: int):
    user = request.user
    case = selectors.case_get(user=user, case_id=case_id)
    if not services.may_act(user=user, action="escalate", case=case):
        raise PermissionDenied
    try:
        case = services.case_escalate(
            case=case,
            actor=user,
            reason=request.POST.get("reason", ""),
            expected_version=_int(request.POST.get("version")),
        )
    except ValidationError as error:
        messages.error(request, _messages_of(error))
    else:
        messages.success(
            request,
            _("The case went up to %(unit)s.") % {"unit": case.owner_unit.name},
        )
    return redirect("cases:detail", case.pk)


# 会商 ------------------------------------------------------------------------------------------

DATETIME_INPUT = "%Y-%m-%dT%H:%M"


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format=DATETIME_INPUT, **kwargs)


class CoordinationForm(forms.Form):
    # Times are entered and shown in Asia/Shanghai; the form makes them aware.
    held_at = forms.DateTimeField(
        label=gettext_lazy("Held at"), input_formats=[DATETIME_INPUT], widget=DateTimeLocalInput()
    )
    participants = forms.CharField(
        label=gettext_lazy("Participants"), max_length=2000, widget=forms.Textarea
    )
    partner_units = forms.CharField(
        label=gettext_lazy("Partner units"),
        max_length=2000,
        required=False,
        widget=forms.Textarea,
    )
    decision = forms.CharField(
        label=gettext_lazy("Decision"), max_length=4000, widget=forms.Textarea
    )
    units_assigned = forms.CharField(
        label=gettext_lazy("Units assigned"),
        max_length=2000,
        required=False,
        widget=forms.Textarea,
    )
    due_at = forms.DateTimeField(
        label=gettext_lazy("Due"), input_formats=[DATETIME_INPUT], widget=DateTimeLocalInput()
    )


@login_required
def case_coordination(request, case_id: int):
    """会商: the secretary records a meeting on a case that has reached the community."""
    user = request.user
    case = selectors.case_get(user=user, case_id=case_id)
    if not services.may_act(user=user, action="coordinate", case=case):
        raise PermissionDenied
    if request.method == "GET" and not can_coordinate(user=user, case=case):
        messages.error(
            request,
            _("A coordination meeting is held on open cases escalated to the community."),
        )
        return redirect("cases:detail", case.pk)
    form = CoordinationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.coordination_record(case=case, actor=user, **form.cleaned_data)
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, _("The coordination meeting is recorded."))
            return redirect("cases:detail", case.pk)
    return render(
        request,
        "cases/coordination_form.html",
        {
            "case": case,
            "form": form,
            "meetings": selectors.coordinations_visible(user=user, case=case),
        },
    )
