"""One-time sign-in codes sent by SMS, and the e-mail reset requests counted beside them.

Neither table holds a phone number, an e-mail address or a code in the clear: each is a
keyed hash (HMAC under the site's secret key, linli.signin.services), enough to count the
requests of one number and to check a code, and nothing a copy of the table gives away.
Rows are purged a day after they were made (signin.purge_expired).
"""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class PhoneCodePurpose(models.TextChoices):
    LOGIN = "login", _("Log in")
    RESET = "reset", _("Reset the password")
    BIND = "bind", _("Confirm a phone for an account")
    REGISTER = "register", _("Register")


class PhoneCode(models.Model):
    """One code asked for one number and purpose. Only the newest of a number and purpose
    can be used: asking again replaces the code before."""

    # HMAC of the normalised number (11 digits).
    phone_digest = models.CharField(max_length=64)
    purpose = models.CharField(_("purpose"), max_length=16, choices=PhoneCodePurpose.choices)
    # HMAC of the code with the number and purpose: a code is good for that pair only.
    code_digest = models.CharField(max_length=64)
    # Where the request came from (linli.accounts.addresses), for the per-address limit.
    address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    # Wrong codes typed against this one; at LINLI_PHONE_CODE_MAX_TRIES it is dead.
    failed_attempts = models.PositiveSmallIntegerField(_("wrong tries"), default=0)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("phone code")
        verbose_name_plural = _("phone codes")
        indexes = [
            # The newest code of a number, and its count in the last hour.
            models.Index(fields=["phone_digest", "created_at"], name="phonecode_phone_created"),
            # The count of an address in the last hour.
            models.Index(fields=["address", "created_at"], name="phonecode_address_created"),
            # The purge.
            models.Index(fields=["created_at"], name="phonecode_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(purpose__in=PhoneCodePurpose.values), name="phonecode_purpose_valid"
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")), name="phonecode_expires_after_made"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} · {self.created_at:%Y-%m-%d %H:%M}"


class EmailResetRequest(models.Model):
    """One request for a password-reset e-mail, kept for the limits per address and per
    e-mail address (whether or not an account has it: the limits answer alike)."""

    # HMAC of the e-mail address in lower case.
    email_digest = models.CharField(max_length=64)
    address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("password-reset e-mail request")
        verbose_name_plural = _("password-reset e-mail requests")
        indexes = [
            models.Index(fields=["email_digest", "created_at"], name="emailreset_email_created"),
            models.Index(fields=["address", "created_at"], name="emailreset_address_created"),
            models.Index(fields=["created_at"], name="emailreset_created"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M}"
