from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SigninConfig(AppConfig):
    """Getting in without a password: one-time codes by SMS, password reset."""

    name = "linli.signin"
    label = "signin"
    verbose_name = _("Sign-in codes")
