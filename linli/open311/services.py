"""Every Open311 write: issuing and revoking keys, using a key, filing a request.

Errors are ValidationErrors keyed by the Open311 parameter they concern, each with a code
that the views turn into the HTTP status the spec asks for: key problems are refusals
(linli.errors.NotAllowed, 403), unknown ids carry NOT_FOUND (404), anything else is 400.
"""

import re
import secrets
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.grid_paths import within
from linli.accounts.models import ApiToken, AuditAction, User
from linli.accounts.roles import Permission
from linli.accounts.services import audit_record
from linli.cases.models import Case, CaseCategory, CaseSource
from linli.cases.services import case_create
from linli.errors import PERMISSION_DENIED, NotAllowed, error_codes
from linli.grids.models import Building, GridLevel, GridUnit
from linli.grids.selectors import scope_for
from linli.open311.models import PREFIX_LENGTH, Open311Key, Open311Submission

# A key problem is the kernel's refusal (NotAllowed, 403); an unknown id is Open311's own
# 404, which the spec reports per parameter in its error list.
NOT_FOUND = "not_found"
# Digits with an optional leading +, after spaces, dashes and brackets are dropped.
_PHONE = re.compile(r"^\+?\d{5,19}$")
_PHONE_NOISE = re.compile(r"[\s\-()]")
# case_create names its own fields; a client knows only the Open311 parameters.
_CASE_FIELD_TO_PARAM = {
    "category": "service_code",
    "description": "description",
    "latitude": "lat",
    "longitude": "long",
    "building": "address_string",
    "grid_unit": "lat",
}


def _error(param: str, message: str, code: str = "invalid") -> ValidationError:
    return ValidationError({param: ValidationError(message, code=code)})


def _check_may_manage(actor: User | None, community: GridUnit) -> None:
    # actor None is the operator at the command line (`linli open311-key`), like an import
    # without --as: the whole street is theirs.
    if actor is not None and not scope_for(actor).allows(Permission.OPEN311_KEYS, community.path):
        raise NotAllowed(
            _("You may not manage Open311 keys for %(community)s.") % {"community": community}
        )


# Keys ------------------------------------------------------------------------------------


@transaction.atomic
def open311_key_create(
    *, actor: User | None, community: GridUnit | None, name: str
) -> tuple[Open311Key, str]:
    """Issue a key for one community. Returns the key and its secret, which is shown once:
    only its hash is kept."""
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = _("Give the key a name (the client that will use it).")
    elif len(name) > 100:
        errors["name"] = _("The name is limited to 100 characters.")
    if not isinstance(community, GridUnit) or community.level != GridLevel.COMMUNITY:
        errors["community"] = _("Choose a community.")
    if errors or not isinstance(community, GridUnit):
        raise ValidationError(errors)
    _check_may_manage(actor, community)
    for _attempt in range(5):
        prefix = secrets.token_hex(PREFIX_LENGTH // 2)
        raw = f"{prefix}{ApiToken.new_key()}"
        try:
            # A savepoint, so that a (vanishingly rare) prefix clash can be retried.
            with transaction.atomic():
                key = Open311Key.objects.create(
                    name=name,
                    community=community,
                    grid_path=community.path,
                    prefix=prefix,
                    key_hash=ApiToken.hash_key(raw),
                    created_by=actor,
                )
            break
        except IntegrityError:
            continue
    else:  # pragma: no cover - five clashes of 32 random bits
        raise ValidationError(_("Could not issue a key; try again."))
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="open311_key",
        object_id=key.pk,
        object_label=str(key),
        changes={"name": name, "community": community.code, "prefix": prefix},
        grid_path=community.path,
    )
    return key, raw


