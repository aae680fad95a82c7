"""The events people wait for, who hears of them and on which channels by default.

Each app that sends declares its events here when Django starts (its `notifications`
module, imported by its AppConfig.ready), so that one table says what reaches whom: the
README's event table is printed from it (`linli notification-events`), and a test keeps the
two the same. notify knows the kinds by their codes only.

`notification_send(..., channels=None)` reads the event's default channels and keeps, per
recipient, those the person has not turned off and has an address for. In-app is always on.
An urgent event (an emergency) goes at once, through quiet hours and past a daily digest,
and cannot be muted.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise

from linli.notify.models import Channel


@dataclass(frozen=True)
class Event:
    kind: str
    # What happened, for people: "Your case changed state".
    label: str | Promise
    # Who hears of it: "The reporter", "The building-group leader of the building".
    recipients: str | Promise
    # Beyond the inbox, which channels carry it when the person has not said otherwise.
    channels: tuple[str, ...] = (Channel.INAPP,)
    urgent: bool = False
    # The app that declared it, for the table.
    app: str = ""


EVENTS: dict[str, Event] = {}


def register_event(
    kind: str,
    *,
    label: str | Promise,
    recipients: str | Promise,
    channels: tuple[str, ...] = (Channel.INAPP,),
    urgent: bool = False,
    app: str = "",
) -> Event:
    """Declare an event; declaring the same kind twice with other values is a mistake."""
    unknown = set(channels) - set(Channel.values)
    if unknown:
        raise ValueError(f"event {kind!r}: unknown channels {sorted(unknown)}")
    channels = tuple(dict.fromkeys((Channel.INAPP, *channels)))
    event = Event(kind, label, recipients, channels, urgent, app)
    existing = EVENTS.get(kind)
    if existing is not None and existing != event:
        raise ValueError(f"event {kind!r} is declared twice, differently")
    EVENTS[kind] = event
    return event


def event_for(kind: str) -> Event | None:
    return EVENTS.get(kind)


def is_urgent(kind: str) -> bool:
    event = EVENTS.get(kind)
    return bool(event and event.urgent)


# What people follow ---------------------------------------------------------------------------

FollowDescriber = Callable[[str], tuple[str, str] | None]
FOLLOW_KINDS: dict[str, FollowDescriber] = {}


def register_follow_kind(kind: str, describe: FollowDescriber) -> None:
    """Say how a follow target "<kind>:<id>" reads: `describe(id)` gives (title, link) for
    the person's list of follows, or None when the thing is gone."""
    FOLLOW_KINDS[kind] = describe


def describe_target(target: str) -> tuple[str, str]:
    """(title, link) of a follow target; the target itself and no link when nobody said."""
    kind, _separator, identifier = target.partition(":")
    describe = FOLLOW_KINDS.get(kind)
    described = describe(identifier) if describe else None
    return described or (target, "")
