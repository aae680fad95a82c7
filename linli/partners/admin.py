"""Read-only admin lists of partners and the three lists, scoped like every other surface
(writes go through the services and their pages)."""

from django.contrib import admin

from linli.accounts.roles import Permission
from linli.grids import selectors as grid_selectors
from linli.partners import selectors
from linli.partners.models import Claim, Need, Partner, Project, Resource


class ReadOnlyScopedAdmin(admin.ModelAdmin):
    selector = staticmethod(selectors.partners_visible)

    def get_queryset(self, request):
        return self.selector(user=request.user)

    def has_module_permission(self, request):
        return grid_selectors.user_can(user=request.user, permission=Permission.PARTNERS_VIEW)

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


@admin.register(Partner)
class PartnerAdmin(ReadOnlyScopedAdmin):
    list_display = ("name", "partner_type", "grid_unit", "is_active")
    list_filter = ("partner_type",)
    search_fields = ("name",)
    exclude = ("contact_phone",)


@admin.register(Need)
class NeedAdmin(ReadOnlyScopedAdmin):
    selector = staticmethod(selectors.needs_visible)
    list_display = ("title", "category", "state", "urgency", "quantity", "claimed_quantity")
    list_filter = ("state", "category")
    exclude = ("household", "beneficiary")


@admin.register(Resource)
class ResourceAdmin(ReadOnlyScopedAdmin):
    selector = staticmethod(selectors.resources_visible)
    list_display = ("title", "kind", "category", "quantity", "committed_quantity", "is_active")
    list_filter = ("kind", "category")


@admin.register(Claim)
class ClaimAdmin(ReadOnlyScopedAdmin):
    selector = staticmethod(selectors.claims_visible)
    list_display = ("need", "partner", "volunteer", "quantity", "state")
    list_filter = ("state",)


@admin.register(Project)
class ProjectAdmin(ReadOnlyScopedAdmin):
    selector = staticmethod(selectors.projects_visible)
    list_display = ("title", "owner", "starts_on", "state")
