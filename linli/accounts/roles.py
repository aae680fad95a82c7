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
    EXPORT_AUDIT = "audit.export", _("Export the audit log (audited)")
    MANAGE_ROLES = "roles.manage", _("Assign posts")
    # The 民情 case loop (cases.services.ACTION_PERMISSIONS maps each action to one of these).
    CASE_FILE = "case.file", _("File cases for others (visits, 12345, patrols)")
    CASE_HANDLE = "case.handle", _("Accept, dispatch, handle and escalate cases")
    CASE_SUPERVISE = "case.supervise", _("Verify and close cases, approve extensions")
    CASE_COORDINATE = "case.coordinate", _("Record coordination meetings (会商)")
    CASE_CATEGORIES = "case.categories", _("Edit case categories and time limits")
    OPEN311_KEYS = "open311.keys", _("Issue and revoke Open311 keys")
    # Partners, the three lists and supplies (linli.partners, linli.supplies). Needs are read
    # with VIEW_REGISTRY, like cases: whoever knows the households sees what they need.
    PARTNERS_VIEW = "partners.view", _("See partner units, resources, projects and matching")
    PARTNERS_MANAGE = "partners.manage", _("Register partner units, agreements and liaisons")
    LISTS_MANAGE = "lists.manage", _("Keep the needs, resources and projects lists")
    SUPPLIES_MANAGE = "supplies.manage", _("Keep emergency supplies and their movements")
    # Volunteers, their functional teams and service hours (linli.volunteers).
    VOLUNTEERS_VIEW = "volunteers.view", _("See volunteers, teams and service hours")
    VOLUNTEERS_MANAGE = "volunteers.manage", _("Approve volunteers, staff teams, record hours")
    # Activities (linli.participation): every signed-in person may join; staff organise.
    ACTIVITIES_MANAGE = "activities.manage", _("Organise activities, sign-ups and attendance")
    # Deliberation (议事厅): open topics and rounds, record resolutions, moderate. Micro-grid
    # leads raise topics like any member of the community but do not resolve them.
    DELIBERATION_MANAGE = "deliberation.manage", _("Run deliberation topics and moderate them")
    # Surveys (linli.participation.surveys): staff build and distribute them; results are
    # also read by micro-grid leads, for their own subtree only.
    SURVEYS_MANAGE = "surveys.manage", _("Build, open and close resident surveys")
    SURVEYS_RESULTS = "surveys.results", _("Read survey results for one's own grid units")
    # Emergency operation (linli.emergency): plans are written and activated by the
    # secretary or the street; micro-grid leads command their part of a live emergency
    # (board, reassigning, help requests); building-group leaders file help for residents
    # without smartphones and follow their own group on the board.
    EMERGENCY_PLANS = "emergency.plans", _("Write and edit emergency plans")
    EMERGENCY_ACTIVATE = "emergency.activate", _("Activate, regrade and stand down emergencies")
    EMERGENCY_COMMAND = "emergency.command", _("Command a live emergency: reassign, dispatch help")
    EMERGENCY_HELP = "emergency.help", _("See the emergency board and file help for residents")


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
            P.EXPORT_AUDIT,
            P.MANAGE_ROLES,
            P.RECORD_VISIT,
            P.CASE_FILE,
            P.CASE_HANDLE,
            P.CASE_SUPERVISE,
            P.CASE_COORDINATE,
            P.CASE_CATEGORIES,
            P.OPEN311_KEYS,
            P.PARTNERS_VIEW,
            P.PARTNERS_MANAGE,
            P.LISTS_MANAGE,
            P.SUPPLIES_MANAGE,
            P.VOLUNTEERS_VIEW,
            P.VOLUNTEERS_MANAGE,
            P.ACTIVITIES_MANAGE,
            P.SURVEYS_MANAGE,
            P.SURVEYS_RESULTS,
            P.DELIBERATION_MANAGE,
            P.EMERGENCY_PLANS,
            P.EMERGENCY_ACTIVATE,
            P.EMERGENCY_COMMAND,
            P.EMERGENCY_HELP,
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
            P.CASE_FILE,
            P.CASE_HANDLE,
            P.CASE_SUPERVISE,
            P.CASE_COORDINATE,
            P.CASE_CATEGORIES,
            P.OPEN311_KEYS,
            P.PARTNERS_VIEW,
            P.PARTNERS_MANAGE,
            P.LISTS_MANAGE,
            P.SUPPLIES_MANAGE,
            P.VOLUNTEERS_VIEW,
            P.VOLUNTEERS_MANAGE,
            P.ACTIVITIES_MANAGE,
            P.SURVEYS_MANAGE,
            P.SURVEYS_RESULTS,
            P.DELIBERATION_MANAGE,
            P.EMERGENCY_PLANS,
            P.EMERGENCY_ACTIVATE,
            P.EMERGENCY_COMMAND,
            P.EMERGENCY_HELP,
        }
    ),
    Role.MICRO_GRID_LEAD: frozenset(
        {
            P.VIEW_REGISTRY,
            P.VIEW_SENSITIVE,
            P.REVEAL,
            P.EDIT_REGISTRY,
            P.RECORD_VISIT,
            P.CASE_FILE,
            P.CASE_HANDLE,
            P.CASE_SUPERVISE,
            P.PARTNERS_VIEW,
            P.LISTS_MANAGE,
            P.VOLUNTEERS_VIEW,
            P.VOLUNTEERS_MANAGE,
            P.ACTIVITIES_MANAGE,
            P.SURVEYS_RESULTS,
            P.EMERGENCY_COMMAND,
            P.EMERGENCY_HELP,
        }
    ),
    # Building-group leaders visit and know their households, but full phone and ID numbers
    # stay with the micro-grid lead and above.
    # They also give a case its first response, but verification and closing stay above them.
    Role.BUILDING_GROUP_LEADER: frozenset(
        {
            P.VIEW_REGISTRY,
            P.VIEW_SENSITIVE,
            P.RECORD_VISIT,
            P.CASE_FILE,
            P.CASE_HANDLE,
            P.VOLUNTEERS_VIEW,
            P.EMERGENCY_HELP,
        }
    ),
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
