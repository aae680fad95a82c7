"""Binding a WeChat to a login, and undoing it. Every bind and unbind is audited.

A WeChat is bound either by the person signed in (their account page, after WeChat's
authorisation) or, for someone who came in through "Login with WeChat" with an unbound
WeChat, after a code sent to their phone proves they hold it: the active login whose phone
it is gets the WeChat (`wechat_bind_by_phone`). The phone code is linli.signin's.
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from linli import clock
from linli.accounts.models import AuditAction, User
from linli.accounts.services import audit_record
from linli.errors import Conflict, Invalid
from linli.grids.models import ResidentAccount, RoleAssignment
from linli.signin.services import normalise_phone, phone_code_verify
from linli.wechat.client import WeChatIdentity
from linli.wechat.models import WeChatAccount

PHONE_CODE_PURPOSE = "bind"


def _home_path(user: User) -> str:
    """Where the entry is read in the audit log: the person's household, else the widest
    unit they hold a post on (their secretary, their street administrator read it)."""
    account = ResidentAccount.objects.filter(user=user).select_related("resident").first()
    if account is not None:
        return account.resident.grid_path
    paths = RoleAssignment.objects.filter(user=user).values_list("grid_path", flat=True)
    return min(paths, key=len, default="")


def _audit(*, action: str, user: User, actor: User | None, ip_address: str | None, reason: str):
    audit_record(
        actor=actor,
        action=action,
        object_type="user",
        object_id=user.pk,
        object_label=str(user),
        field="wechat",
        reason=reason,
        grid_path=_home_path(user),
        ip_address=ip_address,
    )


@transaction.atomic
def wechat_bind(
    *, user: User, identity: WeChatIdentity, actor: User | None, ip_address: str | None = None
) -> WeChatAccount:
    """Bind this WeChat to `user`, replacing any WeChat they had bound. Refused (Conflict)
    when the WeChat is bound to another login. Binding the same WeChat again only refreshes
    its nickname and unionid, and is not audited again."""
    if not identity.openid:
        raise Invalid(_("WeChat did not say who you are. Start again."), field="openid")
    other = WeChatAccount.objects.filter(openid=identity.openid).exclude(user=user).exists()
    if other or (
        identity.unionid
        and WeChatAccount.objects.filter(unionid=identity.unionid).exclude(user=user).exists()
    ):
        raise Conflict(
            _(
                "This WeChat is bound to another account. Unbind it there first, or log in "
                "with WeChat to use that account."
            ),
            field="openid",
        )
    account = WeChatAccount.objects.select_for_update().filter(user=user).first()
    if account is not None and account.openid == identity.openid:
        account.unionid = identity.unionid or account.unionid
        account.nickname = identity.nickname or account.nickname
        account.save(update_fields=["unionid", "nickname"])
        return account
    replacing = account is not None
    if account is None:
        account = WeChatAccount(user=user)
    account.openid = identity.openid
    account.unionid = identity.unionid
    account.nickname = identity.nickname
    account.bound_at = clock.now()
    try:
        with transaction.atomic():
            account.save()
    except IntegrityError:  # the same WeChat bound to another login at the same instant
        raise Conflict(
            _("This WeChat is bound to another account. Unbind it there first."),
            field="openid",
        ) from None
    _audit(
        action=AuditAction.LINK,
        user=user,
        actor=actor,
        ip_address=ip_address,
        reason=_("Bound another WeChat for login (the one before is unbound)")
        if replacing
        else _("Bound WeChat for login and messages"),
    )
    return account


@transaction.atomic
def wechat_unbind(*, user: User, actor: User | None, ip_address: str | None = None) -> bool:
    """Unbind the person's WeChat; False when none was bound (nothing written). WeChat
    messages stop and "Login with WeChat" no longer finds them."""
    account = WeChatAccount.objects.select_for_update().filter(user=user).first()
    if account is None:
        return False
    account.delete()
    _audit(
        action=AuditAction.UNLINK,
        user=user,
        actor=actor,
        ip_address=ip_address,
        reason=_("Unbound WeChat"),
    )
    return True


@dataclass(frozen=True)
class PhoneBinding:
    """The outcome of a phone-checked bind: the login the WeChat is now bound to, or why
    none (`no_account`: no active login has this phone; `several`: more than one has)."""

    user: User | None = None
    no_account: bool = False
    several: bool = False


def wechat_bind_by_phone(
    *, phone: str, code: str, identity: WeChatIdentity, ip_address: str | None = None
) -> PhoneBinding:
    """Bind the WeChat to the active login whose phone this is, once the code sent to the
    phone (purpose "bind") is right: only then is it looked up, so that nobody learns from
    this whether a number has an account without holding the phone.

    Raises the signin app's refusals for a wrong or expired code (field "code") or a number
    that is not one (field "phone"). Not one transaction: the code check is the signin
    app's own, and a wrong try must stay counted although this refuses; the bind is
    `wechat_bind`'s transaction."""
    phone = normalise_phone(phone)
    phone_code_verify(phone=phone, purpose=PHONE_CODE_PURPOSE, code=code)
    users = list(User.objects.filter(phone=phone, is_active=True).order_by("pk")[:2])
    if not users:
        return PhoneBinding(no_account=True)
    if len(users) > 1:
        return PhoneBinding(several=True)
    user = users[0]
    wechat_bind(user=user, identity=identity, actor=user, ip_address=ip_address)
    return PhoneBinding(user=user)
