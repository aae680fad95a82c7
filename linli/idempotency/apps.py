from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdempotencyConfig(AppConfig):
    """Stored answers to writes sent with an Idempotency-Key, kept for a day."""

    name = "linli.idempotency"
    label = "idempotency"
    verbose_name = _("Idempotency keys")
