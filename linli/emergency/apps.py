from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EmergencyConfig(AppConfig):
    name = "linli.emergency"
    label = "emergency"
    verbose_name = _("Emergency operation")

    def ready(self) -> None:
        # The emergency's events in the table of who hears what (linli.notify.events).
        from linli.emergency import notification_events  # noqa: F401
