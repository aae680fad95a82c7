"""/healthz (liveness) and /readyz (readiness), for load balancers and monitors.

Both answer JSON and are never cached. /healthz touches nothing outside the process: it says
200 with PostgreSQL or Redis down, which is what liveness means (restarting the web server
would not bring them back). /readyz says what is down, and 503 while anything is.
"""

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from linli.ops.health import readiness_checks
from linli.ops.metrics import monitoring_access_allowed


@never_cache
@require_safe
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request):
    checks = readiness_checks()
    failing = [check.name for check in checks if not check.ok]
    # The details (versions, free space, error messages) are for the operator: from this
    # machine or with the metrics token. Anyone else learns which checks fail, not why.
    detailed = monitoring_access_allowed(request)
    body = {
        "status": "fail" if failing else "ok",
        "failing": failing,
        "checks": {
            check.name: {"ok": check.ok, **({"detail": check.detail} if detailed else {})}
            for check in checks
        },
    }
    response = JsonResponse(body, status=503 if failing else 200)
    # A 503 here is the answer asked for, not a server error: the request log has it, and
    # Django's "Service Unavailable" error line at every poll of a monitor would bury the rest.
    response._has_been_logged = True
    return response
