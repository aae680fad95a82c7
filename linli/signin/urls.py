from django.urls import path

from linli.signin import views

app_name = "signin"

urlpatterns = [
    path("phone/", views.phone_login, name="phone"),
    path("phone/code/", views.phone_login_code, name="phone_code"),
    path("reset/", views.reset_phone, name="reset"),
    path("reset/code/", views.reset_phone_code, name="reset_code"),
    path("reset/password/", views.reset_phone_password, name="reset_password"),
    path("reset/email/", views.reset_email, name="reset_email"),
    path("reset/email/sent/", views.reset_email_sent, name="reset_email_sent"),
    path(
        "reset/email/<uidb64>/<token>/",
        views.EmailResetConfirmView.as_view(),
        name="reset_email_confirm",
    ),
    path("reset/done/", views.reset_done, name="reset_done"),
    path("trial-messages/", views.trial_messages, name="trial_messages"),
]
