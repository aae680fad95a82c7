from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpRequest

from linli import clock
from linli.accounts.models import ApiToken, AuditAction, AuditEntry, User


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
        grid_path=grid_path,
        ip_address=ip_address,
    )


def client_address(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


@transaction.atomic
def token_create(*, request: HttpRequest, username: str, password: str) -> tuple[User, str] | None:
    """Check credentials (through the login throttle) and issue a bearer token.

    Returns None when the credentials are wrong or the account is locked out; the caller
    answers with the same message in both cases, so the response reveals nothing.
    """
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        return None
    key = ApiToken.new_key()
    ApiToken.objects.create(
        user=user,
        key_hash=ApiToken.hash_key(key),
        key_prefix=key[:8],
        expires_at=clock.now() + timedelta(days=settings.LINLI_API_TOKEN_DAYS),
    )
    return user, key


def token_user(*, key: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(
            key_hash=ApiToken.hash_key(key),
            user__is_active=True,
            revoked_at__isnull=True,
            expires_at__gt=clock.now(),
        )
        .first()
    )
    if token is None:
        return None
    now = clock.now()
    # Touch at most once a minute: a busy app should not write on every request.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


__all__ = ["AuditAction", "audit_record", "client_address", "token_create", "token_user"]
