"""Field pages of emergency operation: a volunteer's tasks on their phone (in walking order,
with masked contacts and an audited reveal of one number), their outcomes, and help
requests (求助) filed by residents or by staff on a resident's behalf.

Reads go through linli.emergency.selectors, writes through linli.emergency.services. A
POST on a task or request the person may not act on answers 403 and writes nothing: the
services refuse with code "permission_denied". A task the person cannot even see answers
the same 403, so the answer tells nothing about other people's tasks.
"""

from datetime import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from linli import clock
from linli.accounts.reveals import REASON_MAX_LENGTH, REASON_MIN_LENGTH, RevealPurpose
from linli.accounts.roles import Permission
from linli.accounts.services import client_address
from linli.emergency import selectors, services
from linli.emergency.assign import walking_order
from linli.emergency.models import (
    OPEN_HELP_STATES,
    HelpKind,
    HelpRequest,
    HelpState,
    Outcome,
    Task,
    TaskKind,
    TaskState,
    Urgency,
)
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
# What the reveal form on a task card offers (linli.accounts.reveals).
REVEAL_FORM = {
    "reveal_purposes": RevealPurpose.choices,
    "reveal_reason_min": REASON_MIN_LENGTH,
    "reveal_reason_max": REASON_MAX_LENGTH,
}


# Shared helpers ----------------------------------------------------------------------------


def _is_htmx(request) -> bool:
    # A history restore wants the whole page back, not the fragment.
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def _is_refusal(error: ValidationError) -> bool:
    return not hasattr(error, "error_dict") and getattr(error, "code", None) == "permission_denied"


def _is_conflict(error: ValidationError) -> bool:
    if not hasattr(error, "error_dict"):
        return getattr(error, "code", None) == "conflict"
    return any(item.code == "conflict" for items in error.error_dict.values() for item in items)


def _words(error: ValidationError) -> str:
    return " ".join(error.messages)


