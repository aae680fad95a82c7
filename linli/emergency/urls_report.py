"""The after-action report (HTML and PDF), the list of past reports, and lessons."""

from django.urls import path

from linli.emergency.views import report

urlpatterns = [
    path("reports/", report.report_list, name="report_list"),
    path("<int:activation_id>/report/", report.report, name="report"),
    path("<int:activation_id>/report.pdf", report.report_pdf_download, name="report_pdf"),
    path("<int:activation_id>/report/lessons/", report.lessons_update, name="report_lessons"),
]
