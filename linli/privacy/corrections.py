"""Residents' requests to correct the register (PIPL Art. 46): selectors and services.

A resident (a login linked to a household member) asks for one field of a member of their
own household to be corrected, naming the correct value or describing what is wrong. Staff
whose EDIT_REGISTRY covers the household see the open requests as a task list and handle
each one: applied (through grids.services.resident_update, which audits the change itself)
or declined with a reason. The resident hears of it in their inbox either way.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from linli import clock
from linli.accounts.grid_paths import path_ancestors, within
from linli.accounts.models import AuditAction, User
from linli.accounts.privacy import phone_is_valid
from linli.accounts.roles import ROLE_PERMISSIONS, Permission
from linli.accounts.services import audit_record
from linli.errors import Conflict, NotAllowed, get_visible_or_404
from linli.grids.models import Resident
from linli.grids.selectors import scope_for, user_can
from linli.grids.services import resident_update
from linli.notify.services import notification_send
from linli.privacy.models import (
    APPLICABLE_FIELDS,
    CORRECTION_NOTE_MAX_LENGTH,
    CORRECTION_VALUE_MAX_LENGTH,
    DECISION_NOTE_MAX_LENGTH,
    CorrectionField,
    CorrectionRequest,
    CorrectionState,
)

# A household has at most this many requests open at once: enough for every real mistake,
# too few to bury the staff's list.
MAX_OPEN_PER_HOUSEHOLD = 5
REASON_MIN_LENGTH = 4


# Selectors -------------------------------------------------------------------------------


def _base() -> QuerySet[CorrectionRequest]:
    return CorrectionRequest.objects.select_related(
        "resident", "household__building", "requested_by", "handled_by"
    )


def corrections_own(*, user: User) -> QuerySet[CorrectionRequest]:
    """The requests about the user's own household (theirs and their family's)."""
    household_ids = scope_for(user).own_household_ids
    return _base().filter(household_id__in=household_ids)


def corrections_to_handle(*, user: User) -> QuerySet[CorrectionRequest]:
    """The requests the user may apply or decline: within their EDIT_REGISTRY paths."""
    paths = scope_for(user).paths_for(Permission.EDIT_REGISTRY)
    return _base().filter(within(paths))


def corrections_visible(*, user: User) -> QuerySet[CorrectionRequest]:
    household_ids = scope_for(user).own_household_ids
    paths = scope_for(user).paths_for(Permission.EDIT_REGISTRY)
    return _base().filter(Q(household_id__in=household_ids) | within(paths))


def open_corrections_count(*, user: User) -> int:
    """How many requests wait for the user (0 for someone who handles none)."""
    paths = scope_for(user).paths_for(Permission.EDIT_REGISTRY)
    if not paths:
        return 0
    return corrections_to_handle(user=user).filter(state=CorrectionState.OPEN).count()


def correction_get(*, user: User, correction_id: int) -> CorrectionRequest:
    return get_visible_or_404(corrections_visible(user=user), correction_id)


def may_handle(*, user: User, correction: CorrectionRequest) -> bool:
    return user_can(user=user, permission=Permission.EDIT_REGISTRY, grid_path=correction.grid_path)


def own_residents(*, user: User) -> QuerySet[Resident]:
    """The members of the user's own household about whom they may ask a correction."""
    household_ids = scope_for(user).own_household_ids
    return Resident.objects.filter(household_id__in=household_ids, anonymised_at__isnull=True)


# Services --------------------------------------------------------------------------------


def _bounded(value: str, *, field: str, maximum: int) -> str:
    value = (value or "").strip()
    if len(value) > maximum:
        raise ValidationError({field: _("Keep this to %(max)d characters.") % {"max": maximum}})
    return value


