"""Writes for residents' privacy: a move-out recorded, a resident anonymised.

Anonymising erases what identifies a person — name, phone, ID number (encrypted value, keyed
hash and masked form), party membership and health or vulnerability tags — and unlinks their
login; it keeps sex, birth year, residency type and household, which only feed the
aggregates (counts by age, the resilience indicators), and it keeps the audit trail. It
cannot be undone.
"""

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.models import AuditAction, TokenRevocation, User
from linli.accounts.roles import Permission, Role
from linli.accounts.services import audit_record, tokens_revoke_for_user
from linli.cases.models import Case
from linli.errors import NotAllowed
from linli.grids.models import Resident, ResidentAccount, RoleAssignment
from linli.grids.selectors import user_can
from linli.privacy.models import CorrectionRequest

# What an anonymised resident is called wherever a name is shown. Stored, so that every
# list, export and report shows it without knowing about anonymisation.
ANONYMISED_NAME = "（已匿名）"
# The keyed-hash column is unique and 64 characters: an anonymised resident gets a value no
# real hash (64 hex digits) can equal, so a returning person is imported as someone new.
ANONYMISED_HASH_PREFIX = "anonymised:"
REASON_MAX_LENGTH = 300


def _locked(resident: Resident) -> Resident:
    return Resident.objects.select_for_update().select_related("household").get(pk=resident.pk)


@transaction.atomic
def resident_move_out(
    *,
    actor: User,
    resident: Resident,
    moved_out_on: date,
    ip_address: str | None = None,
) -> Resident:
    """Record that a resident moved away. The retention rule anonymises them once
    LINLI_RETENTION_DEPARTED_DAYS have passed; until then staff can still reach them."""
    if not user_can(user=actor, permission=Permission.EDIT_REGISTRY, grid_path=resident.grid_path):
        raise NotAllowed(_("You may not change residents in this grid."))
    resident = _locked(resident)
    if resident.anonymised_at is not None:
        raise ValidationError({"resident": _("This resident has already been anonymised.")})
    today = clock.localdate()
    if moved_out_on > today:
        raise ValidationError({"moved_out_on": _("The move-out date cannot be in the future.")})
    if moved_out_on.year < today.year - 50:
        raise ValidationError({"moved_out_on": _("Give the date the resident moved out.")})
    old = resident.moved_out_on
    if old == moved_out_on:
        return resident
    resident.moved_out_on = moved_out_on
    resident.save(update_fields=["moved_out_on", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="resident",
        object_id=resident.pk,
        object_label=resident.name,
        changes={"moved_out_on": [old.isoformat() if old else "", moved_out_on.isoformat()]},
        grid_path=resident.grid_path,
        ip_address=ip_address,
    )
    return resident


def _erase(resident: Resident, *, now: datetime, actor: User | None) -> None:
    """Erase the identifying fields of a locked resident row (no permission check, no audit:
    the callers do both)."""
    resident.name = ANONYMISED_NAME
    resident.phone = ""
    resident.id_number_encrypted = ""
    resident.id_number_hash = f"{ANONYMISED_HASH_PREFIX}{resident.pk}"
    resident.id_number_masked = ""
    resident.party_membership = ""
    resident.vulnerability_tags = ""
    resident.anonymised_at = now
    resident.save(
        update_fields=[
            "name",
            "phone",
            "id_number_encrypted",
            "id_number_hash",
            "id_number_masked",
            "party_membership",
            "vulnerability_tags",
            "anonymised_at",
            "updated_at",
        ]
    )
    # Cases they reported keep their content for the case loop's figures, not who filed them.
    Case.objects.filter(reporter_resident=resident).update(reporter_resident=None)
    # Their correction requests hold what they asked to be recorded (a name, a phone) and
    # notes that may name them: they go. The audit entries of the requests and of their
    # handling stay (they name the field asked about, not the value asked for).
    CorrectionRequest.objects.filter(resident=resident).delete()
    account = ResidentAccount.objects.filter(resident=resident).select_related("user").first()
    if account is not None:
        user = account.user
        account.delete()
        # Their place as a resident goes with the household they left; a post they hold
        # (a volunteer, a lead) is another matter and stays.
        for assignment in RoleAssignment.objects.filter(user=user, role=Role.RESIDENT):
            audit_record(
                actor=actor,
                action=AuditAction.ROLE_REVOKE,
                object_type="role_assignment",
                object_id=assignment.pk,
                object_label=f"{user.username} · {assignment.role}",
                grid_path=assignment.grid_path,
            )
            assignment.delete()
        # A login that was only this resident's has nothing left to open: it is switched off
        # and its app tokens stop answering. A login that also holds a post keeps working.
        if not user.is_superuser and not RoleAssignment.objects.filter(user=user).exists():
            user.is_active = False
            user.save(update_fields=["is_active"])
            tokens_revoke_for_user(user=user, reason=TokenRevocation.DEACTIVATED, actor=actor)


@transaction.atomic
def resident_anonymise(
    *,
    actor: User,
    resident: Resident,
    reason: str,
    ip_address: str | None = None,
) -> Resident:
    """Anonymise one resident now, at their request (PIPL Art. 47) or because they left.
    Staff who may change residents there do it; the reason is required and audited."""
    if not user_can(user=actor, permission=Permission.EDIT_REGISTRY, grid_path=resident.grid_path):
        raise NotAllowed(_("You may not change residents in this grid."))
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise ValidationError(
            {"reason": _("Say why, e.g. which request of the resident this answers.")}
        )
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(
            {"reason": _("Keep the reason to %(max)d characters.") % {"max": REASON_MAX_LENGTH}}
        )
    resident = _locked(resident)
    if resident.anonymised_at is not None:
        raise ValidationError({"resident": _("This resident has already been anonymised.")})
    _erase(resident, now=clock.now(), actor=actor)
    audit_record(
        actor=actor,
        action=AuditAction.ANONYMISE,
        object_type="resident",
        object_id=resident.pk,
        # Not the name: the entry outlives what it records the erasure of.
        object_label=f"#{resident.pk}",
        reason=reason,
        grid_path=resident.grid_path,
        ip_address=ip_address,
    )
    return resident
