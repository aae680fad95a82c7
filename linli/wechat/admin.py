from django.contrib import admin

from linli.wechat.models import WeChatAccount


@admin.register(WeChatAccount)
class WeChatAccountAdmin(admin.ModelAdmin):
    """Read only: a binding is made and undone by its person (audited, /wechat/account/), not
    in the admin."""

    list_display = ["user", "nickname", "bound_at"]
    search_fields = ["user__username", "user__display_name"]
    readonly_fields = ["user", "openid", "unionid", "nickname", "bound_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
