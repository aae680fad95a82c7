"""Read-only admin lists of partners and the three lists, scoped like every other surface
(writes go through the services and their pages)."""

from django.contrib import admin

from linli.accounts.roles import Permission
from linli.grids.admin import ReadOnlyScopedAdmin
from linli.partners import selectors
from linli.partners.models import Claim, Need, Partner, Project, Resource


class PartnersReadOnlyAdmin(ReadOnlyScopedAdmin):
    """Opened by those who see partners (PARTNERS_VIEW); each list its own selector."""

    selector = staticmethod(selectors.partners_visible)
    view_permission = Permission.PARTNERS_VIEW


@admin.register(Partner)
class PartnerAdmin(PartnersReadOnlyAdmin):
    list_display = ("name", "partner_type", "grid_unit", "is_active")
    list_filter = ("partner_type",)
    search_fields = ("name",)
    exclude = ("contact_phone",)


@admin.register(Need)
class NeedAdmin(PartnersReadOnlyAdmin):
    selector = staticmethod(selectors.needs_visible)
    list_display = ("title", "category", "state", "urgency", "quantity", "claimed_quantity")
    list_filter = ("state", "category")
    exclude = ("household", "beneficiary")


@admin.register(Resource)
class ResourceAdmin(PartnersReadOnlyAdmin):
    selector = staticmethod(selectors.resources_visible)
    list_display = ("title", "kind", "category", "quantity", "committed_quantity", "is_active")
    list_filter = ("kind", "category")


@admin.register(Claim)
class ClaimAdmin(PartnersReadOnlyAdmin):
    selector = staticmethod(selectors.claims_visible)
    list_display = ("need", "partner", "volunteer", "quantity", "state")
    list_filter = ("state",)


@admin.register(Project)
class ProjectAdmin(PartnersReadOnlyAdmin):
    selector = staticmethod(selectors.projects_visible)
    list_display = ("title", "owner", "starts_on", "state")
