"""/emergency/: plans, activation and the live board, a volunteer's tasks, help requests,
and the after-action report. Each area keeps its own routes."""

from django.urls import include, path

app_name = "emergency"

urlpatterns = [
    path("plans/", include("linli.emergency.urls_plans")),
    path("", include("linli.emergency.urls_my_tasks")),
    path("", include("linli.emergency.urls_help_requests")),
    path("", include("linli.emergency.urls_report")),
    path("", include("linli.emergency.urls_command")),
]
