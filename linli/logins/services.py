"""Every write to a login made in the platform's own pages: one named action, one
transaction, one audit entry (or more) each.

Who may act: a secretary on the logins of their community, the street administrator on
those of their street (Permission.MANAGE_ROLES, `linli.logins.selectors`). What is refused:
- a login outside the actor's area: NotVisible (404), as if it did not exist;
- changing the account as a whole (deactivate, reactivate, a new password, two-factor) when
  it holds a post or resident login outside the actor's area, when it is the actor's own, or
  a superuser's: NotAllowed (403), naming the reason. Posts are changed one by one, each
  only inside the actor's area (grids.services does that check);
- wrong input: Invalid naming the field.

Ending a person's sessions: Django keeps no index of sessions by user, so the session
store's rows that have not expired are read and those of the person deleted
(`sessions_end_for_user`); with a session engine that keeps no rows (cache, cookies) their
sessions still answer as nobody, because Django's auth backend refuses an inactive account
and a changed password (the session's hash no longer matches).
"""

import secrets
from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.addresses import client_address
from linli.accounts.grid_paths import within
from linli.accounts.models import AuditAction, TokenRevocation, User
from linli.accounts.privacy import mask_phone
from linli.accounts.services import audit_record, tokens_revoke_for_user, user_home_path
from linli.accounts.two_factor import may_reset_for, two_factor_reset
from linli.errors import INVALID, NotAllowed, NotVisible
from linli.grids.models import GridUnit, ResidentAccount, RoleAssignment
from linli.grids.services import role_assign, role_assignment_validate, role_revoke
from linli.logins import selectors
from linli.logins.models import TemporaryPassword
from linli.logins.posts import GRANTABLE_ROLES, POST_ROLES, role_for
from linli.logins.signin_bridge import normalise_phone, phone_sign_in_available, reset_code_send


class SignIn:
    """How a new login gets in the first time."""

    TEMPORARY_PASSWORD = "temporary_password"  # shown once to the secretary, changed at once
    PHONE_CODE = "phone_code"  # no password: a code sent to their phone (/signin/phone/)

    values = (TEMPORARY_PASSWORD, PHONE_CODE)


# No 0/o, 1/l/i: a password read aloud or copied from a screen.
TEMPORARY_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
TEMPORARY_PASSWORD_LENGTH = 12
USERNAME_MAX_LENGTH = 150
DISPLAY_NAME_MAX_LENGTH = 100
REASON_MAX_LENGTH = 200


@dataclass(frozen=True)
class LoginCreated:
    login: User
    post: RoleAssignment
    # Shown once (to the secretary, who hands it over); "" when the login uses phone codes.
    temporary_password: str = ""


def temporary_password_new() -> str:
    return "".join(
        secrets.choice(TEMPORARY_PASSWORD_ALPHABET) for _ in range(TEMPORARY_PASSWORD_LENGTH)
    )


def _invalid(errors: dict[str, str]) -> ValidationError:
    return ValidationError(
        {name: ValidationError(message, code=INVALID) for name, message in errors.items()}
    )


def user_label(login: User) -> str:
    """How an audit entry names a login: the username, and the name people know."""
    if login.display_name and login.display_name != login.username:
        return f"{login.username} · {login.display_name}"
    return login.username


def _post_label(login: User, role: str, grid_unit: GridUnit) -> str:
    # The label grids.services gives a post's entries, so that the login's page finds both.
    return f"{login.username} · {role} · {grid_unit.name}"


def _needs_manager(actor: User) -> None:
    if not selectors.may_manage_logins(user=actor):
        raise NotVisible()


def _visible(actor: User, login: User, *, lock: bool = False) -> User:
    """The login, read again (locked when asked) through the actor's area; 404 outside it."""
    _needs_manager(actor)
    logins = selectors.logins_visible(user=actor)
    if lock:
        # The area's condition is a subquery; lock the row itself, found by its key.
        if not logins.filter(pk=login.pk).exists():
            raise NotVisible()
        return User.objects.select_for_update().get(pk=login.pk)
    found = logins.filter(pk=login.pk).first()
    if found is None:
        raise NotVisible()
    return found


