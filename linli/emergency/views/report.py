"""The after-action report: the page (a running report while the emergency is active), the
PDF, the list of past activations' reports, and the lessons staff record.

Whoever sees the activation (activation_get: staff with EMERGENCY_HELP in or above its
scope) reads the report; anyone else gets 404. Lessons are written through the service,
which allows those who may stand the emergency down."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.accounts.roles import Permission
from linli.emergency import selectors, services
from linli.emergency.board import board_paths
from linli.emergency.models import Activation, ActivationState
from linli.emergency.report import minutes_text, report_context, report_pdf, share_text
from linli.grids.selectors import scope_for


def _reader_paths(activation: Activation, user) -> list[str]:
    """The reader's part of the activation, as on the live board (404 when none)."""
    paths = board_paths(activation, user)
    if not paths:
        raise Http404
    return paths


@login_required
def report(request, activation_id: int):
    activation = selectors.activation_get(user=request.user, activation_id=activation_id)
    context = report_context(activation, _reader_paths(activation, request.user))
    context["may_edit_lessons"] = scope_for(request.user).allows(
        Permission.EMERGENCY_ACTIVATE, activation.grid_path
    )
    return render(request, "emergency/report/report.html", context)


@login_required
def report_pdf_download(request, activation_id: int):
    activation = selectors.activation_get(user=request.user, activation_id=activation_id)
    response = HttpResponse(
        report_pdf(activation, _reader_paths(activation, request.user)),
        content_type="application/pdf",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="linli-activation-{activation.pk}-report.pdf"'
    )
    return response


@login_required
@require_POST
def lessons_update(request, activation_id: int):
    activation = selectors.activation_get(user=request.user, activation_id=activation_id)
    try:
        services.activation_lessons_update(
            actor=request.user, activation=activation, lessons=request.POST.get("lessons", "")
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Lessons saved."))
    return redirect("emergency:report", activation_id=activation.pk)


@login_required
def report_list(request):
    """Stood-down activations the person sees, real and drills, newest first, with the
    figures kept at stand-down (no per-row queries)."""
    if not scope_for(request.user).allows_anywhere(Permission.EMERGENCY_HELP):
        raise Http404
    activations = (
        selectors.activations_visible(user=request.user)
        .filter(state=ActivationState.STOOD_DOWN)
        .select_related("plan", "scope")
        .order_by("-stood_down_at", "-id")
    )
    page = Paginator(activations, 50).get_page(request.GET.get("page"))
    rows = []
    for activation in page:
        # The kept figures are the whole scope's: a reader of a part opens the report.
        whole = board_paths(activation, request.user) == [activation.grid_path]
        summary = (activation.summary or {}) if whole else {}
        minutes_to = summary.get("minutes_to") or {}
        rows.append(
            {
                "activation": activation,
                "targeted": summary.get("targeted_households"),
                "coverage": share_text(summary.get("coverage_share")),
                "to_90": minutes_text(minutes_to.get("90")) if summary else "–",
                "to_100": minutes_text(minutes_to.get("100")) if summary else "–",
                "help_requests": (summary.get("help_requests") or {}).get("total"),
            }
        )
    return render(request, "emergency/report/list.html", {"page": page, "rows": rows})
