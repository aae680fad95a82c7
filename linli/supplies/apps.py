from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SuppliesConfig(AppConfig):
    name = "linli.supplies"
    label = "supplies"
    verbose_name = _("Emergency supplies")

    def ready(self) -> None:
        # The events of supplies, in the one table of who hears what (linli.notify).
        from linli.supplies import notification_events  # noqa: F401
