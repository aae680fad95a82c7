"""Photos of an activity's date: organisers add them on the occurrence page; anyone who may
see the activity sees them, served through this view (never as public files)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.participation import selectors, services
from linli.participation.models import ActivityPhoto


@login_required
@require_POST
def photos_add(request, occurrence_id: int):
    occurrence = selectors.occurrence_get_managed(user=request.user, occurrence_id=occurrence_id)
    try:
        services.occurrence_photos_add(
            actor=request.user, occurrence=occurrence, files=request.FILES.getlist("photos")
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Photos added."))
    return redirect("participation:occurrence", occurrence.pk)


@login_required
def photo(request, occurrence_id: int, photo_id: int):
    occurrence = selectors.occurrence_get(user=request.user, occurrence_id=occurrence_id)
    found = ActivityPhoto.objects.filter(pk=photo_id, occurrence=occurrence).first()
    if found is None:
        raise Http404
    response = FileResponse(found.image.open("rb"), content_type=found.content_type)
    response["Cache-Control"] = "no-store"  # personal data (linli.ops.security_headers)
    return response
