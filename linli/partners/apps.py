from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartnersConfig(AppConfig):
    name = "linli.partners"
    label = "partners"
    verbose_name = _("Partners and the three lists")

    def ready(self) -> None:
        # The events of claims and the needs list, in the one table of who hears what.
        from linli.partners import notification_events  # noqa: F401
