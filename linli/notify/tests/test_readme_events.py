"""README's table of events × recipients × channels is the one the declarations print."""

from pathlib import Path

from linli.notify.management.commands.notification_events import event_table

README = Path(__file__).resolve().parents[3] / "README.md"


def test_the_readme_event_table_is_the_declared_one():
    text = README.read_text()
    start = text.index("<!-- events:start -->\n") + len("<!-- events:start -->\n")
    end = text.index("\n<!-- events:end -->")
    assert text[start:end] == event_table()
