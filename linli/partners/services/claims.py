"""Claims: a provider takes a need, or the community takes a resource; the claim then
moves from claimed to confirmed (or cancelled), and a volunteer's confirmed hours reach
the ledger.

Claims change state only through `claim_transition`, which reads the table below; creating
a claim and cancelling one are the only writes to a need's claimed quantity, both under the
need's row lock, so two people taking the last unit at once cannot both win.
"""

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from linli import clock
from linli.accounts.grid_paths import path_ancestors
from linli.accounts.models import AuditAction, User
from linli.accounts.roles import ROLE_PERMISSIONS, Permission
from linli.accounts.services import audit_record
from linli.errors import Conflict, NotAllowed
from linli.grids.selectors import scope_for
from linli.notify.services import notification_send
from linli.partners.models import (
    Claim,
    ClaimDirection,
    ClaimEvent,
    ClaimState,
    Need,
    NeedState,
    Partner,
    Recurrence,
    Resource,
)
from linli.partners.services.common import check_quantity, path_has
from linli.partners.services.notices import claim_step_notify
from linli.partners.services.partners import agreement_check
from linli.partners.services.providers import acts_for_provider, provider_reaches
from linli.volunteers.models import Volunteer

S = ClaimState

# (state, action) -> new state: the whole claim lifecycle.
TRANSITIONS: dict[tuple[str, str], str] = {
    (S.CLAIMED, "start"): S.IN_PROGRESS,
    (S.IN_PROGRESS, "deliver"): S.DELIVERED,
    (S.DELIVERED, "confirm"): S.CONFIRMED,
    # The beneficiary says it did not arrive: back to the provider.
    (S.DELIVERED, "dispute"): S.IN_PROGRESS,
    (S.CLAIMED, "cancel"): S.CANCELLED,
    (S.IN_PROGRESS, "cancel"): S.CANCELLED,
    (S.DELIVERED, "cancel"): S.CANCELLED,
    # Hours above settings.LINLI_HOURS_APPROVAL_ABOVE, once confirmed: staff credit them.
    (S.CONFIRMED, "approve_hours"): S.CONFIRMED,
}
ACTIONS = sorted({action for _state, action in TRANSITIONS})
PROVIDER_ACTIONS = frozenset({"start", "deliver", "cancel"})
BENEFICIARY_ACTIONS = frozenset({"confirm", "dispute"})
STAFF_ACTIONS = frozenset({"approve_hours"})

ACTION_LABELS = {
    "start": gettext_lazy("Start"),
    "deliver": gettext_lazy("Mark delivered"),
    "confirm": gettext_lazy("Confirm received"),
    "dispute": gettext_lazy("Not received"),
    "cancel": gettext_lazy("Cancel"),
    "approve_hours": gettext_lazy("Approve the hours"),
}
NOTE_REQUIRED = {
    "cancel": gettext_lazy("Say why the claim is cancelled."),
    "dispute": gettext_lazy("Say what is missing."),
}
MAX_HOURS = Decimal("24")


def _event(*, claim: Claim, actor, action: str, from_state: str, note: str = "") -> None:
    ClaimEvent.objects.create(
        claim=claim,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        from_state=from_state,
        to_state=claim.state,
        note=note[:300],
    )


def _reserve(need: Need, quantity) -> tuple[Need, int]:
    """Lock the need and check that `quantity` is still free on it."""
    errors: dict[str, str] = {}
    quantity = check_quantity(quantity, errors)
    if errors:
        raise ValidationError(errors)
    locked = Need.objects.select_for_update().get(pk=need.pk)
    if locked.state == NeedState.CANCELLED:
        raise Conflict(_("This need was cancelled."))
    if locked.remaining <= 0:
        raise Conflict(_("This need is already fully claimed; nothing was recorded."))
    if quantity > locked.remaining:
        raise Conflict(
            _("Only %(count)d of %(total)d are still open to claim.")
            % {"count": locked.remaining, "total": locked.quantity},
            field="quantity",
        )
    return locked, quantity


