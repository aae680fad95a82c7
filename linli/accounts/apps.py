from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "linli.accounts"
    label = "accounts"
    verbose_name = _("Accounts and audit")

    def ready(self):
        from django.core import checks
        from django.db.models.signals import post_migrate

        from linli.accounts.fieldkey import field_key_check, record_after_migrate

        # Before any command serves or writes: a field key that cannot read the stored ID
        # numbers stops the platform (linli.accounts.fieldkey).
        checks.register(field_key_check, "linli")
        post_migrate.connect(record_after_migrate, dispatch_uid="linli.accounts.field_key")
