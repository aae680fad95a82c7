"""Roles and what each may do. The single table every scope check reads.

A role is held on a grid unit (RoleAssignment in `grids`); its permissions apply to that
unit's whole subtree. Residents hold their role on their own household only.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    STREET_ADMIN = "street_admin", _("Street administrator")
    SECRETARY = "secretary", _("Party secretary / committee staff")
    MICRO_GRID_LEAD = "micro_grid_lead", _("Micro-grid lead")
    BUILDING_GROUP_LEADER = "building_group_leader", _("Building-group leader")
    VOLUNTEER = "volunteer", _("Volunteer")
    PARTNER_LIAISON = "partner_liaison", _("Partner liaison")
    RESIDENT = "resident", _("Resident")


class Permission(models.TextChoices):
    VIEW_REGISTRY = "registry.view", _("See grids, buildings, households and residents")
    VIEW_SENSITIVE = "registry.view_sensitive", _("See health and vulnerability tags")
    REVEAL = "registry.reveal", _("Reveal one full phone or ID number (audited)")
    EDIT_REGISTRY = "registry.edit", _("Change households and residents")
    IMPORT_REGISTRY = "registry.import", _("Import buildings, households and residents")
    EXPORT_REGISTRY = "registry.export", _("Export the resident list (masked, audited)")
    RECORD_VISIT = "visit.record", _("Record visits to households")
    VIEW_AUDIT = "audit.view", _("Read the audit log")
    MANAGE_ROLES = "roles.manage", _("Assign posts")


P = Permission
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.STREET_ADMIN: frozenset(
        {
            P.VIEW_REGISTRY,
            P.VIEW_SENSITIVE,
            P.REVEAL,
            P.EDIT_REGISTRY,
            P.IMPORT_REGISTRY,
            P.EXPORT_REGISTRY,
            P.VIEW_AUDIT,
            P.MANAGE_ROLES,
            P.RECORD_VISIT,
        }
    ),
    Role.SECRETARY: frozenset(
        {
            P.VIEW_REGISTRY,
            P.VIEW_SENSITIVE,
            P.REVEAL,
            P.EDIT_REGISTRY,
            P.IMPORT_REGISTRY,
            P.EXPORT_REGISTRY,
            P.VIEW_AUDIT,
            P.MANAGE_ROLES,
            P.RECORD_VISIT,
        }
    ),
    Role.MICRO_GRID_LEAD: frozenset(
        {P.VIEW_REGISTRY, P.VIEW_SENSITIVE, P.REVEAL, P.EDIT_REGISTRY, P.RECORD_VISIT}
    ),
    # Building-group leaders visit and know their households, but full phone and ID numbers
    # stay with the micro-grid lead and above.
    Role.BUILDING_GROUP_LEADER: frozenset({P.VIEW_REGISTRY, P.VIEW_SENSITIVE, P.RECORD_VISIT}),
    # Volunteers and partner liaisons act on their own tasks and organisation (later issues);
    # they see no part of the resident registry through their role.
    Role.VOLUNTEER: frozenset(),
    Role.PARTNER_LIAISON: frozenset(),
    # A resident's role is held on their own household (see grids.selectors).
    Role.RESIDENT: frozenset({P.VIEW_REGISTRY}),
}

# The grid level on which each role is held.
ROLE_LEVELS: dict[str, tuple[str, ...]] = {
    Role.STREET_ADMIN: ("street", "block"),
    Role.SECRETARY: ("community",),
    Role.MICRO_GRID_LEAD: ("micro_grid",),
    Role.BUILDING_GROUP_LEADER: ("building_group",),
    Role.VOLUNTEER: ("street", "block", "community", "micro_grid", "building_group"),
    Role.PARTNER_LIAISON: ("street", "block", "community"),
    Role.RESIDENT: ("building_group",),
}
