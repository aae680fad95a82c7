"""Pages of self-registration: the public form behind a building's poster, the page every
unmatched registration ends on, the posters, and the leader's one-tap decisions.

The form is public and made for a phone in an older hand: big fields, one column, no
script. It has two buttons: "send the code" (the phone alone is checked) and "register"
(everything). A registration that matches signs the person in and goes home; anything else
ends on the same page with the same status, whatever kept it from matching.
"""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from linli.accounts.privacy import mask_phone
from linli.accounts.services import client_address
from linli.errors import status_for
from linli.forms import form_add_errors
from linli.grids.models import Building
from linli.grids.selectors import needs_registry
from linli.registration import posters, selectors, services
from linli.registration.forms import ApproveForm, JoinForm, RejectForm
from linli.registration.models import RequestStatus
from linli.registration.tokens import building_for_token
from linli.signin.selectors import sms_gateway_configured

LOGIN_BACKEND = "django.contrib.auth.backends.ModelBackend"


# The public form ----------------------------------------------------------------------------


def _invitation_token(request) -> str:
    """The form carries the letter's token; the address it was opened at does too."""
    return (request.POST.get("invitation") or request.GET.get("invitation") or "").strip()


@never_cache
def join(request, token: str):
    """The address a building's poster holds (and a letter's, with ?invitation=)."""
    building = building_for_token(token)
    if building is None:
        raise Http404
    invitation = _invitation_token(request)
    return _join(request, building=building, invitation=invitation)


@never_cache
def join_invited(request):
    """An invitation letter's address without a poster's token: /join/?invitation=…"""
    invitation = _invitation_token(request)
    prefill = services.invitation_prefill(invitation)
    building = None
    if prefill is not None:
        building = Building.objects.filter(pk=prefill["building_id"]).first()
    if building is None:
        return render(request, "registration/invitation_invalid.html", status=404)
    return _join(request, building=building, invitation=invitation)


def _join(request, *, building: Building, invitation: str):
    prefill = services.invitation_prefill(invitation) if invitation else None
    if invitation and prefill is None:
        return render(request, "registration/invitation_invalid.html", status=404)
    if prefill is not None:
        # The letter fixes the building and the room; the name is only a suggestion.
        building = Building.objects.filter(pk=prefill["building_id"]).first() or building
    initial = {"room": prefill.get("room", ""), "name": prefill.get("name", "")} if prefill else {}
    status = 200
    code_sent = False
    if request.method == "POST":
        data = request.POST.copy()
        if prefill is not None:
            data["room"] = initial["room"]
        form = JoinForm(data)
        if form.is_valid():
            values = form.cleaned_data
            address = client_address(request)
            try:
                if request.POST.get("action") == "code":
                    services.registration_code_request(phone=values["phone"], address=address)
                    code_sent = True
                else:
                    outcome = services.registration_submit(
                        building=building,
                        phone=values["phone"],
                        code=values["code"],
                        name=values["name"],
                        room=values["room"],
                        id_last4=values["id_last4"],
                        invitation=invitation,
                        address=address,
                    )
                    if outcome.user is not None:
                        login(request, outcome.user, backend=LOGIN_BACKEND)
                        messages.success(
                            request, _("Welcome to Linli, %(name)s.") % {"name": outcome.user}
                        )
                        return redirect("web:home")
                    return redirect("registration:sent")
            except ValidationError as error:
                form_add_errors(form, error)
                status = status_for(error)
        else:
            status = 400
    else:
        form = JoinForm(initial=initial)
    community = selectors.community_of(building)
    return render(
        request,
        "registration/join.html",
        {
            "form": form,
            "building": building,
            "community": community,
            "invitation": invitation,
            "room_locked": prefill is not None,
            "code_sent": code_sent,
            "phone_masked": mask_phone(form.cleaned_data.get("phone", "")) if code_sent else "",
            # No SMS gateway (the embedded default): the codes wait on the trial page.
            "trial": not sms_gateway_configured(),
        },
        status=status,
    )


@never_cache
def sent(request):
    """Where every registration that did not match ends, whatever the reason."""
    return render(request, "registration/sent.html")


# Posters -------------------------------------------------------------------------------------


def _pdf(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@login_required
def building_poster(request, building_id: int):
    building = selectors.poster_building_get(user=request.user, building_id=building_id)
    return _pdf(posters.posters_pdf([building]), f"linli-poster-building-{building.pk}.pdf")


@login_required
def unit_posters(request, grid_unit_id: int):
    """Every building of a building group (or of any unit in scope), one page each."""
    unit = selectors.poster_unit_get(user=request.user, grid_unit_id=grid_unit_id)
    buildings = selectors.poster_buildings_in(user=request.user, grid_unit=unit)
    if not buildings:
        raise Http404
    return _pdf(posters.posters_pdf(buildings), f"linli-posters-{unit.code}.pdf")


# Decisions -----------------------------------------------------------------------------------


def _requests_page(request, *, forms: dict | None = None, status: int = 200):
    needs_registry(user=request.user, permission=selectors.DECIDE)
    shown = request.GET.get("status", RequestStatus.PENDING)
    if shown not in RequestStatus.values:
        shown = RequestStatus.PENDING
    rows = list(
        selectors.requests_to_decide(user=request.user)
        .filter(status=shown)
        .order_by("-created_at", "-id")[:200]
    )
    forms = forms or {}
    items = [
        {
            "request": row,
            "candidates": selectors.candidates_for(request=row) if row.is_pending else [],
            "reject_form": forms.get(row.pk, RejectForm()),
        }
        for row in rows
    ]
    return render(
        request,
        "registration/requests.html",
        {"items": items, "shown": shown, "statuses": RequestStatus.choices},
        status=status,
    )


@login_required
def requests_list(request):
    return _requests_page(request)


@login_required
@require_POST
def request_approve(request, request_id: int):
    row = selectors.request_get(user=request.user, request_id=request_id)
    form = ApproveForm(request.POST)
    chosen = form.cleaned_data["resident"] if form.is_valid() else None
    resident = next(
        (
            candidate
            for candidate in selectors.candidates_for(request=row)
            if candidate.pk == chosen
        ),
        None,
    )
    if resident is None:
        messages.error(request, _("Choose a resident of that room."))
        return _requests_page(request, status=400)
    try:
        services.registration_approve(
            actor=request.user, request=row, resident=resident, ip_address=client_address(request)
        )
    except ValidationError as error:
        # A request already decided (409), a resident linked meanwhile (400): said on the list.
        messages.error(request, " ".join(error.messages))
        return _requests_page(request, status=status_for(error))
    messages.success(
        request,
        _("Approved: %(name)s can sign in with their phone now.") % {"name": resident.name},
    )
    return redirect("registration:requests")


@login_required
@require_POST
def request_reject(request, request_id: int):
    row = selectors.request_get(user=request.user, request_id=request_id)
    form = RejectForm(request.POST)
    if form.is_valid():
        try:
            services.registration_reject(
                actor=request.user,
                request=row,
                reason=form.cleaned_data["reason"],
                ip_address=client_address(request),
            )
        except ValidationError as error:
            form_add_errors(form, error)
            return _requests_page(request, forms={row.pk: form}, status=status_for(error))
        messages.success(request, _("Rejected; the person gets an SMS with your reason."))
        return redirect("registration:requests")
    return _requests_page(request, forms={row.pk: form}, status=400)
