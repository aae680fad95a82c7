"""Case pages of the loop: the workbench, reporting from a phone, a case's detail and actions, and the
public board.

Views stay thin: reads go through `linli.cases.selectors` (and `linli.grids.selectors` for
buildings), writes through `linli.cases.services`. A case outside the user's scope answers
404; a refused action (stale version, illegal step, missing permission) is shown as a
message and writes nothing, because the service raises before saving.
"""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from linli import clock
from linli.accounts.roles import Permission
from linli.cases import selectors, services
from linli.cases.models import CaseCategory, CasePriority, CaseSource, CaseState
from linli.cases.services.notices import case_target
from linli.cases.views import handling
from linli.forms import form_add_errors
from linli.grids import selectors as grid_selectors
from linli.grids.models import GridLevel, GridUnit
from linli.grids.selectors import scope_for
from linli.idempotency.web import once_per_form
from linli.notify.selectors import is_following

PAGE_SIZE = 50

# Timeline entries also name the steps that are not buttons.
EVENT_LABELS = {
    **services.ACTION_LABELS,
    "create": gettext_lazy("Reported"),
    "escalate": gettext_lazy("Escalated"),
    "coordinate": gettext_lazy("Coordination meeting (会商)"),
}
ACTION_LABELS = services.ACTION_LABELS
# Steps whose form also takes photos (of the place, the work or the result).
PHOTO_STEPS = frozenset({"start", "resolve", "verify", "return", "reopen", "request_extension"})
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
        # A building outside the user's grids is no filter at all (the list is scoped anyway).
        building_id = _int(request.GET.get("building"))
        building = (
            grid_selectors.buildings_visible(user=user).filter(pk=building_id).first()
            if building_id
            else None
        )
        cases = selectors.workbench(
            user=user, state=state, category=category, building=building, source=source
        )
        # One query for the select: a lead's ~20 buildings, a secretary's few hundred,
        # grouped by building group in the template.
        buildings = list(
            grid_selectors.buildings_visible(user=user)
            .order_by("grid_path", "name", "id")
            .values("id", "name", "grid_path", "grid_unit__name")
        )
        staff = True
    elif _is_resident(user):
        cases = (
            selectors.cases_visible(user=user).filter(reporter=user).order_by("-created_at", "-id")
        )
        staff, building, buildings = False, None, []
    else:
        # Volunteers and partner liaisons handle no cases through their role.
        raise Http404
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    if staff:
        for case in page:
            case.quick_action = _quick_action(user=user, case=case)
    return render(
        request,
        "cases/workbench.html",
        {
            "page": page,
            "staff": staff,
            "boards": selectors.board_communities(user=user),
            "states": CaseState.choices,
            "sources": CaseSource.choices,
            "categories": _minor_categories(),
            "buildings": buildings,
            "can_view_categories": services.may_view_category_editor(user),
            "can_manage_open311_keys": scope_for(user).allows_anywhere(Permission.OPEN311_KEYS),
            "filters": {
                "state": request.GET.get("state", ""),
                "source": request.GET.get("source", ""),
                "category": request.GET.get("category", ""),
                "building": str(building.pk) if building is not None else "",
            },
        },
    )


# The usual next step in each state, offered as one click on the workbench row. Steps that
# need a note or a choice (reject, resolve, return) stay on the case's page.
QUICK_ACTIONS = {
    CaseState.REPORTED: "accept",
    CaseState.ACCEPTED: "dispatch",
    CaseState.RETURNED: "dispatch",
    CaseState.DISPATCHED: "start",
    CaseState.RESOLVED: "verify",
    CaseState.VERIFIED: "close",
}


def _quick_action(*, user, case) -> dict | None:
    action = QUICK_ACTIONS.get(case.state)
    if action is None or not services.may_act(user=user, action=action, case=case):
        return None
    return {"name": action, "label": ACTION_LABELS[action]}


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


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Collects the chosen files; services.photos_prepare checks each one (image, size,
    count), so that the page and the API refuse the same files with the same messages."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        if not data:
            return []
        return [upload for upload in (data if isinstance(data, list | tuple) else [data]) if upload]


