"""The checks of a volunteer's profile fields, shared by sign-up, profile changes and teams:
skills, willingness and availability slots encoded as codes (unknown ones refused by
name), the phone, and the home building.
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from linli.accounts.grid_paths import path_at_depth
from linli.accounts.privacy import phone_is_valid
from linli.grids.models import Building, GridUnit
from linli.volunteers.models import SLOTS, ServiceKind, Skill, encode_codes
from linli.volunteers.selectors import COMMUNITY_DEPTH


def _codes(values: Iterable[str] | None, allowed, field: str, message: str) -> str:
    """Encode a list of codes, refusing unknown ones by name (all of them, not the first)."""
    cleaned = [str(value).strip() for value in (values or []) if str(value).strip()]
    unknown = [value for value in cleaned if value not in allowed]
    if unknown:
        raise ValidationError({field: message % {"value": ", ".join(unknown)}})
    return encode_codes(cleaned)


def skills_encode(values: Iterable[str] | None, field: str = "skills") -> str:
    return _codes(values, Skill.values, field, _("Unknown skill: %(value)s"))


def willingness_encode(values: Iterable[str] | None, field: str = "willingness") -> str:
    return _codes(values, ServiceKind.values, field, _("Unknown kind of service: %(value)s"))


def slots_encode(values: Iterable[str] | None, field: str = "availability") -> str:
    return _codes(
        values,
        SLOTS,
        field,
        _("Unknown availability slot: %(value)s (use e.g. mon_am, thu_pm, sun_eve)"),
    )


def check_phone(phone: str) -> str:
    phone = (phone or "").strip()
    if phone and not phone_is_valid(phone):
        raise ValidationError({"phone": _("Enter an 11-digit mobile number.")})
    return phone


def check_building(building: Building | None, grid_unit: GridUnit) -> None:
    # The community a unit belongs to (the unit itself from a community up).
    community_path = path_at_depth(grid_unit.path, COMMUNITY_DEPTH)
    if building is not None and not building.grid_path.startswith(community_path):
        raise ValidationError(
            {"home_building": _("The home building is not in the volunteer's community.")}
        )
