"""Read-only admin views for operators (superusers). Every change goes through the services
and the pages; the ledger in particular is append-only, here as everywhere."""

from django.contrib import admin

from linli.grids.admin import OperatorReadOnlyAdmin
from linli.volunteers.models import (
    ServiceHoursEntry,
    Team,
    TeamMembership,
    TeamRecommendation,
    Volunteer,
)


@admin.register(Volunteer)
class VolunteerAdmin(OperatorReadOnlyAdmin):
    list_display = ("name", "origin", "status", "grid_unit", "party_member_type", "created_at")
    list_filter = ("status", "origin", "party_member_type")
    search_fields = ("name", "work_unit")
    # The phone stays out of the admin's columns: lists show it masked on the pages only.
    exclude = ("phone",)


@admin.register(Team)
class TeamAdmin(OperatorReadOnlyAdmin):
    list_display = ("name", "community", "kind", "target_size", "lead")
    list_filter = ("kind",)


@admin.register(TeamMembership)
class TeamMembershipAdmin(OperatorReadOnlyAdmin):
    list_display = ("team", "volunteer", "source", "joined_at", "ended_at")


@admin.register(TeamRecommendation)
class TeamRecommendationAdmin(OperatorReadOnlyAdmin):
    list_display = ("community", "status", "objective", "bound", "created_at")


@admin.register(ServiceHoursEntry)
class ServiceHoursEntryAdmin(OperatorReadOnlyAdmin):
    list_display = ("occurred_on", "volunteer", "team", "hours", "source_kind", "source_id")
    list_filter = ("source_kind",)