def _refresh_need_state(need: Need) -> None:
    """Called under the need's lock after its claims changed."""
    if need.state == NeedState.CANCELLED:
        return
    if need.claimed_quantity < need.quantity:
        need.state = NeedState.OPEN
    elif (
        need.recurrence == Recurrence.ONCE
        and not need.claims.exclude(state__in=[S.CANCELLED, S.CONFIRMED]).exists()
    ):
        need.state = NeedState.FULFILLED
    else:
        need.state = NeedState.CLAIMED
    need.save(update_fields=["state", "claimed_quantity", "updated_at"])


def _refuse_own_household(
    *, need: Need, actor: User, partner: Partner | None = None, volunteer: Volunteer | None = None
) -> None:
    """Nobody provides for their own household: the beneficiary confirms a delivery, so a
    provider living there would confirm (and credit hours to) themselves. The volunteer's
    own login, or the liaison acting for a partner unit, must not live in the need's
    household; another volunteer or unit takes it."""
    if need.household_id is None:
        return
    people = []
    if volunteer is not None and volunteer.user_id is not None:
        people.append(volunteer.user)
    if partner is not None and acts_for_provider(
        user=actor, partner_id=partner.pk, volunteer_id=None
    ):
        people.append(actor)
    if any(need.household_id in scope_for(person).own_household_ids for person in people):
        raise ValidationError(
            {
                "need": _(
                    "This need is for the provider's own household: another volunteer or "
                    "partner unit must take it."
                )
            }
        )


@transaction.atomic
def claim_need(
    *,
    actor: User,
    need: Need,
    quantity: int = 1,
    partner: Partner | None = None,
    volunteer: Volunteer | None = None,
) -> Claim:
    """A partner unit or a volunteer takes (part of) a need from the list."""
    if partner is not None and volunteer is None:
        provider_path = partner.grid_path
        acting = acts_for_provider(user=actor, partner_id=partner.pk, volunteer_id=None)
    elif volunteer is not None and partner is None:
        provider_path = volunteer.grid_path
        acting = acts_for_provider(user=actor, partner_id=None, volunteer_id=volunteer.pk)
    else:
        raise ValidationError(
            {"partner": _("A claim is made by one partner unit or one volunteer.")}
        )
    if not acting and not path_has(actor, Permission.LISTS_MANAGE, need.grid_path):
        raise NotAllowed(_("You may not claim needs for this provider."))
    if not provider_reaches(need, provider_path):
        raise ValidationError({"need": _("This need is outside the provider's community.")})
    if partner is not None:
        if not partner.is_active:
            raise ValidationError({"partner": _("This partner unit is no longer active.")})
        agreement_check(partner=partner, on=clock.localdate())
    if volunteer is not None and not volunteer.is_serving:
        raise ValidationError({"volunteer": _("Only an approved volunteer can claim needs.")})
    _refuse_own_household(need=need, actor=actor, partner=partner, volunteer=volunteer)
    need, quantity = _reserve(need, quantity)
    claim = Claim.objects.create(
        need=need,
        direction=ClaimDirection.PROVIDER_CLAIMS_NEED,
        partner=partner,
        volunteer=volunteer,
        grid_path=need.grid_path,
        quantity=quantity,
        claimed_by=actor,
    )
    need.claimed_quantity += quantity
    _refresh_need_state(need)
    _event(claim=claim, actor=actor, action="claim", from_state="")
    claim_step_notify(claim=claim, actor=actor, action="claim")
    return claim


@transaction.atomic
def claim_resource(*, actor: User, need: Need, resource: Resource, quantity: int = 1) -> Claim:
    """The community takes an offered resource for a need (both quantities are reserved)."""
    if not path_has(actor, Permission.LISTS_MANAGE, need.grid_path):
        raise NotAllowed(_("Only community staff claim resources for needs."))
    if not provider_reaches(need, resource.grid_path):
        raise ValidationError({"resource": _("This resource serves another community.")})
    if resource.category != need.category:
        raise ValidationError({"resource": _("This resource is offered for another kind of need.")})
    need, quantity = _reserve(need, quantity)
    resource = (
        Resource.objects.select_for_update(of=("self",))
        .select_related("partner")
        .get(pk=resource.pk)
    )
    today = clock.localdate()
    if not resource.is_available_on(today):
        raise ValidationError({"resource": _("This resource is not available now.")})
    if quantity > resource.remaining:
        raise Conflict(
            _("The resource has only %(count)d left.") % {"count": resource.remaining},
            field="quantity",
        )
    if resource.partner is not None:
        agreement_check(partner=resource.partner, on=today)
    _refuse_own_household(need=need, actor=actor, volunteer=resource.volunteer)
    claim = Claim.objects.create(
        need=need,
        resource=resource,
        direction=ClaimDirection.COMMUNITY_CLAIMS_RESOURCE,
        partner_id=resource.partner_id,
        volunteer_id=resource.volunteer_id,
        grid_path=need.grid_path,
        quantity=quantity,
        claimed_by=actor,
    )
    resource.committed_quantity += quantity
    resource.save(update_fields=["committed_quantity"])
    need.claimed_quantity += quantity
    _refresh_need_state(need)
    _event(claim=claim, actor=actor, action="claim", from_state="")
    claim_step_notify(claim=claim, actor=actor, action="claim")
    return claim


