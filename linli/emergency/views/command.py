"""Command pages of emergency operation (staff): the list of emergencies, activation with
its preview, the live board, one activation's timeline and controls, and one task.

Reads go through linli.emergency.selectors and linli.emergency.board, writes through
linli.emergency.services. A service refusal is shown on the form that asked for it; a
refused permission is a 403 and a row that changed under the person a 409, both with the
service's own words.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.accounts.grid_paths import within
from linli.accounts.privacy import FREE_TEXT_WARNING
from linli.accounts.roles import Permission
from linli.emergency import selectors, services
from linli.emergency.board import board_data, board_paths
from linli.emergency.explain import assignment_sentence
from linli.emergency.models import (
    EventKind,
    Grade,
    HelpKind,
    Outcome,
    TaskKind,
    TaskState,
    UnassignedReason,
    Urgency,
)
from linli.errors import status_for
from linli.forms import form_add_errors
from linli.grids.models import Building, GridUnit, Household
from linli.grids.selectors import scope_for
from linli.idempotency.web import once_per_form
from linli.supplies.models import SupplyItem
from linli.volunteers.models import ServiceKind, Volunteer

P = Permission


def _refusal(form: forms.Form, error: ValidationError) -> int:
    """Put a service refusal on the form; the HTTP status the page answers with (a form
    with bad input is shown again as usual, with 200)."""
    status = status_for(error)
    if status == 403:
        raise PermissionDenied(" ".join(error.messages))
    form_add_errors(form, error)
    return 409 if status == 409 else 200


def _report_url(activation_id: int) -> str:
    try:
        return reverse("emergency:report", args=[activation_id])
    except NoReverseMatch:  # the report pages are optional for these pages to work
        return reverse("emergency:activation_detail", args=[activation_id])


def _require_staff(user) -> None:
    if not scope_for(user).allows_anywhere(P.EMERGENCY_HELP):
        raise Http404


# ---------------------------------------------------------------------------------------
# The list


@login_required
def home(request):
    user = request.user
    _require_staff(user)
    activations = selectors.activations_visible(user=user).select_related("plan", "scope")
    live = list(activations.filter(state="active").order_by("-activated_at", "-id"))
    past = list(activations.exclude(state="active").order_by("-activated_at", "-id")[:100])
    return render(
        request,
        "emergency/command/home.html",
        {
            "live": live,
            "past": past,
            "can_activate": scope_for(user).allows_anywhere(P.EMERGENCY_ACTIVATE),
        },
    )


# ---------------------------------------------------------------------------------------
# Activation


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: GridUnit) -> str:
        return f"{obj.name} ({obj.get_level_display()})"


class PlanChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} · {obj.get_hazard_display()} · {obj.grid_unit.name}"


class ActivateForm(forms.Form):
    plan = PlanChoiceField(label=gettext_lazy("Plan"), queryset=None)
    scope = UnitChoiceField(label=gettext_lazy("Activate for"), queryset=None)
    grade = forms.TypedChoiceField(
        label=gettext_lazy("Grade"), choices=Grade.choices, coerce=int, initial=Grade.IV
    )
    mode = forms.ChoiceField(
        label=gettext_lazy("Real or drill"),
        choices=[
            ("drill", gettext_lazy("Drill (演练)")),
            ("real", gettext_lazy("Real emergency")),
        ],
        initial="drill",
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=300, required=False)
    acknowledge_problems = forms.BooleanField(
        label=gettext_lazy("Activate anyway, knowing the problems above"), required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = (
            selectors.plans_visible(user=user).usable().select_related("grid_unit")
        )
        # The same units the API accepts (selectors.activatable_units).
        units = selectors.activatable_units(user=user)
        self.fields["scope"].queryset = units
        # The usual case, one plan for one's own unit, needs no choosing.
        plans = list(self.fields["plan"].queryset[:2])
        if len(plans) == 1:
            self.fields["plan"].initial = plans[0].pk
        first = units.first()
        if first is not None:
            self.fields["scope"].initial = first.pk


def _preview_rows(preview) -> dict:
    return {
        "preview": preview,
        "preview_unassigned": preview.tasks - preview.assigned,
        "preview_kinds": [
            (str(TaskKind(kind).label), count) for kind, count in preview.tasks_by_kind.items()
        ],
        "preview_reasons": [
            (str(UnassignedReason(reason).label), count)
            for reason, count in preview.unassigned_by_reason.items()
        ],
    }


@login_required
def activate(request):
    user = request.user
    if not scope_for(user).allows_anywhere(P.EMERGENCY_ACTIVATE):
        raise Http404
    form = ActivateForm(request.POST or None, user=user, initial=request.GET.dict() or None)
    context: dict = {"form": form}
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        step = request.POST.get("step", "preview")
        try:
            preview = services.activation_preview(
                actor=user, plan=data["plan"], scope=data["scope"], grade=data["grade"]
            )
        except ValidationError as error:
            status = _refusal(form, error)
        else:
            context.update(_preview_rows(preview))
            if step == "confirm":
                try:
                    activation = services.activation_start(
                        actor=user,
                        plan=data["plan"],
                        scope=data["scope"],
                        grade=data["grade"],
                        is_drill=data["mode"] == "drill",
                        note=data["note"],
                        acknowledge_problems=data["acknowledge_problems"],
                    )
                except ValidationError as error:
                    status = _refusal(form, error)
                else:
                    messages.success(
                        request,
                        _("%(plan)s is active for %(scope)s.")
                        % {"plan": activation.plan.name, "scope": activation.scope.name},
                    )
                    return redirect("emergency:board", activation.pk)
    return render(request, "emergency/command/activate.html", context, status=status)


# ---------------------------------------------------------------------------------------
# The live board


def _board_context(request, activation_id: int) -> dict:
    user = request.user
    activation = selectors.activation_get(user=user, activation_id=activation_id)
    board = board_data(activation, user)
    for task in [*board.overdue, *board.unassigned]:
        task.sentence = assignment_sentence(task)
    return {
        "activation": activation,
        "board": board,
        "reasons": [(_reason_label(reason), count) for reason, count in board.unassigned_by_reason],
    }


def _reason_label(code: str) -> str:
    try:
        return str(UnassignedReason(code).label)
    except ValueError:
        return code or _("No reason recorded")


@login_required
def board(request, activation_id: int):
    return render(request, "emergency/command/board.html", _board_context(request, activation_id))


@login_required
def board_live(request, activation_id: int):
    """The board's figures alone: htmx swaps them in every few seconds."""
    return render(
        request, "emergency/command/_board_live.html", _board_context(request, activation_id)
    )


