"""Help requests (求助): filed by residents for their own household or by staff on a
resident's behalf, the list of a scope's (or one's own) requests, one request with its
dispatch to a volunteer or partner unit, and its close.

Reads go through linli.emergency.selectors, writes through linli.emergency.services. A
refused dispatch or close answers 403 with the service's words and writes nothing.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from linli import clock
from linli.accounts.grid_paths import is_within
from linli.accounts.roles import Permission
from linli.emergency import selectors, services
from linli.emergency.models import OPEN_HELP_STATES, HelpKind, HelpRequest, HelpState, Urgency
from linli.emergency.views.common import int_or_none, refusal_words
from linli.errors import status_for
from linli.forms import form_add_errors
from linli.grids import selectors as grid_selectors
from linli.grids.models import Building, Household, Resident
from linli.grids.selectors import scope_for
from linli.idempotency.web import once_per_form
from linli.partners.models import Partner
from linli.partners.selectors import mask_name, partners_visible
from linli.volunteers.models import Volunteer

P = Permission
HELP_PAGE_SIZE = 50


class HelpRequestForm(forms.Form):
    """What is needed. Fields are optional here: the service checks them and its words
    (the same in the API) are shown at each field."""

    kind = forms.ChoiceField(
        label=gettext_lazy("What kind of help"), choices=HelpKind.choices, required=False
    )
    urgency = forms.ChoiceField(
        label=gettext_lazy("How urgent"),
        choices=[(str(value), label) for value, label in Urgency.choices],
        required=False,
    )
    description = forms.CharField(
        label=gettext_lazy("What is needed"), max_length=1000, required=False
    )
    # Staff only: the household, by building and room.
    building = forms.IntegerField(required=False)
    room = forms.CharField(max_length=20, required=False)
    # A resident with more than one household chooses one. Not named "household": the
    # service's refusals about the household belong at the top of the form.
    own_household = forms.IntegerField(required=False)


def help_buildings(user) -> list[Building]:
    """Buildings where staff may file help for a household now: inside their EMERGENCY_HELP
    scope and inside a live emergency."""
    live = [activation.grid_path for activation in selectors.active_activations_for(user=user)]
    if not live:
        return []
    scope = scope_for(user)
    return [
        building
        for building in grid_selectors.buildings_visible(user=user)
        .within(live)
        .select_related("grid_unit")
        .order_by("grid_path", "name", "id")
        if scope.allows(P.EMERGENCY_HELP, building.grid_path)
    ]


def _staff_household(user, form: HelpRequestForm, buildings: list[Building]) -> Household:
    building = next((b for b in buildings if b.pk == form.cleaned_data.get("building")), None)
    room = (form.cleaned_data.get("room") or "").strip()
    if building is None:
        raise ValidationError({"building": _("Choose the building.")})
    if not room:
        raise ValidationError({"room": _("Give the room number.")})
    household = (
        grid_selectors.households_visible(user=user)
        .select_related("building")
        .filter(building=building, room=room)
        .first()
    )
    if household is None:
        raise ValidationError(
            {
                "room": _("No household is registered in %(building)s room %(room)s.")
                % {"building": building.name, "room": room}
            }
        )
    return household


@login_required
@once_per_form
def help_new(request):
    """求助: a resident asks for their own household; staff (EMERGENCY_HELP) choose the
    household by building and room and the request is marked as filed on their behalf."""
    user = request.user
    scope = scope_for(user)
    is_staff = scope.allows_anywhere(P.EMERGENCY_HELP)
    own = list(
        Household.objects.filter(pk__in=scope.own_household_ids)
        .select_related("building")
        .order_by("id")
    )
    buildings = help_buildings(user) if is_staff else []
    form = HelpRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and (is_staff or own):
        try:
            if is_staff:
                household = _staff_household(user, form, buildings)
            else:
                chosen = form.cleaned_data.get("own_household")
                household = next((h for h in own if h.pk == chosen), own[0])
            help_request = services.help_request_create(
                actor=user,
                household=household,
                kind=form.cleaned_data.get("kind") or "",
                urgency=form.cleaned_data.get("urgency"),
                description=form.cleaned_data.get("description") or "",
                on_behalf=household.pk not in scope.own_household_ids,
            )
        except ValidationError as error:
            if status_for(error) == 403:
                form.add_error(None, error.messages)
            else:
                form_add_errors(form, error)
        else:
            messages.success(request, _("Your request for help was sent to the community."))
            return redirect("emergency:help_detail", help_request.pk)
    covered = any(
        services.active_activation_for(household.grid_path) is not None for household in own
    )
    return render(
        request,
        "emergency/field/help_new.html",
        {
            "form": form,
            "is_staff": is_staff,
            "own": own,
            "covered": covered,
            "buildings": buildings,
            "kinds": HelpKind.choices,
            "urgencies": [(str(value), label) for value, label in Urgency.choices],
            "life_threatening": str(Urgency.LIFE_THREATENING),
        },
        status=400 if request.method == "POST" else 200,
    )


HELP_STATE_FILTERS = {
    "open": OPEN_HELP_STATES,
    **{state: (state,) for state in HelpState.values},
}


@login_required
def help_list(request):
    """Staff: the requests of their scope, most urgent and oldest first. A resident: their
    own household's. A volunteer: the ones dispatched to them."""
    user = request.user
    is_staff = scope_for(user).allows_anywhere(P.EMERGENCY_HELP)
    state = request.GET.get("state") or ("open" if is_staff else "all")
    requests = selectors.help_requests_visible(user=user).select_related(
        "household", "household__building", "volunteer", "partner", "activation__scope"
    )
    if state in HELP_STATE_FILTERS:
        requests = requests.filter(state__in=HELP_STATE_FILTERS[state])
    else:
        state = "all"
    requests = requests.order_by("urgency", "created_at", "id")
    page = Paginator(requests, HELP_PAGE_SIZE).get_page(request.GET.get("page"))
    for help_request in page:
        # Typed by a resident or staff: a volunteer or partner reads the numbers masked.
        help_request.shown_description = selectors.free_text(
            user=user, of=help_request, text=help_request.description
        )
    return render(
        request,
        "emergency/field/help_list.html",
        {
            "page": page,
            "state": state,
            "states": [
                ("open", _("Open or dispatched")),
                *HelpState.choices,
                ("all", _("All")),
            ],
            "is_staff": is_staff,
            "volunteer": selectors.own_volunteer(user=user),
            "now": clock.now(),
        },
    )