def is_beneficiary(*, user: User | None, need: Need) -> bool:
    return need.household_id is not None and need.household_id in scope_for(user).own_household_ids


def is_claimant(*, user: User | None, claim: Claim) -> bool:
    """Is `user` on the providing side of the claim: the volunteer themself, a liaison of the
    partner unit, or whoever claimed a need for a provider? They never confirm, dispute or
    approve the hours of that claim."""
    if user is None or not user.is_authenticated:
        return False
    if claim.volunteer is not None and claim.volunteer.user_id == user.pk:
        return True
    if claim.direction == ClaimDirection.PROVIDER_CLAIMS_NEED and claim.claimed_by_id == user.pk:
        return True
    return acts_for_provider(
        user=user, partner_id=claim.partner_id, volunteer_id=claim.volunteer_id
    )


def may_approve_hours(*, user: User | None, claim: Claim) -> bool:
    """Staff whose post covers the need (VOLUNTEERS_MANAGE) approve pending hours, unless
    they are on either side of the claim."""
    return (
        claim.hours_pending
        and path_has(user, Permission.VOLUNTEERS_MANAGE, claim.grid_path)
        and not is_claimant(user=user, claim=claim)
        and not is_beneficiary(user=user, need=claim.need)
    )


def may_act(*, user: User | None, action: str, claim: Claim) -> bool:
    if user is None or not user.is_authenticated:
        return False
    need = claim.need
    staff = path_has(user, Permission.LISTS_MANAGE, claim.grid_path)
    if action in STAFF_ACTIONS:
        return may_approve_hours(user=user, claim=claim)
    if action in BENEFICIARY_ACTIONS:
        if is_claimant(user=user, claim=claim):
            return False
        # The household that received it confirms; staff only for needs without a household.
        if need.household_id is not None:
            return is_beneficiary(user=user, need=need)
        return staff
    if action in PROVIDER_ACTIONS:
        return staff or acts_for_provider(
            user=user, partner_id=claim.partner_id, volunteer_id=claim.volunteer_id
        )
    return False


