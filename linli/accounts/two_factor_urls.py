from django.urls import path

from linli.accounts import two_factor_views as views

app_name = "two_factor"

urlpatterns = [
    path("", views.status, name="status"),
    path("enrol/", views.enrol, name="enrol"),
    path("verify/", views.verify, name="verify"),
    path("recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("recovery-codes/download/", views.recovery_codes_download, name="recovery_codes_download"),
    path("recovery-codes/done/", views.recovery_codes_done, name="recovery_codes_done"),
    path("staff/", views.staff, name="staff"),
    path("staff/<int:user_id>/reset/", views.staff_reset, name="staff_reset"),
]