def _filing_path(actor: User, login: User) -> str:
    """Where an entry about the whole login is filed: the widest of its posts and resident
    login inside the actor's area, so that the actor and everyone above reads it."""
    paths = selectors.manage_paths(user=actor)
    held = list(
        RoleAssignment.objects.filter(user=login)
        .filter(within(paths))
        .values_list("grid_path", flat=True)
    )
    held += list(
        ResidentAccount.objects.filter(user=login)
        .filter(within(paths, "resident__grid_path"))
        .values_list("resident__grid_path", flat=True)
    )
    return min(held, key=len, default="") or user_home_path(login)


def _refuse_account_change(actor: User, login: User, *, refusal_elsewhere: str) -> None:
    """The account-wide changes: never one's own login, a superuser's only by a superuser,
    and only when every post and resident login of it lies inside the actor's area."""
    if login.pk == actor.pk:
        raise NotAllowed(_("This is your own login: another administrator changes it."))
    if login.is_superuser and not actor.is_superuser:
        raise NotAllowed(_("This is a superuser's login: operators change it in the admin."))
    if selectors.scope_for(actor).unrestricted:
        return
    paths = selectors.manage_paths(user=actor)
    elsewhere = (
        RoleAssignment.objects.filter(user=login).exclude(within(paths)).exists()
        or ResidentAccount.objects.filter(user=login)
        .exclude(within(paths, "resident__grid_path"))
        .exists()
    )
    if elsewhere:
        raise NotAllowed(refusal_elsewhere)


def _audit_login(
    *,
    actor: User | None,
    login: User,
    action: str = AuditAction.UPDATE,
    grid_path: str,
    field: str = "",
    changes: dict | None = None,
    reason: str = "",
    reason_code: str = "",
    ip_address: str | None = None,
) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="user",
        object_id=login.pk,
        object_label=user_label(login),
        field=field,
        changes=changes,
        reason=reason,
        reason_code=reason_code,
        grid_path=grid_path,
        ip_address=ip_address,
    )


def sessions_end_for_user(*, user: User) -> int:
    """Delete every stored session signed in as `user`; returns how many. Only session
    engines that keep rows (db, cached_db) can be searched; with the others the person's
    sessions are refused by Django instead (see the module's docstring)."""
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    if not hasattr(store_class, "get_model_class"):
        return 0
    model = store_class.get_model_class()
    target = str(user.pk)
    ended = 0
    rows = model.objects.filter(expire_date__gt=clock.now()).values_list(
        "session_key", "session_data"
    )
    for session_key, data in rows.iterator():
        if store_class().decode(data).get(SESSION_KEY) == target:
            store_class().delete(session_key)
            ended += 1
    return ended


def _check_post(role: str, post: str) -> dict[str, str]:
    if post not in POST_ROLES:
        return {"post": _("Choose a post from the list.")}
    if role not in GRANTABLE_ROLES or POST_ROLES[post] != role:
        return {"post": _("This post is not held under that role.")}
    return {}


# Creating a login ---------------------------------------------------------------------------


