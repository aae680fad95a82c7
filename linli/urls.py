from django.contrib import admin
from django.urls import include, path

from linli.api import api

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("registry/", include("linli.grids.urls")),
    path("inbox/", include("linli.notify.urls")),
    path("cases/", include("linli.cases.urls")),
    path("volunteers/", include("linli.volunteers.urls")),
    path("open311/", include("linli.open311.urls")),
    path("partners/", include("linli.partners.urls")),
    path("supplies/", include("linli.supplies.urls")),
    path("activities/", include("linli.participation.urls")),
    path("emergency/", include("linli.emergency.urls")),
    path("resilience/", include("linli.resilience.urls")),
    path("", include("linli.web.urls")),
]
