"""Partner liaisons who join by an invitation link, instead of an operator making their login.

Staff who may manage the partner unit (PARTNERS_MANAGE over it) create a link, valid for a
number of days (14 unless they say otherwise) and good once, and may revoke it while it is
open. The token is shown once, on the page that created it (with a QR code); only its
SHA-256 is stored. Whoever opens the link gives their mobile number, the code sent to it and
their name; then they have a login (the number's one active account, or a new one:
linli.volunteers.services.join.login_for_phone), hold the partner-liaison post on the
partner's community and act for the partner unit (`liaison_link`).

A link that is unknown, used, revoked or expired — or whose partner unit was switched off,
or whose maker may no longer manage the unit — reads the same: no longer valid. A login
that already acts for another partner unit is refused (409), naming that unit.
"""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.models import AuditAction, User
from linli.accounts.roles import Permission, Role
from linli.accounts.services import audit_record
from linli.errors import Conflict, Invalid, NotAllowed
from linli.grids.models import Post, RoleAssignment
from linli.grids.services import role_assign
from linli.partners.models import LiaisonInvitation, Partner, PartnerLiaison
from linli.partners.services.common import path_has
from linli.partners.services.partners import liaison_link
from linli.signin.services import phone_code_verify
from linli.volunteers.services.join import (
    CODE_PURPOSE,
    join_input_clean,
    login_for_phone,
)

DAYS_DEFAULT = 14
DAYS_MIN = 1
DAYS_MAX = 90
TOKEN_BYTES = 24
# What secrets.token_urlsafe makes; anything else is not looked up.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
# How many invitations the partner's page lists (the open ones and the latest used).
LISTED = 20


@dataclass(frozen=True)
class IssuedLiaisonInvitation:
    """An invitation just made, with its plain token and link (never stored)."""

    invitation: LiaisonInvitation
    token: str
    url: str


