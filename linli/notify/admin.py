from django.contrib import admin

from linli.notify.models import Notification, OutboxAttempt, OutboxMessage


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


class OutboxAttemptInline(admin.TabularInline):
    """Every try at the message, an interrupted one (its worker died mid-send) included."""

    model = OutboxAttempt
    extra = 0
    fields = readonly_fields = ["number", "started_at", "finished_at", "outcome", "error", "worker"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


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
    readonly_fields = ["dedupe_key"]
    inlines = [OutboxAttemptInline]
