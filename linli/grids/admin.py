"""Django admin for staff, scoped exactly like every other surface, and the one admin base
every app's admin builds on (`ScopedAdmin`, `ReadOnlyScopedAdmin`, `OperatorReadOnlyAdmin`).

Lists come from the scope selectors; change and delete are allowed only where the user's
roles grant the matching permission on the row's grid path. Full ID numbers never appear:
the admin shows the masked form only.
"""

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Permission
from linli.accounts.services import client_address
from linli.forms import form_add_errors
from linli.grids import selectors
from linli.grids.coordinates import gcj02_to_wgs84
from linli.grids.models import (
    Building,
    GridUnit,
    Household,
    Resident,
    ResidentAccount,
    RoleAssignment,
    Visit,
)
from linli.grids.services import (
    resident_link_login,
    resident_link_login_validate,
    resident_unlink_login,
    role_assign,
    role_assignment_validate,
    role_revoke,
)


def _scoped_user_field(db_field, request, kwargs: dict) -> dict:
    """A user picker lists the logins of the editor's area only (a superuser: all)."""
    if db_field.name == "user":
        kwargs["queryset"] = selectors.users_in_scope(user=request.user).order_by("username")
    return kwargs


class ScopedAdmin(admin.ModelAdmin):
    """The base of every app's admin, scoped like the pages:

    - `selector(user=...)`, a scope selector, lists the rows (None: every row);
    - `view_permission`, held anywhere, opens the list; a row opens only when the selector
      lists it (None: superusers only, for operators' lists);
    - `edit_permission`, held on the row's grid path, allows changing it (None: read-only).
    """

    selector = staticmethod(selectors.grid_units_visible)
    view_permission: str | None = Permission.VIEW_REGISTRY
    edit_permission: str | None = Permission.EDIT_REGISTRY

    def scoped_queryset(self, request):
        if self.selector is None:
            return super().get_queryset(request)
        return self.selector(user=request.user)

    def get_queryset(self, request):
        return self.scoped_queryset(request)

    def _path_of(self, obj) -> str:
        return getattr(obj, "grid_path", None) or getattr(obj, "path", "")

    def has_module_permission(self, request):
        if self.view_permission is None:
            return request.user.is_superuser
        return selectors.user_can(user=request.user, permission=self.view_permission)

    def has_view_permission(self, request, obj=None):
        if self.view_permission is None:
            return request.user.is_superuser
        if obj is None:
            return self.has_module_permission(request)
        return self.scoped_queryset(request).filter(pk=obj.pk).exists()

    def has_change_permission(self, request, obj=None):
        if self.edit_permission is None:
            return False
        if obj is None:
            return selectors.user_can(user=request.user, permission=self.edit_permission)
        return selectors.user_can(
            user=request.user, permission=self.edit_permission, grid_path=self._path_of(obj)
        )

    def has_add_permission(self, request):
        # New rows come through the services (import, web forms), which keep paths and audit.
        return False

    def has_delete_permission(self, request, obj=None):
        # Deletion of registry rows is a retention rule, not a click.
        return False


class ReadOnlyScopedAdmin(ScopedAdmin):
    """Lists only: every change goes through the services and their pages."""

    edit_permission = None


class OperatorReadOnlyAdmin(ReadOnlyScopedAdmin):
    """Every row, read-only, for operators (superusers) only."""

    selector = None
    view_permission = None


@admin.register(GridUnit)
class GridUnitAdmin(ScopedAdmin):
    list_display = ("name", "code", "level", "path")
    list_filter = ("level",)
    search_fields = ("name", "code")
    readonly_fields = ("level", "code", "parent", "path")
    fields = ("name", "level", "code", "parent", "path", "boundary", "sort_order")
    edit_permission = Permission.MANAGE_ROLES


