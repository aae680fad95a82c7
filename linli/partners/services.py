"""Every write to partners and the three lists.

Claims change state only through `claim_transition`, which reads the table below; creating
a claim and cancelling one are the only writes to a need's claimed quantity, both under the
need's row lock, so two people taking the last unit at once cannot both win.
"""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from linli import clock
from linli.accounts.grid_paths import is_within, path_ancestors, path_at_depth
from linli.accounts.models import AuditAction, User
from linli.accounts.privacy import phone_is_valid
from linli.accounts.roles import ROLE_PERMISSIONS, Permission, Role
from linli.accounts.services import audit_record
from linli.cases.models import Case
from linli.columns import column_fit
from linli.errors import Conflict, NotAllowed
from linli.grids.models import (
    GridLevel,
    GridUnit,
    Household,
    Resident,
    RoleAssignment,
    Visit,
)
from linli.grids.selectors import scope_for
from linli.notify.services import notification_send
from linli.partners.models import (
    Agreement,
    Claim,
    ClaimDirection,
    ClaimEvent,
    ClaimState,
    Milestone,
    Need,
    NeedSource,
    NeedState,
    Partner,
    PartnerLiaison,
    PartnerType,
    Project,
    ProjectState,
    Recurrence,
    Resource,
    ResourceKind,
    ServiceCategory,
    Urgency,
)
from linli.volunteers.models import Volunteer
from linli.volunteers.selectors import COMMUNITY_DEPTH

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


def _path_has(actor, permission: str, grid_path: str) -> bool:
    return scope_for(actor).allows(permission, grid_path)


# Who acts for which provider ----------------------------------------------------------------


def partner_of(user: User | None) -> Partner | None:
    """The partner unit a liaison login acts for (None for everyone else)."""
    if user is None or not user.is_authenticated:
        return None
    link = PartnerLiaison.objects.filter(user=user).select_related("partner").first()
    if link is None or Role.PARTNER_LIAISON not in scope_for(user).roles:
        return None
    return link.partner


def volunteer_of(user: User | None) -> Volunteer | None:
    """The serving volunteer record of a volunteer login (None for everyone else)."""
    if user is None or not user.is_authenticated:
        return None
    return Volunteer.objects.serving().filter(user=user).first()


def acts_for_provider(*, user: User | None, partner_id: int | None, volunteer_id: int | None):
    if partner_id is not None:
        partner = partner_of(user)
        return partner is not None and partner.pk == partner_id
    if volunteer_id is not None:
        volunteer = volunteer_of(user)
        return volunteer is not None and volunteer.pk == volunteer_id
    return False


# Partners -----------------------------------------------------------------------------------


def _check_point(latitude, longitude, errors: dict) -> None:
    if (latitude is None) != (longitude is None):
        errors["latitude"] = _("Give both latitude and longitude, or neither.")
    elif latitude is not None:
        if not -90 <= Decimal(str(latitude)) <= 90:
            errors["latitude"] = _("Latitude must be between -90 and 90.")
        if not -180 <= Decimal(str(longitude)) <= 180:
            errors["longitude"] = _("Longitude must be between -180 and 180.")


@transaction.atomic
def partner_create(
    *,
    actor: User,
    community: GridUnit,
    name: str,
    partner_type: str,
    contact_name: str = "",
    contact_phone: str = "",
    offers: str = "",
    address: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
) -> Partner:
    """Register a partner unit of one community."""
    if not isinstance(community, GridUnit) or community.level != GridLevel.COMMUNITY:
        raise ValidationError({"community": _("A partner unit works with one community.")})
    if not _path_has(actor, Permission.PARTNERS_MANAGE, community.path):
        raise NotAllowed(_("You may not register partner units here."))
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = _("Give the unit's name.")
    elif len(name) > 100:
        errors["name"] = _("The name is limited to 100 characters.")
    elif Partner.objects.filter(grid_unit=community, name=name).exists():
        errors["name"] = _("This community already has a partner unit of that name.")
    if partner_type not in PartnerType.values:
        errors["partner_type"] = _("Unknown type: %(value)s") % {"value": partner_type}
    contact_phone = (contact_phone or "").strip()
    if contact_phone and not phone_is_valid(contact_phone):
        errors["contact_phone"] = _("Give an 11-digit mobile number.")
    _check_point(latitude, longitude, errors)
    if errors:
        raise ValidationError(errors)
    return Partner.objects.create(
        name=name,
        partner_type=partner_type,
        grid_unit=community,
        grid_path=community.path,
        contact_name=column_fit(contact_name, Partner, "contact_name"),
        contact_phone=contact_phone,
        offers=column_fit(offers, Partner, "offers"),
        address=column_fit(address, Partner, "address"),
        latitude=latitude,
        longitude=longitude,
    )