@transaction.atomic
def correction_request_create(
    *,
    user: User,
    resident: Resident,
    field: str,
    requested_value: str = "",
    note: str = "",
    ip_address: str | None = None,
) -> CorrectionRequest:
    """A resident asks for a correction of a member of their own household; audited."""
    if resident.household_id not in scope_for(user).own_household_ids:
        raise NotAllowed(_("You may ask for corrections of your own household only."))
    if resident.anonymised_at is not None:
        raise ValidationError({"resident": _("This resident has been anonymised.")})
    if field not in CorrectionField.values:
        raise ValidationError({"field": _("Choose what is wrong.")})
    requested_value = _bounded(
        requested_value, field="requested_value", maximum=CORRECTION_VALUE_MAX_LENGTH
    )
    note = _bounded(note, field="note", maximum=CORRECTION_NOTE_MAX_LENGTH)
    if field == CorrectionField.OTHER:
        if not note:
            raise ValidationError({"note": _("Describe what is wrong and what is right.")})
    elif not requested_value:
        raise ValidationError({"requested_value": _("Give the correct value.")})
    if field == CorrectionField.PHONE and not phone_is_valid(requested_value):
        raise ValidationError(
            {"requested_value": _("A mobile number has 11 digits and starts with 1.")}
        )
    # Locks the household's rows: two requests sent at once cannot both pass the bound.
    # (Rows fetched, then counted: PostgreSQL refuses FOR UPDATE with an aggregate.)
    open_count = len(
        CorrectionRequest.objects.select_for_update()
        .filter(household_id=resident.household_id, state=CorrectionState.OPEN)
        .values_list("pk", flat=True)
    )
    if open_count >= MAX_OPEN_PER_HOUSEHOLD:
        raise ValidationError(
            {
                "field": _(
                    "Your household already has %(count)d requests waiting: wait for the "
                    "committee to answer them."
                )
                % {"count": open_count}
            }
        )
    correction = CorrectionRequest.objects.create(
        resident=resident,
        household_id=resident.household_id,
        grid_path=resident.grid_path,
        requested_by=user,
        field=field,
        requested_value=requested_value,
        note=note,
        created_at=clock.now(),
    )
    audit_record(
        actor=user,
        action=AuditAction.CREATE,
        object_type="correction_request",
        object_id=correction.pk,
        object_label=f"#{correction.pk} · {correction.get_field_display()}",
        field=field,
        grid_path=correction.grid_path,
        ip_address=ip_address,
    )
    _tell_staff(correction)
    return correction


def _tell_staff(correction: CorrectionRequest) -> None:
    """Tell the staff who may handle the request (EDIT_REGISTRY on a unit covering the
    household) that it waits for them; in the inbox only, and naming nobody: the request
    itself is behind the link. The requester is not told of their own request."""
    roles = [
        role
        for role, permissions in ROLE_PERMISSIONS.items()
        if Permission.EDIT_REGISTRY in permissions
    ]
    staff = (
        User.objects.filter(
            is_active=True,
            role_assignments__role__in=roles,
            role_assignments__grid_path__in=path_ancestors(correction.grid_path),
        )
        # django-stubs: a nullable id is a valid value (None excludes nobody).
        .exclude(pk=correction.requested_by_id)  # type: ignore[misc]
        .distinct()
        .order_by("pk")
    )
    notification_send(
        recipients=staff,
        kind="privacy_correction_open",
        title=gettext_noop("Correction request #%(number)s waits for you"),
        title_params={"number": correction.pk},
        link=reverse("privacy:correction_detail", args=[correction.pk]),
    )


def _locked_open(*, actor: User, correction: CorrectionRequest) -> CorrectionRequest:
    if not may_handle(user=actor, correction=correction):
        raise NotAllowed(_("You may not change residents in this grid."))
    correction = (
        # Only the request's own row: PostgreSQL cannot lock the nullable side of a join.
        CorrectionRequest.objects.select_for_update(of=("self",))
        .select_related("resident", "requested_by")
        .get(pk=correction.pk)
    )
    if correction.state != CorrectionState.OPEN:
        raise Conflict(_("This request has already been handled."), field="state")
    return correction


