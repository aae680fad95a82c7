"""Emergency supplies (物资): items kept at a location, and their append-only movements.

`SupplyItem.quantity` is the running balance. Only `stock_move` changes it, with one
conditional UPDATE (so two stock-outs of the last unit cannot both pass), and a named CHECK
keeps it from ever going below zero whatever code writes it.
"""

from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.accounts.fields import GridPathField
from linli.grids.models import WithinPathQuerySet, path_index


class SupplyCategory(models.TextChoices):
    MEDICAL = "medical", _("Medical")
    FOOD = "food", _("Food")
    WATER = "water", _("Water")
    SHELTER = "shelter", _("Shelter and bedding")
    TOOLS = "tools", _("Tools and rescue")
    POWER = "power", _("Power and light")
    HYGIENE = "hygiene", _("Hygiene and protection")
    OTHER = "other", _("Other")


class StockLocation(models.Model):
    """Where supplies are kept, e.g. the shared space's medical box (共享空间医药箱)."""

    grid_unit = models.ForeignKey(
        "grids.GridUnit", on_delete=models.PROTECT, related_name="stock_locations"
    )
    grid_path = GridPathField(editable=False)
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WithinPathQuerySet.as_manager()

    class Meta:
        ordering = ["grid_path", "name"]
        verbose_name = _("stock location")
        verbose_name_plural = _("stock locations")
        indexes = [path_index("stocklocation")]
        constraints = [
            models.UniqueConstraint(
                fields=["grid_unit", "name"], name="stocklocation_unique_name_in_unit"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SupplyItem(models.Model):
    location = models.ForeignKey(StockLocation, on_delete=models.PROTECT, related_name="items")
    grid_path = GridPathField(editable=False)
    name = models.CharField(_("name"), max_length=100)
    category = models.CharField(_("category"), max_length=10, choices=SupplyCategory.choices)
    unit = models.CharField(_("unit"), max_length=20)
    quantity = models.IntegerField(_("quantity"), default=0, editable=False)
    minimum_level = models.PositiveIntegerField(_("minimum level"), default=0)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WithinPathQuerySet.as_manager()

    class Meta:
        ordering = ["grid_path", "location_id", "name"]
        verbose_name = _("supply item")
        verbose_name_plural = _("supply items")
        indexes = [path_index("supplyitem")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gte=0), name="supplyitem_quantity_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(category__in=SupplyCategory.values),
                name="supplyitem_category_valid",
            ),
            models.UniqueConstraint(
                fields=["location", "name", "expires_on"],
                name="supplyitem_unique_batch_at_location",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.location})"

    @property
    def is_below_minimum(self) -> bool:
        return self.quantity < self.minimum_level

    def expires_within(self, today: date, days: int) -> bool:
        return self.expires_on is not None and self.expires_on <= today + timedelta(days=days)


class MovementDirection(models.TextChoices):
    IN = "in", _("In")
    OUT = "out", _("Out")


class StockMovement(models.Model):
    """Append-only: a wrong movement is answered by another movement, never an edit."""

    item = models.ForeignKey(SupplyItem, on_delete=models.PROTECT, related_name="movements")
    grid_path = GridPathField(editable=False)
    direction = models.CharField(_("direction"), max_length=3, choices=MovementDirection.choices)
    quantity = models.PositiveIntegerField(_("quantity"))
    balance_after = models.IntegerField(_("balance after"))
    reason = models.CharField(_("reason"), max_length=200)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WithinPathQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        indexes = [path_index("stockmovement")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="stockmovement_quantity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(balance_after__gte=0),
                name="stockmovement_balance_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(direction__in=MovementDirection.values),
                name="stockmovement_direction_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item} {self.direction} {self.quantity}"
