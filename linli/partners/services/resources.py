"""The resources list: an offer from a partner unit or a volunteer, and its withdrawal."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.models import User
from linli.accounts.roles import Permission
from linli.errors import NotAllowed
from linli.partners.models import Partner, Resource, ResourceKind, ServiceCategory
from linli.partners.services.common import check_quantity, path_has
from linli.partners.services.partners import agreement_check
from linli.partners.services.providers import acts_for_provider
from linli.volunteers.models import Volunteer


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
            path_has(actor, Permission.LISTS_MANAGE, grid_path)
        )
    elif volunteer is not None and partner is None:
        grid_path, grid_unit = volunteer.grid_path, volunteer.grid_unit
        allowed = acts_for_provider(user=actor, partner_id=None, volunteer_id=volunteer.pk) or (
            path_has(actor, Permission.LISTS_MANAGE, grid_path)
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
    quantity = check_quantity(quantity, errors)
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
    ) or path_has(actor, Permission.LISTS_MANAGE, resource.grid_path)
    if not allowed:
        raise NotAllowed(_("You may not withdraw this resource."))
    resource.is_active = False
    resource.save(update_fields=["is_active"])
    return resource
