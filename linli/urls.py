from django.contrib import admin
from django.urls import include, path

from linli.api import api
from linli.ops.views.health import healthz, readyz
from linli.ops.views.metrics import metrics

urlpatterns = [
    # Operations (linli.ops): liveness, readiness, Prometheus metrics.
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("account/two-factor/", include("linli.accounts.two_factor_urls")),
    path("account/tokens/", include("linli.accounts.token_urls")),
    path("api/v1/", api.urls),
    path("registry/", include("linli.grids.urls")),
    path("inbox/", include("linli.notify.urls")),
    path("cases/", include("linli.cases.urls")),
    path("volunteers/", include("linli.volunteers.urls")),
    path("open311/", include("linli.open311.urls")),
    path("join/", include("linli.registration.urls")),
    path("invitations/", include("linli.invitations.urls")),
    path("signin/", include("linli.signin.urls")),
    path("wechat/", include("linli.wechat.urls")),
    path("logins/", include("linli.logins.urls")),
    path("partners/", include("linli.partners.urls")),
    path("supplies/", include("linli.supplies.urls")),
    path("activities/", include("linli.participation.urls")),
    path("emergency/", include("linli.emergency.urls")),
    path("resilience/", include("linli.resilience.urls")),
    path("privacy/", include("linli.privacy.views")),
    path("public/", include("linli.public.urls")),
    path("ops/", include("linli.ops.urls")),
    path("inbound/", include("linli.inbound.urls")),
    path("", include("linli.web.urls")),
]

# Error pages in the site's layout, Chinese or English, with a way home (linli/web/errors.py).
handler400 = "linli.web.errors.bad_request"
handler403 = "linli.web.errors.permission_denied"
handler404 = "linli.web.errors.page_not_found"
handler500 = "linli.web.errors.server_error"
