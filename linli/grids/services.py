"""Every write to the grid and the registry: one named action, one transaction each."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.models import AuditAction, User
from linli.accounts.privacy import (
    decrypt_text,
    id_number_fields,
    id_number_is_valid,
    mask_phone,
    normalise_id_number,
    phone_is_valid,
)
from linli.accounts.roles import ROLE_LEVELS, Permission, Role
from linli.accounts.services import audit_record
from linli.grids.models import (
    Building,
    GridLevel,
    GridUnit,
    Household,
    Mood,
    PartyMembership,
    Post,
    ResidencyType,
    Resident,
    ResidentAccount,
    RoleAssignment,
    Visit,
    VisitMethod,
    VulnerabilityTag,
    parent_level,
)
from linli.grids.selectors import user_can


def _deny(message: str) -> ValidationError:
    return ValidationError(message, code="permission_denied")


@transaction.atomic
def grid_unit_create(
    *,
    level: str,
    code: str,
    name: str,
    parent: GridUnit | None,
    boundary: dict | None = None,
    sort_order: int = 0,
) -> GridUnit:
    if level not in GridLevel.values:
        raise ValidationError({"level": _("Unknown grid level: %(level)s") % {"level": level}})
    expected_parent = parent_level(level)
    if (parent.level if parent else None) != expected_parent:
        raise ValidationError(
            {
                "parent": _("A %(level)s grid must sit directly under a %(parent)s grid.")
                % {
                    "level": GridLevel(level).label,
                    "parent": GridLevel(expected_parent).label if expected_parent else "—",
                }
            }
        )
    if "/" in code or not code.strip():
        raise ValidationError({"code": _("A grid code must be non-empty and contain no '/'.")})
    unit = GridUnit(
        level=level,
        code=code.strip(),
        name=name.strip(),
        parent=parent,
        boundary=boundary,
        sort_order=sort_order,
    )
    unit.path = GridUnit.path_for(parent, unit.code)
    unit.full_clean()
    unit.save()
    return unit


def role_assignment_validate(
    *, role: str, grid_unit: GridUnit, post: str = "", assigned_by: User | None = None
) -> None:
    """The checks of `role_assign`, for forms that must show them before saving."""
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role: %(role)s") % {"role": role}})
    if grid_unit.level not in ROLE_LEVELS[role]:
        raise ValidationError(
            {
                "grid_unit": _("The role %(role)s is held on a %(levels)s grid, not on %(unit)s.")
                % {
                    "role": Role(role).label,
                    "levels": "/".join(str(GridLevel(level).label) for level in ROLE_LEVELS[role]),
                    "unit": grid_unit.name,
                }
            }
        )
    if post and post not in Post.values:
        raise ValidationError({"post": _("Unknown post: %(post)s") % {"post": post}})
    if assigned_by is not None and not user_can(
        user=assigned_by, permission=Permission.MANAGE_ROLES, grid_path=grid_unit.path
    ):
        raise _deny(_("You may not assign posts in this grid."))


@transaction.atomic
def role_assign(
    *, user: User, role: str, grid_unit: GridUnit, post: str = "", assigned_by: User | None = None
) -> RoleAssignment:
    """Give a user a role on a grid unit (idempotent for the same triple)."""
    role_assignment_validate(role=role, grid_unit=grid_unit, post=post, assigned_by=assigned_by)
    assignment, created = RoleAssignment.objects.get_or_create(
        user=user,
        role=role,
        grid_unit=grid_unit,
        defaults={"post": post, "grid_path": grid_unit.path},
    )
    if not created and assignment.post != post and post:
        assignment.post = post
        assignment.save(update_fields=["post"])
    if created and assigned_by is not None:
        audit_record(
            actor=assigned_by,
            action=AuditAction.CREATE,
            object_type="role_assignment",
            object_id=assignment.pk,
            object_label=f"{user.username} · {role} · {grid_unit.name}",
            grid_path=grid_unit.path,
        )
    if hasattr(user, "_linli_scope"):
        del user._linli_scope
    return assignment


@transaction.atomic
def role_revoke(*, assignment: RoleAssignment, revoked_by: User) -> None:
    """Take a post away; audited, and only by someone who may assign posts there."""
    if not user_can(
        user=revoked_by, permission=Permission.MANAGE_ROLES, grid_path=assignment.grid_path
    ):
        raise _deny(_("You may not assign posts in this grid."))
    audit_record(
        actor=revoked_by,
        action=AuditAction.DELETE,
        object_type="role_assignment",
        object_id=assignment.pk,
        object_label=f"{assignment.user.username} · {assignment.role} · {assignment.grid_unit.name}",
        grid_path=assignment.grid_path,
    )
    assignment.delete()


@transaction.atomic
def visit_record(
    *,
    visitor: User,
    household: Household,
    method: str,
    finding: str = "",
    mood: str = "",
    needs_follow_up: bool = False,
    visited_at: datetime | None = None,
) -> Visit:
    """寻访: record a contact with a household inside the visitor's scope."""
    if not user_can(
        user=visitor, permission=Permission.RECORD_VISIT, grid_path=household.grid_path
    ):
        raise _deny(_("You may not record visits to this household."))
    errors = {}
    if method not in VisitMethod.values:
        errors["method"] = _("Choose how the visit was made: door, phone or WeChat.")
    if mood and mood not in Mood.values:
        errors["mood"] = _("Unknown mood: %(mood)s") % {"mood": mood}
    finding = (finding or "").strip()
    if len(finding) > 2000:
        errors["finding"] = _("The finding is limited to 2,000 characters.")
    if needs_follow_up and not finding:
        errors["finding"] = _("Say what needs following up.")
    now = clock.now()
    visited_at = visited_at or now
    if visited_at > now + timezone.timedelta(minutes=5):
        errors["visited_at"] = _("A visit cannot be in the future.")
    if errors:
        raise ValidationError(errors)
    return Visit.objects.create(
        household=household,
        grid_path=household.grid_path,
        visitor=visitor,
        visited_at=visited_at,
        method=method,
        finding=finding,
        mood=mood,
        needs_follow_up=needs_follow_up,
    )


