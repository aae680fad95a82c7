"""Sign-up and review: a volunteer registers (by staff or themselves) and waits for staff to
approve or reject the application.
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.models import AuditAction, User
from linli.accounts.roles import Role
from linli.accounts.services import audit_record
from linli.errors import Conflict, Invalid, NotAllowed
from linli.grids.models import Building, GridLevel, GridUnit, PartyMembership, Post, Resident
from linli.grids.services import role_assign
from linli.volunteers.models import Volunteer, VolunteerOrigin, VolunteerStatus
from linli.volunteers.services.guards import may_manage, volunteer_locked
from linli.volunteers.services.join import application_notify, review_notify
from linli.volunteers.services.profile_fields import (
    check_building,
    check_phone,
    skills_encode,
    slots_encode,
    willingness_encode,
)


def _check_party(value: str) -> str:
    value = value or ""
    if value not in PartyMembership.values:
        raise ValidationError(
            {"party_member_type": _("Unknown party member type: %(value)s") % {"value": value}}
        )
    return value


def _check_party_organisation(value: str) -> str:
    value = " ".join((value or "").split())
    limit = Volunteer._meta.get_field("party_organisation").max_length or 100
    if len(value) > limit:
        raise Invalid(
            _("The party organisation has at most %(max)d characters.") % {"max": limit},
            field="party_organisation",
        )
    return value


@transaction.atomic
def volunteer_signup(
    *,
    actor: User | None,
    skills: Iterable[str],
    willingness: Iterable[str],
    availability: Iterable[str],
    party_member_type: str = "",
    resident: Resident | None = None,
    grid_unit: GridUnit | None = None,
    name: str = "",
    phone: str = "",
    work_unit: str = "",
    party_organisation: str = "",
    home_building: Building | None = None,
    introduction: str = "",
    user: User | None = None,
) -> Volunteer:
    """Register a volunteer; the new row waits for review (status applied).

    Staff with VOLUNTEERS_MANAGE register a resident of their scope or an outside person
    for a unit of their scope, with or without a login (`user`). Anyone else signs
    themselves up: a resident with a login as that resident, any other user as an outside
    volunteer of the community they pick (`grid_unit`), and the community's secretaries
    hear that the application waits. `party_organisation` is the party organisation of an
    in-service party member's work unit (双报到)."""
    if actor is None or not actor.is_authenticated:
        raise NotAllowed(_("Log in to sign up as a volunteer."))
    encoded_skills = skills_encode(skills)
    encoded_willingness = willingness_encode(willingness)
    encoded_slots = slots_encode(availability)
    party_member_type = _check_party(party_member_type)
    phone = check_phone(phone)
    work_unit = (work_unit or "").strip()
    party_organisation = _check_party_organisation(party_organisation)
    name = (name or "").strip()

    staff_path = (
        resident.grid_path if resident is not None else (grid_unit.path if grid_unit else "")
    )
    by_staff = bool(staff_path) and may_manage(actor, staff_path)
    if by_staff:
        linked_user = user
    else:
        # Self sign-up: the actor is the volunteer; a resident login signs up as that resident.
        if user is not None and user.pk != actor.pk:
            raise NotAllowed(_("You may only sign yourself up."))
        linked_user = actor
        account = getattr(actor, "resident_account", None)
        if resident is not None and (account is None or account.resident_id != resident.pk):
            raise NotAllowed(_("You may only sign yourself up."))
        if account is not None:
            resident = account.resident
        elif grid_unit is None or grid_unit.level != GridLevel.COMMUNITY:
            raise ValidationError({"grid_unit": _("Choose the community you want to serve.")})

    if linked_user is not None and Volunteer.objects.filter(user=linked_user).exists():
        raise ValidationError({"user": _("This login is already signed up as a volunteer.")})

    if resident is not None:
        if Volunteer.objects.filter(resident=resident).exists():
            raise ValidationError({"resident": _("This resident is already a volunteer.")})
        resident = Resident.objects.select_related("household__building__grid_unit").get(
            pk=resident.pk
        )
        unit = resident.household.building.grid_unit
        origin = VolunteerOrigin.RESIDENT
        name = resident.name
        phone = phone or resident.phone
        party_member_type = party_member_type or resident.party_membership
        home_building = home_building or resident.household.building
    else:
        if grid_unit is None:
            raise ValidationError({"grid_unit": _("Choose the community you want to serve.")})
        if grid_unit.level in (GridLevel.STREET, GridLevel.BLOCK):
            raise ValidationError(
                {"grid_unit": _("A volunteer belongs to a community or a part of one.")}
            )
        unit = grid_unit
        origin = VolunteerOrigin.OUTSIDE
        if not name:
            raise ValidationError({"name": _("Enter the volunteer's name.")})
        if not work_unit:
            # 双报到: an outside volunteer reports from a work unit (or school).
            raise ValidationError({"work_unit": _("Enter the work unit of an outside volunteer.")})
    check_building(home_building, unit)

    volunteer = Volunteer.objects.create(
        user=linked_user,
        resident=resident,
        origin=origin,
        name=name[:50],
        phone=phone,
        work_unit=work_unit[:100],
        party_organisation=party_organisation,
        party_member_type=party_member_type,
        grid_unit=unit,
        grid_path=unit.path,
        home_building=home_building,
        skills=encoded_skills,
        willingness=encoded_willingness,
        availability=encoded_slots,
        introduction=(introduction or "").strip()[:500],
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="volunteer",
        object_id=volunteer.pk,
        object_label=volunteer.name,
        grid_path=volunteer.grid_path,
    )
    if not by_staff:
        application_notify(volunteer)
    return volunteer


@transaction.atomic
def volunteer_review(
    *, actor: User, volunteer: Volunteer, approve: bool, note: str = ""
) -> Volunteer:
    """Approve or reject an application. A rejection says why."""
    if not may_manage(actor, volunteer.grid_path):
        raise NotAllowed(_("You may not review this volunteer."))
    volunteer = volunteer_locked(volunteer)
    if volunteer.status != VolunteerStatus.APPLIED:
        raise Conflict(_("Only an application can be approved or rejected."), field="status")
    note = (note or "").strip()
    if not approve and not note:
        raise ValidationError({"note": _("Say why the application is rejected.")})
    volunteer.status = VolunteerStatus.APPROVED if approve else VolunteerStatus.REJECTED
    volunteer.review_note = note[:300]
    volunteer.reviewed_by = actor
    volunteer.reviewed_at = clock.now()
    volunteer.save(
        update_fields=["status", "review_note", "reviewed_by", "reviewed_at", "updated_at"]
    )
    # An approved volunteer with a login holds the volunteer post where they serve, as a
    # volunteer given a login by staff does: it shows at the top of their pages, and their
    # login is among the area's logins (linli.logins) for the secretary to manage.
    if approve and volunteer.user is not None:
        role_assign(
            user=volunteer.user,
            role=Role.VOLUNTEER,
            grid_unit=volunteer.grid_unit,
            post=Post.VOLUNTEER,
        )
    # An approval makes the person a member of the community (participation's
    # member_community_ids), so the decision is on the record.
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="volunteer",
        object_id=volunteer.pk,
        object_label=volunteer.name,
        field="status",
        changes={"status": [VolunteerStatus.APPLIED.value, volunteer.status]},
        reason=volunteer.review_note,
        grid_path=volunteer.grid_path,
    )
    review_notify(volunteer)
    return volunteer
