"""The one row this app keeps: a password a secretary issued, to be replaced at first sign-in.

Logins themselves are accounts' User rows; posts and resident links are grids' rows. What a
User cannot say is that its current password was shown to someone else, so it is marked
here until the person sets their own (linli.logins.middleware sends them to do so).
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# A temporary password nobody used within this long no longer signs anyone in to the pages:
# the person asks for a new one (or signs in with a phone code).
TEMPORARY_PASSWORD_DAYS = 7


class TemporaryPassword(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="temporary_password"
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    issued_at = models.DateTimeField()

    class Meta:
        verbose_name = _("temporary password")
        verbose_name_plural = _("temporary passwords")

    def __str__(self) -> str:
        return f"{self.user} · {self.issued_at:%Y-%m-%d %H:%M}"

    @property
    def expires_at(self):
        return self.issued_at + timedelta(days=TEMPORARY_PASSWORD_DAYS)
