"""Every write to the grid and the registry: one named action, one transaction each."""

from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from linli import clock
from linli.accounts.grid_paths import path_ancestors, within
from linli.accounts.models import AuditAction, TokenRevocation, User
from linli.accounts.privacy import (
    decrypt_text,
    id_number_fields,
    id_number_is_valid,
    mask_phone,
    normalise_id_number,
    phone_is_valid,
)
from linli.accounts.reveals import day_start, reveal_alert_due, reveal_audit
from linli.accounts.roles import ROLE_LEVELS, Permission, Role
from linli.accounts.services import audit_record, tokens_revoke_for_user
from linli.errors import NotAllowed
from linli.grids.membership import forget_membership
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
from linli.grids.selectors import forget_scope, scope_for, user_can, users_in_scope
from linli.notify.models import Notification
from linli.notify.services import notification_send


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
    *,
    role: str,
    grid_unit: GridUnit,
    post: str = "",
    assigned_by: User | None = None,
    user: User | None = None,
) -> None:
    """The checks of `role_assign`, for forms that must show them before saving. Someone
    assigning posts gives them to logins of their own area only (`users_in_scope`)."""
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
        raise NotAllowed(_("You may not assign posts in this grid."))
    if (
        assigned_by is not None
        and user is not None
        and not users_in_scope(user=assigned_by).filter(pk=user.pk).exists()
    ):
        raise ValidationError({"user": _("Only a login of your own area can be given a post.")})


@transaction.atomic
def role_assign(
    *, user: User, role: str, grid_unit: GridUnit, post: str = "", assigned_by: User | None = None
) -> RoleAssignment:
    """Give a user a role on a grid unit (idempotent for the same triple)."""
    role_assignment_validate(
        role=role, grid_unit=grid_unit, post=post, assigned_by=assigned_by, user=user
    )
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
            action=AuditAction.ROLE_GRANT,
            object_type="role_assignment",
            object_id=assignment.pk,
            object_label=f"{user.username} · {role} · {grid_unit.name}",
            grid_path=grid_unit.path,
        )
    _forget_scope(user)
    return assignment


@transaction.atomic
def role_revoke(*, assignment: RoleAssignment, revoked_by: User) -> None:
    """Take a post away; audited, and only by someone who may assign posts there."""
    if not user_can(
        user=revoked_by, permission=Permission.MANAGE_ROLES, grid_path=assignment.grid_path
    ):
        raise NotAllowed(_("You may not assign posts in this grid."))
    audit_record(
        actor=revoked_by,
        action=AuditAction.ROLE_REVOKE,
        object_type="role_assignment",
        object_id=assignment.pk,
        object_label=f"{assignment.user.username} · {assignment.role} · {assignment.grid_unit.name}",
        grid_path=assignment.grid_path,
    )
    assignment.delete()
    if not RoleAssignment.objects.filter(user_id=assignment.user_id).exists():
        # Their last role gone, the person's apps are signed out (their web session already
        # sees nothing): a token must not outlive the post it was issued for.
        tokens_revoke_for_user(
            user=assignment.user, reason=TokenRevocation.ROLE_REMOVED, actor=revoked_by
        )


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
        raise NotAllowed(_("You may not record visits to this household."))
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
    if visited_at > now + timedelta(minutes=5):
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
    *,
    user: User,
    resident: Resident,
    field: str,
    purpose: str,
    reason: str,
    ip_address: str | None = None,
) -> str:
    """Show one full phone or ID number to a permitted user, and audit who, what, when, why.

    The purpose, the reason and the daily quota are checked by linli.accounts.reveals; the
    secretary hears when the user's count for the day becomes unusual."""
    if field not in REVEALABLE_FIELDS:
        raise ValidationError({"field": _("Only phone and id_number can be revealed.")})
    if not user_can(user=user, permission=Permission.REVEAL, grid_path=resident.grid_path):
        raise NotAllowed(_("You may not reveal personal numbers in this grid."))
    if resident.anonymised_at is not None:
        # Erased (linli.privacy): there is no number left to show.
        raise ValidationError({"field": _("This resident has been anonymised: no number is kept.")})
    value = resident.phone if field == "phone" else decrypt_text(resident.id_number_encrypted)
    count = reveal_audit(
        actor=user,
        purpose=purpose,
        reason=reason,
        object_type="resident",
        object_id=resident.pk,
        object_label=resident.name,
        field=field,
        grid_path=resident.grid_path,
        ip_address=ip_address,
    )
    reveal_volume_alert(actor=user, grid_path=resident.grid_path, count=count)
    return value


REVEAL_VOLUME_KIND = "reveal_volume"


def reveal_alert_recipients(*, actor: User, grid_path: str) -> list[User]:
    """Who hears of unusual reveals at `grid_path`: the secretaries whose post covers it, or,
    when the one revealing is that secretary, the street administrators above them."""
    ancestors = path_ancestors(grid_path)
    for role in (Role.SECRETARY, Role.STREET_ADMIN):
        users = list(
            User.objects.filter(
                is_active=True,
                role_assignments__role=role,
                role_assignments__grid_path__in=ancestors,
            )
            .exclude(pk=actor.pk)
            .distinct()
            .order_by("pk")
        )
        if users:
            return users
    return []


