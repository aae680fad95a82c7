"""Read-only admin lists of supplies, scoped like the pages (stock moves only through
supplies.services.stock_move, which keeps the ledger append-only)."""

from django.contrib import admin

from linli.accounts.roles import Permission
from linli.grids.admin import ReadOnlyScopedAdmin
from linli.supplies import selectors
from linli.supplies.models import StockMovement, SupplyItem


class SuppliesReadOnlyAdmin(ReadOnlyScopedAdmin):
    """Opened by those who manage supplies (SUPPLIES_MANAGE); each list its own selector."""

    selector = staticmethod(selectors.items_visible)
    view_permission = Permission.SUPPLIES_MANAGE


@admin.register(SupplyItem)
class SupplyItemAdmin(SuppliesReadOnlyAdmin):
    list_display = ("name", "location", "quantity", "unit", "minimum_level", "expires_on")


@admin.register(StockMovement)
class StockMovementAdmin(SuppliesReadOnlyAdmin):
    selector = staticmethod(selectors.movements_visible)
    list_display = ("item", "direction", "quantity", "balance_after", "reason", "created_at")
