"""Print the table of events × recipients × default channels (the README's), from the
registry every app fills when Django starts (linli.notify.events)."""

from django.core.management.base import BaseCommand
from django.utils import translation

from linli.notify.events import EVENTS
from linli.notify.models import Channel


def event_table(language: str = "en") -> str:
    """The Markdown table, one row per declared event, by app then kind."""
    labels = dict(Channel.choices)
    with translation.override(language):
        lines = [
            "| App | Event (kind) | Who hears of it | Default channels | Urgent |",
            "|---|---|---|---|---|",
        ]
        for event in sorted(EVENTS.values(), key=lambda event: (event.app, event.kind)):
            channels = ", ".join(str(labels[channel]) for channel in event.channels)
            lines.append(
                f"| {event.app} | {event.label} (`{event.kind}`) | {event.recipients} "
                f"| {channels} | {'yes' if event.urgent else ''} |"
            )
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Print the notification events table (Markdown) as the README shows it."

    def add_arguments(self, parser):
        parser.add_argument("--language", default="en")

    def handle(self, *args, language: str, **options) -> None:
        self.stdout.write(event_table(language))