def _back(request, default: str, *args):
    """Back to where the form was (the board posts here too), or to `default`."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default, *args)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _task_or_none(user, task_id: int) -> Task | None:
    try:
        return selectors.task_get(user=user, task_id=task_id)
    except Http404:
        return None


def _forbidden(message: str = "") -> HttpResponseForbidden:
    return HttpResponseForbidden(message or _("This task is not yours."))


# A volunteer's tasks ------------------------------------------------------------------------


def _coordinate(value) -> float | None:
    return float(value) if value is not None else None


def task_building(task: Task) -> Building | None:
    """Where the volunteer walks to: the task's building, or its household's."""
    if task.building_id:
        return task.building
    return task.household.building if task.household_id else None


def tasks_in_walking_order(tasks: list[Task], home: Building | None) -> list[Task]:
    """The tasks as the volunteer should walk them, starting from their home building;
    several tasks in one building stay together (they are zero metres apart)."""
    start = None
    if home is not None and home.latitude is not None and home.longitude is not None:
        start = (float(home.latitude), float(home.longitude))
    stops = []
    for task in tasks:
        building = task_building(task)
        stops.append(
            (
                task.pk,
                _coordinate(building.latitude) if building else None,
                _coordinate(building.longitude) if building else None,
            )
        )
    by_id = {task.pk: task for task in tasks}
    return [by_id[task_id] for task_id in walking_order(start, stops)]


def task_residents(tasks: list[Task]) -> dict[int, list[Resident]]:
    return selectors.household_residents(
        household_ids=[task.household_id for task in tasks if task.household_id]
    )


def _start_of_today() -> datetime:
    now = clock.localtime()
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def _card(user, task: Task, residents: list[Resident], now: datetime) -> dict:
    building = task_building(task)
    return {
        "task": task,
        # Typed by staff, they may name people: the volunteer reads the numbers masked.
        "title": selectors.free_text(user=user, of=task, text=task.title),
        "instructions": selectors.free_text(user=user, of=task, text=task.instructions),
        "building": building,
        "room": task.household.room if task.household_id else "",
        "is_welfare_check": task.kind == TaskKind.WELFARE_CHECK,
        "may_need_help": task.household_id is not None,
        "needs_acknowledging": task.state == TaskState.ASSIGNED,
        "is_overdue": task.due_at < now,
        "waiting_until": task.retry_at if task.retry_at and task.retry_at > now else None,
        "max_attempts": task.activation.max_attempts,
        "residents": [
            {
                "id": resident.pk,
                "name": mask_name(resident.name),
                "phone": resident.phone_masked,
                "has_phone": bool(resident.phone),
            }
            for resident in residents
        ],
    }


def _my_tasks_context(request, *, failed_task: int | None = None, errors=None) -> dict:
    user = request.user
    volunteer = selectors.own_volunteer(user=user)
    if volunteer is None:
        return {"volunteer": None}
    now = clock.now()
    tasks = selectors.my_tasks(user=user)
    home = (
        Building.objects.filter(pk=volunteer.home_building_id).first()
        if volunteer.home_building_id
        else None
    )
    # Tasks waiting for their next try come after those to do now, soonest first: the
    # household is not tried again before the plan's interval.
    waiting = sorted(
        (task for task in tasks if task.retry_at and task.retry_at > now),
        key=lambda task: (task.retry_at, task.pk),
    )
    waiting_ids = {task.pk for task in waiting}
    now_tasks = tasks_in_walking_order([t for t in tasks if t.pk not in waiting_ids], home)
    residents = task_residents(tasks)
    cards = [_card(user, task, residents.get(task.household_id, []), now) for task in now_tasks]
    later = [_card(user, task, residents.get(task.household_id, []), now) for task in waiting]
    for card in (*cards, *later):
        if card["task"].pk == failed_task:
            card["errors"] = errors or {}
            card["values"] = request.POST
    return {
        "volunteer": volunteer,
        "home": home,
        "cards": cards,
        "later": later,
        "done_today": selectors.my_done_tasks(user=user)
        .filter(completed_at__gte=_start_of_today())
        .count(),
        "help_dispatched": selectors.help_requests_visible(user=user)
        .filter(volunteer=volunteer, state=HelpState.DISPATCHED)
        .count(),
        "help_kinds": HelpKind.choices,
        "urgencies": Urgency.choices,
        "life_threatening": Urgency.LIFE_THREATENING,
        **REVEAL_FORM,
    }


@never_cache
@login_required
def my_tasks(request):
    return render(request, "emergency/field/my_tasks.html", _my_tasks_context(request))


@login_required
@require_POST
def my_task_acknowledge(request, task_id: int):
    task = _task_or_none(request.user, task_id)
    if task is None:
        return _forbidden()
    try:
        services.task_acknowledge(actor=request.user, task=task)
    except ValidationError as error:
        if _is_refusal(error):
            return _forbidden(_words(error))
        messages.error(request, _words(error))
    else:
        messages.success(request, _("You took on “%(task)s”.") % {"task": _title(request, task)})
    return _back(request, "emergency:my_tasks")


@login_required
@require_POST
def my_task_decline(request, task_id: int):
    task = _task_or_none(request.user, task_id)
    if task is None:
        return _forbidden()
    try:
        services.task_decline(
            actor=request.user, task=task, reason=request.POST.get("reason", "")[:300]
        )
    except ValidationError as error:
        if _is_refusal(error):
            return _forbidden(_words(error))
        messages.error(request, _words(error))
    else:
        messages.success(
            request,
            _("You declined “%(task)s”; it goes to another volunteer.")
            % {"task": _title(request, task)},
        )
    return _back(request, "emergency:my_tasks")


def _title(request, task: Task) -> str:
    return selectors.free_text(user=request.user, of=task, text=task.title)


def _report_message(request, task: Task) -> str:
    place = str(task.household) if task.household_id else str(task_building(task) or "")
    if task.state == TaskState.ESCALATED:
        return _("No answer after %(tries)d tries: %(place)s has gone to the micro-grid lead.") % {
            "tries": task.attempts,
            "place": place,
        }
    if task.state == TaskState.RETRY:
        return _("Recorded. Try %(place)s again after %(time)s.") % {
            "place": place,
            "time": timezone.localtime(task.retry_at).strftime("%H:%M"),
        }
    if task.outcome == Outcome.NEEDS_HELP:
        return _("Recorded: %(place)s needs help, and a help request was filed.") % {"place": place}
    if task.outcome == Outcome.SAFE:
        return _("Recorded: %(place)s is safe.") % {"place": place}
    return _("Recorded: “%(task)s” is done.") % {"task": _title(request, task)}


@login_required
@require_POST
@once_per_form
def my_task_report(request, task_id: int):
    """An outcome from the field: safe, needs help (files a help request in the same step),
    no answer or not home (tried again later, then escalated), or done."""
    user = request.user
    task = _task_or_none(user, task_id)
    if task is None:
        return _forbidden()
    outcome = request.POST.get("outcome", "")
    is_help = outcome == Outcome.NEEDS_HELP
    try:
        task = services.task_report(
            actor=user,
            task=task,
            outcome=outcome,
            note=request.POST.get("note", ""),
            help_kind=request.POST.get("help_kind", "") if is_help else "",
            help_urgency=request.POST.get("help_urgency") if is_help else None,
            help_description=request.POST.get("help_description", "") if is_help else "",
        )
    except ValidationError as error:
        if _is_refusal(error):
            return _forbidden(_words(error))
        if _is_conflict(error) or request.POST.get("next"):
            messages.error(request, _words(error))
            return _back(request, "emergency:my_tasks")
        # A missing kind or description: show the card again with what was typed.
        errors = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
        context = _my_tasks_context(request, failed_task=task.pk, errors=errors)
        cards = [*context.get("cards", []), *context.get("later", [])]
        if not any(card.get("errors") for card in cards):
            # Staff acting on a task that is not in their own list: say it in words.
            messages.error(request, _words(error))
            return _back(request, "emergency:my_tasks")
        return render(request, "emergency/field/my_tasks.html", context, status=400)
    messages.success(request, _report_message(request, task))
    if is_help and str(request.POST.get("help_urgency")) == str(Urgency.LIFE_THREATENING):
        messages.error(
            request,
            _(
                "Life-threatening: if nobody has called yet, call 120 (ambulance) or 110 "
                "(police) now."
            ),
        )
    return _back(request, "emergency:my_tasks")


@never_cache
@login_required
@require_POST
def task_reveal(request, task_id: int):
    """One tap shows one resident's full number as a tel: link; the service audits it."""
    user = request.user
    task = _task_or_none(user, task_id)
    if task is None:
        return _forbidden()
    resident = None
    if task.household_id:
        resident = Resident.objects.filter(
            pk=_int(request.POST.get("resident")), household_id=task.household_id
        ).first()
    if resident is None:
        raise Http404
    typed = {
        "purpose": request.POST.get("purpose", ""),
        "reason": request.POST.get("reason", "")[:REASON_MAX_LENGTH],
    }
    try:
        phone = services.task_phone_reveal(
            actor=user,
            task=task,
            resident=resident,
            purpose=typed["purpose"],
            reason=request.POST.get("reason", ""),
            ip_address=client_address(request),
        )
    except ValidationError as error:
        if _is_refusal(error):
            return _forbidden(_words(error))
        # Wrong purpose or reason, or over the daily limit: the words, and the form again.
        context = {
            "task": task,
            "resident_id": resident.pk,
            "error": _words(error),
            "reveal_typed": typed,
            **REVEAL_FORM,
        }
    else:
        context = {"task": task, "resident_id": resident.pk, "phone": phone}
    context["name"] = mask_name(resident.name)
    context["title"] = _title(request, task)
    template = "emergency/field/_phone.html" if _is_htmx(request) else "emergency/field/phone.html"
    return render(request, template, context)


# Help requests --------------------------------------------------------------------------------


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
            if _is_refusal(error):
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
        if help_request.grid_path.startswith(partner.grid_path)
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
            (v for v in dispatch_volunteers(help_request) if v.pk == _int(handler_id)), None
        )
    elif kind == "partner":
        partner = next(
            (p for p in dispatch_partners(user, help_request) if p.pk == _int(handler_id)), None
        )
    try:
        help_request = services.help_request_dispatch(
            actor=user,
            request=help_request,
            expected_version=_int(request.POST.get("version")),
            volunteer=volunteer,
            partner=partner,
        )
    except ValidationError as error:
        if _is_refusal(error):
            return HttpResponseForbidden(_words(error))
        messages.error(request, _words(error))
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
        if _is_refusal(error):
            return HttpResponseForbidden(_words(error))
        messages.error(request, _words(error))
    else:
        messages.success(
            request,
            _("The help request is cancelled.") if cancelled else _("The help request is done."),
        )
    return redirect("emergency:help_detail", help_request.pk)
