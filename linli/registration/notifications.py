"""The events of self-registration, in the one table of who hears what (linli.notify.events)."""

from django.utils.translation import gettext_lazy as _

from linli.notify.events import register_event
from linli.notify.models import Channel

register_event(
    "registration_requested",
    label=_("A registration waits for a decision"),
    recipients=_("The building-group leader of the building (else the nearest lead above)"),
    app="registration",
)
register_event(
    "registration_decided",
    label=_("A registration was approved or rejected"),
    recipients=_("The person who registered, at the phone they proved"),
    channels=(Channel.SMS,),
    app="registration",
)
