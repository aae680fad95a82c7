"""Read-only admin lists of supplies, scoped like the pages (stock moves only through
supplies.services.stock_move, which keeps the ledger append-only)."""

from django.contrib import admin

from linli.accounts.roles import Permission
from linli.grids import selectors as grid_selectors
from linli.supplies import selectors
from linli.supplies.models import StockMovement, SupplyItem


class ReadOnlyScopedAdmin(admin.ModelAdmin):
    selector = staticmethod(selectors.items_visible)

    def get_queryset(self, request):
        return self.selector(user=request.user)

    def has_module_permission(self, request):
        return grid_selectors.user_can(user=request.user, permission=Permission.SUPPLIES_MANAGE)

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return self.has_module_permission(request)
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SupplyItem)
class SupplyItemAdmin(ReadOnlyScopedAdmin):
    list_display = ("name", "location", "quantity", "unit", "minimum_level", "expires_on")


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyScopedAdmin):
    selector = staticmethod(selectors.movements_visible)
    list_display = ("item", "direction", "quantity", "balance_after", "reason", "created_at")
