"""Read-only admin lists, scoped like the pages: keys for those who manage them, submitters
(phone and email masked) for staff who may see the case. Keys are issued and revoked
through the services (pages or `linli open311-key`), which audit them."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from linli.accounts.privacy import mask_phone
from linli.accounts.roles import Permission
from linli.cases.selectors import cases_visible
from linli.grids.selectors import scope_for
from linli.open311 import selectors
from linli.open311.models import Open311Key, Open311Submission


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Open311Key)
class Open311KeyAdmin(ReadOnlyAdmin):
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

    def get_queryset(self, request):
        return selectors.keys_visible(user=request.user)

    def has_module_permission(self, request):
        return scope_for(request.user).allows_anywhere(Permission.OPEN311_KEYS)

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return self.has_module_permission(request)
        return self.get_queryset(request).filter(pk=obj.pk).exists()


@admin.register(Open311Submission)
class Open311SubmissionAdmin(ReadOnlyAdmin):
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

    def get_queryset(self, request):
        cases = cases_visible(user=request.user).values("pk")
        return Open311Submission.objects.filter(case__in=cases).select_related("case", "key")

    def has_module_permission(self, request):
        return scope_for(request.user).allows_anywhere(Permission.VIEW_REGISTRY)

    def has_view_permission(self, request, obj=None):
        if obj is None:
            return self.has_module_permission(request)
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    @admin.display(description=_("Phone"))
    def masked_phone(self, obj):
        return mask_phone(obj.phone)

    @admin.display(description=_("Email"))
    def masked_email(self, obj):
        return selectors.mask_email(obj.email)
