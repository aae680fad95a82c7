"""Reads of WeChat bindings. Each concerns one person: nothing here lists other people's."""

from linli.accounts.models import User
from linli.wechat.models import WeChatAccount


def wechat_account_of(user: User) -> WeChatAccount | None:
    if not user.is_authenticated:
        return None
    return WeChatAccount.objects.filter(user=user).first()


def user_for_openid(openid: str) -> User | None:
    """The login this WeChat is bound to, active or not (the caller decides), or None."""
    if not openid:
        return None
    account = WeChatAccount.objects.select_related("user").filter(openid=openid).first()
    return account.user if account is not None else None


def openid_of(user: User) -> str:
    """Where WeChat messages for `user` go: their bound openid, or "" (the contact source
    registered with linli.notify.contacts)."""
    if user is None or user.pk is None:
        return ""
    return WeChatAccount.objects.filter(user=user).values_list("openid", flat=True).first() or ""