def login_create_validate(
    *,
    actor: User,
    username: str,
    display_name: str,
    phone: str,
    email: str = "",
    post: str,
    grid_unit: GridUnit,
    role: str = "",
    sign_in: str = SignIn.TEMPORARY_PASSWORD,
) -> dict[str, str]:
    """The checks of `login_create`; returns the cleaned values (raises a refusal naming
    each wrong field, or NotAllowed when the grid unit is not the actor's to staff)."""
    _needs_manager(actor)
    errors: dict[str, str] = {}
    username = (username or "").strip()
    display_name = (display_name or "").strip()
    email = (email or "").strip()
    if not username:
        errors["username"] = _("Choose a username.")
    elif len(username) > USERNAME_MAX_LENGTH:
        errors["username"] = _("A username has at most 150 characters.")
    else:
        try:
            UnicodeUsernameValidator()(username)
        except ValidationError:
            errors["username"] = _(
                "A username holds letters, digits and @ . + - _ only, without spaces."
            )
        else:
            if User.objects.filter(username__iexact=username).exists():
                errors["username"] = _("This username is taken: choose another.")
    if not display_name:
        errors["display_name"] = _("Give the name people know this person by.")
    elif len(display_name) > DISPLAY_NAME_MAX_LENGTH:
        errors["display_name"] = _("A name has at most 100 characters.")
    normal_phone = normalise_phone(phone)
    if not normal_phone:
        errors["phone"] = _("Enter an 11-digit mainland mobile number, such as 13812345678.")
    elif User.objects.filter(is_active=True, phone=normal_phone).exists():
        errors["phone"] = _("Another active login already uses this mobile number.")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = _("Enter a valid e-mail address, or leave it empty.")
        if len(email) > 254:
            errors["email"] = _("An e-mail address has at most 254 characters.")
    if sign_in not in SignIn.values:
        errors["sign_in"] = _("Choose how the person signs in the first time.")
    elif sign_in == SignIn.PHONE_CODE and not phone_sign_in_available():
        errors["sign_in"] = _(
            "Phone-code sign-in is not installed here: give a temporary password."
        )
    role = role_for(role=role, post=post)
    errors.update(_check_post(role, post))
    if errors:
        raise _invalid(errors)
    # The grid unit: the actor's to staff (NotAllowed), and of the role's level.
    role_assignment_validate(role=role, grid_unit=grid_unit, post=post, assigned_by=actor)
    return {
        "username": username,
        "display_name": display_name,
        "phone": normal_phone,
        "email": email,
        "role": role,
        "post": post,
        "sign_in": sign_in,
    }


@transaction.atomic
def login_create(
    *,
    actor: User,
    username: str,
    display_name: str,
    phone: str,
    post: str,
    grid_unit: GridUnit,
    email: str = "",
    role: str = "",
    sign_in: str = SignIn.TEMPORARY_PASSWORD,
    ip_address: str | None = None,
) -> LoginCreated:
    """A new login with its first post. Nobody types a password for it: it signs in with a
    code sent to its phone, or with a temporary password shown once here (returned), which
    it must replace at its first sign-in. Audited: the account created, the post granted."""
    clean = login_create_validate(
        actor=actor,
        username=username,
        display_name=display_name,
        phone=phone,
        email=email,
        post=post,
        grid_unit=grid_unit,
        role=role,
        sign_in=sign_in,
    )
    login = User(
        username=clean["username"],
        display_name=clean["display_name"],
        phone=clean["phone"],
        email=clean["email"],
    )
    password = ""
    if clean["sign_in"] == SignIn.TEMPORARY_PASSWORD:
        password = temporary_password_new()
        login.set_password(password)
    else:
        login.set_unusable_password()
    try:
        with transaction.atomic():
            login.save()
    except IntegrityError:  # the same username taken at the same instant
        raise _invalid({"username": _("This username is taken: choose another.")}) from None
    if password:
        TemporaryPassword.objects.create(user=login, issued_by=actor, issued_at=clock.now())
    if clean["sign_in"] == SignIn.TEMPORARY_PASSWORD:
        how = _("Signs in with a temporary password, replaced at the first sign-in")
    else:
        how = _("Signs in with a code sent to their phone")
    _audit_login(
        actor=actor,
        login=login,
        action=AuditAction.CREATE,
        grid_path=grid_unit.path,
        changes={"name": login.display_name, "phone": mask_phone(login.phone)},
        reason=how,
        reason_code=clean["sign_in"],
        ip_address=ip_address,
    )
    # Checked above with the actor (role_assignment_validate); grids' own check that the
    # login is of the actor's area cannot hold for a login made a moment ago, so the post is
    # given unchecked and its grant recorded here, as grids records it.
    assignment = role_assign(
        user=login, role=clean["role"], grid_unit=grid_unit, post=clean["post"]
    )
    audit_record(
        actor=actor,
        action=AuditAction.ROLE_GRANT,
        object_type="role_assignment",
        object_id=assignment.pk,
        object_label=_post_label(login, clean["role"], grid_unit),
        grid_path=grid_unit.path,
        ip_address=ip_address,
    )
    return LoginCreated(login=login, post=assignment, temporary_password=password)


# Posts ----------------------------------------------------------------------------------------


