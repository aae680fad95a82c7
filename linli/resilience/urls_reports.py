"""/resilience/reports/: the monthly and quarterly reports and their downloads."""

from django.urls import path

from linli.resilience.views import reports

urlpatterns = [
    path("", reports.report_list, name="reports"),
    path("<int:unit_id>/<str:kind>/<str:period>.pdf", reports.report_pdf, name="report_pdf"),
    path("<int:unit_id>/<str:kind>/<str:period>.xlsx", reports.report_xlsx, name="report_xlsx"),
]