@transaction.atomic
def open311_key_revoke(*, actor: User | None, key: Open311Key) -> Open311Key:
    """Revoke a key: every later request with it is refused (403). Cannot be undone."""
    key = Open311Key.objects.select_for_update().select_related("community").get(pk=key.pk)
    _check_may_manage(actor, key.community)
    if key.revoked_at is not None:
        raise ValidationError(_("This key is already revoked."), code="already_revoked")
    key.revoked_at = clock.now()
    key.save(update_fields=["revoked_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="open311_key",
        object_id=key.pk,
        object_label=str(key),
        field="revoked_at",
        changes={"revoked_at": key.revoked_at.isoformat()},
        grid_path=key.grid_path,
    )
    return key


def open311_key_authenticate(*, raw: str) -> Open311Key:
    """The active key with this secret, or a 403 error naming api_key. Writes nothing: a
    refused request leaves no trace (open311_key_touch records a use that succeeded)."""
    raw = (raw or "").strip()
    if not raw:
        raise NotAllowed(_("An api_key is required."), field="api_key")
    key = (
        Open311Key.objects.select_related("community")
        .filter(key_hash=ApiToken.hash_key(raw))
        .first()
    )
    if key is None:
        raise NotAllowed(_("Invalid api_key."), field="api_key")
    if key.revoked_at is not None:
        raise NotAllowed(_("This api_key has been revoked."), field="api_key")
    return key


def open311_key_touch(*, key: Open311Key) -> None:
    now = clock.now()
    # At most once a minute: a busy client should not write on every request.
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        Open311Key.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


# Requests --------------------------------------------------------------------------------


def _coordinate(value: str, param: str, low: int, high: int, errors: dict) -> Decimal | None:
    try:
        number = Decimal(value)
    except InvalidOperation:
        errors[param] = ValidationError(_("Not a number."), code="invalid")
        return None
    if not number.is_finite() or not low <= number <= high:
        errors[param] = ValidationError(
            _("Must be between %(low)s and %(high)s.") % {"low": low, "high": high}, code="invalid"
        )
        return None
    # The case keeps six decimals (about 0.1 m).
    return number.quantize(Decimal("0.000001"))


def building_for_address(*, community: GridUnit, address_string: str) -> Building | None:
    """The building in the community whose name is the address, or the one building whose
    name it contains. Raises a 400 naming address_string when none or several match."""
    address = address_string.strip()
    buildings = Building.objects.filter(within([community.path]))
    exact = list(buildings.filter(name=address)[:2])
    if len(exact) == 1:
        return exact[0]
    candidates = exact or list(buildings.filter(name__icontains=address)[:2])
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        raise _error(
            "address_string",
            _("Several buildings match “%(address)s”; give the full building name.")
            % {"address": address},
        )
    raise _error(
        "address_string",
        _("No building named “%(address)s” in %(community)s.")
        % {"address": address, "community": community.name},
    )


def _contact_errors(*, email: str, phone: str, media_url: str, names: dict, errors: dict) -> str:
    """Checks the contact fields; returns the phone without spaces and dashes."""
    if email:
        try:
            EmailValidator()(email)
        except ValidationError:
            errors["email"] = ValidationError(_("Not an email address."), code="invalid")
    phone = _PHONE_NOISE.sub("", phone)
    if phone and not _PHONE.match(phone):
        errors["phone"] = ValidationError(_("Not a phone number."), code="invalid")
    if media_url:
        try:
            URLValidator(schemes=["http", "https"])(media_url)
        except ValidationError:
            errors["media_url"] = ValidationError(_("Not an http(s) URL."), code="invalid")
        if len(media_url) > 500:
            errors["media_url"] = ValidationError(
                _("Limited to %(count)d characters.") % {"count": 500}, code="invalid"
            )
    for param, value in names.items():
        if len(value) > 100:
            errors[param] = ValidationError(
                _("Limited to %(count)d characters.") % {"count": 100}, code="invalid"
            )
    return phone


def _from_case_error(error: ValidationError) -> ValidationError:
    if not hasattr(error, "error_dict"):
        # A refusal: the place lies outside the key's community.
        if PERMISSION_DENIED in error_codes(error):
            return NotAllowed(" ".join(error.messages), field="api_key")
        return _error("lat", " ".join(error.messages))
    mapped: dict[str, ValidationError] = {}
    for field, messages in error.message_dict.items():
        param = _CASE_FIELD_TO_PARAM.get(field, field)
        mapped.setdefault(param, ValidationError(" ".join(messages), code="invalid"))
    return ValidationError(mapped)


@transaction.atomic
def open311_request_create(
    *,
    key: Open311Key,
    service_code: str,
    description: str,
    jurisdiction_id: str = "",
    lat: str = "",
    long: str = "",
    address_string: str = "",
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    media_url: str = "",
    device_id: str = "",
    account_id: str = "",
) -> Case:
    """File an ordinary case for the key's community (source "open311", no reporter) and
    keep what the client told us about the person in an Open311Submission."""
    if not key.is_active:
        raise NotAllowed(_("This api_key has been revoked."), field="api_key")
    community = key.community
    errors: dict[str, ValidationError] = {}
    jurisdiction_id = jurisdiction_id.strip()
    if jurisdiction_id and jurisdiction_id != community.code:
        if GridUnit.objects.filter(code=jurisdiction_id, level=GridLevel.COMMUNITY).exists():
            errors["jurisdiction_id"] = NotAllowed(
                _("This api_key may only file into %(community)s (%(code)s).")
                % {"community": community.name, "code": community.code}
            )
        else:
            errors["jurisdiction_id"] = ValidationError(
                _("Unknown jurisdiction_id: %(code)s") % {"code": jurisdiction_id}, code=NOT_FOUND
            )
    service_code = service_code.strip()
    category = None
    if not service_code:
        errors["service_code"] = ValidationError(_("A service_code is required."), code="required")
    else:
        category = CaseCategory.objects.filter(
            code=service_code, parent__isnull=False, is_active=True
        ).first()
        if category is None:
            errors["service_code"] = ValidationError(
                _("Unknown service_code: %(code)s") % {"code": service_code}, code="invalid"
            )
    lat, long, address_string = lat.strip(), long.strip(), address_string.strip()
    latitude = longitude = building = None
    if not (lat or long or address_string):
        errors["lat"] = ValidationError(
            _("Say where the problem is: lat and long, or address_string."), code="required"
        )
    elif lat or long:
        if not lat:
            errors["lat"] = ValidationError(_("Give lat with long."), code="required")
        elif not long:
            errors["long"] = ValidationError(_("Give long with lat."), code="required")
        else:
            latitude = _coordinate(lat, "lat", -90, 90, errors)
            longitude = _coordinate(long, "long", -180, 180, errors)
    if address_string:
        try:
            building = building_for_address(community=community, address_string=address_string)
        except ValidationError as error:
            errors.update(
                (param, ValidationError(problems)) for param, problems in error.error_dict.items()
            )
    description = description.strip()
    if not description:
        errors["description"] = ValidationError(_("Describe the problem."), code="required")
    names = {
        "first_name": first_name.strip(),
        "last_name": last_name.strip(),
        "device_id": device_id.strip(),
        "account_id": account_id.strip(),
    }
    phone = _contact_errors(
        email=email.strip(),
        phone=phone.strip(),
        media_url=media_url.strip(),
        names=names,
        errors=errors,
    )
    if errors:
        raise ValidationError(errors)
    if latitude is None and building is None:  # pragma: no cover - guarded above
        raise _error("lat", _("Say where the problem is: lat and long, or address_string."))
    try:
        case = case_create(
            reporter=None,
            category=category,
            description=description,
            source=CaseSource.OPEN311,
            building=building,
            latitude=latitude,
            longitude=longitude,
            channel_community=community,
        )
    except ValidationError as error:
        raise _from_case_error(error) from None
    Open311Submission.objects.create(
        case=case,
        key=key,
        email=email.strip(),
        phone=phone,
        media_url=media_url.strip(),
        **names,
    )
    open311_key_touch(key=key)
    return case
