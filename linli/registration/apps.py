from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistrationConfig(AppConfig):
    name = "linli.registration"
    label = "registration"
    verbose_name = _("Self-registration")

    def ready(self) -> None:
        # The two events this app sends, in the one table of who hears what (linli.notify).
        from linli.registration import notifications  # noqa: F401
