"""Volunteers who register themselves, with no operator, and the notices of an application.

A person gives their mobile number, the code sent to it and their name; then they are signed
in and fill in the volunteer sign-up form (`volunteer_signup`), which waits for the
secretary's review like any other application. Until the secretary approves it they are
not a member of the community (linli.grids.membership counts approved volunteers only).

`login_for_phone` is the one way a person who proved a number by its code gets a login
without staff: the one active account that has the number, or a new one named after it
(no password: they sign in with a phone code). The pages say the same words either way, so
that nobody learns from them whether a number has an account; partners' liaison
invitations use it too.

Notices: the secretaries of the chosen community hear in-app that an application waits
(`application_notify`), the applicant hears the decision (`review_notify`, SMS and in-app
unless they chose otherwise).
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from linli.accounts.grid_paths import path_at_depth
from linli.accounts.models import AuditAction, User
from linli.accounts.privacy import mask_phone
from linli.accounts.roles import Role
from linli.accounts.services import audit_record
from linli.errors import INVALID, Invalid
from linli.grids.models import GridUnit
from linli.notify.services import notification_send
from linli.signin.models import PhoneCodePurpose
from linli.signin.services import (
    account_create_for_phone,
    active_accounts_with_phone,
    normalise_phone,
    phone_code_request,
    phone_code_verify,
)
from linli.volunteers.models import Volunteer, VolunteerStatus
from linli.volunteers.notification_events import VOLUNTEER_APPLIED, VOLUNTEER_REVIEWED
from linli.volunteers.selectors import COMMUNITY_DEPTH

# The code of a self-registration: sent to any number (an account or not).
CODE_PURPOSE = PhoneCodePurpose.REGISTER
# A volunteer's name column holds 50 characters; a login's display name is the same name.
NAME_MAX_LENGTH = Volunteer._meta.get_field("name").max_length or 50


# The phone, its code and a name ------------------------------------------------------------


def join_code_request(*, phone: str, address: str | None = None) -> None:
    """Send a registration code to `phone` (any number: it need not have an account).
    linli.signin refuses a malformed number (Invalid, "phone") and limits numbers and
    addresses (RateLimited, "phone")."""
    phone_code_request(phone=normalise_phone(phone), purpose=CODE_PURPOSE, address=address)


def join_input_clean(*, phone: str, code: str, name: str) -> tuple[str, str]:
    """The number (11 digits) and the name (spaces collapsed), or one refusal naming every
    wrong field: "phone", "code" (empty) and "name" (empty or too long)."""
    errors: dict[str, str] = {}
    try:
        phone = normalise_phone(phone)
    except ValidationError as error:
        errors["phone"] = error.message_dict["phone"][0]
    name = " ".join((name or "").split())
    if not name:
        errors["name"] = _("Write your name.")
    elif len(name) > NAME_MAX_LENGTH:
        errors["name"] = _("A name has at most %(max)d characters.") % {"max": NAME_MAX_LENGTH}
    if not (code or "").strip():
        errors["code"] = _("Enter the code we sent to your phone.")
    if errors:
        raise ValidationError(
            {field: ValidationError(message, code=INVALID) for field, message in errors.items()}
        )
    return phone, name


@transaction.atomic
def login_for_phone(
    *,
    phone: str,
    name: str,
    reason_code: str,
    grid_path: str = "",
    ip_address: str | None = None,
) -> tuple[User, bool]:
    """The login of a person who just proved `phone` (normalised) with its code, and whether
    it was made now.

    The one active account with the number; else a new login named after the number, with
    no usable password, the phone set and `name` shown (audited, `reason_code` saying how it
    came). Refused (field "phone"): a number that two active accounts share, and a number
    whose only login was switched off (a new one would undo that)."""
    accounts = list(active_accounts_with_phone(phone)[:2])
    if len(accounts) > 1:
        raise Invalid(
            _(
                "More than one account uses this number. Log in with your username and "
                "password, or ask your community office."
            ),
            field="phone",
        )
    if accounts:
        return accounts[0], False
    if User.objects.filter(phone=phone, is_active=False).exists():
        raise Invalid(
            _("The login of this number was switched off. Ask your community office."),
            field="phone",
        )
    try:
        with transaction.atomic():
            user = account_create_for_phone(phone=phone, name=name)
    except IntegrityError:
        # The same number registered at the same instant by another tap: that login is theirs.
        existing = active_accounts_with_phone(phone).first()
        if existing is None:
            raise
        return existing, False
    audit_record(
        actor=user,
        action=AuditAction.CREATE,
        object_type="user",
        object_id=user.pk,
        object_label=str(user),
        changes={"name": user.display_name, "phone": mask_phone(phone)},
        reason=_("Registered themselves with a code sent to their phone"),
        reason_code=reason_code,
        grid_path=grid_path,
        ip_address=ip_address,
    )
    return user, True


def volunteer_join(
    *, phone: str, code: str, name: str, address: str | None = None
) -> tuple[User, bool]:
    """Check the input, use up the code and return the login to sign in (and whether it was
    made now): the first step of a volunteer's self-registration.

    Not one transaction, on purpose: the code is checked (and a wrong try counted) in a
    transaction of its own, as linli.signin asks; the login is found or made in another
    (`login_for_phone`)."""
    phone, name = join_input_clean(phone=phone, code=code, name=name)
    phone_code_verify(phone=phone, purpose=CODE_PURPOSE, code=code)
    return login_for_phone(
        phone=phone, name=name, reason_code="volunteer_self_registration", ip_address=address
    )


# Notices of an application ---------------------------------------------------------------------


def _community_of(volunteer: Volunteer) -> GridUnit | None:
    return GridUnit.objects.filter(path=path_at_depth(volunteer.grid_path, COMMUNITY_DEPTH)).first()


def community_secretaries(volunteer: Volunteer):
    """The active logins holding the secretary's post on the volunteer's community."""
    return (
        User.objects.filter(
            is_active=True,
            role_assignments__role=Role.SECRETARY,
            role_assignments__grid_path=path_at_depth(volunteer.grid_path, COMMUNITY_DEPTH),
        )
        .distinct()
        .order_by("pk")
    )


def application_notify(volunteer: Volunteer) -> None:
    """Tell the community's secretaries, in the inbox, that an application waits."""
    community = _community_of(volunteer)
    notification_send(
        recipients=community_secretaries(volunteer),
        kind=VOLUNTEER_APPLIED,
        title=gettext_noop("%(name)s applied to volunteer in %(community)s: please review"),
        title_params={
            "name": volunteer.name,
            "community": community.name if community else volunteer.grid_unit.name,
        },
        link=f"{reverse('volunteers:list')}?status={VolunteerStatus.APPLIED.value}",
        channels=None,
    )


def review_notify(volunteer: Volunteer) -> None:
    """Tell the applicant (when they have a login) whether they were approved; a rejection
    carries the secretary's reason, which was written for them."""
    if volunteer.user is None or not volunteer.user.is_active:
        return
    community = _community_of(volunteer)
    params = {"community": community.name if community else volunteer.grid_unit.name}
    if volunteer.status == VolunteerStatus.APPROVED:
        title = gettext_noop(
            "Linli: your volunteer application to %(community)s is approved. Welcome!"
        )
        body = ""
    else:
        title = gettext_noop("Linli: your volunteer application to %(community)s was not approved")
        body = volunteer.review_note
    notification_send(
        recipients=[volunteer.user],
        kind=VOLUNTEER_REVIEWED,
        title=title,
        title_params=params,
        body=body,
        link=reverse("volunteers:detail", args=[volunteer.pk]),
        channels=None,
    )
