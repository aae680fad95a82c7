from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InboundConfig(AppConfig):
    name = "linli.inbound"
    label = "inbound"
    verbose_name = _("Messages from residents")

    def ready(self) -> None:
        from linli.inbound import notification_events  # noqa: F401 - declares its events