REVEALABLE_FIELDS = ("phone", "id_number")


@transaction.atomic
def resident_reveal(
    *, user: User, resident: Resident, field: str, reason: str, ip_address: str | None = None
) -> str:
    """Show one full phone or ID number to a permitted user, and audit who, what, when, why."""
    if field not in REVEALABLE_FIELDS:
        raise ValidationError({"field": _("Only phone and id_number can be revealed.")})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why you need the full number.")})
    if not user_can(user=user, permission=Permission.REVEAL, grid_path=resident.grid_path):
        raise _deny(_("You may not reveal personal numbers in this grid."))
    value = resident.phone if field == "phone" else decrypt_text(resident.id_number_encrypted)
    audit_record(
        actor=user,
        action=AuditAction.REVEAL,
        object_type="resident",
        object_id=resident.pk,
        object_label=resident.name,
        field=field,
        reason=reason,
        grid_path=resident.grid_path,
        ip_address=ip_address,
    )
    return value


EDITABLE_RESIDENT_FIELDS = (
    "name",
    "phone",
    "residency_type",
    "party_membership",
    "vulnerability_tags",
)


@transaction.atomic
def resident_update(
    *, user: User, resident: Resident, ip_address: str | None = None, **changes
) -> Resident:
    """Change a resident's editable fields; the audit entry keeps old and new values (masked)."""
    if not user_can(user=user, permission=Permission.EDIT_REGISTRY, grid_path=resident.grid_path):
        raise _deny(_("You may not change residents in this grid."))
    unknown = set(changes) - set(EDITABLE_RESIDENT_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("This field cannot be changed here.")})
    if "phone" in changes and changes["phone"] and not phone_is_valid(changes["phone"]):
        raise ValidationError({"phone": _("A mobile number has 11 digits and starts with 1.")})
    if "vulnerability_tags" in changes and isinstance(changes["vulnerability_tags"], list):
        changes["vulnerability_tags"] = Resident.encode_tags(changes["vulnerability_tags"])
    diff = {}
    for name, value in changes.items():
        old = getattr(resident, name)
        if old != value:
            shown_old, shown_new = (old, value)
            if name == "phone":
                shown_old, shown_new = mask_phone(old), mask_phone(value)
            diff[name] = [shown_old, shown_new]
            setattr(resident, name, value)
    if not diff:
        return resident
    resident.full_clean(exclude=["household", "user"])
    resident.save()
    audit_record(
        actor=user,
        action=AuditAction.UPDATE,
        object_type="resident",
        object_id=resident.pk,
        object_label=resident.name,
        changes=diff,
        grid_path=resident.grid_path,
        ip_address=ip_address,
    )
    return resident


