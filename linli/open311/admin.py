"""Read-only admin lists, scoped like the pages: keys for those who manage them, submitters
(phone and email masked) for staff who may see the case. Keys are issued and revoked
through the services (pages or `linli open311-key`), which audit them."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from linli.accounts.privacy import mask_phone
from linli.accounts.roles import Permission
from linli.cases.selectors import cases_visible
from linli.grids.admin import ReadOnlyScopedAdmin
from linli.open311 import selectors
from linli.open311.models import Open311Key, Open311Submission


@admin.register(Open311Key)
class Open311KeyAdmin(ReadOnlyScopedAdmin):
    list_display = ("name", "prefix", "community", "created_at", "revoked_at", "last_used_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix")
    fields = (
        "name",
        "prefix",
        "community",
        "created_by",
        "created_at",
        "revoked_at",
        "last_used_at",
    )
    selector = staticmethod(selectors.keys_visible)
    view_permission = Permission.OPEN311_KEYS


@admin.register(Open311Submission)
class Open311SubmissionAdmin(ReadOnlyScopedAdmin):
    list_display = ("case", "key", "masked_phone", "masked_email", "created_at")
    fields = (
        "case",
        "key",
        "first_name",
        "last_name",
        "masked_phone",
        "masked_email",
        "created_at",
    )
    readonly_fields = fields
    view_permission = Permission.VIEW_REGISTRY

    def scoped_queryset(self, request):
        cases = cases_visible(user=request.user).values("pk")
        return Open311Submission.objects.filter(case__in=cases).select_related("case", "key")

    @admin.display(description=_("Phone"))
    def masked_phone(self, obj):
        return mask_phone(obj.phone)

    @admin.display(description=_("Email"))
    def masked_email(self, obj):
        return selectors.mask_email(obj.email)
