"""Case photos, served only through the case's scope.

MEDIA_ROOT has no public URL: a photo shows a resident's home, staircase or face, so each
request goes through `selectors.case_get` (404 outside the user's scope, exactly as for the
case itself). The public board never links here.
"""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.views.decorators.http import require_GET

from linli.cases import selectors
from linli.cases.models import PHOTO_EXTENSIONS


@login_required
@require_GET
def photo(request, case_id: int, photo_id: int):
    case = selectors.case_get(user=request.user, case_id=case_id)
    found = case.photos.filter(pk=photo_id).first()
    if found is None:
        raise Http404
    try:
        handle = found.image.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    extension = PHOTO_EXTENSIONS.get(found.content_type, "bin")
    response = FileResponse(
        handle,
        content_type=found.content_type,
        as_attachment=False,
        filename=f"{case.reference}-{found.pk}.{extension}",
    )
    # Personal data: kept by no cache, not even the browser's (a community office's shared
    # computer); linli.ops.security_headers says the same for every signed-in answer.
    response["Cache-Control"] = "no-store"
    return response
