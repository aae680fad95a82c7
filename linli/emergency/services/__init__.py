"""Every write of emergency operation, one module per part:

- `plans`: emergency plans (预案), their templates, supplies and contact tree, and the
  default plans;
- `activation`: activation (平 → 急) and its preview, a change of grade, a task added by
  hand;
- `tasks`: acknowledging, declining, reassigning, reporting from the field, the audited
  phone reveal, the periodic sweep;
- `help_requests`: help requests (求助), dispatched and closed;
- `supplies`: supplies drawn for an emergency;
- `stand_down`: stand-down (急 → 平) and the lessons learned;

on top of what they share: `drafting` (tasks drafted from the registry and solved in
memory), `guards` (the checks every write makes), `notifications` (who hears, and how)
and `timeline` (the activation's events and the banner).

Authorisation is checked here against the scope layer (linli.grids.selectors.scope_for):
a refusal is `linli.errors.NotAllowed` (403 in the API), a row that moved on under the
caller `Conflict` (409). The public functions are importable from this package.
"""

from linli.emergency.services.activation import (
    Preview,
    activation_add_task,
    activation_preview,
    activation_regrade,
    activation_start,
)
from linli.emergency.services.drafting import (
    household_priority,
    registry_read,
    solve,
    solver_job,
    tasks_draft,
    templates_at,
    workforce_read,
    zone_key,
)
from linli.emergency.services.guards import plan_scope_check
from linli.emergency.services.help_requests import (
    active_activation_for,
    help_request_close,
    help_request_create,
    help_request_dispatch,
)
from linli.emergency.services.plans import (
    contact_delete,
    contact_set,
    plan_check,
    plan_copy,
    plan_create,
    plan_update,
    plans_create_defaults,
    supply_minimum_delete,
    supply_minimum_set,
    template_create,
    template_delete,
    template_update,
)
from linli.emergency.services.stand_down import activation_lessons_update, activation_stand_down
from linli.emergency.services.supplies import supplies_draw
from linli.emergency.services.tasks import (
    task_acknowledge,
    task_decline,
    task_phone_reveal,
    task_reassign,
    task_report,
    tasks_reassign_automatically,
    tasks_sweep,
    volunteer_mark_unavailable,
)

__all__ = [
    "Preview",
    "activation_add_task",
    "activation_lessons_update",
    "activation_preview",
    "activation_regrade",
    "activation_stand_down",
    "activation_start",
    "active_activation_for",
    "contact_delete",
    "contact_set",
    "help_request_close",
    "help_request_create",
    "help_request_dispatch",
    "household_priority",
    "plan_check",
    "plan_copy",
    "plan_create",
    "plan_scope_check",
    "plan_update",
    "plans_create_defaults",
    "registry_read",
    "solve",
    "solver_job",
    "supplies_draw",
    "supply_minimum_delete",
    "supply_minimum_set",
    "task_acknowledge",
    "task_decline",
    "task_phone_reveal",
    "task_reassign",
    "task_report",
    "tasks_draft",
    "tasks_reassign_automatically",
    "tasks_sweep",
    "template_create",
    "template_delete",
    "template_update",
    "templates_at",
    "volunteer_mark_unavailable",
    "workforce_read",
    "zone_key",
]
