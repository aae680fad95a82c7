"""The events of messages that residents send in (linli.notify.events)."""

from django.utils.translation import gettext_lazy as _

from linli.notify.events import register_event

register_event(
    "inbound_message",
    label=_("A resident sent a message by SMS or WeChat"),
    recipients=_("Staff who file cases in the sender's community (street staff if unmatched)"),
    app="inbound",
)
