"""Every write to partners and the three lists, one module per part:

- `partners`: partner units, their cooperation agreements and liaisons;
- `needs`: the needs list (from staff, a resident, a visit or a case);
- `resources`: the resources list (offers of partner units and volunteers);
- `claims`: the claim transition table and the one function that moves a claim
  (`claim_transition`); taking a need or a resource;
- `projects`: projects (项目清单) and their milestones;

on top of what they share: `providers` (who acts for which provider, and the community a
provider serves) and `common` (a permission on a grid path, a whole-number quantity).

The public functions and tables are re-exported here, so that callers write
`from linli.partners import services; services.claim_need(...)`.
"""

from linli.partners.services.claims import (
    ACTION_LABELS,
    ACTIONS,
    BENEFICIARY_ACTIONS,
    MAX_HOURS,
    NOTE_REQUIRED,
    PROVIDER_ACTIONS,
    STAFF_ACTIONS,
    TRANSITIONS,
    claim_need,
    claim_resource,
    claim_transition,
    is_beneficiary,
    is_claimant,
    may_act,
    may_approve_hours,
)
from linli.partners.services.needs import need_cancel, need_create, need_from_case, need_from_visit
from linli.partners.services.partners import (
    agreement_add,
    agreement_check,
    liaison_link,
    partner_create,
)
from linli.partners.services.projects import milestone_done, project_create
from linli.partners.services.providers import acts_for_provider, partner_of, volunteer_of
from linli.partners.services.resources import resource_offer, resource_withdraw

__all__ = [
    "ACTIONS",
    "ACTION_LABELS",
    "BENEFICIARY_ACTIONS",
    "MAX_HOURS",
    "NOTE_REQUIRED",
    "PROVIDER_ACTIONS",
    "STAFF_ACTIONS",
    "TRANSITIONS",
    "acts_for_provider",
    "agreement_add",
    "agreement_check",
    "claim_need",
    "claim_resource",
    "claim_transition",
    "is_beneficiary",
    "is_claimant",
    "liaison_link",
    "may_act",
    "may_approve_hours",
    "milestone_done",
    "need_cancel",
    "need_create",
    "need_from_case",
    "need_from_visit",
    "partner_create",
    "partner_of",
    "project_create",
    "resource_offer",
    "resource_withdraw",
    "volunteer_of",
]
