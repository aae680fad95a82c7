"""What follows a password change: every API token of the account is revoked.

Django has no "password changed" signal, but it calls `password_changed(password, user)` on
each validator in AUTH_PASSWORD_VALIDATORS whenever a user is saved after `set_password`
(AbstractBaseUser.save). Every path that sets a password goes through it: the admin's
password form, `linli changepassword` (Django's command), a password change or reset form,
a shell. A hash upgrade at login (check_password's rehash) does not: the password is the
same. The hook is preferred to a `pre_save` comparison of hashes, which would read the user
row again on every save of every user.
"""

from django.utils.translation import gettext as _

from linli.accounts.models import TokenRevocation, User
from linli.accounts.services import tokens_revoke_for_user


class RevokeApiTokensOnPasswordChange:
    """Listed last in AUTH_PASSWORD_VALIDATORS; refuses no password."""

    def validate(self, password: str, user: User | None = None) -> None:
        return None

    def password_changed(self, password: str, user: User | None = None) -> None:
        if user is not None and user.pk is not None:
            tokens_revoke_for_user(user=user, reason=TokenRevocation.PASSWORD_CHANGED)

    def get_help_text(self) -> str:
        return _("A new password signs out every app: the account's API tokens are revoked.")
