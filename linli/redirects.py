"""One way to send a signed-in person to a step they must take first (two-factor sign-in,
the privacy notice), shared by the middlewares that guard those steps."""

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect


def send_to_step(request: HttpRequest, target: str) -> HttpResponse:
    """Redirect to `target`, coming back afterwards to the page asked for (GET only: a
    form's POST cannot be replayed), and through HX-Redirect for htmx, which would
    otherwise swap the step's whole page into a fragment."""
    if request.method == "GET":
        target = f"{target}?{urlencode({'next': request.get_full_path()})}"
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target
        return response
    return redirect(target)
