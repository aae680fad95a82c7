"""Ties between people: stored results of the co-participation network
(linli.participation.ties.services).

The network is rebuilt in the background (nightly, or `linli ties rebuild`); pages and the
API only read these rows, so a leader's list of people to visit is one indexed query however
large the street. A rebuild adds new snapshots and marks them current; older ones stay as
history, so a number shown yesterday can still be traced.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.accounts.fields import GridPathField
from linli.grids.models import WithinPathQuerySet, path_index


class TieSnapshotQuerySet(WithinPathQuerySet):
    def current(self) -> "TieSnapshotQuerySet":
        return self.filter(is_current=True)


class TieSnapshot(models.Model):
    """One grid unit's network measures at one computation."""

    unit = models.ForeignKey(
        "grids.GridUnit", on_delete=models.CASCADE, related_name="+", verbose_name=_("grid unit")
    )
    grid_path = GridPathField(editable=False)
    level = models.CharField(_("level"), max_length=20)
    computed_at = models.DateTimeField(_("computed at"))
    window_days = models.PositiveSmallIntegerField(_("lookback (days)"))
    residents = models.PositiveIntegerField(_("residents"))
    # Residents who attended an activity or posted an opinion in the window.
    participants = models.PositiveIntegerField(_("participants"))
    # Ties between two participants of this unit, and the shared events behind them.
    ties = models.PositiveIntegerField(_("ties"))
    shared_events = models.PositiveIntegerField(_("shared events"))
    density = models.FloatField(_("density"))
    largest_component_share = models.FloatField(_("largest connected share"), null=True)
    isolated_vulnerable = models.PositiveIntegerField(_("vulnerable residents without ties"))
    is_current = models.BooleanField(default=True)

    objects = TieSnapshotQuerySet.as_manager()

    class Meta:
        ordering = ["grid_path", "-computed_at"]
        verbose_name = _("tie snapshot")
        verbose_name_plural = _("tie snapshots")
        indexes = [
            path_index("tiesnapshot"),
            models.Index(fields=["unit", "-computed_at"], name="tiesnapshot_unit_recent"),
        ]
        constraints = [
            # Exactly one current snapshot per unit: what the page and the API show.
            models.UniqueConstraint(
                fields=["unit"], condition=models.Q(is_current=True), name="tiesnapshot_one_current"
            ),
            models.CheckConstraint(
                condition=models.Q(density__gte=0, density__lte=1), name="tiesnapshot_density_range"
            ),
            models.CheckConstraint(
                condition=models.Q(participants__lte=models.F("residents")),
                name="tiesnapshot_participants_le_residents",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grid_path} {self.computed_at:%Y-%m-%d %H:%M}"


class IsolatedResidentQuerySet(WithinPathQuerySet):
    def current(self) -> "IsolatedResidentQuerySet":
        return self.filter(is_current=True)


class IsolatedResident(models.Model):
    """A vulnerable resident with no tie in the window: someone for their leaders to visit.

    Attached to the resident's micro-grid snapshot; `grid_path` is the resident's own path
    and `is_current` is copied from the snapshot, so the list for any subtree is one index
    range without a join."""

    snapshot = models.ForeignKey(
        TieSnapshot, on_delete=models.CASCADE, related_name="isolated_residents"
    )
    resident = models.ForeignKey("grids.Resident", on_delete=models.CASCADE, related_name="+")
    grid_path = GridPathField(editable=False)
    is_current = models.BooleanField(default=True)

    objects = IsolatedResidentQuerySet.as_manager()

    class Meta:
        ordering = ["grid_path", "resident_id"]
        verbose_name = _("resident without ties")
        verbose_name_plural = _("residents without ties")
        indexes = [
            models.Index(
                fields=["grid_path", "resident"],
                condition=models.Q(is_current=True),
                name="isolated_current_path",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "resident"], name="isolated_one_per_snapshot"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resident_id} @ {self.snapshot_id}"
