"""Pages of residents' rights: the privacy notice and its acceptance, the download of all
one's data, correction requests (the resident's form, the staff's task list)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from linli.accounts.addresses import client_address
from linli.accounts.roles import Permission
from linli.forms import form_add_errors
from linli.grids.selectors import scope_for
from linli.privacy import access, corrections, notice
from linli.privacy.correction_forms import ApplyForm, CorrectionRequestForm, DeclineForm
from linli.privacy.models import APPLICABLE_FIELDS, CorrectionState, PrivacyNoticeAcceptance


def _safe_next(request, value: str) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return reverse("web:home")


# The notice ------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def notice_page(request):
    """The current privacy notice; a signed-in person who has not accepted it accepts it
    here (POST, with CSRF) and goes on to where they were going."""
    next_url = request.POST.get("next") or request.GET.get("next", "")
    user = request.user
    accepted = None
    if user.is_authenticated:
        accepted = PrivacyNoticeAcceptance.objects.filter(
            user=user, version=notice.current_version()
        ).first()
    if request.method == "POST":
        if not user.is_authenticated:
            return redirect(f"{reverse('web:login')}?next={reverse('privacy:notice')}")
        notice.privacy_notice_accept(user=user, ip_address=client_address(request))
        request.session[notice.SESSION_KEY] = notice.current_version()
        return redirect(_safe_next(request, next_url))
    return render(
        request,
        "privacy/notice_page.html",
        {
            **notice.notice_context(),
            "notice_template": notice.template_name(),
            "accepted": accepted,
            "next": next_url,
        },
    )


# Access ------------------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def my_data(request):
    """GET says what the download holds; POST (with CSRF) downloads it."""
    if not scope_for(request.user).own_household_ids:
        raise Http404
    if request.method == "POST":
        export = access.own_data_export(user=request.user, ip_address=client_address(request))
        response = HttpResponse(export.content, content_type=export.content_type)
        response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
        return response
    return render(request, "privacy/my_data.html", {})


# Corrections: the resident -------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def my_corrections(request):
    user = request.user
    if not scope_for(user).own_household_ids:
        raise Http404
    residents = list(corrections.own_residents(user=user).order_by("id"))
    form = CorrectionRequestForm(
        request.POST if request.method == "POST" else None, residents=residents
    )
    if request.method == "POST" and form.is_valid():
        resident = next(r for r in residents if r.pk == form.cleaned_data["resident"])
        try:
            corrections.correction_request_create(
                user=user,
                resident=resident,
                field=form.cleaned_data["field"],
                requested_value=form.cleaned_data["requested_value"],
                note=form.cleaned_data["note"],
                ip_address=client_address(request),
            )
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, _("Your request was sent to the residents' committee."))
            return redirect("privacy:my_corrections")
    return render(
        request,
        "privacy/my_corrections.html",
        {"form": form, "requests": corrections.corrections_own(user=user)[:50]},
        status=400 if request.method == "POST" else 200,
    )


# Corrections: staff ------------------------------------------------------------------------------


def _needs_edit_registry(user) -> None:
    if not scope_for(user).paths_for(Permission.EDIT_REGISTRY):
        raise Http404


@login_required
def correction_list(request):
    _needs_edit_registry(request.user)
    state = request.GET.get("state", CorrectionState.OPEN)
    if state not in CorrectionState.values:
        state = CorrectionState.OPEN
    items = corrections.corrections_to_handle(user=request.user).filter(state=state)
    return render(
        request,
        "privacy/correction_list.html",
        {
            "requests": items[:100],
            "state": state,
            "states": CorrectionState.choices,
            "open_count": corrections.open_corrections_count(user=request.user),
        },
    )


def _current_value(correction) -> str:
    """What the register holds now, as staff see it (a phone masked)."""
    resident = correction.resident
    return {
        "name": lambda: resident.name,
        "phone": lambda: resident.phone_masked,
        "residency_type": resident.get_residency_type_display,
        "party_membership": resident.get_party_membership_display,
    }.get(correction.field, lambda: "")()


@login_required
@require_http_methods(["GET", "POST"])
def correction_detail(request, correction_id: int):
    user = request.user
    correction = corrections.correction_get(user=user, correction_id=correction_id)
    if not corrections.may_handle(user=user, correction=correction):
        raise Http404
    action = request.POST.get("action")
    apply_form = ApplyForm(
        request.POST if action == "apply" else None,
        field=correction.field,
        initial={"value": correction.requested_value},
    )
    decline_form = DeclineForm(request.POST if action == "decline" else None)
    if request.method == "POST" and correction.state == CorrectionState.OPEN:
        form = apply_form if action == "apply" else decline_form
        if form.is_valid():
            try:
                if form is apply_form:
                    corrections.correction_request_apply(
                        actor=user,
                        correction=correction,
                        value=form.cleaned_data["value"]
                        if correction.field in APPLICABLE_FIELDS
                        else None,
                        decision_note=form.cleaned_data["decision_note"],
                        ip_address=client_address(request),
                    )
                    messages.success(request, _("The correction was applied."))
                else:
                    corrections.correction_request_decline(
                        actor=user,
                        correction=correction,
                        reason=form.cleaned_data["reason"],
                        ip_address=client_address(request),
                    )
                    messages.success(request, _("The request was declined."))
                return redirect("privacy:corrections")
            except ValidationError as error:
                if getattr(error, "code", None) == "permission_denied":
                    raise Http404 from None
                form_add_errors(form, error)
    return render(
        request,
        "privacy/correction_detail.html",
        {
            "correction": correction,
            "resident": correction.resident,
            "current_value": _current_value(correction),
            "applicable": correction.field in APPLICABLE_FIELDS,
            "apply_form": apply_form,
            "decline_form": decline_form,
        },
        status=400 if request.method == "POST" else 200,
    )


urlpatterns = [
    path("notice/", notice_page, name="notice"),
    path("my-data/", my_data, name="my_data"),
    path("my-corrections/", my_corrections, name="my_corrections"),
    path("corrections/", correction_list, name="corrections"),
    path("corrections/<int:correction_id>/", correction_detail, name="correction_detail"),
]
