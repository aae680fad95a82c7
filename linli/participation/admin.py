"""Read-only admin views for operators (superusers). Every change goes through the services
and the pages, so that places, the waitlist and service hours stay consistent."""

from django.contrib import admin

from linli.participation.models import Activity, Feedback, Occurrence, SignUp, Stall, Venue


class ReadOnlyAdmin(admin.ModelAdmin):
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


@admin.register(Venue)
class VenueAdmin(ReadOnlyAdmin):
    list_display = ("name", "community", "capacity", "is_active")


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ("title", "kind", "organiser", "starts_at", "capacity", "rrule")
    list_filter = ("kind",)
    search_fields = ("title",)


@admin.register(Occurrence)
class OccurrenceAdmin(ReadOnlyAdmin):
    list_display = ("activity", "starts_at", "ends_at", "capacity", "state")
    list_filter = ("state",)
    # The check-in token is a secret of the organiser's page.
    exclude = ("check_in_token",)


@admin.register(SignUp)
class SignUpAdmin(ReadOnlyAdmin):
    list_display = ("occurrence", "user", "status", "checked_in_at", "hours_credited_at")
    list_filter = ("status",)


@admin.register(Stall)
class StallAdmin(ReadOnlyAdmin):
    list_display = ("occurrence", "service", "provider_kind", "served_count")


@admin.register(Feedback)
class FeedbackAdmin(ReadOnlyAdmin):
    list_display = ("occurrence", "user", "rating", "created_at")
