"""/metrics in the Prometheus text format: from this machine or with the metrics token, and
otherwise the same 404 as an address that does not exist."""

from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from linli.ops.metrics import metrics_exposition, monitoring_access_allowed


@never_cache
@require_safe
def metrics(request):
    if not monitoring_access_allowed(request):
        raise Http404
    body, content_type = metrics_exposition()
    return HttpResponse(body, content_type=content_type)
