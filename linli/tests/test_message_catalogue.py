"""The Chinese catalogue is whole: one plural form (Chinese has no plural), every message
translated, nothing fuzzy. A merge that drops the header's Plural-Forms makes every counted
phrase ("310 visits need follow-up") fall back to English, which no page test notices."""

import re
from pathlib import Path

from django.utils import translation
from django.utils.translation import ngettext

CATALOGUE = Path(__file__).resolve().parents[1] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def _entries() -> list[str]:
    return CATALOGUE.read_text(encoding="utf-8").split("\n\n")


def test_the_header_gives_chinese_its_single_plural_form():
    header = _entries()[0]
    assert '"Plural-Forms: nplurals=1; plural=0;\\n"' in header


def test_a_counted_phrase_is_chinese_for_every_count():
    with translation.override("zh-hans"):
        for count in (0, 1, 2, 310):
            phrase = ngettext("%(counter)s unread", "%(counter)s unread", count) % {
                "counter": count
            }
            assert phrase == f"{count} 条未读"


def test_every_message_is_translated_and_none_is_fuzzy():
    untranslated, fuzzy = [], []
    for entry in _entries()[1:]:
        if not entry.strip() or entry.lstrip().startswith("#~"):
            continue
        if re.search(r"^#,.*\bfuzzy\b", entry, re.MULTILINE):
            fuzzy.append(entry)
        # A msgstr (or each msgstr[n]) that is empty and not continued on the next line.
        if re.search(r'^msgstr(\[\d+\])? ""$(?!\n")', entry, re.MULTILINE):
            untranslated.append(entry)
    assert untranslated == []
    assert fuzzy == []
