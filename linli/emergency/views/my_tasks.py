"""A volunteer's tasks on their phone: in walking order, with masked contacts and an
audited reveal of one number, taken on or declined, and their outcomes reported from the
field.

Reads go through linli.emergency.selectors, writes through linli.emergency.services. A
POST on a task the person may not act on answers 403 and writes nothing: the services
refuse with linli.errors.NotAllowed. A task the person cannot even see answers the same
403, so the answer tells nothing about other people's tasks.
"""

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from linli import clock
from linli.accounts.reveals import REASON_MAX_LENGTH, REASON_MIN_LENGTH, RevealPurpose
from linli.accounts.services import client_address
from linli.emergency import selectors, services
from linli.emergency.assign import walking_order
from linli.emergency.models import HelpKind, HelpState, Outcome, Task, TaskKind, TaskState, Urgency
from linli.emergency.views.common import int_or_none, refusal_words
from linli.errors import status_for
from linli.grids.models import Building, Resident
from linli.idempotency.web import once_per_form
from linli.partners.selectors import mask_name

# What the reveal form on a task card offers (linli.accounts.reveals).
REVEAL_FORM = {
    "reveal_purposes": RevealPurpose.choices,
    "reveal_reason_min": REASON_MIN_LENGTH,
    "reveal_reason_max": REASON_MAX_LENGTH,
}


# Helpers ---------------------------------------------------------------------------------------


def _is_htmx(request) -> bool:
    # A history restore wants the whole page back, not the fragment.
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def _back(request, default: str, *args):
    """Back to where the form was (the board posts here too), or to `default`."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default, *args)


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
        if status_for(error) == 403:
            return _forbidden(refusal_words(error))
        messages.error(request, refusal_words(error))
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
        if status_for(error) == 403:
            return _forbidden(refusal_words(error))
        messages.error(request, refusal_words(error))
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
        if status_for(error) == 403:
            return _forbidden(refusal_words(error))
        if status_for(error) == 409 or request.POST.get("next"):
            messages.error(request, refusal_words(error))
            return _back(request, "emergency:my_tasks")
        # A missing kind or description: show the card again with what was typed.
        errors = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
        context = _my_tasks_context(request, failed_task=task.pk, errors=errors)
        cards = [*context.get("cards", []), *context.get("later", [])]
        if not any(card.get("errors") for card in cards):
            # Staff acting on a task that is not in their own list: say it in words.
            messages.error(request, refusal_words(error))
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
            pk=int_or_none(request.POST.get("resident")), household_id=task.household_id
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
        if status_for(error) == 403:
            return _forbidden(refusal_words(error))
        # Wrong purpose or reason, or over the daily limit: the words, and the form again.
        context = {
            "task": task,
            "resident_id": resident.pk,
            "error": refusal_words(error),
            "reveal_typed": typed,
            **REVEAL_FORM,
        }
    else:
        context = {"task": task, "resident_id": resident.pk, "phone": phone}
    context["name"] = mask_name(resident.name)
    context["title"] = _title(request, task)
    template = "emergency/field/_phone.html" if _is_htmx(request) else "emergency/field/phone.html"
    return render(request, template, context)