@transaction.atomic
def agreement_add(
    *, actor: User, partner: Partner, title: str, starts_on: date, ends_on: date, notes: str = ""
) -> Agreement:
    if not _path_has(actor, Permission.PARTNERS_MANAGE, partner.grid_path):
        raise NotAllowed(_("You may not record agreements for this partner unit."))
    errors: dict[str, str] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = _("Give the agreement a title.")
    if not isinstance(starts_on, date):
        errors["starts_on"] = _("Give the first day the agreement is valid.")
    if not isinstance(ends_on, date):
        errors["ends_on"] = _("Give the last day the agreement is valid.")
    elif isinstance(starts_on, date) and ends_on < starts_on:
        errors["ends_on"] = _("The agreement must end on or after its first day.")
    if errors:
        raise ValidationError(errors)
    return Agreement.objects.create(
        partner=partner,
        title=title[:200],
        starts_on=starts_on,
        ends_on=ends_on,
        notes=(notes or "").strip()[:2000],
    )


@transaction.atomic
def liaison_link(*, actor: User, partner: Partner, user: User) -> PartnerLiaison:
    """Let a partner-liaison login act for this partner unit (and only this one)."""
    if not _path_has(actor, Permission.PARTNERS_MANAGE, partner.grid_path):
        raise NotAllowed(_("You may not link liaisons to this partner unit."))
    holds = RoleAssignment.objects.filter(user=user, role=Role.PARTNER_LIAISON)
    if not is_within(partner.grid_path, holds.values_list("grid_path", flat=True)):
        raise ValidationError(
            {"user": _("This login holds no partner-liaison post covering the community.")}
        )
    if PartnerLiaison.objects.filter(user=user).exclude(partner=partner).exists():
        raise ValidationError({"user": _("This login already acts for another partner unit.")})
    link, _created = PartnerLiaison.objects.get_or_create(user=user, defaults={"partner": partner})
    return link


# Needs --------------------------------------------------------------------------------------


def _int_quantity(value, errors: dict, field: str = "quantity") -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors[field] = _("Give a whole number of at least 1.")
        return 0
    if number < 1:
        errors[field] = _("Give a whole number of at least 1.")
    elif number > 100_000:
        errors[field] = _("The quantity is limited to 100,000.")
    return number


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
    quantity = _int_quantity(quantity, errors)
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
    if not _path_has(actor, Permission.LISTS_MANAGE, need.grid_path):
        raise NotAllowed(_("You may not cancel this need."))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the need is cancelled.")})
    if need.claims.exclude(state__in=[S.CANCELLED, S.CONFIRMED]).exists():
        raise Conflict(_("Claims on this need are still under way; cancel them first."))
    need.state = NeedState.CANCELLED
    need.save(update_fields=["state", "updated_at"])
    return need


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


# Resources ----------------------------------------------------------------------------------


def agreement_check(*, partner: Partner, on: date, until: date | None = None) -> Agreement:
    """The agreement that makes an offer from this partner possible, or a clear error."""
    agreement = partner.valid_agreement(on)
    if agreement is None:
        last = partner.agreements.order_by("-ends_on").first()
        if last is not None and last.ends_on < on:
            error = ValidationError(
                _("The cooperation agreement “%(title)s” expired on %(date)s; renew it first.")
                % {"title": last.title, "date": last.ends_on.isoformat()},
                code="agreement_expired",
            )
        else:
            error = ValidationError(
                _("This partner unit has no valid cooperation agreement."),
                code="agreement_missing",
            )
        raise ValidationError({"partner": error})
    if until is not None and until > agreement.ends_on:
        raise ValidationError(
            {
                "available_until": _("The agreement ends on %(date)s; offer until then at most.")
                % {"date": agreement.ends_on.isoformat()}
            }
        )
    return agreement


