"""Partner units, their cooperation agreements and the liaisons who act for them; an offer,
claim or project from a partner unit needs a valid agreement (`agreement_check`).
"""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from linli.accounts.grid_paths import is_within
from linli.accounts.models import User
from linli.accounts.privacy import phone_is_valid
from linli.accounts.roles import Permission, Role
from linli.columns import column_fit
from linli.errors import NotAllowed
from linli.grids.models import GridLevel, GridUnit, RoleAssignment
from linli.partners.models import Agreement, Partner, PartnerLiaison, PartnerType
from linli.partners.services.common import path_has


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
    if not path_has(actor, Permission.PARTNERS_MANAGE, community.path):
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
    if not path_has(actor, Permission.PARTNERS_MANAGE, partner.grid_path):
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
    if not path_has(actor, Permission.PARTNERS_MANAGE, partner.grid_path):
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