class BuildingAdminForm(forms.ModelForm):
    """Coordinates copied from 高德 or 腾讯 maps are GCJ-02, hundreds of metres off WGS-84 (what
    Linli stores); ticking the box converts newly typed ones on save."""

    coordinates_are_gcj02 = forms.BooleanField(
        label=_("Coordinates are GCJ-02 (高德/腾讯)"),
        required=False,
        help_text=_("Tick when you copied them from 高德 or 腾讯 maps: saved as WGS-84."),
    )

    class Meta:
        model = Building
        fields = ("name", "address", "floors", "latitude", "longitude")

    def clean(self):
        cleaned = super().clean()
        latitude, longitude = cleaned.get("latitude"), cleaned.get("longitude")
        typed = {"latitude", "longitude"} & set(self.changed_data)
        # Only numbers typed in this form: unchanged ones were stored as WGS-84 already.
        if cleaned.get("coordinates_are_gcj02") and typed and None not in (latitude, longitude):
            latitude, longitude = gcj02_to_wgs84(latitude, longitude)
            cleaned["latitude"] = Decimal(f"{latitude:.6f}")
            cleaned["longitude"] = Decimal(f"{longitude:.6f}")
        return cleaned


@admin.register(Building)
class BuildingAdmin(ScopedAdmin):
    form = BuildingAdminForm
    list_display = ("name", "grid_unit", "address", "floors")
    search_fields = ("name", "address")
    readonly_fields = ("grid_unit", "grid_path")
    fields = (
        "name",
        "grid_unit",
        "grid_path",
        "address",
        "floors",
        "latitude",
        "longitude",
        "coordinates_are_gcj02",
    )

    selector = staticmethod(selectors.buildings_visible)
    list_select_related = ("grid_unit",)


@admin.register(Household)
class HouseholdAdmin(ReadOnlyScopedAdmin):
    list_display = ("__str__", "building", "room")
    search_fields = ("room", "building__name")
    readonly_fields = ("building", "room", "grid_path")
    fields = ("building", "room", "grid_path")

    selector = staticmethod(selectors.households_visible)


@admin.register(Resident)
class ResidentAdmin(ReadOnlyScopedAdmin):
    """Read-only: resident changes go through the audited service (web pages), not the
    admin form."""

    list_display = (
        "name",
        "household",
        "sex",
        "birth_year",
        "masked_phone",
        "id_number_masked",
        "residency_type",
    )
    list_filter = ("residency_type", "party_membership", "sex")
    search_fields = ("name",)
    fields = (
        "name",
        "household",
        "sex",
        "birth_year",
        "masked_phone",
        "id_number_masked",
        "residency_type",
        "party_membership",
    )
    readonly_fields = fields

    selector = staticmethod(selectors.residents_visible)

    @admin.display(description=Resident._meta.get_field("phone").verbose_name)
    def masked_phone(self, obj):
        return obj.phone_masked


