from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext, gettext_lazy
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from linli.accounts.models import ApiToken, AuditEntry, TokenRevocation, User
from linli.accounts.services import client_address, token_revoke, tokens_revoke_for_user
from linli.accounts.two_factor import two_factor_reset


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Accounts are an operator's tool: only superusers manage them here."""

    fieldsets = (*DjangoUserAdmin.fieldsets, ("Linli", {"fields": ("display_name", "phone")}))
    list_display = ("username", "display_name", "is_staff", "is_active", "last_login")
    actions = ["reset_two_factor"]

    @admin.action(description=gettext_lazy("Reset two-factor sign-in (audited)"))
    def reset_two_factor(self, request, queryset):
        for user in queryset:
            two_factor_reset(
                user=user, actor=request.user, reason=gettext("in the admin"), request=request
            )
        self.message_user(
            request,
            gettext("Two-factor sign-in reset for %(count)s people.") % {"count": len(queryset)},
        )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            # A deactivated account's apps are signed out for good: reactivating the
            # account later does not bring its old tokens back.
            tokens_revoke_for_user(
                user=obj,
                reason=TokenRevocation.DEACTIVATED,
                actor=request.user,
                ip_address=client_address(request),
            )

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


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Bearer tokens: superusers see everyone's, other staff their own. Nothing is edited
    here and the hash is never shown; a token is issued by signing in (POST
    /api/v1/auth/token) and stopped with the "revoke" action (audited). Rows are kept
    after revocation or expiry, for their owner's list and the audit trail."""

    list_display = (
        "key_prefix",
        "user",
        "name",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "revoked_reason",
    )
    list_filter = ("revoked_reason",)
    list_select_related = ("user",)
    search_fields = ("user__username", "key_prefix", "name")
    ordering = ("-created_at", "-id")
    fields = list_display
    readonly_fields = list_display
    actions = ["revoke"]

    def get_queryset(self, request):
        tokens = super().get_queryset(request).select_related("user")
        if request.user.is_superuser:
            return tokens
        return tokens.filter(user=request.user)

    @admin.action(description=gettext_lazy("Revoke the selected API tokens (audited)"))
    def revoke(self, request, queryset):
        revoked = 0
        for token in queryset:
            own = token.user_id == request.user.pk
            revoked += token_revoke(
                actor=request.user,
                token=token,
                reason=TokenRevocation.BY_OWNER if own else TokenRevocation.BY_ADMINISTRATOR,
                ip_address=client_address(request),
            )
        self.message_user(request, gettext("%(count)s API tokens revoked.") % {"count": revoked})

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        if not self.has_module_permission(request):
            return False
        return obj is None or request.user.is_superuser or obj.user_id == request.user.pk

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Revoked, not deleted: the row is the record of when and why.
        return False


# Authenticators and recovery codes are reset through linli.accounts.two_factor (audited), never
# edited here: django-otp's own admin pages would let an operator copy or delete them unrecorded.
for _device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device_model):
        admin.site.unregister(_device_model)
