"""/resilience/: the dashboard, the drill-down behind an indicator value, the list behind
the unvisited-vulnerable alert, and the indicator catalogue."""

from django.urls import path

from linli.resilience.views import dashboard

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path(
        "unit/<int:unit_id>/indicator/<str:code>/",
        dashboard.drilldown,
        name="drilldown",
    ),
    path(
        "unit/<int:unit_id>/alerts/unvisited-vulnerable/",
        dashboard.alert_unvisited,
        name="alert_unvisited",
    ),
    path("indicators/", dashboard.catalogue, name="catalogue"),
]
