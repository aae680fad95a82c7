"""/resilience/: the dashboard and drill-down, the 民情 map, and the reports."""

from django.urls import include, path

app_name = "resilience"

urlpatterns = [
    path("map/", include("linli.resilience.urls_map")),
    path("reports/", include("linli.resilience.urls_reports")),
    path("", include("linli.resilience.urls_dashboard")),
]
