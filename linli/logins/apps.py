from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoginsConfig(AppConfig):
    name = "linli.logins"
    label = "logins"
    verbose_name = _("Logins")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from linli.logins.middleware import mark_session_at_sign_in

        user_logged_in.connect(mark_session_at_sign_in, dispatch_uid="linli.logins.owes_password")
