"""The needs list: a need put on it by staff or a resident, from a visit or a case, and
cancelled by staff.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.accounts.roles import Permission
from linli.cases.models import Case
from linli.errors import Conflict, NotAllowed
from linli.grids.models import GridUnit, Household, Resident, Visit
from linli.grids.selectors import scope_for
from linli.partners.models import (
    ClaimState,
    Need,
    NeedSource,
    NeedState,
    Recurrence,
    ServiceCategory,
    Urgency,
)
from linli.partners.services.common import check_quantity, path_has


@transaction.atomic
def need_create(
    *,
    actor: User,
    category: str,
    title: str = "",
    description: str = "",
    urgency: str = Urgency.NORMAL,
    quantity: int = 1,
    unit: str = "",
    recurrence: str = Recurrence.ONCE,
    household: Household | None = None,
    beneficiary: Resident | None = None,
    grid_unit: GridUnit | None = None,
    source: str = NeedSource.STAFF,
    visit: Visit | None = None,
    case: Case | None = None,
) -> Need:
    """Put a need on the list: for a household (the beneficiary) or for a grid unit."""
    errors: dict[str, str] = {}
    if category not in ServiceCategory.values:
        errors["category"] = _("Unknown kind: %(value)s") % {"value": category}
    title = (title or "").strip()
    description = (description or "").strip()
    if not title:
        title = description.splitlines()[0][:100] if description else ""
    if not title:
        errors["title"] = _("Say what is needed.")
    elif len(title) > 100:
        errors["title"] = _("The title is limited to 100 characters.")
    if len(description) > 2000:
        errors["description"] = _("The description is limited to 2,000 characters.")
    if urgency not in Urgency.values:
        errors["urgency"] = _("Unknown urgency: %(value)s") % {"value": urgency}
    if recurrence not in Recurrence.values:
        errors["recurrence"] = _("Unknown recurrence: %(value)s") % {"value": recurrence}
    if source not in NeedSource.values:
        errors["source"] = _("Unknown source: %(value)s") % {"value": source}
    quantity = check_quantity(quantity, errors)
    if beneficiary is not None:
        if household is None:
            household = beneficiary.household
        elif beneficiary.household_id != household.pk:
            errors["beneficiary"] = _("The beneficiary does not live in this household.")
    if household is not None:
        grid_path = household.grid_path
        unit_for_need = household.building.grid_unit
    elif grid_unit is not None:
        grid_path, unit_for_need = grid_unit.path, grid_unit
    else:
        errors["household"] = _("Say whose need it is: a household or a grid unit.")
    if errors:
        raise ValidationError(errors)

    scope = scope_for(actor)
    own = household is not None and household.pk in scope.own_household_ids
    if not scope.allows(Permission.LISTS_MANAGE, grid_path):
        # A resident may put their own household's needs on the list, nothing else.
        if not own or source != NeedSource.RESIDENT:
            raise NotAllowed(_("You may not add needs here."))
    latitude = longitude = None
    if household is not None and household.building.latitude is not None:
        latitude, longitude = household.building.latitude, household.building.longitude
    elif case is not None and case.latitude is not None:
        latitude, longitude = case.latitude, case.longitude
    return Need.objects.create(
        grid_unit=unit_for_need,
        grid_path=grid_path,
        household=household,
        beneficiary=beneficiary,
        source=source,
        visit=visit,
        case=case,
        category=category,
        title=title,
        description=description,
        urgency=urgency,
        quantity=quantity,
        unit=(unit or "").strip()[:20],
        recurrence=recurrence,
        latitude=latitude,
        longitude=longitude,
        created_by=actor,
    )


@transaction.atomic
def need_from_visit(*, actor: User, visit: Visit, category: str, **fields) -> Need:
    """A visit finding becomes a need in one step, for the visited household."""
    fields.setdefault("description", visit.finding)
    return need_create(
        actor=actor,
        category=category,
        household=visit.household,
        source=NeedSource.VISIT,
        visit=visit,
        **fields,
    )


@transaction.atomic
def need_from_case(*, actor: User, case: Case, category: str, **fields) -> Need:
    """A case becomes a need in one step: for the reporter's household when a resident
    reported it, else for the grid unit the case belongs to."""
    resident = case.reporter_resident
    fields.setdefault("description", case.description)
    fields.setdefault("title", case.title)
    if resident is not None:
        fields.setdefault("household", resident.household)
        fields.setdefault("beneficiary", resident)
    else:
        fields.setdefault("grid_unit", case.grid_unit)
    return need_create(actor=actor, category=category, source=NeedSource.CASE, case=case, **fields)


@transaction.atomic
def need_cancel(*, actor: User, need: Need, reason: str) -> Need:
    need = Need.objects.select_for_update().get(pk=need.pk)
    if not path_has(actor, Permission.LISTS_MANAGE, need.grid_path):
        raise NotAllowed(_("You may not cancel this need."))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the need is cancelled.")})
    if need.claims.exclude(state__in=[ClaimState.CANCELLED, ClaimState.CONFIRMED]).exists():
        raise Conflict(_("Claims on this need are still under way; cancel them first."))
    need.state = NeedState.CANCELLED
    need.save(update_fields=["state", "updated_at"])
    return need
