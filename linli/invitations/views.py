"""Invitation pages: the batches and the form that makes one (/invitations/), a batch with
its households (/invitations/batches/<id>/), and the public address in every QR code and
SMS (/invitations/i/<token>/), which sends the holder on to the registration form.

A letter batch answers its POST with the letters themselves (a PDF): the tokens exist only
in that answer. Reads go through `linli.invitations.selectors`, writes through
`linli.invitations.services`; anything outside the user's scope answers 404.
"""

from io import BytesIO
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from linli import clock
from linli.errors import PERMISSION_DENIED
from linli.forms import form_add_errors
from linli.idempotency.web import once_per_form
from linli.invitations import selectors, services
from linli.invitations.forms import BatchForm
from linli.invitations.models import InvitationChannel

PAGE_SIZE = 100


def _letters_response(result: services.IssueResult) -> FileResponse:
    return FileResponse(
        BytesIO(result.pdf or b""),
        as_attachment=True,
        filename=f"invitations-{result.batch.pk}-{result.batch.printings}.pdf",
        content_type="application/pdf",
    )


def _refusal(form, error: ValidationError) -> None:
    if getattr(error, "code", None) == PERMISSION_DENIED:
        raise Http404 from None
    form_add_errors(form, error)


@login_required
@never_cache
@once_per_form
def index(request):
    user = request.user
    selectors.needs_inviting(user=user)
    form = BatchForm(request.POST or None)
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        # A building or unit outside the user's scope answers 404 (NotVisible).
        selection = selectors.household_selection(
            user=user,
            kind=data["selection"],
            building_id=data["building"],
            grid_unit_id=data["grid_unit"],
        )
        resident_filter = selectors.resident_filter_for(data["selection"])
        if request.POST.get("action") == "preview":
            preview = selectors.selection_preview(
                user=user,
                selection=selection,
                resident_filter=resident_filter,
                skip_registered=data["skip_registered"],
            )
            preview["description"] = selection.description
        else:
            try:
                result = services.invitations_create(
                    actor=user,
                    households=selection,
                    resident_filter=resident_filter,
                    days=data["days"],
                    channel=data["channel"],
                    print_names=data["print_names"],
                    skip_registered=data["skip_registered"],
                )
            except ValidationError as error:
                _refusal(form, error)
            else:
                if result.batch.channel == InvitationChannel.LETTER:
                    return _letters_response(result)
                messages.success(
                    request,
                    ngettext(
                        "%(count)d invitation queued by SMS.",
                        "%(count)d invitations queued by SMS.",
                        len(result.issued),
                    )
                    % {"count": len(result.issued)},
                )
                return redirect("invitations:batch", batch_id=result.batch.pk)
    batches = Paginator(
        selectors.batches_visible(user=user).order_by("-created_at", "-id"), 20
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "invitations/index.html",
        {
            "form": form,
            "preview": preview,
            "page": batches,
            "buildings": selectors.buildings_for_inviting(user=user),
            "units": selectors.grid_units_for_inviting(user=user),
        },
        status=400 if form.errors else 200,
    )


@login_required
@never_cache
def batch_detail(request, batch_id: int):
    user = request.user
    batch = selectors.batch_get(user=user, batch_id=batch_id)
    invitations = selectors.batch_invitations(batch=batch).filter(revoked_at__isnull=True)
    return render(
        request,
        "invitations/batch_detail.html",
        {
            "batch": batch,
            "counts": selectors.batch_counts(batch=batch),
            "now": clock.now(),
            "page": Paginator(invitations.order_by("grid_path", "id"), PAGE_SIZE).get_page(
                request.GET.get("page")
            ),
            "no_phone": batch.no_phone_households.select_related("building").order_by(
                "grid_path", "building__name", "room"
            ),
        },
    )


@login_required
@never_cache
@require_POST
def batch_reissue(request, batch_id: int):
    user = request.user
    batch = selectors.batch_get(user=user, batch_id=batch_id)
    try:
        result = services.invitation_batch_reissue(actor=user, batch=batch)
    except ValidationError as error:
        if getattr(error, "code", None) == PERMISSION_DENIED:
            raise Http404 from None
        messages.error(request, " ".join(error.messages))
        return redirect("invitations:batch", batch_id=batch.pk)
    if batch.channel == InvitationChannel.LETTER:
        return _letters_response(result)
    messages.success(
        request,
        ngettext(
            "%(count)d invitation queued by SMS; the earlier ones no longer work.",
            "%(count)d invitations queued by SMS; the earlier ones no longer work.",
            len(result.issued),
        )
        % {"count": len(result.issued)},
    )
    return redirect("invitations:batch", batch_id=batch.pk)


@login_required
@never_cache
@require_POST
def batch_letters_for_no_phone(request, batch_id: int):
    """Letters for the households an SMS batch could not reach: a letter batch of its own."""
    user = request.user
    batch = selectors.batch_get(user=user, batch_id=batch_id)
    try:
        result = services.invitations_create(
            actor=user,
            households=selectors.no_phone_selection(batch=batch),
            resident_filter=selectors.resident_filter_for(batch.selection),
            days=batch.days,
            channel=InvitationChannel.LETTER,
            print_names=False,
            skip_registered=batch.skip_registered,
        )
    except ValidationError as error:
        if getattr(error, "code", None) == PERMISSION_DENIED:
            raise Http404 from None
        messages.error(request, " ".join(error.messages))
        return redirect("invitations:batch", batch_id=batch.pk)
    return _letters_response(result)


def registration_url(building, token: str) -> str | None:
    """The registration form for the invitation's building, with the invitation; None while
    the registration app (linli.registration) offers no building token."""
    try:
        from linli.registration.tokens import building_token
    except ImportError:
        return None
    return (
        f"/join/b/{quote(building_token(building), safe=':')}/?{urlencode({'invitation': token})}"
    )


@never_cache
def invitation_open(request, token: str):
    """Where the QR code and the SMS lead. A live invitation goes on to the registration
    form of its building; anything else (unknown, used, replaced, expired) gets the same
    friendly page, which says how to register without it."""
    invitation = selectors.invitation_for_token(token)
    if invitation is not None:
        target = registration_url(invitation.household.building, token)
        if target:
            return redirect(target)
    return render(request, "invitations/open.html", {})


app_name = "invitations"

urlpatterns = [
    path("", index, name="index"),
    path("batches/<int:batch_id>/", batch_detail, name="batch"),
    path("batches/<int:batch_id>/reissue/", batch_reissue, name="reissue"),
    path(
        "batches/<int:batch_id>/no-phone-letters/",
        batch_letters_for_no_phone,
        name="no_phone_letters",
    ),
    path("i/<str:token>/", invitation_open, name="open"),
]
