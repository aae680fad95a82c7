"""A temporary password is over once the person has a password of their own, however they
set it: on /logins/password/, by a reset with a phone code or an e-mail link, or an
operator in the admin. Hooked like linli.accounts.passwords: Django calls `password_changed`
on each validator in AUTH_PASSWORD_VALIDATORS when a user is saved after `set_password`.

The services that give a temporary password mark it after saving it, so the hook never
removes the mark it is about to get.
"""

from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.logins.models import TemporaryPassword


class ForgetTemporaryPasswordOnChange:
    """Listed in AUTH_PASSWORD_VALIDATORS; refuses no password."""

    def validate(self, password: str, user: User | None = None) -> None:
        return None

    def password_changed(self, password: str, user: User | None = None) -> None:
        if user is not None and user.pk is not None:
            TemporaryPassword.objects.filter(user=user).delete()

    def get_help_text(self) -> str:
        return _("A password of your own replaces any temporary password you were given.")
