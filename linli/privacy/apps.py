from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    """Residents' rights under PIPL and the retention rules: moving out, anonymisation on
    request, and the nightly run that anonymises what is past its retention period.

    It stands above the domain apps (it erases their rows) and nothing below imports it."""

    name = "linli.privacy"
    label = "privacy"
    verbose_name = _("Privacy and retention")