def _tell_requester(correction: CorrectionRequest, title: str) -> None:
    requester = correction.requested_by
    if requester is None or not requester.is_active:
        return
    notification_send(
        recipients=[requester],
        kind="privacy_correction",
        title=title,
        title_params={"number": correction.pk},
        body=correction.decision_note,
        link=reverse("privacy:my_corrections"),
    )


@transaction.atomic
def correction_request_apply(
    *,
    actor: User,
    correction: CorrectionRequest,
    value: str | None = None,
    decision_note: str = "",
    ip_address: str | None = None,
) -> CorrectionRequest:
    """Apply a request: the field is changed through resident_update (its own audit entry
    keeps old and new values, masked) with `value` (the requested value unless staff give
    another); a request about something else is marked corrected with a note of what was
    done by hand. Audited as a correction; the resident is told."""
    correction = _locked_open(actor=actor, correction=correction)
    decision_note = _bounded(decision_note, field="decision_note", maximum=DECISION_NOTE_MAX_LENGTH)
    resident = correction.resident
    if resident.anonymised_at is not None:
        raise ValidationError({"resident": _("This resident has been anonymised.")})
    if correction.field in APPLICABLE_FIELDS:
        value = _bounded(
            correction.requested_value if value is None else value,
            field="value",
            maximum=CORRECTION_VALUE_MAX_LENGTH,
        )
        if not value and correction.field == CorrectionField.NAME:
            raise ValidationError({"value": _("Give the correct value.")})
        try:
            resident_update(
                user=actor, resident=resident, ip_address=ip_address, **{correction.field: value}
            )
        except ValidationError as error:
            if getattr(error, "code", None) == "permission_denied":
                raise
            messages = (
                error.messages
                if not hasattr(error, "error_dict")
                else [message for messages in error.message_dict.values() for message in messages]
            )
            raise ValidationError({"value": messages[0]}) from None
    elif len(decision_note) < REASON_MIN_LENGTH:
        raise ValidationError({"decision_note": _("Say what was corrected.")})
    correction.state = CorrectionState.APPLIED
    correction.handled_by = actor
    correction.handled_at = clock.now()
    correction.decision_note = decision_note
    correction.save(update_fields=["state", "handled_by", "handled_at", "decision_note"])
    audit_record(
        actor=actor,
        action=AuditAction.CORRECT,
        object_type="correction_request",
        object_id=correction.pk,
        object_label=f"#{correction.pk} · {correction.get_field_display()}",
        field=correction.field,
        reason=decision_note,
        grid_path=correction.grid_path,
        ip_address=ip_address,
    )
    _tell_requester(correction, gettext_noop("Your correction request #%(number)s was applied"))
    return correction


@transaction.atomic
def correction_request_decline(
    *,
    actor: User,
    correction: CorrectionRequest,
    reason: str,
    ip_address: str | None = None,
) -> CorrectionRequest:
    """Decline a request with a reason the resident reads; audited; the resident is told."""
    correction = _locked_open(actor=actor, correction=correction)
    reason = _bounded(reason, field="reason", maximum=DECISION_NOTE_MAX_LENGTH)
    if len(reason) < REASON_MIN_LENGTH:
        raise ValidationError({"reason": _("Say why, so that the resident understands.")})
    correction.state = CorrectionState.DECLINED
    correction.handled_by = actor
    correction.handled_at = clock.now()
    correction.decision_note = reason
    correction.save(update_fields=["state", "handled_by", "handled_at", "decision_note"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="correction_request",
        object_id=correction.pk,
        object_label=f"#{correction.pk} · {correction.get_field_display()}",
        field=correction.field,
        changes={"state": [CorrectionState.OPEN, CorrectionState.DECLINED]},
        reason=reason,
        grid_path=correction.grid_path,
        ip_address=ip_address,
    )
    _tell_requester(correction, gettext_noop("Your correction request #%(number)s was declined"))
    return correction
