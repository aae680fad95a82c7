"""Capacity resilience (能力韧性): enough volunteers, staffed teams, redundant resources,
supplies at their minimum, drills that reach everyone in time.

Each indicator: a set-based compute over the whole subtree (one grouped query per source,
shared through `context.memo` where several indicators read the same rows) and a
drill-down to the rows behind one unit's value, read through the scope layer of the app
that owns them (volunteers, partners, supplies, emergency selectors).

States that change over time are taken as they stood at the end of the period where the
records allow it: team memberships by their joined/ended times, supply balances by the
last movement before the end, agreements by their validity dates, needs by the time
their last claim was confirmed. Volunteer statuses and resident tags have no history and
are read as they are now (rows created after the end are left out).

One module per source of the indicators (`volunteers`, `resources`, `needs`, `supplies`,
`drills`) on what they share (`common`). Each module registers its indicators when it is
imported; they are imported here in catalogue order, so importing this package registers
every capacity indicator.
"""

# Imported for their registrations, in the order the indicators were always registered in
# (the registry keeps it), hence not sorted.
# isort: off
from linli.resilience.capacity import volunteers
from linli.resilience.capacity import resources
from linli.resilience.capacity import needs
from linli.resilience.capacity import supplies
from linli.resilience.capacity import drills

# isort: on
from linli.resilience.capacity.common import community_path_of
from linli.resilience.capacity.drills import NOT_REACHED_MINUTES
from linli.resilience.capacity.resources import CRITICAL_CATEGORIES, REDUNDANT_PROVIDERS

__all__ = [
    "CRITICAL_CATEGORIES",
    "NOT_REACHED_MINUTES",
    "REDUNDANT_PROVIDERS",
    "community_path_of",
    "drills",
    "needs",
    "resources",
    "supplies",
    "volunteers",
]
