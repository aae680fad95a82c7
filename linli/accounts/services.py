from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpRequest

from linli import clock
from linli.accounts.addresses import client_address
from linli.accounts.models import ApiToken, AuditAction, AuditEntry, TokenRevocation, User

if TYPE_CHECKING:
    from linli.accounts.two_factor import CodeRefusal


def audit_record(
    *,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: Any = "",
    object_label: str = "",
    field: str = "",
    changes: dict | None = None,
    reason: str = "",
    reason_code: str = "",
    grid_path: str = "",
    ip_address: str | None = None,
) -> AuditEntry:
    """Append one audit entry. Callers run inside their own transaction, so the entry and
    the change it describes are written together or not at all."""
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        object_label=object_label[:200],
        field=field,
        changes=changes or {},
        reason=reason[:300],
        reason_code=reason_code,
        grid_path=grid_path,
        ip_address=ip_address,
    )


@transaction.atomic
def token_create(
    *, request: HttpRequest, username: str, password: str, otp: str = "", name: str = ""
) -> "tuple[ApiToken, str] | CodeRefusal | None":
    """Check credentials (through the login throttle) and issue a bearer token, which
    answers for LINLI_API_TOKEN_DAYS. Returns the token's row and the token itself (shown
    once: only its hash is stored).

    Returns None when the credentials are wrong or the account is locked out; the caller
    answers with the same message in both cases, so the response reveals nothing.
    """
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        return None
    # Staff who must use two-factor sign-in name a current code as `otp`. A refusal is
    # returned, not raised: the code's throttle count must outlive this transaction.
    from linli.accounts.two_factor import token_otp_refusal

    refusal = token_otp_refusal(user=user, otp=otp)
    if refusal is not None:
        return refusal
    key = ApiToken.new_key()
    token = ApiToken.objects.create(
        user=user,
        key_hash=ApiToken.hash_key(key),
        key_prefix=key[:8],
        name=name,
        expires_at=clock.now() + timedelta(days=settings.LINLI_API_TOKEN_DAYS),
    )
    return token, key


class TokenRefused(Exception):
    """A bearer token that exists but no longer answers: `why` is "expired" or "revoked".

    Only the token's holder can present it, so saying which reveals nothing to anyone else;
    an unknown token (or one of an inactive account) is simply not authenticated."""

    def __init__(self, why: str):
        super().__init__(why)
        self.why = why


def token_authenticate(*, key: str) -> ApiToken | None:
    """The live token for `key` (with its user), None for an unknown token or an inactive
    account; TokenRefused for an expired or revoked one. Records the last use."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=ApiToken.hash_key(key), user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = clock.now()
    if token.revoked_at is not None:
        raise TokenRefused("revoked")
    if token.expires_at <= now:
        raise TokenRefused("expired")
    # Touch at most once a minute: a busy app should not write on every request.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def token_user(*, key: str) -> User | None:
    """The user a live token stands for, or None (unknown, expired, revoked)."""
    try:
        token = token_authenticate(key=key)
    except TokenRefused:
        return None
    return token.user if token is not None else None


def _token_label(token: ApiToken) -> str:
    label = f"{token.user.username} · {token.key_prefix}…"
    return f"{label} ({token.name})" if token.name else label


def _revoke(
    *, token: ApiToken, actor: User | None, reason: str, ip_address: str | None, now
) -> None:
    token.revoked_at = now
    token.revoked_reason = reason
    token.save(update_fields=["revoked_at", "revoked_reason"])
    audit_record(
        actor=actor,
        action=AuditAction.TOKEN_REVOKE,
        object_type="api_token",
        object_id=token.pk,
        object_label=_token_label(token),
        field="revoked_reason",
        changes={"revoked_reason": ["", reason]},
        # In words, as the log shows it; the code stays beside it for filtering.
        reason=str(TokenRevocation(reason).label),
        reason_code=reason,
        grid_path=user_home_path(token.user),
        ip_address=ip_address,
    )


def user_home_path(user: User) -> str:
    """The widest grid unit on which the person holds any role: where an entry about their
    account (a token revoked) is filed, so that their secretary and street administrator
    read it. Empty for someone with no role left (only superusers read those)."""
    paths = user.role_assignments.values_list("grid_path", flat=True)
    return min(paths, key=len, default="")


@transaction.atomic
def token_revoke(
    *, actor: User | None, token: ApiToken, reason: str, ip_address: str | None = None
) -> bool:
    """Stop one token answering, for `reason` (a TokenRevocation); audited. Revoking a token
    already revoked changes and records nothing (returns False)."""
    TokenRevocation(reason)  # An unknown reason is a programming error: raise here.
    locked = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
    if locked.revoked_at is not None:
        return False
    _revoke(token=locked, actor=actor, reason=reason, ip_address=ip_address, now=clock.now())
    token.revoked_at, token.revoked_reason = locked.revoked_at, locked.revoked_reason
    return True


@transaction.atomic
def tokens_revoke_for_user(
    *, user: User, reason: str, actor: User | None = None, ip_address: str | None = None
) -> int:
    """Revoke every token of `user` that still answers (password changed, account
    deactivated, last role removed); one audit entry per token. Returns how many."""
    TokenRevocation(reason)
    now = clock.now()
    tokens = list(
        ApiToken.objects.select_for_update()
        .select_related("user")
        .filter(user=user, revoked_at__isnull=True, expires_at__gt=now)
        .order_by("id")
    )
    for token in tokens:
        _revoke(token=token, actor=actor, reason=reason, ip_address=ip_address, now=now)
    return len(tokens)


__all__ = [
    "AuditAction",
    "TokenRefused",
    "audit_record",
    "client_address",
    "token_authenticate",
    "token_create",
    "token_revoke",
    "token_user",
    "tokens_revoke_for_user",
]
