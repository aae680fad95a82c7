"""The events of emergency supplies, in the one table of who hears what
(linli.notify.events). Imported by SuppliesConfig.ready."""

from django.utils.translation import gettext_lazy as _

from linli.notify.events import register_event

# Sent with the inbox only (supplies.services._warn_below_minimum passes no channels).
register_event(
    "supply_low",
    label=_("A supply fell below its minimum level"),
    recipients=_("Secretaries and street administrators who keep supplies over the supply's place"),
    app="supplies",
)
