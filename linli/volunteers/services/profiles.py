"""A volunteer's profile: changed by the volunteer or staff of their scope; serving paused
or resumed.
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.models import AuditAction, User
from linli.accounts.services import audit_record
from linli.errors import NotAllowed
from linli.grids.models import Building
from linli.volunteers.models import (
    SERVING_STATUSES,
    Team,
    TeamMembership,
    Volunteer,
    VolunteerOrigin,
    VolunteerStatus,
)
from linli.volunteers.services.guards import is_own, may_manage, volunteer_locked
from linli.volunteers.services.profile_fields import (
    check_building,
    check_phone,
    skills_encode,
    slots_encode,
    willingness_encode,
)


@transaction.atomic
def volunteer_set_active(*, actor: User, volunteer: Volunteer, active: bool) -> Volunteer:
    """Pause or resume serving. Pausing ends the current team membership."""
    if not (may_manage(actor, volunteer.grid_path) or is_own(actor, volunteer)):
        raise NotAllowed(_("You may not change this volunteer."))
    volunteer = volunteer_locked(volunteer)
    if volunteer.status not in (*SERVING_STATUSES, VolunteerStatus.INACTIVE):
        raise ValidationError(
            {"status": _("Only an approved volunteer can be made active or inactive.")}
        )
    volunteer.status = VolunteerStatus.ACTIVE if active else VolunteerStatus.INACTIVE
    volunteer.save(update_fields=["status", "updated_at"])
    if not active:
        TeamMembership.objects.current().filter(volunteer=volunteer).update(ended_at=clock.now())
        Team.objects.filter(lead=volunteer).update(lead=None)
    return volunteer


@transaction.atomic
def volunteer_update(
    *,
    actor: User,
    volunteer: Volunteer,
    skills: Iterable[str] | None = None,
    willingness: Iterable[str] | None = None,
    availability: Iterable[str] | None = None,
    phone: str | None = None,
    work_unit: str | None = None,
    introduction: str | None = None,
    home_building: Building | None = None,
) -> Volunteer:
    """Change a profile: the volunteer themselves or staff of their scope. Arguments left
    as None stay as they are."""
    if not (may_manage(actor, volunteer.grid_path) or is_own(actor, volunteer)):
        raise NotAllowed(_("You may not change this volunteer."))
    changes: dict[str, str] = {}
    if skills is not None:
        changes["skills"] = skills_encode(skills)
    if willingness is not None:
        changes["willingness"] = willingness_encode(willingness)
    if availability is not None:
        changes["availability"] = slots_encode(availability)
    if phone is not None:
        changes["phone"] = check_phone(phone)
    if work_unit is not None:
        work_unit = work_unit.strip()
        if volunteer.origin == VolunteerOrigin.OUTSIDE and not work_unit:
            raise ValidationError({"work_unit": _("Enter the work unit of an outside volunteer.")})
        changes["work_unit"] = work_unit[:100]
    if introduction is not None:
        changes["introduction"] = introduction.strip()[:500]
    volunteer = volunteer_locked(volunteer)
    if home_building is not None:
        check_building(home_building, volunteer.grid_unit)
        volunteer.home_building = home_building
    changed = [name for name, value in changes.items() if getattr(volunteer, name) != value]
    for name, value in changes.items():
        setattr(volunteer, name, value)
    volunteer.save()
    if changed or home_building is not None:
        # Field names only: the audit log must not become a second copy of the phone.
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="volunteer",
            object_id=volunteer.pk,
            object_label=volunteer.name,
            changes={"fields": sorted(changed + (["home_building"] if home_building else []))},
            grid_path=volunteer.grid_path,
        )
    return volunteer
