"""The site's URLs plus a few views that fail on purpose, for the error-page tests."""

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.urls import path
from django.utils.translation import gettext as _

from linli.grids.models import GridUnit
from linli.urls import handler400, handler403, handler404, handler500
from linli.urls import urlpatterns as site_urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]

# What an exception may carry (paths, settings): never on the page.
INTERNALS = "RuntimeError in /srv/linli/secret.py: SECRET_KEY=abc"


def refused_with_a_reason(request):
    raise PermissionDenied(_("You may not edit the plans of %(owner)s.") % {"owner": "A社区"})


def refused(request):
    raise PermissionDenied


def broken(request):
    raise RuntimeError(INTERNALS)


def reads_the_database(request):
    return HttpResponse(str(GridUnit.objects.count()))


urlpatterns = [
    path("test-errors/refused-why/", refused_with_a_reason),
    path("test-errors/refused/", refused),
    path("test-errors/broken/", broken),
    path("test-errors/database/", reads_the_database),
    path("api/test-errors/broken/", broken),
    *site_urlpatterns,
]