def token_hash(token: str) -> str:
    """What is stored of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def invitation_url(token: str) -> str:
    """The absolute address of the link, from LINLI_SITE_URL (it is sent and printed)."""
    return f"{settings.LINLI_SITE_URL}{reverse('partners:liaison_join', args=[token])}"


def invalid_invitation() -> Invalid:
    # One refusal for unknown, used, revoked, expired: nothing for someone guessing links.
    return Invalid(
        _("This invitation link is no longer valid. Ask the community office for a new one."),
        field="token",
    )


def _check_days(days: int | str) -> int:
    try:
        number = int(str(days).strip())
    except (TypeError, ValueError):
        number = 0
    if not DAYS_MIN <= number <= DAYS_MAX:
        raise Invalid(
            _("Give a whole number of days from %(min)d to %(max)d.")
            % {"min": DAYS_MIN, "max": DAYS_MAX},
            field="days",
        )
    return number


def _may_manage(user: User | None, partner: Partner) -> bool:
    return (
        user is not None
        and user.is_active
        and path_has(user, Permission.PARTNERS_MANAGE, partner.grid_path)
    )


# Staff: create, revoke, list -----------------------------------------------------------------


@transaction.atomic
def liaison_invitation_create(
    *, actor: User, partner: Partner, days: int | str = DAYS_DEFAULT, ip_address: str | None = None
) -> IssuedLiaisonInvitation:
    """A new single-use link that makes its user a liaison of `partner`, valid for `days`
    days (Invalid at "days" outside 1–90); audited. Only for staff with PARTNERS_MANAGE over
    the partner unit (NotAllowed), and only for a unit still active (Invalid at "partner")."""
    if not path_has(actor, Permission.PARTNERS_MANAGE, partner.grid_path):
        raise NotAllowed(_("You may not invite liaisons for this partner unit."))
    number = _check_days(days)
    if not partner.is_active:
        raise Invalid(_("This partner unit is no longer active."), field="partner")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = clock.now()
    invitation = LiaisonInvitation.objects.create(
        partner=partner,
        token_hash=token_hash(token),
        created_by=actor,
        created_at=now,
        expires_at=now + timedelta(days=number),
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="liaison_invitation",
        object_id=invitation.pk,
        object_label=f"{partner.name} · {invitation.expires_at:%Y-%m-%d}",
        changes={"days": number},
        grid_path=partner.grid_path,
        ip_address=ip_address,
    )
    return IssuedLiaisonInvitation(invitation=invitation, token=token, url=invitation_url(token))


@transaction.atomic
def liaison_invitation_revoke(
    *, actor: User, invitation: LiaisonInvitation, ip_address: str | None = None
) -> LiaisonInvitation:
    """Stop an open link working; audited. A used link is refused (Conflict): it already
    did its work, unlink the liaison instead. Revoking a revoked or expired link changes
    nothing."""
    locked = (
        LiaisonInvitation.objects.select_for_update(of=("self",))
        .select_related("partner")
        .get(pk=invitation.pk)
    )
    if not path_has(actor, Permission.PARTNERS_MANAGE, locked.partner.grid_path):
        raise NotAllowed(_("You may not invite liaisons for this partner unit."))
    if locked.used_at is not None:
        raise Conflict(_("This invitation was already used."), field="invitation")
    if locked.revoked_at is not None or locked.expires_at <= clock.now():
        return locked
    locked.revoked_by, locked.revoked_at = actor, clock.now()
    locked.save(update_fields=["revoked_by", "revoked_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="liaison_invitation",
        object_id=locked.pk,
        object_label=f"{locked.partner.name} · {locked.expires_at:%Y-%m-%d}",
        field="revoked_at",
        reason=_("Invitation link revoked"),
        grid_path=locked.partner.grid_path,
        ip_address=ip_address,
    )
    return locked


def liaison_invitations_listed(*, partner: Partner) -> QuerySet[LiaisonInvitation]:
    """What the partner's page lists for staff: the open links and the used ones, newest
    first (revoked and expired ones are left out)."""
    now = clock.now()
    return (
        partner.liaison_invitations.filter(revoked_at__isnull=True)
        .exclude(used_at__isnull=True, expires_at__lte=now)
        .select_related("created_by", "used_by")
        .order_by("-created_at", "-id")[:LISTED]
    )


# The person who opens the link ----------------------------------------------------------------


def _usable(invitation: LiaisonInvitation | None) -> bool:
    return (
        invitation is not None
        and invitation.is_open
        and invitation.partner.is_active
        # A link works only while its maker may still manage the unit.
        and _may_manage(invitation.created_by, invitation.partner)
    )


def liaison_invitation_for_token(token: str) -> LiaisonInvitation | None:
    """The invitation a link opens, or None for one that is unknown or no longer valid."""
    if not isinstance(token, str) or not TOKEN_PATTERN.fullmatch(token):
        return None
    invitation = (
        LiaisonInvitation.objects.select_related("partner__grid_unit", "created_by")
        .filter(token_hash=token_hash(token))
        .first()
    )
    return invitation if _usable(invitation) else None


def liaison_invitation_accept(
    *,
    token: str,
    phone: str,
    code: str,
    name: str,
    address: str | None = None,
) -> tuple[PartnerLiaison, User]:
    """Use the link: check the input (fields "phone", "code", "name"), use up the code sent
    to the phone, then make its holder a liaison of the partner unit (`_accept`, one
    transaction). Returns the link between the login and the unit, and the login to sign in.

    Not one transaction, on purpose: the code is checked (and a wrong try counted) in a
    transaction of its own, as linli.signin asks."""
    if liaison_invitation_for_token(token) is None:
        raise invalid_invitation()
    phone, name = join_input_clean(phone=phone, code=code, name=name)
    phone_code_verify(phone=phone, purpose=CODE_PURPOSE, code=code)
    return _accept(token=token, phone=phone, name=name, address=address)


@transaction.atomic
def _accept(
    *, token: str, phone: str, name: str, address: str | None
) -> tuple[PartnerLiaison, User]:
    # Locked: the same link used twice at once makes one liaison, and the second is refused.
    invitation = (
        LiaisonInvitation.objects.select_for_update(of=("self",))
        .filter(token_hash=token_hash(token))
        .select_related("partner__grid_unit", "created_by")
        .first()
    )
    if invitation is None or not _usable(invitation):
        raise invalid_invitation()
    partner, inviter = invitation.partner, invitation.created_by
    if inviter is None:  # _usable checked it; said again for the type checker
        raise invalid_invitation()
    user, _created = login_for_phone(
        phone=phone,
        name=name,
        reason_code="liaison_invitation",
        grid_path=partner.grid_path,
        ip_address=address,
    )
    other = (
        PartnerLiaison.objects.filter(user=user)
        .exclude(partner=partner)
        .select_related("partner")
        .first()
    )
    if other is not None:
        raise Conflict(
            _(
                "Your login already acts for %(partner)s, and a login acts for one partner "
                "unit only. Ask the community office of %(partner)s to unlink you first."
            )
            % {"partner": other.partner.name}
        )
    had_post = RoleAssignment.objects.filter(
        user=user, role=Role.PARTNER_LIAISON, grid_unit=partner.grid_unit
    ).exists()
    # The maker of the link was checked to manage the unit; the person using it holds no
    # right to assign posts, so the post is given unchecked and its grant recorded here.
    assignment = role_assign(
        user=user,
        role=Role.PARTNER_LIAISON,
        grid_unit=partner.grid_unit,
        post=Post.PARTNER_LIAISON,
    )
    reason = _("Joined by an invitation link from %(inviter)s") % {"inviter": str(inviter)}
    if not had_post:
        audit_record(
            actor=user,
            action=AuditAction.ROLE_GRANT,
            object_type="role_assignment",
            object_id=assignment.pk,
            object_label=f"{user.username} · {Role.PARTNER_LIAISON} · {partner.grid_unit.name}",
            reason=reason,
            reason_code="liaison_invitation",
            grid_path=partner.grid_path,
            ip_address=address,
        )
    try:
        link = liaison_link(actor=inviter, partner=partner, user=user)
    except ValidationError:
        # The maker's rights were checked above; anything else means the link cannot work.
        raise invalid_invitation() from None
    invitation.used_by, invitation.used_at = user, clock.now()
    invitation.save(update_fields=["used_by", "used_at"])
    audit_record(
        actor=user,
        action=AuditAction.LINK,
        object_type="partner_liaison",
        object_id=link.pk,
        object_label=f"{user} → {partner.name}",
        reason=reason,
        reason_code="liaison_invitation",
        grid_path=partner.grid_path,
        ip_address=address,
    )
    return link, user
