"""The participation app's pages under /activities/: each sub-domain names its own, all in
the `participation` namespace."""

from django.urls import include, path

app_name = "participation"

urlpatterns = [
    path("surveys/", include("linli.participation.surveys.urls")),
    path("ties/", include("linli.participation.ties.urls")),
    path("deliberation/", include("linli.participation.deliberation.urls")),
    path("", include("linli.participation.activities.urls")),
]
