"""The service-hours ledger. `service_hours_record` is its one writer and trusts its caller
(the activity, claim or task service that already decided who acts); staff enter hours
by hand through `service_hours_add` and `service_hours_correct`.
"""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.models import User
from linli.errors import NotAllowed
from linli.volunteers.models import (
    HoursSource,
    ServiceHoursEntry,
    TeamMembership,
    Volunteer,
    VolunteerStatus,
)
from linli.volunteers.services.guards import may_manage, volunteer_locked

# One entry is at most one day's service; longer work is several entries.
MAX_ENTRY_HOURS = Decimal("24")
MAX_CORRECTION_HOURS = Decimal("9999.99")
CENT = Decimal("0.01")


def _hours(value) -> Decimal:
    try:
        hours = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({"hours": _("Enter the hours as a number.")}) from None
    try:
        # 6e240 has no two-decimal form: quantize raises rather than answer False.
        exact = hours.is_finite() and hours == hours.quantize(Decimal("0.01"))
    except InvalidOperation:
        exact = False
    if not exact:
        raise ValidationError({"hours": _("Enter the hours with at most two decimals.")})
    return hours


@transaction.atomic
def service_hours_record(
    *,
    volunteer: Volunteer,
    hours: Decimal,
    source_kind: str,
    source_id: int | None,
    note: str,
    actor: User | None,
    occurred_on: date | None = None,
) -> ServiceHoursEntry:
    """Append one entry to the ledger; nothing ever changes or deletes one.

    Hours are positive, at most 24 per entry, except for a correction: a new entry with
    positive or negative hours whose note says why (and whose source_id may name the
    corrected entry). A correction cannot take a volunteer's total below zero. The
    volunteer's row is locked, so two corrections at once cannot both pass that check.
    Authorisation is the caller's (see the module docstring)."""
    hours = _hours(hours)
    if source_kind not in HoursSource.values:
        raise ValidationError(
            {"source_kind": _("Unknown source of hours: %(value)s") % {"value": source_kind}}
        )
    note = (note or "").strip()
    correction = source_kind == HoursSource.CORRECTION
    if hours == 0:
        raise ValidationError({"hours": _("Hours cannot be zero.")})
    if correction:
        if not note:
            raise ValidationError({"note": _("Say why the hours are corrected.")})
        if abs(hours) > MAX_CORRECTION_HOURS:
            raise ValidationError({"hours": _("A correction is at most 9999.99 hours.")})
    elif hours < 0:
        raise ValidationError({"hours": _("Only a correction can take hours away.")})
    elif hours > MAX_ENTRY_HOURS:
        raise ValidationError({"hours": _("One entry is at most 24 hours.")})
    today = clock.localdate()
    occurred_on = occurred_on or today
    if occurred_on > today:
        raise ValidationError({"occurred_on": _("The date cannot be in the future.")})

    volunteer = volunteer_locked(volunteer)
    if volunteer.status in (VolunteerStatus.APPLIED, VolunteerStatus.REJECTED):
        raise ValidationError(
            {"volunteer": _("%(name)s is not an approved volunteer.") % {"name": volunteer.name}}
        )
    if correction and source_id is not None:
        if not ServiceHoursEntry.objects.filter(pk=source_id, volunteer=volunteer).exists():
            raise ValidationError(
                {"source_id": _("The corrected entry is not one of this volunteer's.")}
            )
    if correction and hours < 0:
        total = ServiceHoursEntry.objects.filter(volunteer=volunteer).aggregate(total=Sum("hours"))[
            "total"
        ] or Decimal("0")
        if total + hours < 0:
            raise ValidationError(
                {
                    "hours": _("The correction would take the total below zero (%(total)s).")
                    % {"total": total.quantize(CENT)}
                }
            )
    team_id = (
        TeamMembership.objects.current()
        .filter(volunteer=volunteer)
        .values_list("team_id", flat=True)
        .first()
    )
    return ServiceHoursEntry.objects.create(
        volunteer=volunteer,
        grid_path=volunteer.grid_path,
        team_id=team_id,
        hours=hours,
        source_kind=source_kind,
        source_id=source_id,
        note=note[:300],
        occurred_on=occurred_on,
        recorded_by=actor if actor is not None and actor.is_authenticated else None,
    )


@transaction.atomic
def service_hours_add(
    *,
    actor: User,
    volunteer: Volunteer,
    hours: Decimal,
    note: str,
    occurred_on: date | None = None,
) -> ServiceHoursEntry:
    """Staff record hours by hand (service not tracked elsewhere)."""
    if not may_manage(actor, volunteer.grid_path):
        raise NotAllowed(_("You may not record hours for this volunteer."))
    return service_hours_record(
        volunteer=volunteer,
        hours=hours,
        source_kind=HoursSource.MANUAL,
        source_id=None,
        note=note,
        actor=actor,
        occurred_on=occurred_on,
    )


@transaction.atomic
def service_hours_correct(
    *,
    actor: User,
    volunteer: Volunteer,
    hours: Decimal,
    reason: str,
    corrects: ServiceHoursEntry | None = None,
    occurred_on: date | None = None,
) -> ServiceHoursEntry:
    """Staff correct the ledger with a new entry that says why."""
    if not may_manage(actor, volunteer.grid_path):
        raise NotAllowed(_("You may not correct hours for this volunteer."))
    return service_hours_record(
        volunteer=volunteer,
        hours=hours,
        source_kind=HoursSource.CORRECTION,
        source_id=corrects.pk if corrects is not None else None,
        note=reason,
        actor=actor,
        occurred_on=occurred_on,
    )
