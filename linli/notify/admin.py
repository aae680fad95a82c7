from django.contrib import admin

from linli.notify.models import Notification, OutboxMessage


class OutboxMessageInline(admin.TabularInline):
    model = OutboxMessage
    extra = 0
    readonly_fields = [
        "channel",
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "sent_at",
        "created_at",
    ]
    can_delete = False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "recipient", "kind", "created_at", "read_at"]
    list_filter = ["kind"]
    search_fields = ["title", "recipient__username"]
    raw_id_fields = ["recipient"]
    inlines = [OutboxMessageInline]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = [
        "notification",
        "channel",
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "sent_at",
    ]
    list_filter = ["channel", "status"]
    raw_id_fields = ["notification"]
