"""Absolute links to the site, from LINLI_SITE_URL: what feeds and the settings page give out,
whatever host a request came through."""

from django.conf import settings
from django.urls import reverse


def site_url(path: str) -> str:
    return f"{settings.LINLI_SITE_URL}{path}"


def public_url(name: str, community_id: int) -> str:
    return site_url(reverse(f"public:{name}", args=[community_id]))
