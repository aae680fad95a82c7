"""Open311 GeoReport v2: the keys that external clients file with, and what a client told us
about the person behind a request.

A key belongs to one community and carries that community's path, so the same prefix match
that scopes the registry scopes the key list. Only the SHA-256 of a key is stored (as for
accounts.ApiToken); a short prefix, which is not secret, tells keys apart in lists.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.fields import GridPathField
from linli.grids.models import WithinPathQuerySet, path_index

PREFIX_LENGTH = 8


class Open311KeyQuerySet(WithinPathQuerySet):
    def active(self) -> "Open311KeyQuerySet":
        return self.filter(revoked_at__isnull=True)


class Open311Key(models.Model):
    name = models.CharField(_("name"), max_length=100)
    community = models.ForeignKey(
        "grids.GridUnit",
        on_delete=models.PROTECT,
        related_name="open311_keys",
        limit_choices_to={"level": "community"},
        verbose_name=_("community"),
    )
    grid_path = GridPathField(editable=False)
    prefix = models.CharField(_("prefix"), max_length=PREFIX_LENGTH)
    key_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("issued by"),
    )
    created_at = models.DateTimeField(_("issued at"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    objects = Open311KeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("Open311 key")
        verbose_name_plural = _("Open311 keys")
        indexes = [path_index("open311key")]
        constraints = [
            models.UniqueConstraint(fields=["key_hash"], name="open311key_unique_hash"),
            models.UniqueConstraint(fields=["prefix"], name="open311key_unique_prefix"),
            models.CheckConstraint(condition=~models.Q(name=""), name="open311key_has_name"),
            models.CheckConstraint(
                condition=models.Q(revoked_at__isnull=True)
                | models.Q(revoked_at__gte=models.F("created_at")),
                name="open311key_revoked_after_issue",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Open311Submission(models.Model):
    """Who filed a case through Open311, as the client told us: the minimum needed to answer
    them. Personal data: never in the public GET endpoints; the phone is shown masked."""

    case = models.OneToOneField(
        "cases.Case", on_delete=models.CASCADE, related_name="open311_submission"
    )
    key = models.ForeignKey(
        Open311Key, on_delete=models.PROTECT, related_name="submissions", verbose_name=_("key")
    )
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    email = models.EmailField(_("email"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    device_id = models.CharField(_("device ID"), max_length=100, blank=True)
    account_id = models.CharField(_("account ID"), max_length=100, blank=True)
    media_url = models.URLField(_("media URL"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("Open311 submission")
        verbose_name_plural = _("Open311 submissions")

    def __str__(self) -> str:
        return f"{self.case_id} · {self.key_id}"