@transaction.atomic
def building_create(
    *, grid_unit: GridUnit, name: str, address: str = "", floors: int | None = None
) -> Building:
    if grid_unit.level != GridLevel.BUILDING_GROUP:
        raise ValidationError({"grid_unit": _("A building belongs to a building-group grid.")})
    building = Building(
        grid_unit=grid_unit,
        grid_path=grid_unit.path,
        name=name.strip(),
        address=address,
        floors=floors,
    )
    building.full_clean()
    building.save()
    return building


@transaction.atomic
def household_create(*, building: Building, room: str) -> Household:
    household = Household(building=building, grid_path=building.grid_path, room=room.strip())
    household.full_clean()
    household.save()
    return household


@transaction.atomic
def resident_account_link(*, resident: Resident, user: User) -> ResidentAccount:
    """Let `user` log in as this resident (their own household becomes their scope)."""
    account, created = ResidentAccount.objects.get_or_create(
        user=user, defaults={"resident": resident}
    )
    if not created and account.resident_id != resident.pk:
        raise ValidationError({"user": _("This login already belongs to another resident.")})
    if hasattr(user, "_linli_scope"):
        del user._linli_scope
    return account


@transaction.atomic
def resident_create(
    *,
    household: Household,
    name: str,
    sex: str,
    birth_year: int,
    id_number: str,
    phone: str = "",
    residency_type: str = ResidencyType.REGISTERED,
    party_membership: str = PartyMembership.NONE,
    vulnerability_tags: list[str] | None = None,
    user: User | None = None,
    actor: User | None = None,
) -> Resident:
    id_number = normalise_id_number(id_number)
    errors = {}
    if not id_number_is_valid(id_number):
        errors["id_number"] = _("Not a valid 18-character resident ID number.")
    if phone and not phone_is_valid(phone):
        errors["phone"] = _("A mobile number has 11 digits and starts with 1.")
    unknown_tags = set(vulnerability_tags or []) - set(VulnerabilityTag.values)
    if unknown_tags:
        errors["vulnerability_tags"] = _("Unknown tag: %(tag)s") % {"tag": sorted(unknown_tags)[0]}
    if errors:
        raise ValidationError(errors)
    resident = Resident(
        household=household,
        grid_path=household.grid_path,
        name=name.strip(),
        sex=sex,
        birth_year=birth_year,
        phone=phone,
        **id_number_fields(id_number),
        residency_type=residency_type,
        party_membership=party_membership,
        vulnerability_tags=Resident.encode_tags(vulnerability_tags or []),
    )
    resident.full_clean()
    resident.save()
    if user is not None:
        resident_account_link(resident=resident, user=user)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="resident",
        object_id=resident.pk,
        object_label=resident.name,
        grid_path=resident.grid_path,
    )
    return resident