def reveal_volume_alert(*, actor: User, grid_path: str, count: int) -> None:
    """Once a day per person revealing and per recipient: from LINLI_REVEAL_ALERT_AT full
    numbers on, tell the secretary covering the revealed number's grid who has seen how many
    today, with a link to those reveals in the audit log. A recipient already told today
    about this person is not told again (the link names the person and the day)."""
    if not reveal_alert_due(count):
        return
    today = clock.localdate()
    query = {"actor": actor.pk, "action": AuditAction.REVEAL, "date": today.isoformat()}
    link = f"{reverse('grids:audit')}?{urlencode(query)}"
    told = set(
        Notification.objects.filter(
            kind=REVEAL_VOLUME_KIND, link=link, created_at__gte=day_start(today)
        ).values_list("recipient_id", flat=True)
    )
    recipients = [
        recipient
        for recipient in reveal_alert_recipients(actor=actor, grid_path=grid_path)
        if recipient.pk not in told
    ]
    if recipients:
        notification_send(
            recipients=recipients,
            kind=REVEAL_VOLUME_KIND,
            title=gettext_noop("%(person)s has seen %(count)d full phone or ID numbers today"),
            title_params={"person": str(actor), "count": count},
            link=link,
        )


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
        raise NotAllowed(_("You may not change residents in this grid."))
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
def resident_account_link(
    *, resident: Resident, user: User, actor: User | None = None, ip_address: str | None = None
) -> ResidentAccount:
    """Let `user` log in as this resident (their own household becomes their scope, its
    health and vulnerability tags included). Unchecked: callers acting for a person go
    through `resident_link_login`. Every new link is audited."""
    existing = ResidentAccount.objects.filter(user=user).first()
    if existing is not None:
        if existing.resident_id != resident.pk:
            raise ValidationError({"user": _("This login already belongs to another resident.")})
        return existing
    if ResidentAccount.objects.filter(resident=resident).exists():
        raise ValidationError({"resident": _("This resident already has a login.")})
    try:
        with transaction.atomic():
            account = ResidentAccount.objects.create(user=user, resident=resident)
    except IntegrityError:  # the same link made at the same instant
        raise ValidationError({"user": _("This login already belongs to a resident.")}) from None
    audit_record(
        actor=actor,
        action=AuditAction.LINK,
        object_type="resident",
        object_id=resident.pk,
        object_label=_link_label(resident, user),
        grid_path=resident.grid_path,
        ip_address=ip_address,
    )
    _forget_scope(user)
    return account


def _link_label(resident: Resident, user: User) -> str:
    return f"{resident.name} · {user.display_name or user.username}"


def _forget_scope(user: User) -> None:
    """What the person may see and where they belong changed: drop both cached answers."""
    forget_scope(user)
    forget_membership(user)


def resident_link_login_validate(*, actor: User, resident: Resident, user: User) -> None:
    """The checks of `resident_link_login`, for forms to show as field errors.

    A linked login sees the household's health tags, so both ends lie in the actor's area:
    the resident, and the login (a post or a resident link there: `users_in_scope`), which
    must hold no post outside it; an unattached login or one of another area is linked by
    a superuser or by staff above both."""
    if not user_can(user=actor, permission=Permission.MANAGE_ROLES, grid_path=resident.grid_path):
        raise ValidationError({"resident": _("This resident is outside your area.")})
    if not users_in_scope(user=actor).filter(pk=user.pk).exists():
        raise ValidationError({"user": _("Only a login of your own area can be linked.")})
    paths = scope_for(actor).paths_for(Permission.MANAGE_ROLES)
    if RoleAssignment.objects.filter(user=user).exclude(within(paths)).exists():
        raise ValidationError(
            {"user": _("This login holds a post outside your area; staff above both link it.")}
        )
    linked = ResidentAccount.objects.filter(user=user).exclude(resident=resident).exists()
    if linked:
        raise ValidationError({"user": _("This login already belongs to another resident.")})
    if ResidentAccount.objects.filter(resident=resident).exclude(user=user).exists():
        raise ValidationError(
            {"resident": _("This resident already has a login; unlink it first.")}
        )


@transaction.atomic
def resident_link_login(
    *, actor: User, resident: Resident, user: User, ip_address: str | None = None
) -> ResidentAccount:
    """Staff link a login to a resident of their area (the admin's resident logins):
    checked (`resident_link_login_validate`) and audited."""
    resident_link_login_validate(actor=actor, resident=resident, user=user)
    return resident_account_link(resident=resident, user=user, actor=actor, ip_address=ip_address)


@transaction.atomic
def resident_unlink_login(
    *, actor: User, account: ResidentAccount, ip_address: str | None = None
) -> None:
    """Staff end a login's link to a resident of their area; audited. The login no longer
    sees the household, and with nothing else left (no post) its apps are signed out."""
    account = ResidentAccount.objects.select_related("resident", "user").get(pk=account.pk)
    resident, user = account.resident, account.user
    if not user_can(user=actor, permission=Permission.MANAGE_ROLES, grid_path=resident.grid_path):
        raise NotAllowed(_("This resident is outside your area."))
    audit_record(
        actor=actor,
        action=AuditAction.UNLINK,
        object_type="resident",
        object_id=resident.pk,
        object_label=_link_label(resident, user),
        grid_path=resident.grid_path,
        ip_address=ip_address,
    )
    account.delete()
    _forget_scope(user)
    if not RoleAssignment.objects.filter(user=user).exists():
        tokens_revoke_for_user(user=user, reason=TokenRevocation.ROLE_REMOVED, actor=actor)


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
        resident_account_link(resident=resident, user=user, actor=actor)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="resident",
        object_id=resident.pk,
        object_label=resident.name,
        grid_path=resident.grid_path,
    )
    return resident
