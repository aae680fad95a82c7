"""Pages for residents' privacy: record a move-out, anonymise a resident on request."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from linli.accounts.addresses import client_address
from linli.accounts.roles import Permission
from linli.forms import form_add_errors
from linli.grids import selectors
from linli.privacy import pages, services
from linli.privacy.forms import AnonymiseForm, MoveOutForm
from linli.privacy.retention import RULES

app_name = "privacy"


def _editable_resident(request, resident_id: int):
    resident = selectors.resident_get(user=request.user, resident_id=resident_id)
    if not selectors.user_can(
        user=request.user, permission=Permission.EDIT_REGISTRY, grid_path=resident.grid_path
    ):
        raise Http404
    return resident


@login_required
@require_http_methods(["GET", "POST"])
def resident_departure(request, resident_id: int):
    resident = _editable_resident(request, resident_id)
    move_out = MoveOutForm(
        request.POST if request.POST.get("action") == "move_out" else None,
        initial={"moved_out_on": resident.moved_out_on},
    )
    anonymise = AnonymiseForm(request.POST if request.POST.get("action") == "anonymise" else None)
    if request.method == "POST" and resident.anonymised_at is None:
        form = move_out if request.POST.get("action") == "move_out" else anonymise
        if form.is_valid():
            try:
                if form is move_out:
                    services.resident_move_out(
                        actor=request.user,
                        resident=resident,
                        moved_out_on=form.cleaned_data["moved_out_on"],
                        ip_address=client_address(request),
                    )
                    messages.success(request, _("The move-out was recorded."))
                else:
                    services.resident_anonymise(
                        actor=request.user,
                        resident=resident,
                        reason=form.cleaned_data["reason"],
                        ip_address=client_address(request),
                    )
                    messages.success(request, _("The resident was anonymised."))
                return redirect("grids:resident_detail", resident_id=resident.pk)
            except ValidationError as error:
                if getattr(error, "code", None) == "permission_denied":
                    raise Http404 from None
                form_add_errors(form, error)
    departed_rule = next(rule for rule in RULES if rule.name == "departed_residents")
    return render(
        request,
        "privacy/resident_departure.html",
        {
            "resident": resident,
            "household": resident.household,
            "move_out": move_out,
            "anonymise": anonymise,
            "departed_days": departed_rule.period,
        },
        status=400 if request.method == "POST" else 200,
    )


urlpatterns = [
    path("residents/<int:resident_id>/departure/", resident_departure, name="resident_departure"),
    # The notice, the download of one's data, correction requests (linli/privacy/pages.py).
    *pages.urlpatterns,
]
