"""Every write to a case, one module per part of the closed loop:

- `transitions`: the transition table, the one function that changes a case's state
  (`case_transition`, a step and its photos) and who may take each step;
- `filing`: filing a case (with its photos), from a visit too;
- `escalation`: escalation up the grid, by staff or the overdue sweep, and the 会商 record;
- `categories`: the shared category tree and its time limits;
- `photos`: checking, re-encoding and storing photos (shared with linli.participation);
- `events`: the timeline each of them appends to.

The public functions and tables are re-exported here, so that callers write
`from linli.cases import services; services.case_create(...)`.
"""

from linli.cases.services.categories import (
    category_create,
    category_deactivate,
    category_editor_path,
    category_update,
    may_edit_categories,
    may_view_category_editor,
)
from linli.cases.services.escalation import (
    case_escalate,
    cases_escalate_overdue,
    coordination_record,
)
from linli.cases.services.filing import case_create, case_from_visit
from linli.cases.services.photos import (
    PHOTOS_PER_STEP,
    PreparedPhoto,
    case_photos_add,
    may_add_photos,
    photos_prepare,
    photos_store,
)
from linli.cases.services.transitions import (
    ACTION_LABELS,
    ACTION_PERMISSIONS,
    ACTIONS,
    MAX_EXTENSIONS,
    NOTE_REQUIRED,
    REOPEN_WINDOW,
    REPORTER_ACTIONS,
    TRANSITIONS,
    case_transition,
    may_act,
)

__all__ = [
    "ACTIONS",
    "ACTION_LABELS",
    "ACTION_PERMISSIONS",
    "MAX_EXTENSIONS",
    "NOTE_REQUIRED",
    "PHOTOS_PER_STEP",
    "REOPEN_WINDOW",
    "REPORTER_ACTIONS",
    "TRANSITIONS",
    "PreparedPhoto",
    "case_create",
    "case_escalate",
    "case_from_visit",
    "case_photos_add",
    "case_transition",
    "cases_escalate_overdue",
    "category_create",
    "category_deactivate",
    "category_editor_path",
    "category_update",
    "coordination_record",
    "may_act",
    "may_add_photos",
    "may_edit_categories",
    "may_view_category_editor",
    "photos_prepare",
    "photos_store",
]
