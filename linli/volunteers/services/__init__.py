"""Every write about volunteers, one module per part: one named action, one transaction
each; a refused action raises ValidationError naming the field and writes nothing.

- `signup`: sign-up (by staff or the volunteer) and the review of an application;
- `profiles`: profile changes, pausing and resuming;
- `teams`: the functional teams and their members;
- `recommendations`: the team recommendation, adjusted, accepted or discarded;
- `ledger`: the service-hours ledger (its one writer, and staff's entries by hand);

on top of what they share: `guards` (who may act: staff with VOLUNTEERS_MANAGE on the
volunteer's or team's grid path, a volunteer on their own profile) and `profile_fields`
(skills, willingness, slots, phone and home building checked and encoded).

The public functions and tables are re-exported here, so that callers write
`from linli.volunteers import services; services.volunteer_signup(...)`.
"""

from linli.volunteers.services.guards import MANAGE, is_own, may_manage
from linli.volunteers.services.ledger import (
    CENT,
    MAX_CORRECTION_HOURS,
    MAX_ENTRY_HOURS,
    service_hours_add,
    service_hours_correct,
    service_hours_record,
)
from linli.volunteers.services.profile_fields import (
    skills_encode,
    slots_encode,
    willingness_encode,
)
from linli.volunteers.services.profiles import volunteer_set_active, volunteer_update
from linli.volunteers.services.recommendations import (
    recommendation_accept,
    recommendation_adjust,
    recommendation_create,
    recommendation_discard,
)
from linli.volunteers.services.signup import volunteer_review, volunteer_signup
from linli.volunteers.services.teams import (
    DEFAULT_TEAMS,
    team_create,
    team_member_add,
    team_member_remove,
    team_update,
    teams_create_defaults,
)

__all__ = [
    "CENT",
    "DEFAULT_TEAMS",
    "MANAGE",
    "MAX_CORRECTION_HOURS",
    "MAX_ENTRY_HOURS",
    "is_own",
    "may_manage",
    "recommendation_accept",
    "recommendation_adjust",
    "recommendation_create",
    "recommendation_discard",
    "service_hours_add",
    "service_hours_correct",
    "service_hours_record",
    "skills_encode",
    "slots_encode",
    "team_create",
    "team_member_add",
    "team_member_remove",
    "team_update",
    "teams_create_defaults",
    "volunteer_review",
    "volunteer_set_active",
    "volunteer_signup",
    "volunteer_update",
    "willingness_encode",
]