def _hours(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        hours = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError({"hours": _("Give the hours as a number, e.g. 1.5.")}) from None
    if not Decimal("0") < hours <= MAX_HOURS:
        raise ValidationError({"hours": _("Give between 0.25 and 24 hours.")})
    return hours.quantize(Decimal("0.01"))


@transaction.atomic
def claim_transition(
    *,
    claim: Claim,
    actor: User | None,
    action: str,
    note: str = "",
    hours=None,
    expected_version: int | None = None,
) -> Claim:
    """Apply one action from TRANSITIONS; returns the updated claim."""
    claim = (
        Claim.objects.select_for_update(of=("self",))
        .select_related("need", "volunteer")
        .get(pk=claim.pk)
    )
    if expected_version is not None and claim.version != expected_version:
        raise Conflict(_("Someone else changed this claim; reload it and try again."))
    key = (claim.state, action)
    if key not in TRANSITIONS:
        raise Conflict(
            _("“%(action)s” is not possible while the claim is “%(state)s”.")
            % {"action": ACTION_LABELS.get(action, action), "state": ClaimState(claim.state).label},
            code="illegal_transition",
        )
    if action == "approve_hours" and not claim.hours_pending:
        raise Conflict(_("The hours of this claim are not waiting for approval."))
    if action in BENEFICIARY_ACTIONS | STAFF_ACTIONS and is_claimant(user=actor, claim=claim):
        raise NotAllowed(_("Nobody confirms their own claim or approves their own hours."))
    if not may_act(user=actor, action=action, claim=claim):
        raise NotAllowed(
            _("You may not do “%(action)s” on this claim.")
            % {"action": ACTION_LABELS.get(action, action)}
        )
    note = (note or "").strip()
    if action in NOTE_REQUIRED and not note:
        field = "reason" if action == "cancel" else "note"
        raise ValidationError({field: NOTE_REQUIRED[action]})
    now = clock.now()
    before = claim.state
    if action == "deliver":
        claim.hours = _hours(hours)
        if claim.volunteer_id and claim.hours is None:
            raise ValidationError({"hours": _("Say how many hours the service took.")})
        claim.delivered_at = now
    elif action == "confirm":
        claim.confirmed_at = now
        # A large credit waits for staff (approve_hours) instead of reaching the ledger.
        claim.hours_pending = bool(
            claim.volunteer_id and claim.hours and claim.hours > _approval_above()
        )
    elif action == "approve_hours":
        claim.hours_pending = False
        claim.hours_approved_by = actor
        claim.hours_approved_at = now
    elif action == "cancel":
        claim.cancel_reason = note[:300]
    claim.state = TRANSITIONS[key]
    claim.version += 1
    claim.save()
    _event(claim=claim, actor=actor, action=action, from_state=before, note=note)

    need = Need.objects.select_for_update().get(pk=claim.need_id)
    if action == "cancel":
        # The quantity goes back on the list (and back to the resource it came from).
        need.claimed_quantity -= claim.quantity
        if claim.resource_id:
            resource = Resource.objects.select_for_update().get(pk=claim.resource_id)
            resource.committed_quantity -= claim.quantity
            resource.save(update_fields=["committed_quantity"])
    _refresh_need_state(need)
    volunteer, hours = claim.volunteer, claim.hours
    if action == "confirm" and volunteer is not None and hours and not claim.hours_pending:
        _credit_hours(claim=claim, volunteer=volunteer, hours=hours, actor=actor)
    # Hours wait for approval only on a volunteer's claim with hours (set at "confirm").
    if action == "approve_hours" and volunteer is not None and hours is not None:
        _credit_hours(claim=claim, volunteer=volunteer, hours=hours, actor=actor)
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="claim",
            object_id=claim.pk,
            object_label=str(need.title)[:200],
            field="hours",
            changes={"hours": str(hours), "volunteer": volunteer.name},
            grid_path=claim.grid_path,
        )
    # Both sides hear of the step; on delivery the household is asked to confirm.
    claim_step_notify(claim=claim, actor=actor, action=action)
    if action == "confirm" and claim.hours_pending:
        _ask_to_approve_hours(claim=claim, need=need)
    return claim


def _ask_to_approve_hours(*, claim: Claim, need: Need) -> None:
    """Tell the staff who may approve (VOLUNTEERS_MANAGE on a unit covering the need) that
    hours wait for them; neither the claimant nor the beneficiary is asked."""
    roles = [
        role
        for role, permissions in ROLE_PERMISSIONS.items()
        if Permission.VOLUNTEERS_MANAGE in permissions
    ]
    staff = User.objects.filter(
        is_active=True,
        role_assignments__role__in=roles,
        role_assignments__grid_path__in=path_ancestors(need.grid_path),
    ).distinct()
    recipients = [user for user in staff if not is_claimant(user=user, claim=claim)]
    notification_send(
        recipients=recipients,
        kind="claim_hours_pending",
        title=gettext_noop("%(hours)s hours for “%(need)s” wait for your approval"),
        title_params={"hours": str(claim.hours), "need": need.title[:80]},
        link=reverse("partners:claim_detail", args=[claim.pk]),
        channels=None,
    )


def _approval_above() -> Decimal:
    return Decimal(str(settings.LINLI_HOURS_APPROVAL_ABOVE))


def _credit_hours(*, claim: Claim, volunteer: Volunteer, hours: Decimal, actor) -> None:
    # Imported here: the volunteers services are only needed once a claim is confirmed.
    from linli.volunteers.services import service_hours_record

    service_hours_record(
        volunteer=volunteer,
        hours=hours,
        source_kind="claim",
        source_id=claim.pk,
        note=str(claim.need.title)[:300],
        actor=actor,
        occurred_on=timezone.localdate(claim.delivered_at or clock.now()),
    )
