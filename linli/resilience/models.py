"""Resilience measured: the editable settings of the indicator catalogue (target and weight
of each indicator, weight of each dimension) and the weekly snapshots of every indicator and
of the index per grid unit, so that dashboards and trends read stored rows.

The catalogue itself (codes, names, formulas, how each is computed and drilled into) is code:
linli/resilience/catalogue.py. Only what staff may change lives here, and every change is
audited (linli.accounts AuditEntry).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.accounts.fields import GridPathField
from linli.grids.models import WithinPathQuerySet, path_index


class Dimension(models.TextChoices):
    STRUCTURAL = "structural", _("Structural resilience")
    CAPACITY = "capacity", _("Capacity resilience")
    CULTURAL = "cultural", _("Cultural resilience")


class IndicatorSetting(models.Model):
    """A target or weight changed from the catalogue's default."""

    code = models.CharField(_("indicator"), max_length=40, unique=True)
    target = models.FloatField(_("target"))
    weight = models.FloatField(_("weight"), default=1.0)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("indicator setting")
        verbose_name_plural = _("indicator settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(target__gt=0), name="indicatorsetting_target_positive"
            ),
            models.CheckConstraint(condition=Q(weight__gte=0), name="indicatorsetting_weight_min"),
        ]

    def __str__(self) -> str:
        return self.code


class DimensionSetting(models.Model):
    dimension = models.CharField(
        _("dimension"), max_length=12, choices=Dimension.choices, unique=True
    )
    weight = models.FloatField(_("weight"), default=1.0)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("dimension setting")
        verbose_name_plural = _("dimension settings")
        constraints = [
            models.CheckConstraint(condition=Q(weight__gte=0), name="dimensionsetting_weight_min"),
            models.CheckConstraint(
                condition=Q(dimension__in=Dimension.values), name="dimensionsetting_dimension_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.dimension


class IndicatorValue(models.Model):
    """One indicator for one grid unit for the week ending `period_end`."""

    grid_unit = models.ForeignKey("grids.GridUnit", on_delete=models.CASCADE, related_name="+")
    grid_path = GridPathField(editable=False)
    period_end = models.DateField(_("week ending"))
    code = models.CharField(_("indicator"), max_length=40)
    # Null when there is nothing to measure (no households, no cases closed …).
    value = models.FloatField(null=True)
    numerator = models.FloatField(null=True)
    denominator = models.FloatField(null=True)
    # The value normalised to 0–1 against the target in force when it was computed.
    score = models.FloatField(null=True)

    objects = WithinPathQuerySet.as_manager()

    class Meta:
        verbose_name = _("indicator value")
        verbose_name_plural = _("indicator values")
        indexes = [
            path_index("indvalue"),
            models.Index(fields=["grid_unit", "period_end"], name="indicatorvalue_unit_period"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["grid_unit", "period_end", "code"], name="indicatorvalue_one_per_week"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.grid_path} {self.period_end}: {self.value}"


class IndexSnapshot(models.Model):
    """The three sub-indices and the overall index of one unit for one week."""

    grid_unit = models.ForeignKey("grids.GridUnit", on_delete=models.CASCADE, related_name="+")
    grid_path = GridPathField(editable=False)
    level = models.CharField(max_length=20)
    period_end = models.DateField(_("week ending"))
    structural = models.FloatField(null=True)
    capacity = models.FloatField(null=True)
    cultural = models.FloatField(null=True)
    overall = models.FloatField(null=True)
    computed_at = models.DateTimeField(auto_now=True)

    objects = WithinPathQuerySet.as_manager()

    class Meta:
        ordering = ["grid_path", "-period_end"]
        verbose_name = _("index snapshot")
        verbose_name_plural = _("index snapshots")
        indexes = [
            path_index("indexsnap"),
            models.Index(fields=["period_end", "level"], name="indexsnapshot_period_level"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["grid_unit", "period_end"], name="indexsnapshot_one_per_week"
            )
        ]

    def __str__(self) -> str:
        return f"{self.grid_path} {self.period_end}: {self.overall}"