class RoleAssignmentForm(forms.ModelForm):
    """Runs the service's checks (grid level, post, the assigner's scope) as form errors."""

    class Meta:
        model = RoleAssignment
        fields = ("user", "role", "post", "grid_unit")

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            role_assignment_validate(
                role=cleaned["role"],
                grid_unit=cleaned["grid_unit"],
                post=cleaned.get("post", ""),
                assigned_by=self.assigned_by,
                user=cleaned["user"],
            )
        except ValidationError as error:
            form_add_errors(self, error)
        return cleaned


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ScopedAdmin):
    """Posts: who holds which role where. Added and removed through the audited services."""

    list_display = ("user", "role", "post", "grid_unit")
    list_filter = ("role", "post")
    search_fields = ("user__username", "user__display_name", "grid_unit__name")
    form = RoleAssignmentForm
    autocomplete_fields = ("grid_unit",)
    # A post is never changed: it is removed and given anew (MANAGE_ROLES, below).
    edit_permission = None
    selector = staticmethod(selectors.role_assignments_visible)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.assigned_by = request.user
        return form

    def get_readonly_fields(self, request, obj=None):
        # An existing post changes only by removing it and assigning a new one.
        return ("user", "role", "post", "grid_unit") if obj is not None else ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "grid_unit":
            paths = selectors.scope_for(request.user).paths_for(Permission.MANAGE_ROLES)
            kwargs["queryset"] = GridUnit.objects.within(paths)
        kwargs = _scoped_user_field(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_add_permission(self, request):
        return selectors.user_can(user=request.user, permission=Permission.MANAGE_ROLES)

    def has_delete_permission(self, request, obj=None):
        if obj is None:
            return selectors.user_can(user=request.user, permission=Permission.MANAGE_ROLES)
        return selectors.user_can(
            user=request.user, permission=Permission.MANAGE_ROLES, grid_path=obj.grid_path
        )

    def save_model(self, request, obj, form, change):
        assignment = role_assign(
            user=form.cleaned_data["user"],
            role=form.cleaned_data["role"],
            grid_unit=form.cleaned_data["grid_unit"],
            post=form.cleaned_data.get("post", ""),
            assigned_by=request.user,
        )
        obj.pk = assignment.pk

    def delete_model(self, request, obj):
        role_revoke(assignment=obj, revoked_by=request.user)

    def delete_queryset(self, request, queryset):
        for assignment in queryset.select_related("user", "grid_unit"):
            role_revoke(assignment=assignment, revoked_by=request.user)


class ResidentAccountForm(forms.ModelForm):
    """Runs the link service's checks (both ends in the editor's area) as form errors."""

    class Meta:
        model = ResidentAccount
        fields = ("user", "resident")

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            resident_link_login_validate(
                actor=self.linked_by, resident=cleaned["resident"], user=cleaned["user"]
            )
        except ValidationError as error:
            form_add_errors(self, error)
        return cleaned


@admin.register(ResidentAccount)
class ResidentAccountAdmin(ScopedAdmin):
    """Which login belongs to which resident (the resident then sees their own household,
    its health tags included): linked and unlinked through the audited services, for
    logins and residents of the editor's area only."""

    list_display = ("user", "resident")
    autocomplete_fields = ("resident",)
    fields = ("user", "resident")
    form = ResidentAccountForm
    # A link is never changed: it is unlinked and made anew (MANAGE_ROLES, below).
    edit_permission = None

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.linked_by = request.user
        return form

    def scoped_queryset(self, request):
        paths = selectors.scope_for(request.user).paths_for(Permission.MANAGE_ROLES)
        return ResidentAccount.objects.filter(
            resident__in=Resident.objects.within(paths)
        ).select_related("user", "resident")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "resident":
            paths = selectors.scope_for(request.user).paths_for(Permission.MANAGE_ROLES)
            kwargs["queryset"] = Resident.objects.within(paths)
        kwargs = _scoped_user_field(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return ("user", "resident") if obj is not None else ()

    def has_add_permission(self, request):
        return selectors.user_can(user=request.user, permission=Permission.MANAGE_ROLES)

    def has_delete_permission(self, request, obj=None):
        return obj is not None and selectors.user_can(
            user=request.user, permission=Permission.MANAGE_ROLES, grid_path=obj.resident.grid_path
        )

    def save_model(self, request, obj, form, change):
        account = resident_link_login(
            actor=request.user,
            resident=form.cleaned_data["resident"],
            user=form.cleaned_data["user"],
            ip_address=client_address(request),
        )
        obj.pk = account.pk

    def delete_model(self, request, obj):
        resident_unlink_login(actor=request.user, account=obj, ip_address=client_address(request))

    def delete_queryset(self, request, queryset):
        for account in queryset:
            resident_unlink_login(
                actor=request.user, account=account, ip_address=client_address(request)
            )


@admin.register(Visit)
class VisitAdmin(ReadOnlyScopedAdmin):
    list_display = ("household", "visitor", "visited_at", "method", "mood", "needs_follow_up")
    list_filter = ("method", "mood", "needs_follow_up")
    readonly_fields = (
        "household",
        "visitor",
        "visited_at",
        "method",
        "finding",
        "mood",
        "needs_follow_up",
        "grid_path",
    )
    fields = readonly_fields

    selector = staticmethod(selectors.visits_visible)
