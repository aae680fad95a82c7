"""Read-only admin views for operators (superusers). Every change goes through the services
and the pages, so that places, the waitlist and service hours stay consistent."""

from django.contrib import admin

from linli.grids.admin import OperatorReadOnlyAdmin
from linli.participation.models import Activity, Feedback, Occurrence, SignUp, Stall, Venue


@admin.register(Venue)
class VenueAdmin(OperatorReadOnlyAdmin):
    list_display = ("name", "community", "capacity", "is_active")


@admin.register(Activity)
class ActivityAdmin(OperatorReadOnlyAdmin):
    list_display = ("title", "kind", "organiser", "starts_at", "capacity", "rrule")
    list_filter = ("kind",)
    search_fields = ("title",)


@admin.register(Occurrence)
class OccurrenceAdmin(OperatorReadOnlyAdmin):
    list_display = ("activity", "starts_at", "ends_at", "capacity", "state")
    list_filter = ("state",)
    # The check-in token is a secret of the organiser's page.
    exclude = ("check_in_token",)


@admin.register(SignUp)
class SignUpAdmin(OperatorReadOnlyAdmin):
    list_display = ("occurrence", "user", "status", "checked_in_at", "hours_credited_at")
    list_filter = ("status",)


@admin.register(Stall)
class StallAdmin(OperatorReadOnlyAdmin):
    list_display = ("occurrence", "service", "provider_kind", "served_count")


@admin.register(Feedback)
class FeedbackAdmin(OperatorReadOnlyAdmin):
    list_display = ("occurrence", "user", "rating", "created_at")
