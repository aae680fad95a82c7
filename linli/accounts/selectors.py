"""Reads of accounts' own rows that views and the API share."""

from datetime import datetime

from django.db.models import QuerySet

from linli.accounts.models import ApiToken, User


def tokens_of(*, user: User) -> QuerySet[ApiToken]:
    """A person's own API tokens, newest first: live, expired and revoked alike."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def token_is_live(token: ApiToken, *, now: datetime) -> bool:
    return token.revoked_at is None and token.expires_at > now