@transaction.atomic
def login_post_add(
    *, actor: User, login: User, post: str, grid_unit: GridUnit, role: str = ""
) -> RoleAssignment:
    """Give the login another post inside the actor's area (idempotent: the same post on
    the same unit is kept, not doubled); audited by grids.services."""
    login = _visible(actor, login)
    role = role_for(role=role, post=post)
    errors = _check_post(role, post)
    if errors:
        raise _invalid(errors)
    return role_assign(user=login, role=role, grid_unit=grid_unit, post=post, assigned_by=actor)


@transaction.atomic
def login_post_remove(*, actor: User, login: User, assignment_id: int) -> None:
    """Take one post away, inside the actor's area only (a post elsewhere answers 404);
    audited by grids.services, which also signs the person's apps out with their last role.
    Nobody removes their own post here: it would take their own rights away."""
    login = _visible(actor, login)
    assignment = selectors.login_post_get(user=actor, login=login, assignment_id=assignment_id)
    if login.pk == actor.pk:
        raise NotAllowed(_("This is your own post: another administrator removes it."))
    role_revoke(assignment=assignment, revoked_by=actor)


# The account as a whole ----------------------------------------------------------------------


@transaction.atomic
def login_deactivate(
    *, actor: User, login: User, reason: str = "", ip_address: str | None = None
) -> bool:
    """Stop the login signing in: its API tokens are revoked and its sessions ended.
    Returns False (and writes nothing) when it is already deactivated."""
    login = _visible(actor, login, lock=True)
    _refuse_account_change(
        actor,
        login,
        refusal_elsewhere=_(
            "This login also holds a post or resident login outside your area: staff above "
            "both (the street administrator) deactivate it."
        ),
    )
    reason = _reason(reason)
    if not login.is_active:
        return False
    login.is_active = False
    login.save(update_fields=["is_active"])
    _audit_login(
        actor=actor,
        login=login,
        grid_path=_filing_path(actor, login),
        field="is_active",
        changes={"is_active": [True, False]},
        reason=reason,
        reason_code="deactivate",
        ip_address=ip_address,
    )
    tokens_revoke_for_user(
        user=login, reason=TokenRevocation.DEACTIVATED, actor=actor, ip_address=ip_address
    )
    sessions_end_for_user(user=login)
    return True


@transaction.atomic
def login_reactivate(
    *, actor: User, login: User, reason: str = "", ip_address: str | None = None
) -> bool:
    """Let a deactivated login sign in again (its revoked tokens stay revoked). Returns
    False (and writes nothing) when it is active already."""
    login = _visible(actor, login, lock=True)
    _refuse_account_change(
        actor,
        login,
        refusal_elsewhere=_(
            "This login also holds a post or resident login outside your area: staff above "
            "both (the street administrator) reactivate it."
        ),
    )
    reason = _reason(reason)
    if login.is_active:
        return False
    login.is_active = True
    login.save(update_fields=["is_active"])
    _audit_login(
        actor=actor,
        login=login,
        grid_path=_filing_path(actor, login),
        field="is_active",
        changes={"is_active": [False, True]},
        reason=reason,
        reason_code="reactivate",
        ip_address=ip_address,
    )
    return True


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX_LENGTH:
        raise _invalid({"reason": _("Say why in at most 200 characters.")})
    return reason


@transaction.atomic
def login_temporary_password_issue(
    *, actor: User, login: User, ip_address: str | None = None
) -> str:
    """A new password for someone who forgot theirs, returned to be shown once; they must
    replace it at their next sign-in. Their apps are signed out and their sessions ended."""
    login = _visible(actor, login, lock=True)
    _refuse_account_change(
        actor,
        login,
        refusal_elsewhere=_(
            "This login also holds a post or resident login outside your area: staff above "
            "both (the street administrator) give it a new password."
        ),
    )
    _audit_login(
        actor=actor,
        login=login,
        grid_path=_filing_path(actor, login),
        reason=_("Gave a temporary password, to be replaced at the next sign-in"),
        reason_code="temporary_password",
        ip_address=ip_address,
    )
    # Revoked here, in the administrator's name; the password hook then finds none left.
    tokens_revoke_for_user(
        user=login, reason=TokenRevocation.PASSWORD_CHANGED, actor=actor, ip_address=ip_address
    )
    password = temporary_password_new()
    login.set_password(password)
    login.save()
    TemporaryPassword.objects.update_or_create(
        user=login, defaults={"issued_by": actor, "issued_at": clock.now()}
    )
    sessions_end_for_user(user=login)
    return password