@transaction.atomic
def resource_offer(
    *,
    actor: User,
    kind: str,
    category: str,
    title: str,
    partner: Partner | None = None,
    volunteer: Volunteer | None = None,
    quantity: int = 1,
    unit: str = "",
    description: str = "",
    available_from: date | None = None,
    available_until: date | None = None,
    availability: str = "",
    conditions: str = "",
) -> Resource:
    """Put a partner's or volunteer's offer on the resources list."""
    errors: dict[str, str] = {}
    if partner is not None and volunteer is None:
        grid_path, grid_unit = partner.grid_path, partner.grid_unit
        allowed = acts_for_provider(user=actor, partner_id=partner.pk, volunteer_id=None) or (
            _path_has(actor, Permission.LISTS_MANAGE, grid_path)
        )
    elif volunteer is not None and partner is None:
        grid_path, grid_unit = volunteer.grid_path, volunteer.grid_unit
        allowed = acts_for_provider(user=actor, partner_id=None, volunteer_id=volunteer.pk) or (
            _path_has(actor, Permission.LISTS_MANAGE, grid_path)
        )
    else:
        raise ValidationError(
            {"partner": _("An offer comes from one partner unit or one volunteer.")}
        )
    if not allowed:
        raise NotAllowed(_("You may not offer resources for this provider."))
    if kind not in ResourceKind.values:
        errors["kind"] = _("Unknown kind: %(value)s") % {"value": kind}
    if category not in ServiceCategory.values:
        errors["category"] = _("Unknown category: %(value)s") % {"value": category}
    title = (title or "").strip()
    if not title:
        errors["title"] = _("Say what is offered.")
    elif len(title) > 100:
        errors["title"] = _("The title is limited to 100 characters.")
    quantity = _int_quantity(quantity, errors)
    if available_from and available_until and available_until < available_from:
        errors["available_until"] = _("The end of availability must not be before its start.")
    if volunteer is not None and not volunteer.is_serving:
        errors["volunteer"] = _("Only an approved volunteer can offer resources.")
    if errors:
        raise ValidationError(errors)
    if partner is not None:
        agreement_check(
            partner=partner, on=available_from or clock.localdate(), until=available_until
        )
    latitude = longitude = None
    if partner is not None and partner.latitude is not None:
        latitude, longitude = partner.latitude, partner.longitude
    elif volunteer is not None and volunteer.home_building is not None:
        latitude = volunteer.home_building.latitude
        longitude = volunteer.home_building.longitude
    return Resource.objects.create(
        partner=partner,
        volunteer=volunteer,
        grid_unit=grid_unit,
        grid_path=grid_path,
        kind=kind,
        category=category,
        title=title,
        description=(description or "").strip()[:2000],
        quantity=quantity,
        unit=(unit or "").strip()[:20],
        available_from=available_from,
        available_until=available_until,
        availability=(availability or "").strip()[:200],
        conditions=(conditions or "").strip()[:1000],
        latitude=latitude,
        longitude=longitude,
        created_by=actor,
    )


@transaction.atomic
def resource_withdraw(*, actor: User, resource: Resource) -> Resource:
    allowed = acts_for_provider(
        user=actor, partner_id=resource.partner_id, volunteer_id=resource.volunteer_id
    ) or _path_has(actor, Permission.LISTS_MANAGE, resource.grid_path)
    if not allowed:
        raise NotAllowed(_("You may not withdraw this resource."))
    resource.is_active = False
    resource.save(update_fields=["is_active"])
    return resource


# Claims -------------------------------------------------------------------------------------


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
    quantity = _int_quantity(quantity, errors)
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


def _provider_reaches(need: Need, grid_path: str) -> bool:
    """A provider serves the whole community it belongs to: a volunteer registered in one
    building group may help an elder two buildings away. Grid paths run street/block/
    community/..., so the community is the unit three levels down."""
    return need.grid_path.startswith(path_at_depth(grid_path, COMMUNITY_DEPTH))


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
    if not acting and not _path_has(actor, Permission.LISTS_MANAGE, need.grid_path):
        raise NotAllowed(_("You may not claim needs for this provider."))
    if not _provider_reaches(need, provider_path):
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
    return claim


