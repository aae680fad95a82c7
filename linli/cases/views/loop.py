"""Case pages of the loop: the workbench, reporting from a phone, a case's detail and actions, and the
public board.

Views stay thin: reads go through `linli.cases.selectors` (and `linli.grids.selectors` for
buildings), writes through `linli.cases.services`. A case outside the user's scope answers
404; a refused action (stale version, illegal step, missing permission) is shown as a
message and writes nothing, because the service raises before saving.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from linli.accounts.roles import Permission
from linli.cases import selectors, services
from linli.cases.models import CaseCategory, CaseSource, CaseState
from linli.grids import selectors as grid_selectors
from linli.grids.models import GridLevel, GridUnit
from linli.grids.selectors import scope_for

PAGE_SIZE = 50

# Timeline entries also name the steps that are not buttons.
EVENT_LABELS = {
    **services.ACTION_LABELS,
    "create": gettext_lazy("Reported"),
    "escalate": gettext_lazy("Escalated"),
    "coordinate": gettext_lazy("Coordination meeting (会商)"),
}
ACTION_LABELS = services.ACTION_LABELS
STATE_LABELS = dict(CaseState.choices)


def _is_staff(user) -> bool:
    return scope_for(user).allows_anywhere(Permission.VIEW_REGISTRY)


def _is_resident(user) -> bool:
    return bool(scope_for(user).own_household_ids)


def _first_message(error: ValidationError) -> str:
    return " ".join(error.messages)


# Workbench ---------------------------------------------------------------------------------


@login_required
def workbench(request):
    user = request.user
    if _is_staff(user):
        state = request.GET.get("state") or None
        if state not in CaseState.values:
            state = None
        source = request.GET.get("source") or None
        if source not in CaseSource.values:
            source = None
        category = CaseCategory.objects.filter(pk=_int(request.GET.get("category"))).first()
        cases = selectors.workbench(user=user, state=state, category=category, source=source)
        staff = True
    elif _is_resident(user):
        cases = (
            selectors.cases_visible(user=user).filter(reporter=user).order_by("-created_at", "-id")
        )
        staff = False
    else:
        # Volunteers and partner liaisons handle no cases through their role.
        raise Http404
    return render(
        request,
        "cases/workbench.html",
        {
            "page": Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page")),
            "staff": staff,
            "boards": selectors.board_communities(user=user),
            "states": CaseState.choices,
            "sources": CaseSource.choices,
            "categories": _minor_categories(),
            "filters": {
                "state": request.GET.get("state", ""),
                "source": request.GET.get("source", ""),
                "category": request.GET.get("category", ""),
            },
        },
    )


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _minor_categories():
    return list(
        CaseCategory.objects.filter(parent__isnull=False, is_active=True).select_related("parent")
    )


def _grouped_categories():
    groups: dict = {}
    for category in _minor_categories():
        groups.setdefault(category.parent, []).append(category)
    return sorted(groups.items(), key=lambda item: (item[0].sort_order, item[0].code))


# Reporting ---------------------------------------------------------------------------------


class CaseForm(forms.Form):
    category = forms.ModelChoiceField(queryset=CaseCategory.objects.none())
    building = forms.ModelChoiceField(queryset=None)
    description = forms.CharField(max_length=2000, widget=forms.Textarea)

    def __init__(self, *args, buildings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = CaseCategory.objects.filter(
            parent__isnull=False, is_active=True
        )
        self.fields["building"].queryset = buildings


@login_required
def case_new(request):
    user = request.user
    staff, resident = _is_staff(user), _is_resident(user)
    if not staff and not resident:
        raise Http404
    # A resident files at their own building; staff anywhere they may see.
    buildings = grid_selectors.buildings_visible(user=user).order_by("name")
    if not staff:
        buildings = buildings.filter(households__in=scope_for(user).own_household_ids).distinct()
    form = CaseForm(request.POST or None, buildings=buildings)
    duplicates = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if "check" in request.POST:
            duplicates = selectors.duplicate_candidates(
                category=data["category"], building=data["building"]
            )
        else:
            try:
                case = services.case_create(
                    reporter=user,
                    category=data["category"],
                    building=data["building"],
                    description=data["description"],
                    source=CaseSource.STAFF if staff else CaseSource.RESIDENT_REPORT,
                )
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(
                    request,
                    _("Case %(reference)s filed. Thank you.") % {"reference": case.reference},
                )
                return redirect("cases:detail", case.pk)
    return render(
        request,
        "cases/case_form.html",
        {"form": form, "groups": _grouped_categories(), "duplicates": duplicates},
    )


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


# Detail and actions --------------------------------------------------------------------------


def _actions_for(*, user, case) -> list[dict]:
    return [
        {"name": action, "label": ACTION_LABELS.get(action, action)}
        for (state, action) in services.TRANSITIONS
        if state == case.state
        and action != "rate"
        and services.may_act(user=user, action=action, case=case)
    ]


@login_required
def case_detail(request, case_id: int):
    user = request.user
    case = selectors.case_get(user=user, case_id=case_id)
    events = list(case.events.select_related("actor"))
    for event in events:
        event.action_label = EVENT_LABELS.get(event.action, event.action)
        event.to_state_label = STATE_LABELS.get(event.to_state, event.to_state)
    can_rate = (case.state, "rate") in services.TRANSITIONS and services.may_act(
        user=user, action="rate", case=case
    )
    staff = _is_staff(user)
    return render(
        request,
        "cases/case_detail.html",
        {
            "case": case,
            "events": events,
            "actions": _actions_for(user=user, case=case),
            "can_rate": can_rate,
            "ratings": range(1, 6),
            "staff": staff,
            "overdue": case.is_overdue(),
            "duplicates": [
                other
                for other in selectors.duplicate_candidates(
                    category=case.category, building=case.building
                )
                if other.pk != case.pk
            ]
            if staff
            else [],
        },
    )


@login_required
@require_POST
def case_act(request, case_id: int):
    user = request.user
    case = selectors.case_get(user=user, case_id=case_id)
    action = request.POST.get("action", "")
    if action not in services.ACTIONS:
        messages.error(request, _("Unknown action."))
        return redirect("cases:detail", case.pk)
    data: dict = {}
    if action in ("dispatch", "reassign") and request.POST.get("handler_text", "").strip():
        data["handler_text"] = request.POST["handler_text"].strip()
    if action == "rate":
        data["satisfaction"] = _int(request.POST.get("satisfaction"))
        data["comment"] = request.POST.get("comment", "")
    if action == "mark_duplicate":
        original_id = _int(request.POST.get("duplicate_of"))
        data["duplicate_of"] = (
            selectors.cases_visible(user=user).filter(pk=original_id).first()
            if original_id
            else None
        )
    try:
        services.case_transition(
            case=case,
            actor=user,
            action=action,
            note=request.POST.get("note", ""),
            expected_version=_int(request.POST.get("version")),
            **data,
        )
    except ValidationError as error:
        messages.error(request, _first_message(error))
    else:
        messages.success(
            request,
            _("%(action)s: done.") % {"action": ACTION_LABELS.get(action, action)},
        )
    return redirect("cases:detail", case.pk)


# Public board --------------------------------------------------------------------------------


@login_required
def board(request, community_id: int):
    community = GridUnit.objects.filter(pk=community_id, level=GridLevel.COMMUNITY).first()
    if community is None:
        raise Http404
    return render(
        request,
        "cases/board.html",
        {
            "community": community,
            "rows": [
                {
                    **row,
                    "state_label": CaseState(row["state"]).label,
                    "category_name": CaseCategory(
                        name_zh=row["category__name_zh"], name_en=row["category__name_en"]
                    ).name,
                }
                for row in selectors.public_board(community=community)
            ],
        },
    )