# ---------------------------------------------------------------------------------------
# One activation: timeline and controls


class RegradeForm(forms.Form):
    grade = forms.TypedChoiceField(
        label=gettext_lazy("New grade"), choices=Grade.choices, coerce=int
    )


class AddTaskForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=TaskKind.choices)
    # The volunteer who takes the task reads its title and instructions.
    title = forms.CharField(
        label=gettext_lazy("Title"), max_length=100, help_text=FREE_TEXT_WARNING
    )
    building = forms.ModelChoiceField(label=gettext_lazy("Building"), queryset=None)
    room = forms.CharField(
        label=gettext_lazy("Room (for a household; leave empty for the whole building)"),
        max_length=20,
        required=False,
    )
    due_hours = forms.IntegerField(
        label=gettext_lazy("Due within (hours)"), min_value=1, max_value=72, initial=2
    )
    required_team = forms.ChoiceField(
        label=gettext_lazy("Team"),
        choices=[("", gettext_lazy("Any volunteer")), *ServiceKind.choices],
        required=False,
    )
    instructions = forms.CharField(
        label=gettext_lazy("Instructions"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=FREE_TEXT_WARNING,
    )

    def __init__(self, *args, paths: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = Building.objects.within(paths).order_by(
            "grid_path", "name"
        )

    def clean(self):
        data = super().clean()
        building, room = data.get("building"), (data.get("room") or "").strip()
        data["household"] = None
        if building is not None and room:
            household = Household.objects.filter(building=building, room=room).first()
            if household is None:
                self.add_error(
                    "room",
                    _("%(building)s has no room %(room)s.")
                    % {"building": building.name, "room": room},
                )
            data["household"] = household
        return data


class VolunteerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Volunteer) -> str:
        return obj.name


class UnavailableForm(forms.Form):
    volunteer = VolunteerChoiceField(label=gettext_lazy("Volunteer"), queryset=None)
    reason = forms.CharField(
        label=gettext_lazy("Reason (e.g. their building is sealed)"), max_length=200
    )

    def __init__(self, *args, activation, paths: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["volunteer"].queryset = _serving_in(paths).exclude(
            pk__in=activation.unavailabilities.values("volunteer_id")
        )


class ItemChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: SupplyItem) -> str:
        return f"{obj.location.name} · {obj.name} ({obj.quantity} {obj.unit})"


class DrawSuppliesForm(forms.Form):
    item = ItemChoiceField(label=gettext_lazy("Supplies"), queryset=None)
    quantity = forms.IntegerField(label=gettext_lazy("Quantity"), min_value=1)
    reason = forms.CharField(
        label=gettext_lazy("What for (e.g. sandbags for 3号楼)"), max_length=200
    )

    def __init__(self, *args, activation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = selectors.scope_supplies(path=activation.grid_path)


class StandDownForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why the emergency ends"), max_length=300)
    lessons = forms.CharField(
        label=gettext_lazy("Lessons learned"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class LessonsForm(forms.Form):
    lessons = forms.CharField(
        label=gettext_lazy("Lessons learned"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )


def _serving_in(paths: list[str]):
    """Serving volunteers of a part: registered in it, or living in it."""
    return (
        Volunteer.objects.serving()
        .filter(within(paths) | within(paths, "home_building__grid_path"))
        .order_by("name", "id")
    )


def _event_line(event) -> str:
    """One line of the timeline, from the event's detail."""
    detail = event.detail or {}
    if event.kind == EventKind.ACTIVATED:
        return _("%(tasks)s tasks generated, %(assigned)s assigned.") % {
            "tasks": detail.get("tasks", 0),
            "assigned": detail.get("assigned", 0),
        }
    if event.kind == EventKind.GRADE_CHANGED:
        return _(
            "Grade %(previous)s → %(grade)s: %(added)s tasks added, %(cancelled)s cancelled."
        ) % {
            "previous": _grade_name(detail.get("previous")),
            "grade": _grade_name(detail.get("grade")),
            "added": detail.get("added", 0),
            "cancelled": detail.get("cancelled", 0),
        }
    if event.kind == EventKind.TASKS_ADDED:
        return str(detail.get("title", ""))
    if event.kind == EventKind.REASSIGNED:
        return _("%(assigned)s reassigned, %(unassigned)s left unassigned.") % {
            "assigned": detail.get("assigned", 0),
            "unassigned": detail.get("unassigned", 0),
        }
    if event.kind == EventKind.VOLUNTEER_UNAVAILABLE:
        return _("%(name)s: %(reason)s (%(tasks)s tasks moved).") % {
            "name": detail.get("name", ""),
            "reason": detail.get("reason", ""),
            "tasks": detail.get("tasks", 0),
        }
    if event.kind == EventKind.SUPPLIES_DRAWN:
        return f"{detail.get('item', '')} × {detail.get('quantity', '')} {detail.get('unit', '')}"
    if event.kind == EventKind.STOOD_DOWN:
        return str(detail.get("reason", ""))
    return str(detail.get("text", detail.get("note", "")))


def _grade_name(value) -> str:
    try:
        return Grade(int(value)).name
    except (TypeError, ValueError):
        return "?"


@login_required
@once_per_form
def activation_detail(request, activation_id: int):
    user = request.user
    activation = selectors.activation_get(user=user, activation_id=activation_id)
    paths = board_paths(activation, user)
    if not paths:
        raise Http404
    scope = scope_for(user)
    may_activate = scope.allows(P.EMERGENCY_ACTIVATE, activation.grid_path)
    # Adding tasks and marking volunteers unavailable act inside the person's own part
    # (a micro-grid lead's compound); the services check each target.
    may_command = any(scope.allows(P.EMERGENCY_COMMAND, path) for path in paths)
    may_draw = scope.allows(P.SUPPLIES_MANAGE, activation.grid_path)
    action = request.POST.get("action") if request.method == "POST" else None
    data = request.POST if request.method == "POST" else None
    forms_by_action = {
        "regrade": RegradeForm(
            data if action == "regrade" else None,
            prefix="regrade",
            initial={"grade": activation.grade},
        ),
        "add_task": AddTaskForm(data if action == "add_task" else None, prefix="task", paths=paths),
        "unavailable": UnavailableForm(
            data if action == "unavailable" else None,
            prefix="unavailable",
            activation=activation,
            paths=paths,
        ),
        "draw": DrawSuppliesForm(
            data if action == "draw" else None, prefix="draw", activation=activation
        ),
        "stand_down": StandDownForm(data if action == "stand_down" else None, prefix="stand"),
        "lessons": LessonsForm(
            data if action == "lessons" else None,
            prefix="lessons",
            initial={"lessons": activation.lessons},
        ),
    }
    status = 200
    if action in forms_by_action:
        allowed = {
            "regrade": may_activate,
            "stand_down": may_activate,
            "lessons": may_activate,
            "draw": may_draw,
        }.get(action, may_command)
        if not allowed:
            raise PermissionDenied
        form = forms_by_action[action]
        if form.is_valid():
            try:
                done = _act(request, action, activation, form.cleaned_data)
            except ValidationError as error:
                status = _refusal(form, error)
            else:
                return done
    events = list(activation.events.select_related("actor"))
    for event in events:
        event.line = _event_line(event)
    return render(
        request,
        "emergency/command/activation_detail.html",
        {
            "activation": activation,
            "events": events,
            "unavailable": list(activation.unavailabilities.select_related("volunteer")),
            "may_activate": may_activate,
            "may_command": may_command,
            "may_draw": may_draw,
            "draws": list(
                activation.draws.select_related("movement__item__location").order_by("-id")
            ),
            "forms": forms_by_action,
        },
        status=status,
    )


def _act(request, action: str, activation, data: dict):
    user = request.user
    if action == "regrade":
        services.activation_regrade(actor=user, activation=activation, grade=data["grade"])
        messages.success(
            request, _("The grade is now %(grade)s.") % {"grade": _grade_name(data["grade"])}
        )
    elif action == "add_task":
        task = services.activation_add_task(
            actor=user,
            activation=activation,
            kind=data["kind"],
            title=data["title"],
            building=data["building"],
            household=data["household"],
            due_hours=data["due_hours"],
            instructions=data["instructions"],
            required_team=data["required_team"],
        )
        messages.success(request, assignment_sentence(task))
        return redirect("emergency:task_detail", task.pk)
    elif action == "unavailable":
        services.volunteer_mark_unavailable(
            actor=user, activation=activation, volunteer=data["volunteer"], reason=data["reason"]
        )
        messages.success(
            request,
            _("%(name)s is marked unavailable; their open tasks went to others.")
            % {"name": data["volunteer"].name},
        )
    elif action == "draw":
        draw = services.supplies_draw(
            actor=user,
            activation=activation,
            item=data["item"],
            quantity=data["quantity"],
            reason=data["reason"],
        )
        messages.success(
            request,
            _("%(quantity)d %(unit)s of %(item)s drawn; %(left)d left.")
            % {
                "quantity": draw.movement.quantity,
                "unit": data["item"].unit,
                "item": data["item"].name,
                "left": draw.movement.balance_after,
            },
        )
    elif action == "stand_down":
        services.activation_stand_down(
            actor=user, activation=activation, reason=data["reason"], lessons=data["lessons"]
        )
        messages.success(request, _("The emergency is stood down."))
        return redirect(_report_url(activation.pk))
    elif action == "lessons":
        services.activation_lessons_update(
            actor=user, activation=activation, lessons=data["lessons"]
        )
        messages.success(request, _("Saved."))
    return redirect("emergency:activation_detail", activation.pk)


# ---------------------------------------------------------------------------------------
# One task


class ReassignForm(forms.Form):
    volunteer = VolunteerChoiceField(
        label=gettext_lazy("Give the task to"),
        queryset=None,
        required=False,
        empty_label=gettext_lazy("Let the solver choose the best available volunteer"),
    )
    expected_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, activation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["volunteer"].queryset = _serving_in([activation.grid_path]).exclude(
            pk__in=activation.unavailabilities.values("volunteer_id")
        )


def _reassign_form_again(request, activation, task, error: ValidationError) -> ReassignForm:
    data = request.POST.copy()
    data["reassign-expected_version"] = str(task.version)
    form = ReassignForm(data, prefix="reassign", activation=activation)
    form.is_valid()
    form_add_errors(form, error)
    return form


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=gettext_lazy("What the check found"), choices=Outcome.choices)
    # When it needs help, the note is the help request's description: whoever it is sent to
    # (a volunteer, a partner unit) reads it.
    note = forms.CharField(
        label=gettext_lazy("Note"), max_length=500, required=False, help_text=FREE_TEXT_WARNING
    )
    help_kind = forms.ChoiceField(
        label=gettext_lazy("Help needed (when it needs help)"),
        choices=[("", "—"), *HelpKind.choices],
        required=False,
    )
    help_urgency = forms.TypedChoiceField(
        label=gettext_lazy("Urgency"),
        choices=[("", "—"), *Urgency.choices],
        coerce=int,
        required=False,
        empty_value=None,
    )


@login_required
@once_per_form
def task_detail(request, task_id: int):
    user = request.user
    task = selectors.task_get(user=user, task_id=task_id)
    scope = scope_for(user)
    # The staff page: a volunteer reads their own task on their phone pages.
    if not scope.allows(P.EMERGENCY_HELP, task.grid_path):
        raise Http404
    may_command = scope.allows(P.EMERGENCY_COMMAND, task.grid_path)
    activation = task.activation
    action = request.POST.get("action") if request.method == "POST" else None
    reassign_form = ReassignForm(
        request.POST if action == "reassign" else None,
        prefix="reassign",
        activation=activation,
        initial={"expected_version": task.version, "volunteer": task.assignee_id},
    )
    outcome_form = OutcomeForm(request.POST if action == "outcome" else None, prefix="outcome")
    status = 200
    if action in ("reassign", "outcome"):
        if not may_command:
            raise PermissionDenied
        form = reassign_form if action == "reassign" else outcome_form
        if form.is_valid():
            data = form.cleaned_data
            try:
                if action == "reassign":
                    task = services.task_reassign(
                        actor=user,
                        task=task,
                        expected_version=data["expected_version"],
                        volunteer=data["volunteer"],
                    )
                    messages.success(request, assignment_sentence(task))
                else:
                    services.task_report(
                        actor=user,
                        task=task,
                        outcome=data["outcome"],
                        note=data["note"],
                        help_kind=data["help_kind"],
                        help_urgency=data["help_urgency"],
                        help_description=data["note"],
                    )
                    messages.success(request, _("The outcome is recorded."))
            except ValidationError as error:
                status = _refusal(form, error)
                task = selectors.task_get(user=user, task_id=task_id)
                if action == "reassign":
                    # Show what the task is now, and let the next try carry its version.
                    reassign_form = _reassign_form_again(request, activation, task, error)
            else:
                return redirect("emergency:task_detail", task_id)
    residents = list(task.household.residents.order_by("id")) if task.household_id else []
    return render(
        request,
        "emergency/command/task_detail.html",
        {
            "task": task,
            "activation": activation,
            "residents": residents,
            "sentence": assignment_sentence(task),
            "reports": list(task.reports.select_related("volunteer", "reported_by")),
            "may_command": may_command and activation.is_active,
            "may_reassign": task.state
            in (
                TaskState.UNASSIGNED,
                TaskState.ASSIGNED,
                TaskState.ACKNOWLEDGED,
                TaskState.RETRY,
                TaskState.ESCALATED,
            ),
            "may_report": task.state == TaskState.ESCALATED,
            "reassign_form": reassign_form,
            "outcome_form": outcome_form,
        },
        status=status,
    )
