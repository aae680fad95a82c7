"""Every write of self-registration: a person registers from their building's poster (or an
invitation letter), and a leader decides what did not match.

`registration_submit` answers in one of two ways and no third: the person was matched to
the registry (a login is made, linked and handed back for the page to sign in), or a
request now waits for the building-group leader. Whatever kept a registration from
matching — nobody of that name in the room, wrong digits, two candidates, a resident who
already has a login, a phone that already has one, too many tries — the person is told the
same thing, so that nobody learns from the form whether someone else is registered.

Throttles: per address (every try, matched or not, `ADDRESS_LIMIT` an hour) and per
household (`ROOM_FAILURE_LIMIT` unmatched tries a day; past it even the right digits make
a request, silently), so that the last four characters of an ID number cannot be found by
trying. Each try also costs a phone code, which linli.signin throttles itself.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from linli import clock
from linli.accounts.models import AuditAction, User
from linli.accounts.services import audit_record
from linli.errors import INVALID, Conflict, Invalid, NotAllowed, RateLimited
from linli.grids.models import Building, Household, Resident, ResidentAccount
from linli.grids.services import resident_account_link
from linli.notify.models import Channel
from linli.notify.services import message_send_to_address, notification_send
from linli.registration import selectors
from linli.registration.matching import (
    ID_LAST_FOUR,
    id_last_four_key,
    id_last_four_matches,
    name_key,
    phone_key,
    rooms_match,
)
from linli.registration.models import (
    NAME_MAX_LENGTH,
    REASON_MAX_LENGTH,
    ROOM_MAX_LENGTH,
    RegistrationAttempt,
    RegistrationRequest,
    RequestCause,
    RequestStatus,
)
from linli.signin.services import (
    account_create_for_phone,
    normalise_phone,
    phone_code_request,
    phone_code_verify,
)

logger = logging.getLogger(__name__)

CODE_PURPOSE = "register"
ADDRESS_LIMIT = 30
ADDRESS_WINDOW = timedelta(hours=1)
ROOM_FAILURE_LIMIT = 5
ROOM_WINDOW = timedelta(days=1)
REQUESTED_KIND = "registration_requested"
DECIDED_KIND = "registration_decided"


@dataclass(frozen=True)
class Registration:
    """What a registration came to: a linked login (`user`), or a waiting request. The
    request is for the service's callers and tests; pages and the API show the person the
    same words whatever it says."""

    user: User | None = None
    request: RegistrationRequest | None = None

    @property
    def matched(self) -> bool:
        return self.user is not None


# Invitations (linli.invitations, a peer app) -------------------------------------------


def invitation_prefill(token: str) -> dict | None:
    """What an invitation letter's code fills in: {"building_id", "room", "name"}, or None
    for an unknown or expired one. Imported when used: an invitation is an extra way in,
    and without that app every invitation reads as expired."""
    if not token:
        return None
    try:
        from linli.invitations.selectors import invitation_prefill as prefill
    except ImportError:
        logger.warning("An invitation was used, but linli.invitations is not installed")
        return None
    data = prefill(token)
    if not data or "building_id" not in data:
        return None
    return data


def invitation_invalid_message() -> str:
    return _("This invitation is no longer valid. Scan the code on your building's poster.")


def _invitation_mark_used(token: str, user: User) -> None:
    """Mark the letter used. The registration matched on its own merits: should the letter
    have been used up meanwhile (another tap of the same person, a race), it stands."""
    from linli.invitations.services import invitation_mark_used

    try:
        with transaction.atomic():
            invitation_mark_used(token=token, user=user)
    except ValidationError:
        logger.warning("A registration matched, but its invitation could not be marked used")


# Phone codes (linli.signin) --------------------------------------------------------------


def _clean_phone(phone: str) -> str:
    """11 digits (full-width digits, spaces, dashes and +86 allowed), else Invalid at
    "phone"."""
    return normalise_phone(phone)


def registration_code_request(*, phone: str, address: str | None = None) -> None:
    """Send a registration code to the phone. linli.signin throttles numbers and addresses
    (RateLimited) and sends a registration code to any number."""
    phone_code_request(phone=_clean_phone(phone), purpose=CODE_PURPOSE, address=address)


# Registering ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Input:
    building: Building
    phone: str
    name: str
    room: str
    id_last4: str
    invitation: str


def _clean(
    *,
    building: Building,
    phone: str,
    code: str,
    name: str,
    room: str,
    id_last4: str,
    invitation: str,
) -> _Input:
    errors: dict[str, str] = {}

    def refuse(field: str, message: str) -> None:
        errors.setdefault(field, message)

    try:
        phone = _clean_phone(phone)
    except ValidationError as error:
        refuse("phone", error.message_dict["phone"][0])
    if invitation:
        prefill = invitation_prefill(invitation)
        if prefill is None:
            refuse("invitation", invitation_invalid_message())
        else:
            # The letter names the building and the room: they are not the person's to change.
            found = Building.objects.filter(pk=prefill["building_id"]).first()
            if found is None:
                refuse("invitation", invitation_invalid_message())
            else:
                building, room = found, str(prefill.get("room") or room)
    name = " ".join((name or "").split())
    room = (room or "").strip()
    id_last4 = id_last_four_key(id_last4 or "")
    if not name:
        refuse("name", _("Write your name as it is on your ID card."))
    elif len(name) > NAME_MAX_LENGTH:
        refuse("name", _("A name has at most %(max)d characters.") % {"max": NAME_MAX_LENGTH})
    if not room:
        refuse("room", _("Write your room number, for example 201."))
    elif len(room) > ROOM_MAX_LENGTH:
        refuse("room", _("A room has at most %(max)d characters.") % {"max": ROOM_MAX_LENGTH})
    if id_last4 and not ID_LAST_FOUR.match(id_last4):
        refuse("id_last4", _("Four characters: digits, the last may be X."))
    if not (code or "").strip():
        refuse("code", _("Enter the code we sent to your phone."))
    if errors:
        raise ValidationError(
            {field: ValidationError(message, code=INVALID) for field, message in errors.items()}
        )
    return _Input(building, phone, name, room, id_last4, invitation)


def _throttle_address(address: str | None) -> None:
    if not address:
        return
    since = clock.now() - ADDRESS_WINDOW
    if (
        RegistrationAttempt.objects.filter(ip_address=address, created_at__gte=since).count()
        >= ADDRESS_LIMIT
    ):
        raise RateLimited(
            _("Too many registrations from this connection. Try again in an hour."),
            field="phone",
        )


def registration_submit(
    *,
    building: Building,
    phone: str,
    code: str,
    name: str,
    room: str,
    id_last4: str = "",
    invitation: str = "",
    address: str | None = None,
) -> Registration:
    """Register from a building's poster (or an invitation letter, which fixes the building
    and the room): check the input, the address's throttle and the phone code, then match.

    Not one transaction, on purpose: the try is recorded and the code checked (and used up)
    in transactions of their own, so that a wrong code still counts against the address;
    the match and what follows from it are one transaction (`_register`)."""
    data = _clean(
        building=building,
        phone=phone,
        code=code,
        name=name,
        room=room,
        id_last4=id_last4,
        invitation=invitation,
    )
    _throttle_address(address)
    attempt = RegistrationAttempt.objects.create(building=data.building, ip_address=address)
    # Its wrong tries are counted in its own transaction, before the refusal is raised.
    phone_code_verify(phone=data.phone, purpose=CODE_PURPOSE, code=code)
    return _register(data=data, attempt=attempt, address=address)


def _confirmed(resident: Resident, data: _Input) -> bool:
    if data.id_last4 and id_last_four_matches(data.id_last4, resident.id_number_masked):
        return True
    return bool(resident.phone) and phone_key(resident.phone) == data.phone


@transaction.atomic
def _register(*, data: _Input, attempt: RegistrationAttempt, address: str | None) -> Registration:
    households = [
        household.pk
        for household in Household.objects.filter(building=data.building).only("id", "room")
        if rooms_match(data.room, household.room)
    ]
    # The room's households are locked: tries on one room are counted and matched one at a
    # time, and one resident is never linked twice at once.
    list(Household.objects.select_for_update().filter(pk__in=households).values_list("pk"))
    residents = list(
        Resident.objects.filter(
            household_id__in=households, moved_out_on__isnull=True, anonymised_at__isnull=True
        ).order_by("id")
    )
    named = [resident for resident in residents if name_key(resident.name) == name_key(data.name)]
    confirmed = [resident for resident in named if _confirmed(resident, data)]
    failures = RegistrationAttempt.objects.filter(
        household_id__in=households, matched=False, created_at__gte=clock.now() - ROOM_WINDOW
    ).count()
    if named:
        attempt.household_id = named[0].household_id
    elif households:
        attempt.household_id = households[0]

    hint = confirmed[0] if len(confirmed) == 1 else None
    if failures >= ROOM_FAILURE_LIMIT:
        cause = RequestCause.TOO_MANY_TRIES
    elif not named:
        cause = RequestCause.NO_RESIDENT
    elif len(named) > 1:
        cause = RequestCause.SEVERAL
    elif not confirmed:
        cause, hint = RequestCause.NOT_CONFIRMED, named[0]
    elif ResidentAccount.objects.filter(resident=named[0]).exists():
        cause = RequestCause.ALREADY_LINKED
    elif User.objects.filter(phone=data.phone, is_active=True).exists():
        cause = RequestCause.PHONE_HAS_LOGIN
    else:
        resident = named[0]
        user = _user_create(phone=data.phone, name=data.name)
        resident_account_link(resident=resident, user=user, actor=user, ip_address=address)
        attempt.matched = True
        attempt.save(update_fields=["household", "matched"])
        if data.invitation:
            _invitation_mark_used(data.invitation, user)
        return Registration(user=user)
    attempt.save(update_fields=["household"])
    request = _request_file(data=data, cause=cause, hint=hint)
    return Registration(request=request)


def _user_create(*, phone: str, name: str) -> User:
    """A login for a resident (linli.signin: named after the phone, no password)."""
    return account_create_for_phone(phone=phone, name=name)


def _request_file(*, data: _Input, cause: str, hint: Resident | None) -> RegistrationRequest:
    """File the request, or refresh the one this phone already has waiting for this
    building (a second try is not a second request for the leader)."""
    fields = {
        "room": data.room,
        "name": data.name,
        "cause": cause,
        "candidate": hint,
        "grid_path": data.building.grid_path,
    }
    waiting = (
        RegistrationRequest.objects.select_for_update()
        .filter(phone=data.phone, building=data.building, status=RequestStatus.PENDING)
        .first()
    )
    if waiting is None:
        try:
            with transaction.atomic():
                request = RegistrationRequest.objects.create(
                    building=data.building, phone=data.phone, **fields
                )
        except IntegrityError:  # the same phone's request filed at the same instant
            waiting = RegistrationRequest.objects.select_for_update().get(
                phone=data.phone, building=data.building, status=RequestStatus.PENDING
            )
        else:
            _tell_deciders(request)
            return request
    for field, value in fields.items():
        setattr(waiting, field, value)
    waiting.save(update_fields=list(fields))
    return waiting


def _tell_deciders(request: RegistrationRequest) -> None:
    """The building-group leader hears in the inbox; the message names the building only
    (the person is behind the link)."""
    notification_send(
        recipients=selectors.deciders_for(building=request.building),
        kind=REQUESTED_KIND,
        title=gettext_noop("A resident of %(building)s asks to join Linli"),
        title_params={"building": request.building.name},
        link=f"{reverse('registration:requests')}#request-{request.pk}",
    )


# Decisions --------------------------------------------------------------------------------


def _lock_pending(*, actor: User, request: RegistrationRequest) -> RegistrationRequest:
    locked = (
        RegistrationRequest.objects.select_for_update()
        .select_related("building")
        .get(pk=request.pk)
    )
    if not selectors.may_decide(user=actor, grid_path=locked.grid_path):
        raise NotAllowed(_("You may not decide registrations in this building."))
    if locked.status != RequestStatus.PENDING:
        raise already_decided()
    return locked


def already_decided() -> Conflict:
    return Conflict(_("This request was already decided."), field="request")


def _login_for_approval(request: RegistrationRequest, *, name: str) -> tuple[User, bool]:
    """The login to link: the one that already holds the phone, or a new one."""
    users = list(User.objects.filter(phone=request.phone, is_active=True).order_by("pk")[:2])
    if len(users) > 1:
        raise Invalid(
            _("Several logins hold this phone number; an administrator must fix them first."),
            field="phone",
        )
    if users:
        if ResidentAccount.objects.filter(user=users[0]).exists():
            raise Invalid(
                _("The login of this phone number already belongs to another resident."),
                field="phone",
            )
        return users[0], False
    return _user_create(phone=request.phone, name=name), True


@transaction.atomic
def registration_approve(
    *,
    actor: User,
    request: RegistrationRequest,
    resident: Resident,
    ip_address: str | None = None,
) -> RegistrationRequest:
    """Approve a waiting request as one resident of its building: the login is linked
    (made first, when the phone has none) and the person hears by SMS. Audited (the link).
    A request already decided answers Conflict."""
    locked = _lock_pending(actor=actor, request=request)
    resident = Resident.objects.select_for_update().select_related("household").get(pk=resident.pk)
    if resident.household.building_id != locked.building_id:
        raise Invalid(_("Choose a resident of this building."), field="resident")
    if resident.moved_out_on is not None or resident.anonymised_at is not None:
        raise Invalid(_("This resident no longer lives here."), field="resident")
    if ResidentAccount.objects.filter(resident=resident).exists():
        raise Invalid(_("This resident already has a login."), field="resident")
    # A new login shows the name the register holds, not the one typed (a typo would stay).
    user, created = _login_for_approval(locked, name=resident.name)
    resident_account_link(resident=resident, user=user, actor=actor, ip_address=ip_address)
    locked.status = RequestStatus.APPROVED
    locked.decided_by, locked.decided_at = actor, clock.now()
    locked.resident, locked.user, locked.created_user = resident, user, created
    locked.save(
        update_fields=["status", "decided_by", "decided_at", "resident", "user", "created_user"]
    )
    _tell_person(locked)
    return locked


@transaction.atomic
def registration_reject(
    *, actor: User, request: RegistrationRequest, reason: str, ip_address: str | None = None
) -> RegistrationRequest:
    """Reject a waiting request, saying why (the person reads it by SMS); audited."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise Invalid(_("Say why, for the person to read."), field="reason")
    if len(reason) > REASON_MAX_LENGTH:
        raise Invalid(
            _("Keep the reason to %(max)d characters.") % {"max": REASON_MAX_LENGTH},
            field="reason",
        )
    locked = _lock_pending(actor=actor, request=request)
    locked.status, locked.reason = RequestStatus.REJECTED, reason
    locked.decided_by, locked.decided_at = actor, clock.now()
    locked.save(update_fields=["status", "reason", "decided_by", "decided_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="registration_request",
        object_id=locked.pk,
        object_label=f"#{locked.pk} · {locked.building.name} {locked.room}",
        changes={"status": [RequestStatus.PENDING.value, RequestStatus.REJECTED.value]},
        reason=reason,
        grid_path=locked.grid_path,
        ip_address=ip_address,
    )
    _tell_person(locked)
    return locked


def _tell_person(request: RegistrationRequest) -> None:
    """The decision by SMS to the phone the person proved (they may have no login yet), in
    the site's language (the residents')."""
    if request.status == RequestStatus.APPROVED:
        template = gettext_noop(
            "Linli: your registration for %(building)s is approved. Sign in with this phone "
            "number at %(site)s"
        )
        params = {"building": request.building.name, "site": settings.LINLI_SITE_URL}
    else:
        template = gettext_noop(
            "Linli: your registration for %(building)s was not approved: %(reason)s"
        )
        params = {"building": request.building.name, "reason": request.reason}
    with translation.override(settings.LANGUAGE_CODE):
        title = translation.gettext(template) % params
    message_send_to_address(
        channel=Channel.SMS, address=request.phone, kind=DECIDED_KIND, title=title
    )
