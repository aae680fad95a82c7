"""The community's switch for its public pages: one row per community, both pages off until
someone who may decide for the whole community turns one on."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PublicPages(models.Model):
    community = models.OneToOneField(
        "grids.GridUnit",
        on_delete=models.CASCADE,
        related_name="public_pages",
        verbose_name=_("community"),
    )
    cases_board = models.BooleanField(_("public case board"), default=False)
    calendar = models.BooleanField(_("public activity calendar"), default=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("changed by"),
    )
    updated_at = models.DateTimeField(_("changed at"))

    class Meta:
        verbose_name = _("public pages")
        verbose_name_plural = _("public pages")

    def __str__(self) -> str:
        return f"{self.community_id} board={self.cases_board} calendar={self.calendar}"