# Staff say how the problem reached them; residents always file as resident_report.
STAFF_SOURCES = [
    (CaseSource.STAFF, CaseSource.STAFF.label),
    (CaseSource.HOTLINE_12345, CaseSource.HOTLINE_12345.label),
    (CaseSource.PATROL, CaseSource.PATROL.label),
]
POINT_PLACES = Decimal("0.000001")


class CaseForm(forms.Form):
    category = forms.ModelChoiceField(queryset=CaseCategory.objects.none())
    # A building, or else a point on the map (latitude/longitude, set by case_map.js).
    building = forms.ModelChoiceField(queryset=None, required=False)
    latitude = forms.DecimalField(required=False, widget=forms.HiddenInput)
    longitude = forms.DecimalField(required=False, widget=forms.HiddenInput)
    description = forms.CharField(max_length=2000, widget=forms.Textarea)
    photos = PhotosField(required=False)
    source = forms.ChoiceField(choices=STAFF_SOURCES, required=False)
    hotline_reference = forms.CharField(max_length=50, required=False)
    # Staff only (case_create refuses anyone whose post does not cover the place).
    priority = forms.ChoiceField(choices=CasePriority.choices, required=False)

    def __init__(self, *args, buildings, staff: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = CaseCategory.objects.filter(
            parent__isnull=False, is_active=True
        )
        self.fields["building"].queryset = buildings
        if not staff:
            # A resident's own building is the usual place; the map is for elsewhere nearby.
            own = list(buildings[:2])
            if len(own) == 1:
                self.initial.setdefault("building", own[0].pk)
            # Not offered, and whatever a crafted request sends for them is ignored.
            del self.fields["source"]
            del self.fields["hotline_reference"]
            del self.fields["priority"]

    def clean_latitude(self):
        value = self.cleaned_data.get("latitude")
        return value.quantize(POINT_PLACES) if value is not None else None

    def clean_longitude(self):
        value = self.cleaned_data.get("longitude")
        return value.quantize(POINT_PLACES) if value is not None else None


def _map_data(*, user, buildings) -> dict:
    """What the filing map draws without any tile server: the grid boundaries of the
    communities the user works or lives in, and the buildings they may file at."""
    communities = selectors.board_communities(user=user)
    units = (
        GridUnit.objects.within([community.path for community in communities])
        .filter(boundary__isnull=False)
        .only("id", "name", "level", "boundary")
        .order_by("path")[:500]
    )
    return {
        "tiles": settings.LINLI_MAP_TILE_URL,
        "attribution": settings.LINLI_MAP_TILE_ATTRIBUTION,
        "units": [
            {"name": unit.name, "level": unit.level, "boundary": unit.boundary} for unit in units
        ],
        "buildings": [
            {"id": pk, "name": name, "lat": float(latitude), "lng": float(longitude)}
            for pk, name, latitude, longitude in buildings.filter(
                latitude__isnull=False, longitude__isnull=False
            ).values_list("pk", "name", "latitude", "longitude")[:2000]
        ],
    }


@login_required
@once_per_form
def case_new(request):
    user = request.user
    staff, resident = _is_staff(user), _is_resident(user)
    if not staff and not resident:
        raise Http404
    # A resident files at their own building (or a point in their community); staff anywhere
    # they may see.
    buildings = grid_selectors.buildings_visible(user=user).order_by("name")
    if not staff:
        buildings = buildings.filter(households__in=scope_for(user).own_household_ids).distinct()
    form = CaseForm(request.POST or None, request.FILES or None, buildings=buildings, staff=staff)
    duplicates = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if "check" in request.POST:
            duplicates = selectors.duplicate_candidates(
                user=user,
                category=data["category"],
                building=data["building"],
                latitude=data["latitude"],
                longitude=data["longitude"],
            )
        else:
            source = (data.get("source") or CaseSource.STAFF) if staff else None
            try:
                # One refusal names every problem with the case and its photos; a bad photo
                # files nothing.
                case = services.case_create(
                    reporter=user,
                    category=data["category"],
                    building=data["building"],
                    latitude=data["latitude"],
                    longitude=data["longitude"],
                    description=data["description"],
                    source=source or CaseSource.RESIDENT_REPORT,
                    hotline_reference=data.get("hotline_reference", "")
                    if source == CaseSource.HOTLINE_12345
                    else "",
                    priority=data.get("priority") or CasePriority.NORMAL,
                    photos=data["photos"],
                )
            except ValidationError as error:
                form_add_errors(form, error)
            else:
                messages.success(
                    request,
                    _("Case %(reference)s filed. Thank you.") % {"reference": case.reference},
                )
                return redirect("cases:detail", case.pk)
    elif request.method == "POST" and getattr(form, "cleaned_data", {}).get("photos"):
        # The form has other errors: say now, too, which photos would be refused.
        try:
            services.photos_prepare(files=form.cleaned_data["photos"], actor=user)
        except ValidationError as error:
            form_add_errors(form, error)
    place_errors = [
        error
        for name in ("building", "latitude", "longitude")
        for error in (form.errors.get(name) or [])
    ]
    return render(
        request,
        "cases/case_form.html",
        {
            "form": form,
            "groups": _grouped_categories(),
            "duplicates": duplicates,
            "staff": staff,
            "place_errors": place_errors,
            "photos_sent": bool(request.FILES.getlist("photos")),
            "map_data": _map_data(user=user, buildings=buildings),
        },
    )


# Detail and actions --------------------------------------------------------------------------


def _actions_for(*, user, case) -> list[dict]:
    """The step buttons the user may press now: allowed by the table in this state, by
    their posts, and by the step's own guard (a spent extension or reopen window hides
    the button rather than offering a refusal)."""
    now = clock.now()
    finished = max(filter(None, [case.resolved_at, case.closed_at]), default=None)
    hidden = {
        "rate": True,
        "request_extension": case.extension_pending
        or case.extension_count >= services.MAX_EXTENSIONS,
        "approve_extension": not case.extension_pending,
        "reopen": finished is None or now - finished > services.REOPEN_WINDOW,
    }
    return [
        {
            "name": action,
            "label": ACTION_LABELS.get(action, action),
            "note_required": services.NOTE_REQUIRED.get(action),
            "photos": action in PHOTO_STEPS,
        }
        for (state, action) in services.TRANSITIONS
        if state == case.state
        and not hidden.get(action, False)
        and services.may_act(user=user, action=action, case=case)
    ]


@login_required
def case_detail(request, case_id: int):
    user = request.user
    case = selectors.case_get(user=user, case_id=case_id)
    events = selectors.case_timeline(user=user, case=case)
    for event in events:
        event.action_label = EVENT_LABELS.get(event.action, event.action)
        event.to_state_label = STATE_LABELS.get(event.to_state, event.to_state)
    can_rate = (case.state, "rate") in services.TRANSITIONS and services.may_act(
        user=user, action="rate", case=case
    )
    # Staff rights on this case come from a post covering it, not from a post elsewhere.
    staff = selectors.covers_case(user=user, case=case)
    actions = _actions_for(user=user, case=case)
    names = {action["name"] for action in actions}
    visible = selectors.cases_visible(user=user)
    context = {
        "case": case,
        # Typed text as the user may read it: numbers masked unless staff covering the case
        # or the person who typed it (timeline notes are masked by case_timeline).
        "title": selectors.case_text(
            user=user, case=case, text=case.title, typed_by_id=case.reporter_id
        ),
        "description": selectors.case_text(
            user=user, case=case, text=case.description, typed_by_id=case.reporter_id
        ),
        "handler": selectors.case_text(user=user, case=case, text=case.handler_text),
        "events": events,
        "actions": actions,
        "can_rate": can_rate,
        "ratings": range(1, 6),
        "staff": staff,
        "overdue": case.is_overdue(),
        "original": visible.filter(pk=case.duplicate_of_id).first()
        if case.duplicate_of_id
        else None,
        "merged": list(visible.filter(duplicate_of=case).order_by("created_at", "id")),
        "duplicates": [],
        "assignees": [],
        "usual_handler": case.category.usual_handler,
        "may_mark_duplicate": "mark_duplicate" in names,
        "can_escalate": False,
        "can_coordinate": False,
        "meetings": [],
        # One step from a case to a need on the needs list (partners app).
        "can_make_need": scope_for(user).allows(Permission.LISTS_MANAGE, case.grid_path),
        # A problem that needs the community to talk it through becomes a 议事 topic.
        "can_lift_topic": scope_for(user).allows(Permission.DELIBERATION_MANAGE, case.grid_path),
        # Whoever sees the case may follow it (cases.views.follows).
        "following": is_following(user=user, target=case_target(case.pk)),
    }
    if staff:
        context.update(
            duplicates=handling.duplicate_rows(user=user, case=case),
            assignees=selectors.case_assignees(case=case)
            if names & {"dispatch", "reassign"}
            else [],
            can_escalate=handling.can_escalate(user=user, case=case),
            next_escalation=handling.next_escalation(case),
            can_coordinate=handling.can_coordinate(user=user, case=case),
            meetings=selectors.coordinations_visible(user=user, case=case),
        )
    return render(request, "cases/case_detail.html", context)


@login_required
@require_POST
def case_act(request, case_id: int):
    user = request.user
    case = selectors.case_get(user=user, case_id=case_id)
    action = request.POST.get("action", "")
    # "Merge X into this case" acts on X from the original's page and goes back there.
    back = _int(request.POST.get("return_to")) or case.pk
    # A one-click step from the workbench goes back to the list with its filters (only this
    # site's workbench: the form supplies the query string, never an address).
    from_list = request.POST.get("from_list")
    list_url = None
    if from_list is not None:
        list_url = reverse("cases:workbench") + (from_list if from_list.startswith("?") else "")
    if action not in services.ACTIONS:
        messages.error(request, _("Unknown action."))
        return redirect("cases:detail", back)
    data: dict = {}
    if action in ("dispatch", "reassign"):
        if request.POST.get("handler_text", "").strip():
            data["handler_text"] = request.POST["handler_text"].strip()
        owner_id = _int(request.POST.get("owner_user"))
        if request.POST.get("owner_user"):
            # Only the people the form offered: a post covering the case, an active login.
            owners = {post.user_id: post.user for post in selectors.case_assignees(case=case)}
            if owner_id not in owners:
                messages.error(request, _("Choose a person from the list."))
                return redirect("cases:detail", back)
            data["owner_user"] = owners[owner_id]
    if action == "rate":
        data["satisfaction"] = _int(request.POST.get("satisfaction"))
        data["comment"] = request.POST.get("comment", "")
    if action == "mark_duplicate":
        # From a suspected duplicate's button (an id) or typed by reference; a case the user
        # cannot open is treated as absent.
        original_id = _int(request.POST.get("duplicate_of"))
        reference = request.POST.get("duplicate_of_reference", "").strip()
        visible = selectors.cases_visible(user=user)
        data["duplicate_of"] = (
            visible.filter(pk=original_id).first()
            if original_id
            else visible.filter(reference=reference).first()
            if reference
            else None
        )
    try:
        # The step and its photos stand or fall together.
        case = services.case_transition(
            case=case,
            actor=user,
            action=action,
            note=request.POST.get("note", ""),
            expected_version=_int(request.POST.get("version")),
            photos=request.FILES.getlist("photos") if action in PHOTO_STEPS else [],
            **data,
        )
    except ValidationError as error:
        messages.error(request, _first_message(error))
    else:
        messages.success(
            request,
            _("%(action)s: done.") % {"action": ACTION_LABELS.get(action, action)},
        )
    return redirect(list_url) if list_url else redirect("cases:detail", back)


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
