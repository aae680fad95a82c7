from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class PublicConfig(AppConfig):
    """Pages anyone may read without a login, where a community turns them on: the public
    case board, the activity calendar and their RSS/Atom feeds.

    It stands beside privacy and resilience (it reads cases, activities and the registry's
    grid units) and nothing below imports it."""

    name = "linli.public"
    label = "public"
    verbose_name = _("Public pages")

    def ready(self) -> None:
        # The audit log names what it knows in words (linli.accounts.audit_words); accounts
        # sits below every app, so the words for this app's entries are given from here.
        from linli.accounts import audit_words

        audit_words.OBJECT_NOUNS.setdefault(
            "public_pages", pgettext_lazy("audit object", "public pages of the community")
        )
        audit_words.FIELD_NOUNS.setdefault(
            "cases_board", pgettext_lazy("audit field", "public case board")
        )
        audit_words.FIELD_NOUNS.setdefault(
            "calendar", pgettext_lazy("audit field", "public activity calendar")
        )