@transaction.atomic
def claim_resource(*, actor: User, need: Need, resource: Resource, quantity: int = 1) -> Claim:
    """The community takes an offered resource for a need (both quantities are reserved)."""
    if not _path_has(actor, Permission.LISTS_MANAGE, need.grid_path):
        raise NotAllowed(_("Only community staff claim resources for needs."))
    if not _provider_reaches(need, resource.grid_path):
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
        and _path_has(user, Permission.VOLUNTEERS_MANAGE, claim.grid_path)
        and not is_claimant(user=user, claim=claim)
        and not is_beneficiary(user=user, need=claim.need)
    )


def may_act(*, user: User | None, action: str, claim: Claim) -> bool:
    if user is None or not user.is_authenticated:
        return False
    need = claim.need
    staff = _path_has(user, Permission.LISTS_MANAGE, claim.grid_path)
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
    if action == "deliver":
        _ask_to_confirm(claim=claim, need=need)
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


def _ask_to_confirm(*, claim: Claim, need: Need) -> None:
    if need.household_id is None:
        return
    recipients = User.objects.filter(resident_account__resident__household_id=need.household_id)
    notification_send(
        recipients=recipients,
        kind="claim_delivered",
        title=gettext_noop("“%(need)s” was delivered: please confirm"),
        title_params={"need": need.title[:80]},
        link=reverse("partners:claim_detail", args=[claim.pk]),
    )


# Projects -----------------------------------------------------------------------------------


@transaction.atomic
def project_create(
    *,
    actor: User,
    need: Need,
    resource: Resource,
    title: str,
    owner: User,
    starts_on: date,
    ends_on: date | None = None,
    schedule: str = "",
    milestones: list[tuple[str, date]] | None = None,
) -> Project:
    """项目清单: match a need to a resource with an owner, a schedule and milestones."""
    if not _path_has(actor, Permission.LISTS_MANAGE, need.grid_path):
        raise NotAllowed(_("You may not create projects here."))
    errors: dict[str, str] = {}
    title = (title or "").strip() or need.title
    if len(title) > 100:
        errors["title"] = _("The title is limited to 100 characters.")
    if not _provider_reaches(need, resource.grid_path):
        errors["resource"] = _("This resource serves another community.")
    if owner is None or not (
        _path_has(owner, Permission.LISTS_MANAGE, need.grid_path)
        or acts_for_provider(
            user=owner, partner_id=resource.partner_id, volunteer_id=resource.volunteer_id
        )
    ):
        errors["owner"] = _("The owner must be community staff or act for the provider.")
    if not isinstance(starts_on, date):
        errors["starts_on"] = _("Give the start date.")
    elif ends_on is not None and ends_on < starts_on:
        errors["ends_on"] = _("The project must end on or after its start.")
    for index, (label, due) in enumerate(milestones or []):
        if not (label or "").strip() or not isinstance(due, date):
            errors[f"milestones.{index}"] = _("Each milestone needs a title and a date.")
    if errors:
        raise ValidationError(errors)
    if resource.partner is not None:
        agreement_check(partner=resource.partner, on=starts_on, until=ends_on)
    project = Project.objects.create(
        need=need,
        resource=resource,
        grid_path=need.grid_path,
        title=title,
        owner=owner,
        starts_on=starts_on,
        ends_on=ends_on,
        schedule=(schedule or "").strip()[:200],
        state=ProjectState.ACTIVE if starts_on <= clock.localdate() else ProjectState.PLANNED,
    )
    Milestone.objects.bulk_create(
        Milestone(project=project, title=label.strip()[:200], due_on=due)
        for label, due in milestones or []
    )
    return project


@transaction.atomic
def milestone_done(*, actor: User, milestone: Milestone, on: date | None = None) -> Milestone:
    project = milestone.project
    if not (
        actor is not None
        and (
            actor.pk == project.owner_id
            or _path_has(actor, Permission.LISTS_MANAGE, project.grid_path)
        )
    ):
        raise NotAllowed(_("You may not update this project."))
    milestone.done_on = on or clock.localdate()
    milestone.save(update_fields=["done_on"])
    if not project.milestones.filter(done_on__isnull=True).exists():
        project.state = ProjectState.COMPLETED
        project.save(update_fields=["state"])
    return milestone