@transaction.atomic
def login_reset_code_send(*, actor: User, login: User, ip_address: str | None = None) -> None:
    """Send a password reset code to the login's own phone (phone-code sign-in). The code
    reaches the person only, so a login shared with another area may be sent one too."""
    login = _visible(actor, login)
    if not phone_sign_in_available():
        raise NotAllowed(
            _("Codes by SMS are not set up on this site: give a temporary password instead.")
        )
    if not login.is_active:
        raise NotAllowed(_("This login is deactivated: reactivate it first."))
    if login.is_superuser and not actor.is_superuser:
        raise NotAllowed(_("This is a superuser's login: operators change it in the admin."))
    if not login.phone:
        raise _invalid({"phone": _("This login has no mobile number to send a code to.")})
    _audit_login(
        actor=actor,
        login=login,
        grid_path=_filing_path(actor, login),
        reason=_("Sent a password reset code to %(phone)s") % {"phone": mask_phone(login.phone)},
        reason_code="reset_code",
        ip_address=ip_address,
    )
    reset_code_send(phone=login.phone, address=ip_address)


@transaction.atomic
def login_two_factor_reset(
    *, actor: User, login: User, reason: str, request: HttpRequest | None = None
) -> bool:
    """For staff who lost the phone with their authenticator app: remove it and the recovery
    codes (accounts.two_factor, audited there), sign out the lost phone's sessions and apps;
    they set up a new authenticator at their next sign-in. Only those who may reset
    two-factor sign-in (a street administrator, a superuser) and only for a login wholly
    inside their area. Returns False (writing nothing) when nothing is set up."""
    login = _visible(actor, login, lock=True)
    if login.pk == actor.pk:
        raise NotAllowed(_("This is your own login: another administrator changes it."))
    if not may_reset_for(actor=actor, user=login):
        raise NotAllowed(
            _("Only the street administrator resets two-factor sign-in: ask them to do it.")
        )
    _refuse_account_change(
        actor,
        login,
        refusal_elsewhere=_(
            "This login also holds a post or resident login outside your area: staff above "
            "both reset its two-factor sign-in."
        ),
    )
    reason = (reason or "").strip()
    if not reason:
        raise _invalid({"reason": _("Say why, for the audit log.")})
    if len(reason) > REASON_MAX_LENGTH:
        raise _invalid({"reason": _("Say why in at most 200 characters.")})
    if not selectors.two_factor_devices_exist(login=login):
        return False
    two_factor_reset(user=login, actor=actor, reason=reason, request=request)
    tokens_revoke_for_user(
        user=login,
        reason=TokenRevocation.BY_ADMINISTRATOR,
        actor=actor,
        ip_address=client_address(request),
    )
    sessions_end_for_user(user=login)
    return True


# The person's own step ------------------------------------------------------------------------


def temporary_password_of(*, user: User) -> TemporaryPassword | None:
    if not user.is_authenticated:
        return None
    return TemporaryPassword.objects.filter(user=user).first()


@transaction.atomic
def temporary_password_replace(*, user: User, password: str) -> None:
    """The person who signed in with a temporary password sets their own (checked by the
    site's password rules). Audited; their API tokens are revoked by the password hook."""
    marker = TemporaryPassword.objects.select_for_update().filter(user=user).first()
    if marker is None:
        raise NotAllowed(_("Your password is your own already: change it as usual."))
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ValidationError(
            {"new_password1": [ValidationError(text, code=INVALID) for text in error.messages]}
        ) from None
    user.set_password(password)
    user.save()
    marker.delete()
    _audit_login(
        actor=user,
        login=user,
        grid_path=user_home_path(user),
        reason=_("Replaced the temporary password with their own"),
        reason_code="password_set",
    )


__all__ = [
    "LoginCreated",
    "SignIn",
    "login_create",
    "login_create_validate",
    "login_deactivate",
    "login_post_add",
    "login_post_remove",
    "login_reactivate",
    "login_reset_code_send",
    "login_temporary_password_issue",
    "login_two_factor_reset",
    "sessions_end_for_user",
    "temporary_password_replace",
]
