from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from linli.accounts.models import AuditEntry, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Accounts are an operator's tool: only superusers manage them here."""

    fieldsets = (*DjangoUserAdmin.fieldsets, ("Linli", {"fields": ("display_name", "phone")}))
    list_display = ("username", "display_name", "is_staff", "is_active", "last_login")

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Append-only: nobody edits or deletes the audit log, not even a superuser."""

    list_display = (
        "created_at",
        "actor",
        "action",
        "object_type",
        "object_label",
        "field",
        "reason",
    )
    list_filter = ("action", "object_type")
    readonly_fields = [field.name for field in AuditEntry._meta.fields]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