def dispatch_volunteers(help_request: HelpRequest) -> list[Volunteer]:
    """Serving volunteers of the emergency's scope: those the service accepts."""
    return list(
        selectors.scope_volunteers(path=help_request.activation.grid_path)
        .select_related("home_building")
        .order_by("name", "id")
    )


def dispatch_partners(user, help_request: HelpRequest) -> list[Partner]:
    """Active partner units of the household's community that the dispatcher may see."""
    return [
        partner
        for partner in partners_visible(user=user).filter(is_active=True).order_by("name")
        if is_within(help_request.grid_path, [partner.grid_path])
    ]


def _may_command(user, help_request: HelpRequest) -> bool:
    return scope_for(user).allows(P.EMERGENCY_COMMAND, help_request.grid_path)


def _is_handler(user, help_request: HelpRequest) -> bool:
    return selectors.is_help_handler(user=user, help_request=help_request)


@never_cache
@login_required
def help_detail(request, request_id: int):
    user = request.user
    help_request = selectors.help_request_get(user=user, request_id=request_id)
    is_open = help_request.state in OPEN_HELP_STATES
    may_dispatch = is_open and _may_command(user, help_request)
    may_close = is_open and (may_dispatch or _is_handler(user, help_request))
    # Residents' names and numbers stay masked here; the dispatched volunteer and staff
    # find the household by building and room.
    people = []
    if may_close:
        people = [
            {"name": mask_name(resident.name), "phone": resident.phone_masked}
            for resident in Resident.objects.filter(household_id=help_request.household_id)
        ]
    return render(
        request,
        "emergency/field/help_detail.html",
        {
            "help": help_request,
            # Typed by a resident or staff: a volunteer or partner reads the numbers masked.
            "description": selectors.free_text(
                user=user, of=help_request, text=help_request.description
            ),
            "resolution": selectors.free_text(
                user=user, of=help_request, text=help_request.resolution
            ),
            "is_open": is_open,
            "is_life_threatening": help_request.urgency == Urgency.LIFE_THREATENING,
            "may_dispatch": may_dispatch,
            "may_close": may_close,
            "people": people,
            "volunteers": dispatch_volunteers(help_request) if may_dispatch else [],
            "partners": dispatch_partners(user, help_request) if may_dispatch else [],
        },
    )


@login_required
@require_POST
def help_dispatch(request, request_id: int):
    user = request.user
    help_request = selectors.help_request_get(user=user, request_id=request_id)
    volunteer = partner = None
    handler = request.POST.get("handler", "")
    kind, _separator, handler_id = handler.partition(":")
    if kind == "volunteer":
        volunteer = next(
            (v for v in dispatch_volunteers(help_request) if v.pk == int_or_none(handler_id)), None
        )
    elif kind == "partner":
        partner = next(
            (p for p in dispatch_partners(user, help_request) if p.pk == int_or_none(handler_id)),
            None,
        )
    try:
        help_request = services.help_request_dispatch(
            actor=user,
            request=help_request,
            expected_version=int_or_none(request.POST.get("version")),
            volunteer=volunteer,
            partner=partner,
        )
    except ValidationError as error:
        if status_for(error) == 403:
            return HttpResponseForbidden(refusal_words(error))
        messages.error(request, refusal_words(error))
    else:
        handler_name = volunteer.name if volunteer else partner.name
        messages.success(request, _("Dispatched to %(handler)s.") % {"handler": handler_name})
    return redirect("emergency:help_detail", help_request.pk)


@login_required
@require_POST
def help_close(request, request_id: int):
    user = request.user
    help_request = selectors.help_request_get(user=user, request_id=request_id)
    cancelled = request.POST.get("cancelled") == "1"
    try:
        services.help_request_close(
            actor=user,
            request=help_request,
            resolution=request.POST.get("resolution", ""),
            cancelled=cancelled,
        )
    except ValidationError as error:
        if status_for(error) == 403:
            return HttpResponseForbidden(refusal_words(error))
        messages.error(request, refusal_words(error))
    else:
        messages.success(
            request,
            _("The help request is cancelled.") if cancelled else _("The help request is done."),
        )
    return redirect("emergency:help_detail", help_request.pk)
